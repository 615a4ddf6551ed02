"""``codekin/search``, ``codekin/similar`` and ``codekin/context``: thin handlers over Workspace,
run on the reader pool; results over a partial index say so."""

from __future__ import annotations

from pathlib import Path

import attrs
from pygls.exceptions import JsonRpcInvalidParams

from codekin.context import ContextPiece, build_context
from codekin.hit import Coverage, Hit
from codekin.index.search import Filters
from codekin.org.merge import org_uri
from codekin.paths import path_to_uri, uri_to_path
from codekin.server.core import CodekinServer
from codekin.server.positions import hit_range
from codekin.server.state import FolderIndex
from codekin.server.text import Lines, document_text
from codekin.server.wire import (
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
    search_item,
)

Found = list[tuple[FolderIndex | None, Hit]]  # None: a hit of the shared org index (org_store)


def register(server: CodekinServer) -> None:
    @server.feature(SEARCH)
    async def search(ls: CodekinServer, p: SearchParams) -> SearchResult:
        partial = ls.state.partial
        items, coverage = await ls.in_reader(lambda: answer(ls, *search_folders(ls, p)))
        return result(items, partial, coverage)

    @server.feature(SIMILAR)
    async def similar(ls: CodekinServer, p: SimilarParams) -> SearchResult:
        partial = ls.state.partial
        items, coverage = await ls.in_reader(lambda: answer(ls, *_similar(ls, p)))
        return result(items, partial, coverage)

    @server.feature(CONTEXT)
    async def context(ls: CodekinServer, p: ContextParams) -> ContextResult:
        partial = ls.state.partial
        items = await ls.in_reader(_context, ls, p)
        return ContextResult(items, sum(i.tokens for i in items), partial)


def searchable(ls: CodekinServer) -> list[FolderIndex]:
    return [f for f in ls.state.folders.values() if f.workspace is not None and f.state != "error"]


def answer(ls: CodekinServer, found: Found, coverage: Coverage) -> tuple[list[SearchItem], Coverage]:
    return to_items(ls, found), coverage


def result(items: list[SearchItem], partial: bool, coverage: Coverage) -> SearchResult:
    """Results over a folder still indexing, or with chunks not embedded yet, are partial."""
    return SearchResult(items, partial or coverage.partial, coverage.embedded, coverage.total)


def search_folders(ls: CodekinServer, p: SearchParams) -> tuple[Found, Coverage]:
    found: Found = []
    folders = searchable(ls)
    embedded = total = 0
    # folders with a shared org index are ranked together with it (chunk results, unexplained)
    merged = [
        f for f in folders if f.workspace and f.workspace.settings.org_store and not (p.files or p.explain)
    ]
    if merged:
        found += _org_search(ls, merged, p)
        for f in merged:
            assert f.workspace is not None
            c = f.workspace.coverage()
            embedded, total = embedded + c.embedded, total + c.total
    for folder in folders:
        ws = folder.workspace
        assert ws is not None
        languages, paths = p.languages or None, p.paths or None
        if folder in merged:
            continue
        if p.files:
            files = ws.files(p.query, p.limit, languages=languages, paths=paths, explain=p.explain)
            hits, coverage = [f.hits[0] for f in files], files.coverage
        else:
            hits = ws.search(p.query, p.limit, languages=languages, paths=paths, explain=p.explain)
            coverage = hits.coverage
        embedded, total = embedded + coverage.embedded, total + coverage.total
        found += [(folder, h) for h in hits]
    if len(folders) > 1 and len(merged) < len(folders):  # several lists interleave by score (stable)
        found.sort(key=lambda fh: -fh[1].score)
    return found[: p.limit], Coverage(embedded, total)


def _org_search(ls: CodekinServer, folders: list[FolderIndex], p: SearchParams) -> Found:
    of = {id(f.workspace): f for f in folders}
    filters = Filters(tuple(p.languages), tuple(p.paths))
    pairs = ls.state.org.search([f.workspace for f in folders if f.workspace], p.query, p.limit, filters)
    return [(of[id(ws)] if ws is not None else None, hit) for ws, hit in pairs]


def to_items(ls: CodekinServer, found: Found) -> list[SearchItem]:
    lines: dict[Path, Lines] = {}
    encoding = ls.position_encoding
    out = []
    for folder, hit in found:
        if folder is None:  # no local checkout: a codekin-org: URI, columns taken as ASCII
            item = attrs.evolve(
                search_item(hit, Path("/"), encoding, lambda path, row: None),
                uri=org_uri(getattr(hit, "repo", ""), hit.path, getattr(hit, "revision", "")),
            )
        else:
            item = search_item(
                hit, folder.root, encoding, lines.setdefault(folder.root, Lines(ls, folder.root))
            )
        out.append(item)
    return out


def _document(ls: CodekinServer, uri: str) -> tuple[Path, FolderIndex]:
    path = uri_to_path(uri)
    folder = ls.state.folder_of(path) if path is not None else None
    if path is None or folder is None:
        raise JsonRpcInvalidParams(f"{uri} is not in a workspace folder")
    return path, folder


def _similar(ls: CodekinServer, p: SimilarParams) -> tuple[Found, Coverage]:
    """Similar code, and the coverage of its folder (only embedded chunks can be found)."""
    path, folder = _document(ls, p.text_document.uri)
    ws = folder.workspace
    if ws is None or folder.state == "error":
        return [], Coverage(0, 0)
    rng, end_line, text = p.range, None, None
    line = (p.position.line if p.position else rng.start.line if rng else 0) + 1
    if rng is not None and (rng.start.line, rng.start.character) != (rng.end.line, rng.end.character):
        # the chunks the selection covers (a selection ending at column 0 stops the line before)
        line = rng.start.line + 1
        end_line = rng.end.line + (0 if rng.end.character == 0 and rng.end.line > rng.start.line else 1)
        text = document_text(ls, path)
    try:
        hits = ws.similar_to(
            path,
            line,
            p.limit,
            end_line=end_line,
            text=text,
            languages=p.languages or None,
            paths=p.paths or None,
            include_non_code=p.include_non_code,
            include_siblings=p.include_siblings,
        )
    except LookupError:
        return [], ws.coverage()
    return [(folder, h) for h in hits], ws.coverage()


def _context(ls: CodekinServer, p: ContextParams) -> list[ContextItem]:
    path: Path | None = None
    line: int | None = None
    folders = searchable(ls)
    if p.text_document is not None and p.position is not None:
        path, folder = _document(ls, p.text_document.uri)
        line = p.position.line + 1
        if not p.query:
            folders = [folder] if folder in folders else []
    workspaces = [f.workspace for f in folders if f.workspace is not None]
    built = build_context(workspaces, query=p.query, path=path, line=line, token_budget=p.token_budget)
    encoding = ls.position_encoding
    return [
        ContextItem(
            uri=path_to_uri(Path(piece.root) / piece.path),
            range=hit_range(_as_hit(piece), encoding, Lines(ls, Path(piece.root))),
            score=piece.score,
            cosine=piece.cosine,
            symbol=piece.symbol,
            kind=piece.kind,
            language=piece.language,
            text=piece.text,
            tokens=piece.tokens,
            reason=piece.reason,
        )
        for piece in built.pieces
    ]


def _as_hit(piece: ContextPiece) -> Hit:
    """The span of a piece (its text starts at column 0: indentation restored)."""
    return Hit(
        piece.path,
        piece.start_line,
        piece.end_line,
        piece.symbol,
        piece.kind,
        piece.language,
        piece.score,
        piece.text,
    )
