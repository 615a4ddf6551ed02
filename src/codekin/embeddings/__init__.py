"""Encoders: the protocol, the registry that builds them by name (transformers on torch or ONNX
Runtime, the fake for tests)."""

from codekin.embeddings.base import Encoder, Vectors, normalise
from codekin.embeddings.registry import MODELS, UnknownModel, build_encoder

__all__ = ["MODELS", "Encoder", "UnknownModel", "Vectors", "build_encoder", "normalise"]
