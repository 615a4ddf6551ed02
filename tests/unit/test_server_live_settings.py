"""The language server's folders take new settings through their subscribers: the live part
reaches the open Workspace and the shared debouncer at once; what shapes the index asks for a
reindex. Driven on ServerState directly with the fake encoder (no LSP, no model)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from codekin import Settings
from codekin.embeddings.fake import FakeEncoder
from codekin.server.state import ServerState


@pytest.fixture
def state() -> Iterator[ServerState]:
    state = ServerState(encoder=FakeEncoder())
    yield state
    state.close()


def folder_root(tmp_path: Path, name: str) -> Path:
    root = tmp_path / name
    root.mkdir()
    (root / "a.py").write_text("def parse_config(path):\n    return open(path).read()\n")
    return root


def test_a_live_change_reaches_the_open_workspace_without_a_reindex(
    state: ServerState, tmp_path: Path
) -> None:
    folder = state.add_folder(folder_root(tmp_path, "one"), Settings())
    state.schedule_index(folder).result()
    ws = folder.workspace
    assert ws is not None and ws.settings.hybrid
    new = Settings(hybrid=False, code_lens=True)
    assert not state.needs_reindex(folder, new)
    folder.live.update(new)
    assert folder.workspace is ws and ws.settings.hybrid is False
    state.schedule_index(folder).result()
    assert folder.workspace is ws  # the same index, still open


def test_an_index_change_asks_for_a_reindex_and_reopens(state: ServerState, tmp_path: Path) -> None:
    folder = state.add_folder(folder_root(tmp_path, "one"), Settings())
    state.schedule_index(folder).result()
    ws = folder.workspace
    new = Settings(max_chunk_bytes=500, hybrid=False)
    assert state.needs_reindex(folder, new)
    folder.live.update(new)
    assert ws is not None and ws.settings.max_chunk_bytes == 4000  # not reopened yet
    state.schedule_index(folder).result()
    assert folder.workspace is not ws and folder.workspace is not None
    assert folder.workspace.settings.max_chunk_bytes == 500


def test_the_debouncer_waits_as_long_as_the_shortest_folder_delay(state: ServerState, tmp_path: Path) -> None:
    one = state.add_folder(folder_root(tmp_path, "one"), Settings())
    two = state.add_folder(folder_root(tmp_path, "two"), Settings())
    one.live.update(Settings(debounce_ms=500))
    assert state.debouncer.delay == 0.3  # two still waits 300 ms
    two.live.update(Settings(debounce_ms=100))
    assert state.debouncer.delay == 0.1
    state.remove_folder(two.root)
    assert state.debouncer.delay == 0.5
