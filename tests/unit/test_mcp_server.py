"""The MCP server through the official SDK's in-memory client, with the fake encoder."""

from __future__ import annotations

import json
import re
import shutil
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import anyio
import pytest
from mcp import Client
from mcp_types import CallToolResult, ListRootsResult, Root

from codekin.agents.install import AGENTS_BLOCK, client_config
from codekin.agents.mcp_server import CodekinMCP, build_server
from codekin.cli import main
from codekin.embeddings.fake import FakeEncoder
from codekin.index.lock import WriteLock
from codekin.settings import Settings
from codekin.workspace import Workspace

FIXTURE = Path(__file__).parents[1] / "e2e" / "fixtures" / "workspace"
T = TypeVar("T")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return Path(shutil.copytree(FIXTURE, tmp_path / "repo"))


@pytest.fixture
def app(repo: Path) -> Iterator[CodekinMCP]:
    server = build_server(encoder=FakeEncoder(), watch=False, cwd=repo)
    yield server
    server.roots.close()


def with_client(app: CodekinMCP, body: Callable[[Client], Awaitable[T]], **kw: Any) -> T:
    async def run() -> T:
        async with Client(app.server, **kw) as client:
            return await body(client)

    return anyio.run(run)


def call(app: CodekinMCP, name: str, args: dict[str, Any]) -> CallToolResult:
    return with_client(app, lambda c: c.call_tool(name, args))


def text(result: CallToolResult) -> str:
    assert len(result.content) == 1
    return result.content[0].text  # type: ignore[union-attr]


def ok(result: CallToolResult) -> str:
    assert not result.is_error, text(result)
    return text(result)


def cursor_of(answer: str) -> str | None:
    m = re.search(r"cursor='([^']+)'", answer)
    return m.group(1) if m else None


def test_tools_and_their_hints(app: CodekinMCP) -> None:
    tools = {t.name: t for t in with_client(app, lambda c: c.list_tools()).tools}
    assert set(tools) == {"search", "find_similar", "context", "index_status", "reindex"}
    for name in ("search", "find_similar", "context", "index_status"):
        assert tools[name].annotations is not None and tools[name].annotations.read_only_hint is True
    reindex = tools["reindex"].annotations
    assert reindex is not None and reindex.read_only_hint is False and reindex.destructive_hint is False
    props = tools["search"].input_schema["properties"]
    assert {"query", "k", "languages", "paths", "files", "snippet", "cursor", "max_tokens"} <= set(props)


def test_every_tool_over_the_initialize_handshake_with_the_clients_roots(repo: Path, tmp_path: Path) -> None:
    empty = tmp_path / "elsewhere"
    empty.mkdir()
    app = build_server(encoder=FakeEncoder(), watch=False, cwd=empty)  # the cwd must not be used

    async def roots(_: Any) -> ListRootsResult:
        return ListRootsResult(roots=[Root(uri=repo.as_uri())])  # type: ignore[arg-type]

    async def session(c: Client) -> list[CallToolResult]:
        return [
            await c.call_tool("search", {"query": "euclidean_distance", "k": 3}),
            await c.call_tool("find_similar", {"path": "python/points.py", "line": 8, "k": 3}),
            await c.call_tool("context", {"question": "read a JSON configuration file", "max_tokens": 400}),
            await c.call_tool("index_status", {}),
            await c.call_tool("reindex", {}),
        ]

    try:
        search, similar, context, status, reindex = with_client(
            app, session, mode="legacy", list_roots_callback=roots
        )
    finally:
        app.roots.close()
    assert "python/geometry.py:11-15  euclidean_distance" in ok(search)
    assert "1. python/geometry.py:11-15  euclidean_distance" in ok(similar)
    assert "go/config.go:13-24  LoadConfig  (search rank 1)" in ok(context)
    assert f"root: {repo.resolve()}" in ok(status) and "embedded: 100%" in ok(status)
    assert ok(reindex).startswith("reindexed: 0 files updated")


