"""Code-aware tokenisation for the lexical (BM25) index: identifiers are kept whole and also
split into their camelCase / snake_case parts."""

from __future__ import annotations

import re

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|\d+")
_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")
_MAX_TOKEN = 40


def split_identifier(word: str) -> list[str]:
    """``parseHTTPConfig_file`` -> ["parse", "http", "config", "file"]."""
    parts: list[str] = []
    for piece in word.split("_"):
        parts += [p.lower() for p in _CAMEL.findall(piece)]
    return parts


def code_tokens(text: str) -> list[str]:
    """Tokens of source or query text: each identifier whole (lower-cased) plus its parts."""
    out: list[str] = []
    for word in _WORD.findall(text):
        if len(word) > _MAX_TOKEN:
            continue
        whole = word.lower().strip("_")
        parts = split_identifier(word)
        if whole and (len(parts) != 1 or parts[0] != whole):
            out.append(whole.replace("_", ""))
        out += parts
    return out


def fts_query(text: str) -> str:
    """An FTS5 MATCH expression: any of the query's tokens (BM25 ranks by how many and how rare)."""
    seen = dict.fromkeys(t for t in code_tokens(text) if len(t) > 1 or t.isdigit())
    return " OR ".join(f'"{t}"' for t in seen)
