"""Source files to chunks: tree-sitter definitions for 20 grammars, line windows for everything else.

Chunking rules:

* one chunk per function/method, its doc comments, decorators and attributes included; functions
  nested in functions stay in their parent's chunk;
* one header chunk per container (class, interface, struct, enum, trait, impl; Ruby modules and
  Elixir ``defmodule`` count as ``class``): from its doc comment to just before its first member
  definition, or the whole container when it has none; non-definition members after the first
  method (e.g. fields declared below methods) form further chunks of the container's kind;
* methods carry ``container`` = dot-joined enclosing container names, or the receiver type for
  Go methods, Lua ``T:m``/``T.m`` functions and C++ ``T::m`` definitions;
* module-level code outside definitions is grouped by consecutive rows into ``module`` chunks;
* anything over ``max_chunk_bytes`` is split into consecutive pieces with the same symbol, along
  body statements first, then lines;
* files without a grammar (or with an unusable tree) become overlapping line windows.
"""

from codekin.parsers.chunker import chunk_file, chunk_source
from codekin.parsers.detect import detect_language
from codekin.parsers.languages import SUPPORTED_LANGUAGES
from codekin.parsers.model import CHUNK_KINDS, Chunk, content_hash

# Bump whenever the chunks produced for the same input change (stored in the index manifest).
CHUNKER_VERSION = "1"

__all__ = [
    "CHUNKER_VERSION",
    "CHUNK_KINDS",
    "SUPPORTED_LANGUAGES",
    "Chunk",
    "chunk_file",
    "chunk_source",
    "content_hash",
    "detect_language",
]
