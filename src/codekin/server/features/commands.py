"""Server commands: ``codekin.server.reindex`` ``[{full?}]``, ``codekin.server.clearIndex``,
``codekin.server.openSimilar`` (the code lens command)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from lsprotocol import types

from codekin.server.core import CodekinServer
from codekin.server.features.indexing import index_folder
from codekin.server.state import IndexStatus
from codekin.server.wire import (
    CMD_CLEAR_INDEX,
    CMD_OPEN_SIMILAR,
    CMD_REINDEX,
    OpenSimilarArgs,
    ReindexOptions,
    parse,
)

log = logging.getLogger(__name__)


def register(server: CodekinServer) -> None:
    @server.command(CMD_REINDEX)
    async def reindex(ls: CodekinServer, *args: Any) -> IndexStatus:
        given = args[0] if args and args[0] is not None else {}
        options = parse(ls.protocol._converter, given, ReindexOptions, CMD_REINDEX)
        folders = [f for f in ls.state.folders.values() if f.root.is_dir()]
        await asyncio.gather(*(index_folder(ls, f, full=options.full) for f in folders))
        return ls.state.status()

    @server.command(CMD_CLEAR_INDEX)
    async def clear_index(ls: CodekinServer, *args: Any) -> IndexStatus:
        for folder in list(ls.state.folders.values()):
            await asyncio.wrap_future(ls.state.write(ls.state.clear, folder))
        return ls.state.status()

    @server.command(CMD_OPEN_SIMILAR)
    async def open_similar(ls: CodekinServer, *args: Any) -> list[types.Location]:
        given = args[0] if args else None
        locations = parse(ls.protocol._converter, given, OpenSimilarArgs, CMD_OPEN_SIMILAR).locations
        if locations and ls.client_supports("window.show_document.support"):
            first = locations[0]
            try:
                await ls.window_show_document_async(
                    types.ShowDocumentParams(uri=first.uri, take_focus=True, selection=first.range)
                )
            except Exception as exc:
                log.warning("window/showDocument failed: %s", exc)
        return locations
