"""initialize / initialized / shutdown and workspace folders: open an index per folder and bring
it up to date in the background."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from lsprotocol import types

from codekin.paths import uri_to_path
from codekin.server.core import CodekinServer
from codekin.server.features.configuration import apply_settings
from codekin.server.features.indexing import index_folder
from codekin.server.features.watching import start_watching, unwatch
from codekin.server.state import FolderIndex
from codekin.settings import Settings

log = logging.getLogger(__name__)


def register(server: CodekinServer) -> None:
    @server.feature(types.INITIALIZE)
    def initialize(ls: CodekinServer, params: types.InitializeParams) -> None:
        ls.loop = asyncio.get_running_loop()
        ls.init_options = params.initialization_options or {}
        for root in _roots(params):
            _add_folder(ls, root)

    @server.feature(types.INITIALIZED)
    async def initialized(ls: CodekinServer, params: types.InitializedParams) -> None:
        folders = list(ls.state.folders.values())
        await apply_settings(ls, reindex=False)
        await start_watching(ls)
        ls.push_status()
        for folder in folders:
            if folder.state != "error":
                ls.spawn(index_folder(ls, folder))

    @server.feature(types.SHUTDOWN)
    def shutdown(ls: CodekinServer, params: None) -> None:
        for cancel in list(ls.state.cancels):
            cancel.set()

    @server.feature(types.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS)
    async def folders_changed(ls: CodekinServer, params: types.DidChangeWorkspaceFoldersParams) -> None:
        for removed in params.event.removed:
            root = uri_to_path(removed.uri)
            folder = ls.state.remove_folder(root.resolve()) if root else None
            if folder is not None:
                unwatch(ls, folder.root)
                if folder.workspace is not None:
                    ls.state.write(folder.workspace.close)
        added = [f for a in params.event.added if (r := uri_to_path(a.uri)) and (f := _add_folder(ls, r))]
        await apply_settings(ls, reindex=False, folders=added)
        await start_watching(ls)
        for folder in added:
            ls.spawn(index_folder(ls, folder))
        ls.push_status()


def _roots(params: types.InitializeParams) -> list[Path]:
    uris = [f.uri for f in params.workspace_folders or []]
    if not uris and params.root_uri:
        uris = [params.root_uri]
    roots = [p for u in uris if (p := uri_to_path(u)) is not None]
    if not roots and params.root_path:
        roots = [Path(params.root_path)]
    return roots


def _add_folder(ls: CodekinServer, root: Path) -> FolderIndex | None:
    root = root.resolve()
    if root in ls.state.folders:
        return None
    folder = ls.state.add_folder(root, Settings())
    if not root.is_dir():
        folder.state = "error"
        folder.add_error(f"workspace folder {root} is not a directory")
        ls.show(f"workspace folder {root} is not a directory", types.MessageType.Error)
    return folder
