"""The language server end to end, once per client capability set (one shared server each), with
the fake encoder: what the real model answers is checked in tests/integration/test_lsp_real_model.py."""

from __future__ import annotations

import asyncio
import os
import shutil
from typing import Any

import pytest
import pytest_lsp
from e2e_support import (
    CodekinClient,
    command,
    copy_workspace,
    notify_files,
    request,
    search,
    send_raw,
    server_config,
    start_session,
    status,
    symbols_of,
    wait_for,
    wait_ready,
    write_bytes,
)
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from codekin.settings import DEFAULT_MODEL
from tests.fake_server import hold_file

pytestmark = pytest.mark.asyncio(loop_scope="module")
# the fake encoder puts the near copy of euclidean_distance at cosine 0.8 (the real model: tests/integration)
OPTIONS = {"codekin": {"codeLens": True, "codeLensThreshold": 0.7, "debounceMs": 100}}
HOLD = hold_file("test_server")  # while it exists, the server's embedding waits


@pytest_lsp.fixture(scope="module", params=["neovim", "vscode"], config=server_config(hold=HOLD))
async def client(
    lsp_client: CodekinClient, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
):
    root = copy_workspace(tmp_path_factory.mktemp(request.param) / "ws")
    HOLD.touch()
    try:
        result = await start_session(lsp_client, request.param, root, OPTIONS)
        lsp_client.early = {
            "initialize": result,
            # Asked while embedding is held: the index cannot be complete yet.
            "search": await search(lsp_client, "distance between two points"),
            "status": await status(lsp_client),
        }
    finally:
        HOLD.unlink()
    yield
    await lsp_client.shutdown_session()


def uri(client: CodekinClient, rel: str) -> str:
    return (client.root / rel).as_uri()


def item_for(result: dict[str, Any], symbol: str) -> dict[str, Any]:
    found = [i for i in result["items"] if i["symbol"] == symbol]
    assert found, f"{symbol} not in {symbols_of(result)}"
    return found[0]


async def test_initialize_advertises_extensions(client: CodekinClient) -> None:
    caps = client.early["initialize"].capabilities
    assert caps.experimental["codekin"] == {
        "search": True,
        "similar": True,
        "context": True,
        "indexStatus": True,
        "indexStatusChanged": True,
    }
    assert {"codekin.server.reindex", "codekin.server.clearIndex"} <= set(
        caps.execute_command_provider.commands
    )
    assert caps.workspace_symbol_provider
    assert caps.code_lens_provider is not None
    expected = "utf-8" if client.kind == "neovim" else "utf-16"  # Neovim offers utf-8 first
    assert caps.position_encoding == expected


async def test_requests_during_indexing_are_partial(client: CodekinClient) -> None:
    assert client.early["status"]["state"] == "indexing"
    assert client.early["search"]["partial"] is True
    ready = await wait_ready(client)
    assert ready["state"] == "ready" and ready["partial"] is False
    result = await search(client, "distance between two points")
    assert result["partial"] is False and result["items"]


async def test_progress_reports_files_and_chunks(client: CodekinClient) -> None:
    await wait_ready(client)
    runs = [r for t, r in client.progress_reports.items() if str(t).startswith("codekin/index/")]
    assert runs, client.progress_reports
    run = runs[0]
    assert isinstance(run[0], types.WorkDoneProgressBegin) and run[0].cancellable
    assert isinstance(run[-1], types.WorkDoneProgressEnd)
    reports = [r for r in run if isinstance(r, types.WorkDoneProgressReport)]
    assert any("6/6 files" in (r.message or "") and "chunks" in (r.message or "") for r in reports), reports
    assert "6 files" in (run[-1].message or "")


async def test_index_status(client: CodekinClient) -> None:
    s = await wait_ready(client)
    assert s["files"] == 6 and s["chunks"] >= 15
    assert s["model"] == DEFAULT_MODEL
    assert s["lastUpdated"] and s["errors"] == []
    assert s["watcher"] == ("client" if client.kind == "vscode" else "server")
    assert [f["uri"] for f in s["folders"]] == [client.root.as_uri()]
    states = [n["state"] for n in client.statuses]
    assert "indexing" in states and states[-1] == "ready"


async def test_watcher_registration(client: CodekinClient) -> None:
    methods = [r.method for r in client.registrations]
    if client.kind == "vscode":
        assert methods == ["workspace/didChangeWatchedFiles"]
    else:
        assert methods == []  # dynamicRegistration false: the server watches with watchdog


