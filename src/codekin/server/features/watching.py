"""Freshness from file events: a client-side watcher (``workspace/didChangeWatchedFiles`` with
dynamic registration) when the client offers one, else watchdog in the server. Both feed the
same debouncer."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from pathlib import Path

from lsprotocol import types

from codekin.paths import uri_to_path
from codekin.server.core import CodekinServer
from codekin.watch import TreeWatcher
from codekin.watch.observer import expand_dir

log = logging.getLogger(__name__)


def register(server: CodekinServer) -> None:
    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def watched_files_changed(ls: CodekinServer, params: types.DidChangeWatchedFilesParams) -> None:
        ls.state.debouncer.add(watched_paths(params.changes))


def watched_paths(changes: Sequence[types.FileEvent]) -> list[str]:
    """The paths a client's file events name. VS Code reports a rename as Deleted + Created, a
    deleted folder as one Deleted (its files are dropped by prefix) and a created folder as one
    Created (its files are listed here); a URI of another scheme is ignored."""
    paths: list[str] = []
    for change in changes:
        path = uri_to_path(change.uri)
        if path is None:
            continue
        paths.append(str(path))
        if change.type == types.FileChangeType.Created and path.is_dir():
            paths += expand_dir(str(path))
    return paths


async def start_watching(ls: CodekinServer) -> None:
    """Register a client watcher once, or watch every folder with watchdog."""
    state = ls.state
    if state.watcher == "none" and ls.client_supports(
        "workspace.did_change_watched_files.dynamic_registration"
    ):
        registration = types.Registration(
            id=f"codekin-watch-{uuid.uuid4().hex[:8]}",
            method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
            register_options=types.DidChangeWatchedFilesRegistrationOptions(
                watchers=[types.FileSystemWatcher(glob_pattern="**/*")]
            ),
        )
        try:
            await ls.client_register_capability_async(types.RegistrationParams(registrations=[registration]))
            state.watcher = "client"
            log.info("file changes come from the client's watcher")
        except Exception as exc:
            log.warning("the client refused a file watcher (%s); watching in the server", exc)
    if state.watcher == "client":
        return
    watcher = state.tree_watcher
    if watcher is None:
        watcher = state.tree_watcher = TreeWatcher(state.debouncer.add, state.rescan)
    for folder in state.folders.values():
        if folder.root.is_dir():
            try:
                watcher.watch(folder.root)
            except OSError as exc:  # e.g. inotify watch limit reached
                folder.add_error(f"cannot watch files: {exc}")
                ls.show(f"cannot watch {folder.root} for changes: {exc}")
    state.watcher = "server"


def unwatch(ls: CodekinServer, root: Path) -> None:
    if ls.state.tree_watcher is not None:
        ls.state.tree_watcher.unwatch(root)
