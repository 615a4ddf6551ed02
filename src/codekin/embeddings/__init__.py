"""Encoders: the protocol, the transformers implementation and a fake for unit tests."""

from codekin.embeddings.base import Encoder, Vectors, normalise

__all__ = ["Encoder", "Vectors", "normalise", "load_encoder"]


def load_encoder(model: str, *, device: str = "auto", batch_size: int = 32, max_tokens: int = 256) -> Encoder:
    """Load the configured encoder (imports torch lazily)."""
    from codekin.embeddings.hf import HFEncoder

    return HFEncoder(model, device=device, batch_size=batch_size, max_tokens=max_tokens)