async def test_search(client: CodekinClient) -> None:
    result = await search(client, "straight-line distance between two points", limit=3)
    assert len(result["items"]) == 3
    top = result["items"][0]
    assert top["symbol"] in ("euclidean_distance", "point_distance")
    assert top["uri"].startswith(client.root.as_uri()) and top["language"] == "python"
    assert top["kind"] == "function" and "def " in top["preview"]
    assert (
        top["range"]["start"]["line"] in (5, 10)
        and top["range"]["end"]["line"] > top["range"]["start"]["line"]
    )

    rust = await search(client, "check whether a number is prime", languages=["rust"])
    assert rust["items"] and {i["language"] for i in rust["items"]} == {"rust"}
    assert rust["items"][0]["symbol"] == "is_prime"

    web = await search(client, "price of the items in a cart", paths=["web/**"])
    assert web["items"] and all(i["uri"].startswith(uri(client, "web/")) for i in web["items"])

    files = await search(client, "straight-line distance between two points", files=True)
    file_uris = [i["uri"] for i in files["items"]]
    assert len(set(file_uris)) == len(file_uris) >= 2  # one item per file
    assert set(file_uris[:2]) == {uri(client, "python/geometry.py"), uri(client, "python/points.py")}
    assert files["items"][0]["symbol"] in ("euclidean_distance", "point_distance")


