""" "N similar" code lenses on functions with close matches (setting ``code_lens``, off by default;
``code_lens_threshold``). The lens runs ``codekin.server.openSimilar`` with the matches."""

from __future__ import annotations

from pathlib import Path

from lsprotocol import types

from codekin.index.search import to_hit
from codekin.paths import path_to_uri, rel_path, uri_to_path
from codekin.server.core import CodekinServer
from codekin.server.positions import hit_range
from codekin.server.state import FolderIndex
from codekin.server.text import Lines
from codekin.server.wire import CMD_OPEN_SIMILAR, OpenSimilarArgs

LENS_KINDS = ("function", "method")
MAX_MATCHES = 10


def register(server: CodekinServer) -> None:
    @server.feature(types.TEXT_DOCUMENT_CODE_LENS, types.CodeLensOptions(resolve_provider=False))
    async def code_lens(ls: CodekinServer, params: types.CodeLensParams) -> list[types.CodeLens]:
        path = uri_to_path(params.text_document.uri)
        folder = ls.state.folder_of(path) if path is not None else None
        if path is None or folder is None or not folder.settings.code_lens or folder.workspace is None:
            return []
        return await ls.in_reader(lenses, ls, folder, path)

    server.status_listeners.append(lambda: _refresh(server))


def lenses(ls: CodekinServer, folder: FolderIndex, path: Path) -> list[types.CodeLens]:
    ws = folder.workspace
    if ws is None:
        return []
    rel = rel_path(folder.root, path)
    if rel is None:
        return []
    threshold = folder.settings.code_lens_threshold
    encoding = ls.position_encoding
    lines = Lines(ls, folder.root)
    out: list[types.CodeLens] = []
    for cid, chunk in ws.code_index.chunks_of_file(rel):
        if chunk.kind not in LENS_KINDS:
            continue
        try:
            # a close copy in the same file counts as much as one elsewhere
            found = ws.similar_to(path, chunk.start_line + 1, MAX_MATCHES, include_siblings=True)
            matches = [h for h in found if h.cosine >= threshold]
        except LookupError:
            continue
        if not matches:
            continue
        own = hit_range(to_hit(cid, chunk, 1.0), encoding, lines)
        locations = [
            types.Location(path_to_uri(folder.root / h.path), hit_range(h, encoding, lines)) for h in matches
        ]
        title = f"{len(matches)} similar"
        argument = OpenSimilarArgs(locations, path_to_uri(path), own.start)
        out.append(
            types.CodeLens(
                range=types.Range(start=own.start, end=own.start),
                command=types.Command(title=title, command=CMD_OPEN_SIMILAR, arguments=[argument]),
            )
        )
    return out


def _refresh(ls: CodekinServer) -> None:
    """Ask the client to re-request lenses after the index changed (when lenses are on)."""
    if any(f.settings.code_lens for f in ls.state.folders.values()) and ls.client_supports(
        "workspace.code_lens.refresh_support"
    ):
        ls.workspace_code_lens_refresh(None)
