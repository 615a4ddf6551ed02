"""Server commands: ``codekin.server.reindex`` ``[{full?}]``, ``codekin.server.clearIndex``,
``codekin.server.openSimilar`` (the code lens command)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from lsprotocol import types

from codekin.server.core import CodekinServer
from codekin.server.features.indexing import index_folder
from codekin.server.protocol import (
    CMD_CLEAR_INDEX,
    CMD_OPEN_SIMILAR,
    CMD_REINDEX,
    IndexStatusResult,
    as_bool,
    as_mapping,
    invalid,
)

log = logging.getLogger(__name__)


def register(server: CodekinServer) -> None:
    @server.command(CMD_REINDEX)
    async def reindex(ls: CodekinServer, *args: Any) -> IndexStatusResult:
        options = as_mapping(args[0], CMD_REINDEX) if args and args[0] is not None else {}
        full = as_bool(options, "full", CMD_REINDEX)
        folders = [f for f in ls.state.folders.values() if f.root.is_dir()]
        await asyncio.gather(*(index_folder(ls, f, full=full) for f in folders))
        return ls.state.status()

    @server.command(CMD_CLEAR_INDEX)
    async def clear_index(ls: CodekinServer, *args: Any) -> IndexStatusResult:
        for folder in list(ls.state.folders.values()):
            await asyncio.wrap_future(ls.state.write(ls.state.clear, folder))
        return ls.state.status()

    @server.command(CMD_OPEN_SIMILAR)
    async def open_similar(ls: CodekinServer, *args: Any) -> list[Any]:
        options = as_mapping(args[0], CMD_OPEN_SIMILAR) if args else {}
        locations = options.get("locations")
        if not isinstance(locations, list):
            raise invalid(f"{CMD_OPEN_SIMILAR}: expected [{{uri, position, locations}}]")
        if locations and ls.client_supports("window.show_document.support"):
            first = as_mapping(locations[0], CMD_OPEN_SIMILAR)
            selection = ls.protocol._converter.structure(first.get("range"), types.Range)
            try:
                await ls.window_show_document_async(
                    types.ShowDocumentParams(uri=str(first.get("uri")), take_focus=True, selection=selection)
                )
            except Exception as exc:
                log.warning("window/showDocument failed: %s", exc)
        return locations
