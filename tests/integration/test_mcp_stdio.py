"""The MCP server as an agent starts it: a subprocess over stdio, driven by the official SDK's
client. The fast tests put the fake encoder in place of the model; the slow one runs the real
``codekin mcp`` with no arguments in a repository's directory (how issue 21 is checked) and, with
CODEKIN_MCP_TRANSCRIPT=FILE, writes the session transcript shown in docs/mcp.md."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from tests.e2e.raw_lsp import RawClient

FIXTURE = Path(__file__).parents[1] / "e2e" / "fixtures" / "workspace"
FAKE_MCP = """
import sys
from codekin.agents.mcp_server import build_server
from codekin.embeddings.fake import FakeEncoder
app = build_server(encoder=FakeEncoder())
try:
    app.server.run("stdio")
finally:
    app.roots.close()
"""
FAKE_CLI = """
import sys
import codekin.workspace
from codekin.cli import main
from codekin.embeddings.fake import FakeEncoder
codekin.workspace.build_encoder = lambda *a, **k: FakeEncoder()
sys.exit(main(sys.argv[1:]))
"""
QUESTION = "read a JSON configuration file"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return Path(shutil.copytree(FIXTURE, tmp_path / "repo"))


def _env() -> dict[str, str]:
    return {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}


def _mcp(command: str, args: list[str], cwd: Path) -> StdioServerParameters:
    return StdioServerParameters(command=command, args=args, cwd=str(cwd), env=_env())


def _text(result: Any) -> str:
    assert not result.is_error, result.content
    return str(result.content[0].text)


def test_a_stdio_session(repo: Path) -> None:
    async def session() -> dict[str, str]:
        async with Client(_mcp(sys.executable, ["-c", FAKE_MCP], repo)) as c:
            tools = await c.list_tools()
            search = await c.call_tool("search", {"query": "fibonacci", "k": 2})
            similar = await c.call_tool("find_similar", {"path": "python/points.py", "line": 8, "k": 2})
            context = await c.call_tool("context", {"question": QUESTION, "max_tokens": 300})
            bad = await c.call_tool("context", {})
            return {
                "tools": " ".join(sorted(t.name for t in tools.tools)),
                "search": _text(search),
                "similar": _text(similar),
                "context": _text(context),
                "bad": str(bad.is_error) + " " + bad.content[0].text,  # type: ignore[union-attr]
            }

    got = anyio.run(session)
    assert got["tools"] == "context find_similar index_status reindex search"
    assert "rust/lib.rs:16-25  fibonacci" in got["search"]
    assert "python/geometry.py:11-15  euclidean_distance" in got["similar"]
    assert "# go/config.go:13-24  LoadConfig  (search rank 1)" in got["context"]
    assert got["bad"].startswith("True ") and "give a question" in got["bad"]


def test_the_cli_the_language_server_and_mcp_give_the_same_context(repo: Path, tmp_path: Path) -> None:
    budget = 500
    cli = [sys.executable, "-c", FAKE_CLI, "context", QUESTION, "--tokens", str(budget), "--root", str(repo)]

    def run(argv: list[str]) -> str:
        return subprocess.run(argv, capture_output=True, text=True, env=_env(), check=True).stdout

    as_text = run(cli)
    as_json = json.loads(run([*cli, "--json"]))

    async def mcp() -> str:
        async with Client(_mcp(sys.executable, ["-c", FAKE_MCP], repo)) as c:
            return _text(await c.call_tool("context", {"question": QUESTION, "max_tokens": budget}))

    from_mcp = anyio.run(mcp)

    lsp = RawClient(tmp_path / "lsp.stderr")
    try:
        lsp.initialize(repo)
        deadline = time.monotonic() + 60
        while lsp.request("codekin/indexStatus")["result"]["state"] != "ready":
            assert time.monotonic() < deadline, "the language server never finished indexing"
            time.sleep(0.1)
        items = lsp.request("codekin/context", {"query": QUESTION, "tokenBudget": budget})["result"]["items"]
    finally:
        lsp.kill()

    assert as_json["pieces"] and from_mcp == as_text.rstrip("\n")
    from_cli = [
        (p["path"], p["start_line"], p["end_line"], p["reason"], p["text"]) for p in as_json["pieces"]
    ]
    from_lsp = [
        (
            Path(i["uri"].removeprefix("file://")).relative_to(repo.resolve()).as_posix(),
            i["range"]["start"]["line"] + 1,
            i["range"]["end"]["line"] + 1,
            i["reason"],
            i["text"],
        )
        for i in items
    ]
    assert from_lsp == from_cli


def _codekin() -> str:
    found = shutil.which("codekin") or str(Path(sys.executable).with_name("codekin"))
    assert Path(found).exists(), "the codekin script is not installed next to this Python"
    return found


@pytest.mark.slow
def test_codekin_mcp_with_no_arguments_serves_the_repository(repo: Path) -> None:
    """`codekin mcp` in a repository's directory, the real model, the SDK's stdio client."""

    async def session() -> list[tuple[str, dict[str, Any], str]]:
        async with Client(_mcp(_codekin(), ["mcp"], repo)) as c:
            names = sorted(t.name for t in (await c.list_tools()).tools)
            log: list[tuple[str, dict[str, Any], str]] = [("tools/list", {}, "\n".join(names))]
            for name, args in [
                ("search", {"query": "read a JSON configuration file", "k": 2}),
                ("find_similar", {"path": "python/points.py", "line": 8, "k": 2}),
                ("context", {"question": "where are points compared by distance", "max_tokens": 400}),
                ("index_status", {}),
            ]:
                log.append((name, args, _text(await c.call_tool(name, args))))
            return log

    log = anyio.run(session)
    names = log[0][2].split("\n")
    for part in ("search", "similar", "context", "status"):
        assert any(part in n for n in names), (part, names)
    search, similar, context, status = (entry[2] for entry in log[1:])
    assert "go/config.go:13-24  LoadConfig" in search.splitlines()[1]
    assert "euclidean_distance" in similar.splitlines()[1]
    tokens = re.search(r"# (\d+) tokens of a 400-token budget", context)
    assert tokens is not None and int(tokens.group(1)) <= 400
    assert "model: codekin-encoder" in status and "stale files: 0" in status
    if out := os.environ.get("CODEKIN_MCP_TRANSCRIPT"):
        Path(out).write_text(
            "\n\n".join(f"> {name} {json.dumps(args)}\n{answer}" for name, args, answer in log) + "\n"
        )