def test_search_pages_with_a_cursor_and_stays_bounded(app: CodekinMCP) -> None:
    first = ok(call(app, "search", {"query": "distance between points", "k": 2}))
    assert first.startswith("search 'distance between points': results 1-2")
    cursor = cursor_of(first)
    assert cursor is not None
    second = ok(call(app, "search", {"query": "distance between points", "k": 2, "cursor": cursor}))
    assert second.startswith("search 'distance between points': results 3-4")
    locations = re.findall(r"^\d+\. (\S+)", first + "\n" + second, flags=re.M)
    assert len(locations) == 4 == len(set(locations))

    paths_only = ok(call(app, "search", {"query": "distance", "k": 5, "snippet": "path"}))
    lines = paths_only.splitlines()
    assert all(line.startswith(("search", "#")) or re.match(r"\d+\. ", line) for line in lines)

    tight = ok(call(app, "search", {"query": "distance", "k": 10, "snippet": "full", "max_tokens": 60}))
    assert "# cut at" in tight and "(max_tokens=60)" in tight
    assert cursor_of(tight) is not None  # what was cut is reachable on the next page

    foreign = call(app, "search", {"query": "something else", "cursor": cursor})
    assert foreign.is_error and "different query" in text(foreign)


def test_find_similar_by_location_and_by_snippet(app: CodekinMCP) -> None:
    by_location = ok(call(app, "find_similar", {"path": "python/points.py", "line": 8, "k": 3}))
    assert by_location.splitlines()[1].startswith("1. python/geometry.py:11-15  euclidean_distance")
    snippet = "def dist(p, q):\n    dx = p[0] - q[0]\n    dy = p[1] - q[1]\n"
    snippet += "    return math.sqrt(dx * dx + dy * dy)"
    by_code = ok(call(app, "find_similar", {"code": snippet, "language": "python", "k": 2}))
    assert "distance" in by_code.splitlines()[1]
    args = {"path": "python/points.py", "line": 8, "k": 5, "same_language": True, "snippet": "path"}
    same = ok(call(app, "find_similar", args)).splitlines()[1:]
    assert len(same) == 5 and all(re.search(r"\[\w+, python\]", ln) for ln in same)


def test_context_is_the_workspace_context(app: CodekinMCP, repo: Path) -> None:
    answer = ok(call(app, "context", {"question": "read a JSON configuration file", "max_tokens": 500}))
    with Workspace(repo, Settings(), encoder=FakeEncoder()) as ws:
        expected = ws.context(query="read a JSON configuration file", token_budget=500).render()
    assert answer == expected
    at = ok(call(app, "context", {"path": "python/points.py", "line": 8, "max_tokens": 600}))
    assert at.startswith("# python/points.py:6-10  point_distance  (enclosing definition)")
    tokens = int(re.search(r"# (\d+) tokens of a 600-token budget", at).group(1))  # type: ignore[union-attr]
    assert tokens <= 600


def test_status_shows_stale_files_and_reindex_clears_them(app: CodekinMCP, repo: Path) -> None:
    assert "stale files: 0" in ok(call(app, "index_status", {}))
    time.sleep(0.01)  # a distinct mtime for the edit
    (repo / "python" / "fresh.py").write_text("def brand_new_helper():\n    return 42\n")
    status = ok(call(app, "index_status", {}))
    assert "stale files: 1 (python/fresh.py)" in status
    assert ok(call(app, "reindex", {"paths": ["python/fresh.py"]})).startswith("reindexed: 1 files updated")
    assert "stale files: 0" in ok(call(app, "index_status", {}))
    assert "brand_new_helper" in ok(call(app, "search", {"query": "brand new helper", "k": 1}))


def test_an_edit_is_seen_by_the_next_search_through_the_watcher(repo: Path) -> None:
    app = build_server(encoder=FakeEncoder(), watch=True, cwd=repo)

    async def session(c: Client) -> str:
        first = await c.call_tool("search", {"query": "zebra stripes counter", "k": 1})
        assert "count_zebra_stripes" not in text(first)
        (repo / "python" / "zebra.py").write_text("def count_zebra_stripes(z):\n    return len(z.stripes)\n")
        deadline = time.monotonic() + 60  # only stops a hung test: the watcher usually reacts in ms
        while True:
            found = text(await c.call_tool("search", {"query": "zebra stripes counter", "k": 1}))
            if "count_zebra_stripes" in found or time.monotonic() > deadline:
                return found
            await anyio.sleep(0.2)

    try:
        assert "python/zebra.py:1-2  count_zebra_stripes" in with_client(app, session)
        assert app.roots.state.watcher == "server"
    finally:
        app.roots.close()


