"""Settings and cancellation end to end, on a server of its own (Neovim capabilities, the fake
encoder; a model that cannot load is loaded for real)."""

from __future__ import annotations

from typing import Any

import pytest
import pytest_lsp
from e2e_support import (
    CodekinClient,
    command,
    copy_workspace,
    search,
    server_config,
    start_session,
    status,
    wait_for,
    wait_ready,
)
from lsprotocol import types

from tests.fake_server import hold_file

pytestmark = pytest.mark.asyncio(loop_scope="module")
BAD_OPTIONS = {"codekin": {"debounceMs": "fast", "codeLens": 3, "noSuchSetting": 1}}
HOLD = hold_file("test_settings_and_cancel")  # while it exists, the server's embedding waits


@pytest_lsp.fixture(scope="module", config=server_config(hold=HOLD))
async def client(lsp_client: CodekinClient, tmp_path_factory: pytest.TempPathFactory):
    root = copy_workspace(tmp_path_factory.mktemp("settings") / "ws")
    HOLD.touch()  # the initial run waits in its embedding phase until test_cancel_initial_indexing
    try:
        await start_session(lsp_client, "neovim", root, BAD_OPTIONS)
        yield
        await lsp_client.shutdown_session()
    finally:
        HOLD.unlink(missing_ok=True)


@pytest.fixture
def released() -> None:
    """The initial run's embedding let go (test_cancel_initial_indexing does it, when it runs)."""
    HOLD.unlink(missing_ok=True)


def messages(client: CodekinClient) -> str:
    return "\n".join(m.message for m in client.messages)


async def test_bad_initialization_options_are_reported_and_defaults_used(client: CodekinClient) -> None:
    await wait_for(lambda: _has_message(client, "noSuchSetting"), "a showMessage about the settings")
    text = messages(client)
    assert "debounceMs" in text and "codeLens" in text and "noSuchSetting" in text
    assert client.messages[0].type == types.MessageType.Warning


async def _has_message(client: CodekinClient, needle: str) -> bool:
    return needle in messages(client)


async def test_cancel_initial_indexing(client: CodekinClient) -> None:
    async def token() -> Any:
        tokens = [t for t, r in client.progress_reports.items() if r and str(t).startswith("codekin/index/")]
        return tokens[0] if tokens else None

    first = await wait_for(token, "the indexing progress to begin")
    # Embedding is held: the run stops before it has embedded anything.
    client.window_work_done_progress_cancel(types.WorkDoneProgressCancelParams(token=first))
    await status(client)  # answered after the cancel was read (messages are handled in order)
    HOLD.unlink()
    s = await wait_ready(client)
    assert s["state"] == "ready" and s["partial"] is True
    end = client.progress_reports[first][-1]
    assert isinstance(end, types.WorkDoneProgressEnd) and "cancelled" in (end.message or "")
    assert (await search(client, "distance between two points"))["partial"] is True

    done = await command(client, "codekin.server.reindex")
    assert done["state"] == "ready" and done["partial"] is False and done["files"] == 6


async def test_configuration_is_reread_on_change(client: CodekinClient, released: None) -> None:
    client.set_configuration({"maxFileBytes": -1, "exclude": ["go/**"]}, section="codekin")
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=None))
    await wait_for(lambda: _has_message(client, "maxFileBytes"), "a showMessage about maxFileBytes")

    async def go_excluded() -> bool:
        s = await status(client)
        return s["state"] == "ready" and s["files"] == 5

    await wait_for(go_excluded, "the exclude setting to drop go/config.go")
    result = await search(client, "read a JSON configuration file")
    assert all("/go/" not in item["uri"] for item in result["items"])


async def test_an_unloadable_model_is_an_error_state_not_a_crash(
    client: CodekinClient, released: None
) -> None:
    client.set_configuration({"model": "/nonexistent/model-dir"}, section="codekin")
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=None))

    async def errored() -> dict[str, Any] | None:
        s = await status(client)
        return s if s["state"] == "error" else None

    s = await wait_for(errored, "the error state")
    assert any("model" in e or "nonexistent" in e for e in s["errors"]), s["errors"]
    assert (await search(client, "anything"))["partial"] is True

    client.set_configuration({}, section="codekin")
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=None))

    async def recovered() -> bool:
        s = await status(client)
        return s["state"] == "ready" and s["files"] == 6 and not s["errors"]

    await wait_for(recovered, "recovery with the default model")
