"""The chunk: the unit codekin indexes, embeds and returns."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

# Vocabulary of Chunk.kind. Headers of type-like definitions use the definition's own kind.
CHUNK_KINDS = (
    "function",  # free function / top-level procedure
    "method",  # function defined inside a class/struct/impl/module
    "class",  # header of a class: signature, fields, doc (methods are their own chunks)
    "interface",
    "struct",
    "enum",
    "trait",
    "impl",
    "module",  # module-level code outside definitions, grouped
    "window",  # fallback line window for files without a grammar
)


def bytes_hash(data: bytes) -> str:
    """Stable hash of bytes (hex, 16 bytes): file contents, chunk texts, encoder inputs."""
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def content_hash(text: str) -> str:
    """Stable hash of a chunk's text."""
    return bytes_hash(text.encode("utf-8", "surrogatepass"))


@dataclass(frozen=True)
class Chunk:
    """One function-level piece of a source file.

    Spans are exact tree-sitter spans: rows are 0-based, ``end_line`` is the row of the last
    character (inclusive), columns are byte offsets within their line.
    """

    path: str  # repository-relative, "/" separators
    language: str
    kind: str
    symbol: str  # the definition's own name ("" for module code and windows)
    container: str  # qualified enclosing definitions, dot-joined ("Outer.Inner"), "" at top level
    start_byte: int
    end_byte: int
    start_line: int
    end_line: int
    start_col: int
    end_col: int
    text: str
    content_hash: str

    @property
    def qualified_name(self) -> str:
        return ".".join(p for p in (self.container, self.symbol) if p)
