"""Encoders: the protocol, the transformers and ONNX Runtime implementations, a fake for tests."""

from codekin.embeddings.base import Encoder, Vectors, normalise

__all__ = ["Encoder", "Vectors", "normalise", "load_encoder"]


def load_encoder(
    model: str,
    *,
    device: str = "auto",
    batch_size: int = 32,
    max_tokens: int = 256,
    backend: str = "auto",
    defer: bool = False,
) -> Encoder:
    """Load the configured encoder on the configured runtime (imports torch or onnxruntime lazily).
    ``defer``: where the model's identity can be read from its directory, return at once and
    load the weights in the background when first needed (see codekin.embeddings.deferred)."""
    from codekin.embeddings.backend import load_encoder as load
    from codekin.embeddings.deferred import load_deferred

    def now() -> Encoder:
        return load(model, device=device, batch_size=batch_size, max_tokens=max_tokens, backend=backend)

    return load_deferred(model, backend, now) if defer else now()
