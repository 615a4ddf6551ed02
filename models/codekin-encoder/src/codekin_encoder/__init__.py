"""codekin's own code search encoder, weights bundled: ``get_model_path()`` is a transformers model directory.

Built by the repository's ``training/`` pipeline (see the model card, ``model/README.md``).
"""

from pathlib import Path

__version__ = "0.1.0"

MODEL_DIR = Path(__file__).resolve().parent / "model"


def get_model_path() -> Path:
    """The bundled model directory (config, tokenizer, fp16 safetensors, pooling config)."""
    return MODEL_DIR