async def test_results_carry_score_and_cosine(client: CodekinClient) -> None:
    def ranked(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        assert items
        scores = [i["score"] for i in items]
        assert scores == sorted(scores, reverse=True), scores  # the score never rises
        assert all(isinstance(i["cosine"], float) and -1.0 <= i["cosine"] <= 1.0 for i in items)
        return items

    await wait_ready(client)
    query = "straight-line distance between two points"
    found = ranked((await search(client, query))["items"])
    assert any(i["score"] != i["cosine"] for i in found)  # the ranking's score, not the cosine
    ranked((await search(client, query, files=True))["items"])
    doc = {"uri": uri(client, "python/geometry.py")}
    where = {"textDocument": doc, "position": {"line": 12, "character": 4}}
    ranked((await request(client, "codekin/similar", where))["items"])
    context = await request(client, "codekin/context", {**where, "query": query, "tokenBudget": 2000})
    # context is ordered by why a piece was chosen (enclosing definition, question, callees,
    # similar code), each labelled; score and cosine stay details
    items = context["items"]
    assert items and all(i["reason"] and -1.0 <= i["cosine"] <= 1.0 for i in items)


async def test_ranges_use_the_negotiated_encoding(client: CodekinClient) -> None:
    # `var héllo = "🌍"; function greetWorld` : the chunk starts at byte 21 = UTF-16 unit 18.
    item = item_for(await search(client, "greetWorld say hello to someone by name"), "greetWorld")
    start = item["range"]["start"]
    assert start["line"] == 14
    assert start["character"] == (21 if client.kind == "neovim" else 18)


async def test_similar_at_position(client: CodekinClient) -> None:
    params = {
        "textDocument": {"uri": uri(client, "python/geometry.py")},
        "position": {"line": 12, "character": 4},
    }
    result = await request(client, "codekin/similar", params)
    assert result["partial"] is False
    names = symbols_of(result)
    assert names[0] == "point_distance"
    assert "euclidean_distance" not in names  # the query chunk itself is excluded


async def test_similar_to_selection(client: CodekinClient) -> None:
    selection = {"start": {"line": 5, "character": 0}, "end": {"line": 9, "character": 39}}
    params = {"textDocument": {"uri": uri(client, "python/points.py")}, "range": selection, "limit": 5}
    result = await request(client, "codekin/similar", params)
    assert symbols_of(result)[0] == "euclidean_distance"
    assert "point_distance" not in symbols_of(result)


async def test_context_fits_the_budget(client: CodekinClient) -> None:
    result = await request(
        client, "codekin/context", {"query": "read a JSON configuration file", "tokenBudget": 300}
    )
    items = result["items"]
    assert items and items[0]["symbol"] == "LoadConfig" and "os.ReadFile" in items[0]["text"]
    assert result["tokens"] == sum(i["tokens"] for i in items) <= 300
    spans = [(i["uri"], i["range"]["start"]["line"]) for i in items]
    assert len(spans) == len(set(spans))

    at_cursor = await request(
        client,
        "codekin/context",
        {
            "textDocument": {"uri": uri(client, "python/points.py")},
            "position": {"line": 7, "character": 4},
            "tokenBudget": 400,
        },
    )
    assert "euclidean_distance" in symbols_of(at_cursor)
    tiny = await request(client, "codekin/context", {"query": "configuration", "tokenBudget": 3})
    assert tiny["tokens"] <= 3


async def test_workspace_symbol(client: CodekinClient) -> None:
    symbols = await client.workspace_symbol_async(types.WorkspaceSymbolParams(query="fibonacci"))
    assert symbols and symbols[0].name == "fibonacci"
    assert symbols[0].kind == types.SymbolKind.Function
    assert symbols[0].location.uri == uri(client, "rust/lib.rs")
    assert await client.workspace_symbol_async(types.WorkspaceSymbolParams(query="")) == []


async def test_code_lens_opens_similar(client: CodekinClient) -> None:
    doc = types.TextDocumentIdentifier(uri=uri(client, "python/geometry.py"))
    lenses = await client.text_document_code_lens_async(types.CodeLensParams(text_document=doc))
    by_line = {lens.range.start.line: lens for lens in lenses}
    assert 10 in by_line, lenses  # euclidean_distance has a near copy in points.py
    lens = by_line[10]
    assert lens.command.title.endswith("similar") and lens.command.command == "codekin.server.openSimilar"
    locations = lens.command.arguments[0]["locations"]
    assert locations[0]["uri"] == uri(client, "python/points.py")
    opened = await command(client, lens.command.command, *lens.command.arguments)
    assert opened == locations
    assert client.shown_documents[-1].uri == uri(client, "python/points.py")


async def test_changed_file_on_disk_becomes_searchable(client: CodekinClient) -> None:
    path = client.root / "python" / "temperature.py"
    path.write_text("def celsius_to_fahrenheit(c):\n    return c * 9 / 5 + 32\n")
    notify_files(client, [(path, types.FileChangeType.Created)])

    async def found(symbol: str, query: str) -> bool:
        return symbol in symbols_of(await search(client, query, limit=3))

    await wait_for(lambda: found("celsius_to_fahrenheit", "convert celsius to fahrenheit"), "a new file")
    path.write_text("def kelvin_to_celsius(k):\n    return k - 273.15\n")
    notify_files(client, [(path, types.FileChangeType.Changed)])
    await wait_for(lambda: found("kelvin_to_celsius", "convert kelvin to celsius"), "an edited file")
    assert "celsius_to_fahrenheit" not in symbols_of(await search(client, "convert celsius to fahrenheit"))


async def test_save_by_rename(client: CodekinClient) -> None:
    target = client.root / "rust" / "lib.rs"
    tmp = target.with_name("lib.rs.swp~")
    tmp.write_text(
        target.read_text()
        + "\npub fn gcd(a: u64, b: u64) -> u64 {\n    if b == 0 { a } else { gcd(b, a % b) }\n}\n"
    )
    os.replace(tmp, target)  # how many editors save
    notify_files(
        client,
        [
            (tmp, types.FileChangeType.Created),
            (tmp, types.FileChangeType.Deleted),
            (target, types.FileChangeType.Changed),
        ],
    )

    async def found() -> bool:
        return "gcd" in symbols_of(await search(client, "gcd: greatest common divisor", limit=3))

    await wait_for(found, "a file saved by rename")


async def test_deleted_file_disappears(client: CodekinClient) -> None:
    before = (await status(client))["files"]
    path = client.root / "web" / "user.ts"
    path.unlink()
    notify_files(client, [(path, types.FileChangeType.Deleted)])

    async def gone() -> bool:
        result = await search(client, "validate an email address")
        return all(not i["uri"].endswith("/web/user.ts") for i in result["items"])

    await wait_for(gone, "a deleted file to disappear")

    async def counted() -> bool:
        return (await status(client))["files"] == before - 1

    await wait_for(counted, "the file count to drop")


async def test_branch_switch_touching_many_files(client: CodekinClient) -> None:
    base = (await wait_ready(client))["files"]
    gen = client.root / "generated"
    gen.mkdir()
    created = []
    for i in range(150):
        path = gen / f"mod_{i:03}.py"
        path.write_text(f"def value_{i}():\n    return {i}\n")
        created.append((path, types.FileChangeType.Created))
    notify_files(client, created)

    async def files(n: int) -> bool:
        return (await status(client))["files"] == n

    await wait_for(lambda: files(base + 150), "150 new files")
    shutil.rmtree(gen)
    notify_files(client, [(gen, types.FileChangeType.Deleted)])  # a folder goes as one event
    await wait_for(lambda: files(base), "150 files removed")


async def test_unsaved_buffer_is_searchable_and_close_reverts(client: CodekinClient) -> None:
    path = client.root / "web" / "cart.js"
    doc_uri = path.as_uri()
    disk = path.read_text()
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=doc_uri, language_id="javascript", version=1, text=disk)
        )
    )
    edited = disk + "\nfunction shippingCost(weightKg) {\n  return 4.99 + weightKg * 1.25;\n}\n"
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=doc_uri, version=2),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=edited)],
        )
    )

    async def has_shipping(expected: bool) -> bool:
        names = symbols_of(await search(client, "shipping cost for a parcel weight", limit=3))
        return ("shippingCost" in names) == expected

    await wait_for(lambda: has_shipping(True), "an unsaved edit to be searchable")
    assert path.read_text() == disk
    client.text_document_did_close(
        types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=doc_uri))
    )
    await wait_for(lambda: has_shipping(False), "didClose to revert to the file on disk")


