"""The command line as a user runs it, with the fake encoder in place of the model: what every
command prints and returns (``main()`` in this process; the first index runs in a subprocess).
What the real model ranks first is checked in tests/integration/test_cli_real_model.py."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.fake_cli import cli_in_process, fake_cli
from tests.shapes import write_shapes

FIXTURE = Path(__file__).parents[1] / "fixtures" / "sample_repo"


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cli") / "repo"
    shutil.copytree(FIXTURE, root)
    out = fake_cli(root, "index")
    assert out.returncode == 0, out.stderr
    assert "indexed" in out.stdout and "5 files" in out.stdout
    return root


def run_json(root: Path, *args: str, stdin: str | None = None) -> Any:
    out = cli_in_process(root, *args, "--json", stdin=stdin)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_search_json(repo: Path) -> None:
    cases = {
        "read a json configuration file with environment overrides": "src/config_loader.py",
        "total price of the shopping cart with discount": "web/cart.ts",
        "retry with exponential backoff": "server/retry.go",
        "area of a circle": "src/geometry.py",
    }
    for query, path in cases.items():
        found = run_json(repo, "search", query, "-k", "3", "--no-update")
        assert found["partial"] is False and found["embedded"] == found["total"] > 0
        hits = found["results"]
        assert hits[0]["path"] == path, (query, hits[0])
        keys = {"path", "start_line", "end_line", "symbol", "kind", "language", "score", "cosine", "text"}
        assert keys <= set(hits[0])
        assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)


def test_human_output_and_symbol(repo: Path) -> None:
    out = cli_in_process(repo, "search", "euclidean distance between points", "-k", "1")
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[0].startswith("src/geometry.py:17-19  distance  ")


def test_similar_by_location_and_stdin(repo: Path) -> None:
    hits = run_json(repo, "similar", "src/geometry.py:11", "-k", "3", "--no-update")
    assert hits and all(h["symbol"] != "Circle.area" for h in hits)
    assert hits[0]["path"] != "src/geometry.py"  # code elsewhere first, the rest of its file after
    siblings = run_json(repo, "similar", "src/geometry.py:11", "--siblings", "-k", "3", "--no-update")
    assert siblings[0]["symbol"] == "Circle.circumference"
    code = "def circumference_of(self):\n    return 2 * math.pi * self.radius\n"
    pasted = run_json(repo, "similar", "-", "--language", "python", "-k", "1", "--no-update", stdin=code)
    assert pasted[0]["symbol"] == "Circle.circumference"


def test_similar_is_cross_language_and_code_only_unless_asked(tmp_path: Path) -> None:
    root = write_shapes(tmp_path / "shapes")
    assert cli_in_process(root, "index").returncode == 0

    def similar(*args: str, stdin: str | None = None) -> list[dict[str, Any]]:
        return list(run_json(root, "similar", *args, "-k", "10", "--no-update", stdin=stdin))

    hits = similar("py/shapes.py:5")
    assert hits[0]["symbol"] == "circleArea"
    assert all(h["language"] not in ("markdown", "toml") for h in hits)
    assert {"markdown", "toml"} <= {h["language"] for h in similar("py/shapes.py:5", "--include-non-code")}
    assert all(h["language"] == "go" for h in similar("py/shapes.py:5", "--language", "go"))
    code = "def area_of_circle(radius):\n    return math.pi * radius * radius\n"
    pasted = similar("-", "--code-language", "python", stdin=code)
    assert {h["symbol"] for h in pasted[:2]} == {"circle_area", "circleArea"}  # both twins
    assert similar("py/shapes.py")[0]["symbol"] == "circleArea"  # the whole file


def test_status_and_incremental_reindex(repo: Path) -> None:
    status = run_json(repo, "status")
    assert status["files"] == 5 and status["chunks"] > 5 and status["model"] == "fake"  # the index's model
    stats = run_json(repo, "index")
    assert stats["embedded"] == 0 and stats["files_unchanged"] == 5


def test_errors_are_clear(repo: Path, tmp_path: Path) -> None:
    out = cli_in_process(repo, "similar", "nope.py:3")
    assert out.returncode == 1 and "nope.py" in out.stderr and "Traceback" not in out.stderr
    out = cli_in_process(tmp_path / "missing", "status")
    assert out.returncode == 1 and "not a directory" in out.stderr


def test_search_files(repo: Path) -> None:
    files = run_json(repo, "search", "retry with exponential backoff", "--files", "--no-update")["results"]
    assert files[0]["path"] == "server/retry.go" and files[0]["hits"][0]["symbol"] == "Retry"
    assert len({f["path"] for f in files}) == len(files)
    out = cli_in_process(repo, "search", "area of a circle", "--files", "-k", "2", "--no-update")
    assert out.stdout.splitlines()[0] == "src/geometry.py  (python)"


def test_eval_on_a_dataset(repo: Path, tmp_path: Path) -> None:
    data = tmp_path / "queries.jsonl"
    data.write_text(
        '{"query": "total price of the shopping cart with discount", "path": "web/cart.ts"}\n'
        '{"query": "area of a circle", "path": "src/geometry.py", "start_line": 10, "end_line": 11}\n'
        '{"query": "retry with exponential backoff", "path": "server/nope.go"}\n'
    )
    report = run_json(repo, "eval", str(data), "--no-update")
    assert [q["first_rank"] for q in report["queries"]] == [1, 1, None]
    assert report["summary"]["mrr"] == 2 / 3 and report["unknown_paths"] == ["server/nope.go"]
    out = cli_in_process(repo, "eval", str(data), "--no-update")
    assert "MRR@10   0.667" in out.stdout and "1 target paths are not in the index" in out.stdout
    assert "'retry with exponential backoff'" in out.stdout  # listed among the worst

    data.write_text('{"query": "ok", "path": "a.py"}\n{"query": "no path"}\n')
    out = cli_in_process(repo, "eval", str(data))
    assert out.returncode == 1 and "queries.jsonl:2:" in out.stderr and "Traceback" not in out.stderr
    out = cli_in_process(repo, "eval")
    assert out.returncode == 1 and "a DATASET file" in out.stderr and "--mine" in out.stderr


def test_eval_mine_searches_a_stripped_copy(repo: Path, tmp_path: Path) -> None:
    saved = tmp_path / "mined.jsonl"
    report = run_json(repo, "eval", "--mine", "--save-dataset", str(saved))
    queries = {q["query"]: q for q in report["queries"]}
    assert "Euclidean distance between two points" in queries
    assert queries["Euclidean distance between two points"]["first_rank"] is not None
    assert report["summary"]["queries"] == len(saved.read_text().splitlines()) >= 2
    copy = repo / ".codekin" / "eval-mined" / "tree" / "src" / "geometry.py"
    assert "Euclidean" not in copy.read_text() and "Euclidean" in (repo / "src/geometry.py").read_text()
    assert run_json(repo, "status")["files"] == 5  # the copy inside .codekin is never indexed as the repo's
