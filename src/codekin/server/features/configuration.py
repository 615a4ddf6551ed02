"""Settings: defaults < pyproject.toml/.codekin.toml < initializationOptions < workspace/configuration
(section ``codekin``). Problems are shown to the user; the defaults are used instead."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

from lsprotocol import types

from codekin.server.core import CodekinServer
from codekin.server.state import FolderIndex
from codekin.settings import Settings, load_file_settings, merge

log = logging.getLogger(__name__)
SECTION = "codekin"


def register(server: CodekinServer) -> None:
    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    async def did_change_configuration(ls: CodekinServer, params: types.DidChangeConfigurationParams) -> None:
        pushed = params.settings
        if isinstance(pushed, Mapping) and SECTION in pushed:
            ls.config_layer[""] = pushed[SECTION]
        await apply_settings(ls, reindex=True)


def section_of(value: Any, source: str, problems: list[str]) -> Mapping[str, Any]:
    """Accept ``{"codekin": {...}}`` or the section itself; anything else is a problem."""
    if value is None:
        return {}
    if isinstance(value, Mapping):
        inner = value.get(SECTION, value)
        if isinstance(inner, Mapping):
            return inner
    problems.append(f"{source}: expected an object of codekin settings, got {type(value).__name__}")
    return {}


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


def resolve(ls: CodekinServer, folder: FolderIndex) -> tuple[Settings, list[str]]:
    problems: list[str] = []
    settings, found = load_file_settings(folder.root)
    problems += found
    init = section_of(ls.init_options, "initializationOptions", problems)
    settings, found = merge(settings, init, "initializationOptions")
    problems += found
    config = ls.config_layer.get(folder.uri, ls.config_layer.get(""))
    settings, found = merge(
        settings, section_of(config, "workspace/configuration", problems), "workspace/configuration"
    )
    problems += found
    return settings, problems


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
        settings, found = resolve(ls, folder)
        problems += [p for p in found if p not in problems]
        if reindex and ls.state.needs_reindex(folder, settings):
            changed.append(folder)
        elif folder.workspace is not None:
            folder.workspace.settings = settings  # live settings (hybrid) apply at once
        folder.settings = settings
    if problems:
        for problem in problems:
            log.warning("%s", problem)
        ls.show("invalid settings, defaults used instead:\n" + "\n".join(problems))
    if ls.state.folders:
        ls.state.debouncer.set_delay(min(f.settings.debounce_ms for f in ls.state.folders.values()))
    for folder in changed:
        log.info("settings changed for %s: reindexing", folder.root)
        ls.spawn(index_folder(ls, folder))
