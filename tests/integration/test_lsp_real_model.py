"""The language server with the real default model (VS Code's capabilities): what the model answers.
The protocol itself, both clients, file changes, commands and errors are covered fast, with the
fake encoder, in tests/e2e."""

from __future__ import annotations

from typing import Any

import pytest
import pytest_lsp
from lsprotocol import types

from tests.e2e.e2e_support import (
    CodekinClient,
    command,
    copy_workspace,
    request,
    search,
    server_config,
    start_session,
    status,
    symbols_of,
    wait_ready,
)

pytestmark = [pytest.mark.slow, pytest.mark.asyncio(loop_scope="module")]
OPTIONS = {"codekin": {"codeLens": True, "codeLensThreshold": 0.8}}


@pytest_lsp.fixture(scope="module", config=server_config(real_model=True))
async def client(lsp_client: CodekinClient, tmp_path_factory: pytest.TempPathFactory):
    root = copy_workspace(tmp_path_factory.mktemp("real") / "ws")
    await start_session(lsp_client, "vscode", root, OPTIONS)
    lsp_client.early = {
        # Asked at once: the model is still loading, so the index cannot be complete yet.
        "search": await search(lsp_client, "distance between two points"),
        "status": await status(lsp_client),
    }
    yield
    await lsp_client.shutdown_session()


def uri(client: CodekinClient, rel: str) -> str:
    return (client.root / rel).as_uri()


async def test_requests_while_the_model_loads_are_partial(client: CodekinClient) -> None:
    assert client.early["status"]["state"] == "indexing"
    assert client.early["search"]["partial"] is True
    ready = await wait_ready(client)
    assert ready["state"] == "ready" and ready["partial"] is False


async def test_search(client: CodekinClient) -> None:
    await wait_ready(client)
    result = await search(client, "straight-line distance between two points", limit=3)
    assert result["items"][0]["symbol"] in ("euclidean_distance", "point_distance")
    rust = await search(client, "check whether a number is prime", languages=["rust"])
    assert rust["items"][0]["symbol"] == "is_prime"
    files = await search(client, "straight-line distance between two points", files=True)
    file_uris = [i["uri"] for i in files["items"]]
    assert set(file_uris[:2]) == {uri(client, "python/geometry.py"), uri(client, "python/points.py")}
    greet = await search(client, "greetWorld say hello to someone by name")
    item = next(i for i in greet["items"] if i["symbol"] == "greetWorld")
    assert item["range"]["start"] == {"line": 14, "character": 18}  # UTF-16: after "héllo" and "🌍"


async def test_results_carry_score_and_cosine(client: CodekinClient) -> None:
    await wait_ready(client)
    found = (await search(client, "straight-line distance between two points"))["items"]
    assert [i["score"] for i in found] == sorted((i["score"] for i in found), reverse=True)
    assert all(-1.0 <= i["cosine"] <= 1.0 for i in found)
    assert any(i["score"] != i["cosine"] for i in found)  # the ranking's score, not the cosine


async def test_similar(client: CodekinClient) -> None:
    await wait_ready(client)
    at = {
        "textDocument": {"uri": uri(client, "python/geometry.py")},
        "position": {"line": 12, "character": 4},
    }
    names = symbols_of(await request(client, "codekin/similar", at))
    assert names[0] == "point_distance" and "euclidean_distance" not in names
    selection = {"start": {"line": 5, "character": 0}, "end": {"line": 9, "character": 39}}
    params: dict[str, Any] = {
        "textDocument": {"uri": uri(client, "python/points.py")},
        "range": selection,
        "limit": 5,
    }
    names = symbols_of(await request(client, "codekin/similar", params))
    assert names[0] == "euclidean_distance" and "point_distance" not in names


async def test_context(client: CodekinClient) -> None:
    await wait_ready(client)
    budget = {"query": "read a JSON configuration file", "tokenBudget": 300}
    result = await request(client, "codekin/context", budget)
    assert result["items"][0]["symbol"] == "LoadConfig" and result["tokens"] <= 300
    at_cursor = {
        "textDocument": {"uri": uri(client, "python/points.py")},
        "position": {"line": 7, "character": 4},
        "tokenBudget": 400,
    }
    assert "euclidean_distance" in symbols_of(await request(client, "codekin/context", at_cursor))


async def test_workspace_symbol(client: CodekinClient) -> None:
    await wait_ready(client)
    symbols = await client.workspace_symbol_async(types.WorkspaceSymbolParams(query="nth fibonacci number"))
    assert symbols[0].name == "fibonacci" and symbols[0].location.uri == uri(client, "rust/lib.rs")


async def test_code_lens_finds_the_near_copy(client: CodekinClient) -> None:
    await wait_ready(client)
    doc = types.TextDocumentIdentifier(uri=uri(client, "python/geometry.py"))
    lenses = await client.text_document_code_lens_async(types.CodeLensParams(text_document=doc))
    by_line = {lens.range.start.line: lens for lens in lenses}
    assert 10 in by_line, lenses  # euclidean_distance has a near copy in points.py
    locations = by_line[10].command.arguments[0]["locations"]
    assert locations[0]["uri"] == uri(client, "python/points.py")
    assert await command(client, "codekin.server.openSimilar", *by_line[10].command.arguments) == locations
