"""``codekin/search``, ``codekin/similar`` and ``codekin/context``: thin handlers over Workspace,
run on the reader pool; results over a partial index say so."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from codekin.context import ContextPiece, build_context
from codekin.hit import Hit
from codekin.parsers import detect_language
from codekin.server.core import CodekinServer
from codekin.server.protocol import (
    CONTEXT,
    SEARCH,
    SIMILAR,
    ContextItem,
    ContextParams,
    ContextResult,
    SearchItem,
    SearchParams,
    SearchResult,
    SimilarParams,
    hit_range,
    invalid,
    parse_context,
    parse_search,
    parse_similar,
    path_to_uri,
    search_item,
    slice_range,
    uri_to_path,
)
from codekin.server.state import FolderIndex
from codekin.server.text import Lines, document_text

Found = list[tuple[FolderIndex, Hit]]


def register(server: CodekinServer) -> None:
    @server.feature(SEARCH)
    async def search(ls: CodekinServer, params: Any) -> SearchResult:
        p = parse_search(params)
        partial = ls.state.partial
        items = await ls.in_reader(lambda: to_items(ls, search_folders(ls, p)))
        return {"items": items, "partial": partial}

    @server.feature(SIMILAR)
    async def similar(ls: CodekinServer, params: Any) -> SearchResult:
        p = parse_similar(params)
        partial = ls.state.partial
        items = await ls.in_reader(lambda: to_items(ls, _similar(ls, p)))
        return {"items": items, "partial": partial}

    @server.feature(CONTEXT)
    async def context(ls: CodekinServer, params: Any) -> ContextResult:
        p = parse_context(params)
        partial = ls.state.partial
        items = await ls.in_reader(_context, ls, p)
        return {"items": items, "tokens": sum(i["tokens"] for i in items), "partial": partial}


def searchable(ls: CodekinServer) -> list[FolderIndex]:
    return [f for f in ls.state.folders.values() if f.workspace is not None and f.state != "error"]


def search_folders(ls: CodekinServer, p: SearchParams) -> Found:
    found: Found = []
    folders = searchable(ls)
    for folder in folders:
        ws = folder.workspace
        assert ws is not None
        languages, paths = p.languages or None, p.paths or None
        if p.files:
            hits = [f.hits[0] for f in ws.files(p.query, p.limit, languages=languages, paths=paths)]
        else:
            hits = ws.search(p.query, p.limit, languages=languages, paths=paths)
        found += [(folder, h) for h in hits]
    if len(folders) > 1:  # one folder keeps its fused ranking; several interleave by similarity
        found.sort(key=lambda fh: -fh[1].score)
    return found[: p.limit]


def to_items(ls: CodekinServer, found: Found) -> list[SearchItem]:
    lines: dict[Path, Lines] = {}
    encoding = ls.position_encoding
    return [
        search_item(hit, folder.root, encoding, lines.setdefault(folder.root, Lines(ls, folder.root)))
        for folder, hit in found
    ]


def _document(ls: CodekinServer, uri: str) -> tuple[Path, FolderIndex]:
    path = uri_to_path(uri)
    folder = ls.state.folder_of(path) if path is not None else None
    if path is None or folder is None:
        raise invalid(f"{uri} is not in a workspace folder")
    return path, folder


def _similar(ls: CodekinServer, p: SimilarParams) -> Found:
    path, folder = _document(ls, p.uri)
    ws = folder.workspace
    if ws is None or folder.state == "error":
        return []
    rng = p.range
    if rng is not None and (rng.start.line, rng.start.character) != (rng.end.line, rng.end.character):
        text = document_text(ls, path)
        code = slice_range(text, rng, ls.position_encoding) if text is not None else ""
        rel = path.relative_to(folder.root).as_posix()
        language = detect_language(rel, (text or "")[:256].encode())
        hits = ws.similar(code, language, p.limit + 10)
        lo, hi = rng.start.line + 1, rng.end.line + 1
        hits = [h for h in hits if not (h.path == rel and h.start_line <= hi and lo <= h.end_line)]
        return [(folder, h) for h in hits[: p.limit]]
    line = (p.position.line if p.position else rng.start.line if rng else 0) + 1
    try:
        return [(folder, h) for h in ws.similar_to(path, line, p.limit)]
    except LookupError:
        return []


def _context(ls: CodekinServer, p: ContextParams) -> list[ContextItem]:
    path: Path | None = None
    line: int | None = None
    folders = searchable(ls)
    if p.uri is not None and p.position is not None:
        path, folder = _document(ls, p.uri)
        line = p.position.line + 1
        if not p.query:
            folders = [folder] if folder in folders else []
    workspaces = [f.workspace for f in folders if f.workspace is not None]
    built = build_context(workspaces, query=p.query, path=path, line=line, token_budget=p.token_budget)
    encoding = ls.position_encoding
    return [
        {
            "uri": path_to_uri(Path(piece.root) / piece.path),
            "range": hit_range(_as_hit(piece), encoding, Lines(ls, Path(piece.root))),
            "score": piece.score,
            "symbol": piece.symbol,
            "kind": piece.kind,
            "language": piece.language,
            "text": piece.text,
            "tokens": piece.tokens,
            "reason": piece.reason,
        }
        for piece in built.pieces
    ]


def _as_hit(piece: ContextPiece) -> Hit:
    """The span of a piece (its text starts at column 0: indentation restored)."""
    return Hit(
        piece.path, piece.start_line, piece.end_line, piece.symbol, piece.kind, piece.language,
        piece.score, piece.text,
    )
