"""What the encoder is given for a chunk: the same text for indexing, tuning, the org index and
the ONNX parity check, so that every vector of a chunk is made from one input."""

from __future__ import annotations

from codekin.parsers.model import Chunk
from codekin.safetext import valid_text


def encoder_input(chunk: Chunk) -> str:
    """The text the encoder sees (valid UTF-8): a short context prefix, then the real source."""
    header = f"{chunk.kind} {chunk.qualified_name}".strip() if chunk.symbol else chunk.kind
    return valid_text(f"{chunk.path}\n{header}\n{chunk.text}")
