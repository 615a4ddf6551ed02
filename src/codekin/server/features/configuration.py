"""Settings: defaults < pyproject.toml/.codekin.toml < initializationOptions < workspace/configuration
(section ``codekin``). Problems are shown to the user; the defaults are used instead. A change
of what shapes the index reindexes the folder; the live part goes to the features subscribed to
it (``FolderIndex.live``)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

from lsprotocol import types

from codekin.server.core import CodekinServer
from codekin.server.state import FolderIndex
from codekin.settings import Settings, Source, project_sources, resolve

log = logging.getLogger(__name__)
SECTION = "codekin"


def register(server: CodekinServer) -> None:
    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    async def did_change_configuration(ls: CodekinServer, params: types.DidChangeConfigurationParams) -> None:
        pushed = params.settings
        if isinstance(pushed, Mapping) and SECTION in pushed:
            ls.config_layer[""] = pushed[SECTION]
        await apply_settings(ls, reindex=True)


def section_of(value: Any, source: str) -> Source:
    """Accept ``{"codekin": {...}}`` or the section itself; anything else is a problem."""
    if value is None:
        return Source(source)
    if isinstance(value, Mapping):
        inner = value.get(SECTION, value)
        if isinstance(inner, Mapping):
            return Source(source, inner)
    return Source(
        source, problems=(f"{source}: expected an object of codekin settings, got {type(value).__name__}",)
    )


async def fetch_configuration(ls: CodekinServer, folders: list[FolderIndex]) -> None:
    """Pull ``workspace/configuration`` for each folder (when the client supports it)."""
    if not folders or not ls.client_supports("workspace.configuration"):
        return
    items = [types.ConfigurationItem(scope_uri=f.uri, section=SECTION) for f in folders]
    try:
        values = await asyncio.wait_for(
            ls.workspace_configuration_async(types.ConfigurationParams(items=items)), timeout=30
        )
    except Exception as exc:
        log.warning("workspace/configuration failed: %s", exc)
        return
    for folder, value in zip(folders, values or [], strict=False):
        ls.config_layer[folder.uri] = value if value is not None else {}


def folder_settings(ls: CodekinServer, folder: FolderIndex) -> tuple[Settings, list[str]]:
    config = ls.config_layer.get(folder.uri, ls.config_layer.get(""))
    return resolve(
        *project_sources(folder.root),
        section_of(ls.init_options, "initializationOptions"),
        section_of(config, "workspace/configuration"),
    )


async def apply_settings(
    ls: CodekinServer, *, reindex: bool, folders: list[FolderIndex] | None = None
) -> None:
    """Re-read settings; reopen and reindex folders whose index-shaping settings changed."""
    from codekin.server.features.indexing import index_folder

    targets = folders if folders is not None else list(ls.state.folders.values())
    await fetch_configuration(ls, targets)
    problems: list[str] = []
    changed: list[FolderIndex] = []
    for folder in targets:
        settings, found = folder_settings(ls, folder)
        problems += [p for p in found if p not in problems]
        if reindex and ls.state.needs_reindex(folder, settings):
            changed.append(folder)
        folder.live.update(settings)  # the live part applies at once, through its subscribers
    if problems:
        for problem in problems:
            log.warning("%s", problem)
        ls.show("invalid settings, defaults used instead:\n" + "\n".join(problems))
    for folder in changed:
        log.info("settings changed for %s: reindexing", folder.root)
        ls.spawn(index_folder(ls, folder))
