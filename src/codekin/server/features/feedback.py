"""``codekin/resultOpened``: an editor says which search result a user opened for which query;
with the folder's ``feedback`` setting on, it is appended (query redacted) to the folder's
feedback log (codekin.evaluation.feedback). A notification: nothing is answered, bad params
are logged and dropped."""

from __future__ import annotations

import logging
from pathlib import Path

from lsprotocol import types

from codekin.evaluation import feedback
from codekin.paths import rel_path, uri_to_path
from codekin.server.core import CodekinServer
from codekin.server.wire import RESULT_OPENED, ResultOpenedParams
from codekin.workspace import Workspace

log = logging.getLogger(__name__)


def register(server: CodekinServer) -> None:
    @server.feature(RESULT_OPENED)
    def result_opened(ls: CodekinServer, p: ResultOpenedParams) -> None:
        path = uri_to_path(p.uri)
        folder = ls.state.folder_of(path) if path is not None else None
        if path is None or folder is None or not folder.settings.feedback or folder.workspace is None:
            return  # off, or not a result of ours
        record(folder.workspace, path, p.query, lines_of(p.range), p.rank)


def lines_of(rng: types.Range) -> tuple[int, int]:
    """The 1-based lines an LSP range covers (an end at column 0 stops on the line before)."""
    first, last = rng.start.line, rng.end.line
    if rng.end.character == 0 and last > first:
        last -= 1
    return first + 1, last + 1


def record(ws: Workspace, path: Path, query: str, lines: tuple[int, int], rank: int) -> None:
    rel = rel_path(ws.root, path)
    if rel is None:
        return
    masked = ws.redactor.redact(query.encode("utf-8", "surrogatepass")).data.decode("utf-8", "replace")
    opened = feedback.Opened(masked[: feedback.MAX_QUERY_CHARS], rel, lines[0], lines[1], rank)
    try:
        feedback.append(ws.index_dir, opened)
    except OSError as exc:
        log.warning("cannot write the feedback log in %s: %s", ws.index_dir, exc)
