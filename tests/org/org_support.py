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
