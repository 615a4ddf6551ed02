"""One-step setup for agents: the MCP client configuration for each editor/agent, and the
instruction block that tells an agent when to call which tool."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

CLIENTS = ("claude", "cursor", "vscode", "codex")
START, END = "<!-- codekin:start -->", "<!-- codekin:end -->"

AGENTS_BLOCK = f"""{START}
## Code search (codekin MCP server)

This repository is indexed by codekin (local semantic code search, kept fresh while you work).
- Before grepping for where something is done, call `search` with plain words
  ("where is the write lock taken") or an identifier; `files: true` lists the files instead.
- Before changing code, call `context` with the task as `question` (and `path` + `line` of the
  code you are editing): it returns the definitions you need, labelled, within `max_tokens`.
- To find duplicates or other implementations of something, call `find_similar` with
  `path` + `line` (or `code`); it searches every language unless `same_language` is set.
- If results miss recent edits, call `index_status`, then `reindex`.
Answers are bounded; a `search` answer ending in `cursor=...` has more results.
{END}
"""


def server_command() -> list[str]:
    """How to start ``codekin mcp`` from anywhere: the installed script, else this interpreter."""
    script = shutil.which("codekin") or (
        str(Path(sys.argv[0]).resolve()) if Path(sys.argv[0]).name == "codekin" else None
    )
    return [script, "mcp"] if script else [sys.executable, "-m", "codekin.cli", "mcp"]


def client_config(client: str, command: list[str] | None = None) -> tuple[str, str]:
    """(where it goes, the exact text) for ``client``; ValueError for an unknown one."""
    cmd = command or server_command()
    exe, args = cmd[0], cmd[1:]
    if client == "claude":
        body = {"mcpServers": {"codekin": {"command": exe, "args": args}}}
        return ".mcp.json (project root; or: claude mcp add codekin -- " + " ".join(cmd) + ")", _json(body)
    if client == "cursor":
        body = {"mcpServers": {"codekin": {"command": exe, "args": [*args, "--root", "${workspaceFolder}"]}}}
        return ".cursor/mcp.json", _json(body)
    if client == "vscode":
        server = {"type": "stdio", "command": exe, "args": [*args, "--root", "${workspaceFolder}"]}
        return ".vscode/mcp.json", _json({"servers": {"codekin": server}})
    if client == "codex":
        toml_args = ", ".join(json.dumps(a) for a in args)
        text = f"[mcp_servers.codekin]\ncommand = {json.dumps(exe)}\nargs = [{toml_args}]\n"
        return "~/.codex/config.toml", text
    raise ValueError(f"unknown client {client!r}; choose one of {', '.join(CLIENTS)}")


def _json(body: object) -> str:
    return json.dumps(body, indent=2) + "\n"


def write_agents_block(file: Path) -> str:
    """Add (or refresh) the codekin block in ``file``; returns "added" or "updated"."""
    old = file.read_text("utf-8") if file.exists() else ""
    if START in old and END in old[old.index(START) :]:
        head, rest = old.split(START, 1)
        tail = rest.split(END, 1)[1].lstrip("\n")
        file.write_text(head + AGENTS_BLOCK + tail, "utf-8")
        return "updated"
    sep = "" if not old else "\n" if old.endswith("\n") else "\n\n"
    file.write_text(old + sep + AGENTS_BLOCK, "utf-8")
    return "added"
