"""``codekin/resultOpened``: an editor says which search result a user opened for which query;
with the folder's ``feedback`` setting on, it is appended (query redacted) to the folder's
feedback log (codekin.evaluation.feedback). A notification: nothing is answered, bad params
are logged and dropped."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from pygls.exceptions import JsonRpcInvalidParams

from codekin.evaluation import feedback
from codekin.paths import rel_path, uri_to_path
from codekin.server.core import CodekinServer
from codekin.server.protocol import as_mapping
from codekin.workspace import Workspace

log = logging.getLogger(__name__)

RESULT_OPENED = "codekin/resultOpened"


class BadParams(ValueError):
    pass


def register(server: CodekinServer) -> None:
    @server.feature(RESULT_OPENED)
    def result_opened(ls: CodekinServer, params: Any) -> None:
        try:
            query, uri, lines, rank = parse(params)
        except (BadParams, JsonRpcInvalidParams) as exc:  # the latter: as_mapping's, not an object
            log.warning("dropping %s: %s", RESULT_OPENED, exc)
            return
        path = uri_to_path(uri)
        folder = ls.state.folder_of(path) if path is not None else None
        if path is None or folder is None or not folder.settings.feedback or folder.workspace is None:
            return  # off, or not a result of ours
        record(folder.workspace, path, query, lines, rank)


def parse(params: Any) -> tuple[str, str, tuple[int, int], int]:
    """(query, uri, (first line, last line) 1-based, rank) of the notification's params."""
    data = as_mapping(params, RESULT_OPENED)
    query, uri, rank = data.get("query"), data.get("uri"), data.get("rank")
    if not isinstance(query, str) or not query.strip():
        raise BadParams("'query' must be a non-empty string")
    if not isinstance(uri, str):
        raise BadParams("'uri' must be a string")
    if isinstance(rank, bool) or not isinstance(rank, int) or rank < 1:
        raise BadParams("'rank' must be an integer >= 1 (the result's place in the list)")
    return query, uri, _lines(data.get("range")), rank


def _lines(value: Any) -> tuple[int, int]:
    """The 1-based lines an LSP range covers (an end at column 0 stops on the line before)."""
    rng = as_mapping(value, RESULT_OPENED)
    start, end = (as_mapping(rng.get(k), RESULT_OPENED) for k in ("start", "end"))
    pos = [start.get("line"), start.get("character"), end.get("line"), end.get("character")]
    if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in pos):
        raise BadParams("'range' must be an LSP range (non-negative integer lines and characters)")
    first, last = int(start["line"]), int(end["line"])
    if last < first:
        raise BadParams("'range' ends before it starts")
    if end["character"] == 0 and last > first:
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
