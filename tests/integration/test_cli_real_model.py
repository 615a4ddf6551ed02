"""The command line as a user runs it, with the real default encoder (offline): what the model ranks
first. What each command prints and returns is checked fast, with the fake encoder, in
tests/e2e/test_cli.py."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from codekin.settings import DEFAULT_MODEL
from tests.shapes import write_shapes

pytestmark = pytest.mark.slow
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
        found = json.loads(out.stdout)
        assert found["partial"] is False and found["embedded"] == found["total"] > 0
        hits = found["results"]
        assert hits[0]["path"] == path, (query, hits[0])
        keys = {"path", "start_line", "end_line", "symbol", "kind", "language", "score", "cosine", "text"}
        assert keys <= set(hits[0])
        assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)


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
    assert hits[0]["path"] != "src/geometry.py"  # code elsewhere first, the rest of its file after
    out = codekin("similar", "src/geometry.py:11", "--siblings", "--json", "-k", "3", "--no-update", cwd=repo)
    assert json.loads(out.stdout)[0]["symbol"] == "Circle.circumference"

    code = "def perimeter(self):\n    return 2 * math.pi * self.radius\n"  # circumference under another name
    out = codekin(
        "similar", "-", "--language", "python", "--json", "-k", "1", "--no-update", cwd=repo, stdin=code
    )
    assert json.loads(out.stdout)[0]["symbol"] == "Circle.circumference"


def test_similar_is_cross_language_and_code_only_unless_asked(tmp_path: Path) -> None:
    root = write_shapes(tmp_path / "shapes")
    assert codekin("index", str(root), cwd=tmp_path).returncode == 0

    def similar(*args: str, stdin: str | None = None) -> list[dict[str, object]]:
        out = codekin("similar", *args, "--json", "-k", "10", "--no-update", cwd=root, stdin=stdin)
        assert out.returncode == 0, out.stderr
        return list(json.loads(out.stdout))

    hits = similar("py/shapes.py:5")
    assert hits[0]["symbol"] == "circleArea"
    assert all(h["language"] not in ("markdown", "toml") for h in hits)
    assert {"markdown", "toml"} <= {h["language"] for h in similar("py/shapes.py:5", "--include-non-code")}
    assert all(h["language"] == "go" for h in similar("py/shapes.py:5", "--language", "go"))
    code = "def area_of_circle(r):\n    return 3.14159 * r * r\n"
    pasted = similar("-", "--code-language", "python", stdin=code)
    assert {h["symbol"] for h in pasted[:2]} == {"circle_area", "circleArea"}  # both twins
    assert similar("py/shapes.py")[0]["symbol"] == "circleArea"  # the whole file


def test_status_and_incremental_reindex(repo: Path) -> None:
    out = codekin("status", "--json", cwd=repo)
    status = json.loads(out.stdout)
    assert status["files"] == 5 and status["chunks"] > 5 and status["model"] == DEFAULT_MODEL
    out = codekin("index", "--json", cwd=repo)
    stats = json.loads(out.stdout)
    assert stats["embedded"] == 0 and stats["files_unchanged"] == 5


def test_errors_are_clear(repo: Path, tmp_path: Path) -> None:
    out = codekin("similar", "nope.py:3", cwd=repo)
    assert out.returncode == 1 and "nope.py" in out.stderr and "Traceback" not in out.stderr
    out = codekin("status", "--root", str(tmp_path / "missing"), cwd=repo)
    assert out.returncode == 1 and "not a directory" in out.stderr


def test_search_files(repo: Path) -> None:
    out = codekin("search", "retry with exponential backoff", "--files", "--json", "--no-update", cwd=repo)
    assert out.returncode == 0, out.stderr
    files = json.loads(out.stdout)["results"]
    assert files[0]["path"] == "server/retry.go" and files[0]["hits"][0]["symbol"] == "Retry"
    assert len({f["path"] for f in files}) == len(files)
    out = codekin("search", "area of a circle", "--files", "-k", "2", "--no-update", cwd=repo)
    assert out.stdout.splitlines()[0] == "src/geometry.py  (python)"


def test_eval_on_a_dataset(repo: Path, tmp_path: Path) -> None:
    data = tmp_path / "queries.jsonl"
    data.write_text(
        '{"query": "total price of the shopping cart with discount", "path": "web/cart.ts"}\n'
        '{"query": "area of a circle", "path": "src/geometry.py", "start_line": 10, "end_line": 11}\n'
        '{"query": "retry with exponential backoff", "path": "server/nope.go"}\n'
    )
    out = codekin("eval", str(data), "--json", "--no-update", cwd=repo)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert [q["first_rank"] for q in report["queries"]] == [1, 1, None]
    assert report["summary"]["mrr"] == 2 / 3 and report["unknown_paths"] == ["server/nope.go"]
    out = codekin("eval", str(data), "--no-update", cwd=repo)
    assert "MRR@10   0.667" in out.stdout and "1 target paths are not in the index" in out.stdout
    assert "'retry with exponential backoff'" in out.stdout  # listed among the worst

    data.write_text('{"query": "ok", "path": "a.py"}\n{"query": "no path"}\n')
    out = codekin("eval", str(data), cwd=repo)
    assert out.returncode == 1 and "queries.jsonl:2:" in out.stderr and "Traceback" not in out.stderr
    out = codekin("eval", cwd=repo)
    assert out.returncode == 1 and "a DATASET file" in out.stderr and "--mine" in out.stderr


def test_eval_mine_searches_a_stripped_copy(repo: Path, tmp_path: Path) -> None:
    saved = tmp_path / "mined.jsonl"
    out = codekin("eval", "--mine", "--json", "--save-dataset", str(saved), cwd=repo)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    queries = {q["query"]: q for q in report["queries"]}
    assert "Euclidean distance between two points" in queries
    assert queries["Euclidean distance between two points"]["first_rank"] == 1
    assert report["summary"]["queries"] == len(saved.read_text().splitlines()) >= 2
    copy = repo / ".codekin" / "eval-mined" / "tree" / "src" / "geometry.py"
    assert "Euclidean" not in copy.read_text() and "Euclidean" in (repo / "src/geometry.py").read_text()
    status = json.loads(codekin("status", "--json", cwd=repo).stdout)
    assert status["files"] == 5  # the copy lives inside .codekin and is never indexed as the repo's own
