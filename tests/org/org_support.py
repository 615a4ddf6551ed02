"""Helpers of the org tests: the ``codekin org index`` command as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import codekin

SRC = str(Path(codekin.__file__).resolve().parents[1])
FAKE_DIM = 64


def env() -> dict[str, str]:
    """This interpreter's environment with codekin's source first (for the driver and Ray's workers)."""
    path = SRC + os.pathsep + os.environ.get("PYTHONPATH", "")
    # a throwaway local cluster: no token authentication between it and the test drivers
    return {**os.environ, "PYTHONPATH": path, "RAY_USAGE_STATS_ENABLED": "0", "RAY_AUTH_MODE": "disabled"}


@dataclass
class OrgRun:
    returncode: int
    report: dict[str, Any]
    stderr: str

    def repo(self, name: str) -> dict[str, Any]:
        return next(r for r in self.report["repos"] if r["name"] == name)


def org_index(address: str, repos: Path, store: str, *extra: str) -> OrgRun:
    """``codekin org index`` as a user runs it (the fake encoder, on the session's cluster)."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "codekin.cli",
            "org",
            "index",
            str(repos),
            "--store",
            store,
            "--json",
            "--ray-address",
            address,
            "--fake-encoder",
            str(FAKE_DIM),
            "--files-per-task",
            "2",
            *extra,
        ],
        capture_output=True,
        text=True,
        env=env(),
        timeout=300,
        check=False,
    )
    report = json.loads(done.stdout) if done.stdout.strip() else {}
    return OrgRun(done.returncode, report, done.stderr)


def write_repo(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "init.defaultBranch=main", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def make_remote(where: Path) -> Path:
    """A bare repository ``where/lib.git`` with two commits on main, v1 tagged on the first."""
    work = write_repo(where / "lib", {"lib.py": "def first():\n    return 1\n"})
    git(work, "init", "-q")
    git(work, "add", ".")
    git(work, "commit", "-qm", "one")
    git(work, "tag", "v1")
    (work / "lib.py").write_text("def second():\n    return 2\n")
    git(work, "commit", "-qam", "two")
    git(where, "clone", "-q", "--bare", str(work), "lib.git")
    return where / "lib.git"


def mcp_search(server: Any, args: dict[str, object]) -> str:
    """The text the MCP ``search`` tool answers ``args`` with (through the SDK's in-memory client)."""
    import anyio
    from mcp import Client

    async def ask() -> str:
        async with Client(server) as client:
            result = await client.call_tool("search", args)
            assert not result.is_error, result.content
            return str(result.content[0].text)  # type: ignore[union-attr]

    return anyio.run(ask)
