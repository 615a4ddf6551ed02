"""Settings changed in the editor, end to end with the fake encoder (``model = "fake"``, no model
loaded): a live setting reaches the open index at once; one that shapes the index reopens and
reindexes the folder, and the live part comes along."""

from __future__ import annotations

from typing import Any

import pytest
import pytest_lsp
from e2e_support import (
    CodekinClient,
    copy_workspace,
    search,
    server_config,
    start_session,
    status,
    wait_for,
    wait_ready,
)
from lsprotocol import types

pytestmark = [pytest.mark.asyncio(loop_scope="module")]
QUESTION = "read a JSON configuration file"


@pytest_lsp.fixture(scope="module", config=server_config())
async def client(lsp_client: CodekinClient, tmp_path_factory: pytest.TempPathFactory):
    root = copy_workspace(tmp_path_factory.mktemp("live") / "ws")
    await start_session(lsp_client, "neovim", root, {"codekin": {"model": "fake"}})
    yield
    await lsp_client.shutdown_session()


def change(client: CodekinClient, settings: dict[str, Any]) -> None:
    client.set_configuration(settings, section="codekin")
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=None))


async def fusion(client: CodekinClient) -> set[str]:
    result = await search(client, QUESTION, explain=True)
    return {item["explain"]["fusion"]["method"] for item in result["items"]}


async def test_a_live_setting_applies_to_the_open_index(client: CodekinClient) -> None:
    ready = await wait_ready(client)
    assert ready["state"] == "ready" and ready["files"] == 6 and ready["model"] == "fake"
    assert "dense" not in await fusion(client)
    change(client, {"hybrid": False})

    async def dense_only() -> bool:
        return await fusion(client) == {"dense"}

    await wait_for(dense_only, "hybrid = false to reach the open index")


async def test_an_index_setting_reindexes_and_keeps_the_live_part(client: CodekinClient) -> None:
    change(client, {"hybrid": False, "exclude": ["go/**"]})

    async def go_excluded() -> bool:
        s = await status(client)
        return s["state"] == "ready" and s["files"] == 5

    await wait_for(go_excluded, "the exclude setting to drop go/config.go")
    result = await search(client, QUESTION, explain=True)
    assert result["items"] and all("/go/" not in item["uri"] for item in result["items"])
    assert {item["explain"]["fusion"]["method"] for item in result["items"]} == {"dense"}