def test_two_roots_are_searched_together(tmp_path: Path) -> None:
    a = tmp_path / "alpha"
    b = tmp_path / "beta"
    (a / "src").mkdir(parents=True)
    (b / "lib").mkdir(parents=True)
    (a / "src" / "fetch.py").write_text("def fetch_weather_report(city):\n    return get(city)\n")
    (b / "lib" / "parse.py").write_text("def parse_weather_report(text):\n    return text.split()\n")
    app = build_server([a, b], encoder=FakeEncoder(), watch=False)
    try:
        answer = ok(call(app, "search", {"query": "weather report", "k": 5, "snippet": "path"}))
        status = ok(call(app, "index_status", {}))
        ctx = ok(call(app, "context", {"question": "weather report", "max_tokens": 400}))
    finally:
        app.roots.close()
    assert "alpha/src/fetch.py:1-2  fetch_weather_report" in answer
    assert "beta/lib/parse.py:1-2  parse_weather_report" in answer
    assert f"root: {a.resolve()}" in status and f"root: {b.resolve()}" in status
    assert "fetch_weather_report" in ctx and "parse_weather_report" in ctx


def test_bad_arguments_get_tool_errors_and_the_server_carries_on(app: CodekinMCP) -> None:
    bad: list[tuple[str, dict[str, Any], str]] = [
        ("search", {}, "query"),
        ("search", {"query": "x", "k": 0}, "greater than or equal to 1"),
        ("search", {"query": "   "}, "query is empty"),
        ("search", {"query": "x", "cursor": "not-a-cursor"}, "not one codekin issued"),
        ("search", {"query": "x", "snippet": "huge"}, "snippet"),
        ("find_similar", {}, "give either path"),
        ("find_similar", {"path": "missing.py", "line": 1}, "no such file"),
        ("find_similar", {"path": "python/points.py", "line": 500}, "no indexed definition"),
        ("context", {}, "give a question"),
        ("context", {"path": "python/points.py"}, "path needs a line"),
        ("context", {"question": "x", "max_tokens": 10**9}, "less than or equal"),
        ("reindex", {"paths": ["/nowhere/at/all.py"]}, "not under any served root"),
        ("no_such_tool", {}, "no_such_tool"),
    ]

    async def session(c: Client) -> list[CallToolResult]:
        results = [await c.call_tool(name, args) for name, args, _ in bad]
        return [*results, await c.call_tool("search", {"query": "fibonacci", "k": 1})]

    *errors, after = with_client(app, session)
    for (name, args, expected), result in zip(bad, errors, strict=True):
        assert result.is_error, (name, args, text(result))
        assert expected in text(result), (name, args, text(result))
    assert "fibonacci" in ok(after)


def test_print_config_and_agents_md(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["mcp", "--print-config", "claude"]) == 0
    printed = capsys.readouterr()
    assert printed.err.startswith("codekin: put this in .mcp.json")
    config = json.loads(printed.out)
    assert config["mcpServers"]["codekin"]["args"][-1] == "mcp"
    where, vscode = client_config("vscode", ["/bin/codekin", "mcp"])
    assert where == ".vscode/mcp.json"
    assert json.loads(vscode)["servers"]["codekin"] == {
        "type": "stdio",
        "command": "/bin/codekin",
        "args": ["mcp", "--root", "${workspaceFolder}"],
    }
    codex = '[mcp_servers.codekin]\ncommand = "codekin"\nargs = ["mcp"]\n'
    assert client_config("codex", ["codekin", "mcp"])[1] == codex
    with pytest.raises(ValueError, match="unknown client"):
        client_config("emacs")

    target = tmp_path / "AGENTS.md"
    target.write_text("# Project rules\n\nBe nice.\n")
    assert main(["agents-md", "--file", str(target)]) == 0
    assert main(["agents-md", "--file", str(target)]) == 0  # refreshed, not repeated
    body = target.read_text()
    assert body.startswith("# Project rules\n\nBe nice.\n") and body.count("codekin:start") == 1
    assert AGENTS_BLOCK in body and "`search`" in body and "`context`" in body


def test_an_index_another_process_is_writing_is_still_searched(repo: Path) -> None:
    with Workspace(repo, Settings(), encoder=FakeEncoder()) as ws:
        ws.index()
    lock = WriteLock(repo / ".codekin" / "write.lock")
    lock.acquire()  # as an editor's language server busy indexing would
    app = build_server(encoder=FakeEncoder(), watch=False, cwd=repo)
    try:
        answer = ok(call(app, "search", {"query": "fibonacci", "k": 1}))
    finally:
        lock.release()
        app.roots.close()
    assert "rust/lib.rs:16-25  fibonacci" in answer
    assert "# note:" in answer and "another codekin process" in answer
