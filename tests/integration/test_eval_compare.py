"""`codekin eval --compare A B`, the evaluation history and the drift warning in `codekin status`,
driven through the real CLI in a subprocess with fake encoders named by model."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from codekin.evaluation import history
from tests.fake_cli import fake_cli


def cli(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """ "good" (and the default model) tell tokens apart in 64 dimensions; "bad" crowds them into 2."""
    return fake_cli(root, *args, models={"good": 64, "bad": 2})


WORDS = ["parse", "render", "encode", "merge", "split", "sort", "fetch", "cache", "retry", "hash"]
NOUNS = ["config", "header", "token", "record", "matrix", "graph", "buffer", "frame", "route", "queue"]


@pytest.fixture
def repo(tmp_path: Path) -> tuple[Path, Path]:
    root = tmp_path / "repo"
    lines = []
    for i, (verb, noun) in enumerate((v, n) for v in WORDS for n in NOUNS):
        path = root / f"pkg{i % 5}" / f"{verb}_{noun}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"def {verb}_{noun}(item):\n    step = '{verb} {noun}'\n    return step, item\n")
        if i % 3 == 0:
            lines.append(json.dumps({"query": f"{verb} the {noun}", "path": str(path.relative_to(root))}))
    (root / ".codekin.toml").write_text("hybrid = false\n")  # dense only: the models decide
    dataset = tmp_path / "queries.jsonl"
    dataset.write_text("\n".join(lines) + "\n")
    return root, dataset


def test_compare_prints_both_models_with_an_interval_and_the_changed_queries(
    repo: tuple[Path, Path],
) -> None:
    root, dataset = repo
    run = cli(root, "eval", str(dataset), "--compare", "good", "bad", "--json")
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert (out["model_a"], out["model_b"], out["queries"]) == ("good", "bad", 34)
    mrr = next(m for m in out["metrics"] if m["name"] == "MRR@10")
    assert mrr["a"] > mrr["b"] and mrr["low"] <= mrr["diff"] <= mrr["high"] < 0 and mrr["significant"]
    assert out["changed"] and all(ch["delta"] != 0 for ch in out["changed"])
    # each model keeps its own index beside the workspace's, reused by the next comparison
    assert {p.name for p in (root / ".codekin" / "compare").iterdir()} == {"index-good", "index-bad"}
    human = cli(root, "eval", str(dataset), "--compare", "good", "bad")
    assert "MRR@10" in human.stdout and "95% interval" in human.stdout and "-> " in human.stdout


def test_every_run_is_recorded_and_status_warns_when_quality_falls(repo: tuple[Path, Path]) -> None:
    root, dataset = repo
    assert cli(root, "eval", str(dataset)).returncode == 0
    status = json.loads(cli(root, "status", "--json").stdout)
    assert status["evaluation"]["warnings"] == []
    assert status["evaluation"]["latest"]["queries"] == 34
    # a worse model evaluated on the same queries: recorded, and status says quality fell
    assert cli(root, "eval", str(dataset), "--compare", "codekin-encoder", "bad").returncode == 0
    records = history.read(root / ".codekin")
    assert [r.model for r in records] == ["codekin-encoder", "codekin-encoder", "bad"]
    assert records[0].mrr == records[1].mrr > records[2].mrr + history.DRIFT_MARGIN
    status = json.loads(cli(root, "status", "--json").stdout)
    assert any("search quality fell" in w for w in status["evaluation"]["warnings"])
    human = cli(root, "status").stdout
    assert "evaluation:   MRR@10" in human and "warning:      search quality fell" in human


def test_many_changed_files_since_the_last_evaluation_are_reported(repo: tuple[Path, Path]) -> None:
    root, dataset = repo
    assert cli(root, "eval", str(dataset)).returncode == 0
    changed = sorted(root.glob("pkg*/*.py"))[:40]
    for path in changed:
        os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**12))
    assert cli(root, "index").returncode == 0
    evaluation = json.loads(cli(root, "status", "--json").stdout)["evaluation"]
    day = time.strftime("%Y-%m-%d", time.localtime(evaluation["latest"]["time"]))
    assert evaluation["changed_files"] == 40  # of 100 modules and .codekin.toml
    assert evaluation["warnings"] == [
        f"40 of 101 files changed since the last evaluation ({day}); run codekin eval again"
    ]


def test_a_damaged_history_line_is_skipped(tmp_path: Path) -> None:
    (tmp_path / history.HISTORY_NAME).write_text('{"time": 1}\nnot json\n')
    assert history.read(tmp_path) == []
