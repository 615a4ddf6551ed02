"""``codekin/indexStatus``; ``codekin/indexStatusChanged`` is pushed by the server on changes."""

from __future__ import annotations

from typing import Any

from codekin.server.core import CodekinServer
from codekin.server.state import IndexStatus
from codekin.server.wire import INDEX_STATUS


def register(server: CodekinServer) -> None:
    @server.feature(INDEX_STATUS)
    def index_status(ls: CodekinServer, params: Any) -> IndexStatus:
        ls.state.refresh_evaluations()  # a stat per folder; a read only after a `codekin eval`
        return ls.state.status()