async def test_clear_and_reindex_commands(client: CodekinClient) -> None:
    before = await wait_ready(client)
    cleared = await command(client, "codekin.server.clearIndex")
    assert cleared["files"] == 0 and cleared["partial"] is True
    empty = await search(client, "distance between two points")
    assert empty == {"items": [], "partial": True, "embedded": 0, "total": 0}
    rebuilt = await command(client, "codekin.server.reindex", {"full": True})
    assert rebuilt["state"] == "ready" and rebuilt["files"] == before["files"] and rebuilt["partial"] is False
    assert (await search(client, "distance between two points"))["items"]


async def test_unknown_and_malformed_requests_get_errors(client: CodekinClient) -> None:
    async def error_code(method: str, params: Any) -> int:
        with pytest.raises(JsonRpcException) as caught:
            await request(client, method, params)
        return caught.value.code

    await wait_ready(client)  # the last check expects a settled server, whichever test ran before
    assert await error_code("codekin/noSuchRequest", {}) == -32601
    assert await error_code("codekin/search", {"query": 42}) == -32602
    assert await error_code("codekin/search", ["not", "an", "object"]) == -32602
    assert await error_code("codekin/search", {"query": "x", "files": "yes"}) == -32602
    assert (
        await error_code("codekin/similar", {"textDocument": {"uri": uri(client, "rust/lib.rs")}}) == -32602
    )
    assert await error_code("codekin/context", {"query": "x"}) == -32602
    with pytest.raises(JsonRpcException) as caught:
        payload = {
            "jsonrpc": "2.0",
            "id": "raw-1",
            "method": "textDocument/codeLens",
            "params": {"textDocument": 5},
        }
        await send_raw(client, payload)
    assert caught.value.code == -32602
    with pytest.raises(JsonRpcException):
        await command(client, "codekin.server.reindex", {"full": "yes"})
    # Garbage on the wire is answered (id null) and the server keeps serving.
    write_bytes(client, b"Content-Length: 9\r\n\r\n{not json")
    write_bytes(client, b"Content-Length: 2\r\n\r\n[]")
    assert (await status(client))["state"] == "ready"


async def test_cancel_request(client: CodekinClient) -> None:
    # A long request (a full reindex, its embedding held) is cancelled, and so is the run it started.
    msg_id = f"cancel-reindex-{client.kind}"
    params = types.ExecuteCommandParams(command="codekin.server.reindex", arguments=[{"full": True}])
    HOLD.touch()
    try:
        pending = asyncio.ensure_future(
            client.protocol.send_request_async("workspace/executeCommand", params, msg_id=msg_id)
        )
        await asyncio.sleep(0)  # let the request be written before the cancellation
        client.cancel_request(types.CancelParams(id=msg_id))
        with pytest.raises(JsonRpcException) as caught:
            await pending
    finally:
        HOLD.unlink()
    assert caught.value.code == -32800
    # The run stops at its next check (or had already embedded everything): either way it settles.
    assert (await wait_ready(client))["state"] == "ready"
    assert (await command(client, "codekin.server.reindex"))["partial"] is False

    # Searches are short: each is either answered or cancelled, and the server stays consistent.
    query = " ".join(["parse configuration file and compute distance between points"] * 40)
    futures = []
    for n in range(5):
        search_id = f"cancel-search-{client.kind}-{n}"
        sent = client.protocol.send_request_async("codekin/search", {"query": query}, msg_id=search_id)
        futures.append(asyncio.ensure_future(sent))
        await asyncio.sleep(0)
        client.cancel_request(types.CancelParams(id=search_id))
    for future in futures:
        try:
            assert "items" in await future
        except JsonRpcException as exc:
            assert exc.code == -32800
    assert (await status(client))["state"] == "ready"
