"""Bounded text answers for agents: result lists within a token budget, pagination cursors."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from codekin.context import count_tokens
from codekin.hit import Hit
from codekin.index import explain

Snippet = Literal["path", "short", "full"]
SHORT_LINES = 5


class BadCursor(ValueError):
    """A cursor that was not issued for this query."""


@dataclass(frozen=True)
class Found:
    """A hit and the root it came from."""

    root: Path
    hit: Hit


def fingerprint(*parts: object) -> str:
    return hashlib.blake2b(json.dumps(parts, default=str).encode(), digest_size=6).hexdigest()


def make_cursor(query_id: str, offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"q": query_id, "o": offset}).encode()).decode()


def read_cursor(cursor: str | None, query_id: str) -> int:
    """The offset a cursor points at (0 without one); BadCursor when it belongs elsewhere."""
    if not cursor:
        return 0
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        offset, issued_for = int(data["o"]), str(data["q"])
    except (ValueError, KeyError, TypeError, binascii.Error) as exc:
        raise BadCursor(f"cursor {cursor!r} is not one codekin issued") from exc
    if issued_for != query_id or offset < 0:
        raise BadCursor("this cursor belongs to a different query or filters; search again without it")
    return offset


def location(found: Found, several_roots: bool) -> str:
    h = found.hit
    repo = getattr(h, "repo", "")  # a hit of a shared org index names its repository
    prefix = f"{repo}:" if repo else f"{found.root.name}/" if several_roots else ""
    return f"{prefix}{h.path}:{h.start_line}-{h.end_line}"


def snippet_of(hit: Hit, snippet: Snippet) -> list[str]:
    if snippet == "path":
        return []
    lines = hit.text.splitlines()
    return lines if snippet == "full" else lines[:SHORT_LINES]


@dataclass(frozen=True)
class Listing:
    text: str
    shown: int  # results included
    tokens: int
    cut: bool  # stopped early for the token budget


def list_hits(
    found: Sequence[Found], *, start: int, snippet: Snippet, max_tokens: int, several_roots: bool
) -> Listing:
    """Numbered results (from ``start + 1``) until the budget is spent; the first result always
    shows, its snippet cut to fit."""
    blocks: list[str] = []
    used = 0
    cut = False
    for n, f in enumerate(found, start + 1):
        h = f.hit
        where = location(f, several_roots)
        head = f"{n}. {where}  {h.symbol or h.kind}  [{h.kind}, {h.language}]  score {h.score:.3f}"
        body = [f"    {ln}" for ln in snippet_of(h, snippet)]
        if h.explain is not None:  # search(explain=True): why it is here, before the snippet
            head += f"\n    why: {explain.compact(h.explain)}"
        cost = count_tokens(head) + sum(count_tokens(b) + 1 for b in body) + 1
        if used + cost > max_tokens:
            cut = True
            if blocks:
                break
            while body and used + cost > max_tokens:  # the first result: keep what fits
                cost -= count_tokens(body.pop()) + 1
            body.append("    … (snippet cut to fit max_tokens)")
            cost += count_tokens(body[-1]) + 1
        blocks.append("\n".join([head, *body]))
        used += cost
    return Listing("\n".join(blocks), len(blocks), used, cut)
