"""The editors' status carries what `codekin status` warns about: a language server (the real
`codekin serve` with the fake encoder, driven by a raw LSP client) reports the latest evaluation
and its drift warnings in `codekin/indexStatus`, and picks up a `codekin eval` run from the
command line while it is running."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from tests.integration.test_eval_compare import cli, repo  # noqa: F401  (the fixture)

sys.path.insert(0, str(Path(__file__).parents[1] / "e2e"))
from raw_lsp import RawClient  # noqa: E402


def test_the_server_status_carries_the_drift_warnings(repo: tuple[Path, Path], tmp_path: Path) -> None:  # noqa: F811
    root, dataset = repo
    assert cli(root, "eval", str(dataset)).returncode == 0
    assert cli(root, "eval", str(dataset), "--compare", "codekin-encoder", "bad").returncode == 0
    expected = json.loads(cli(root, "status", "--json").stdout)["evaluation"]
    assert any("search quality fell" in w for w in expected["warnings"])

    c = RawClient(tmp_path / "server.log")
    try:
        assert "result" in c.initialize(root.resolve())
        while (status := c.request("codekin/indexStatus")["result"])["state"] != "ready":
            pass
        assert status["drift"] == expected["warnings"]
        evaluation = status["folders"][0]["evaluation"]
        assert evaluation["model"] == "bad" and evaluation["warnings"] == expected["warnings"]
        assert evaluation["mrr"] < evaluation["bestMrr"] == expected["best_mrr"]
        assert (evaluation["k"], evaluation["queries"]) == (10, 34)

        # the good model evaluated again from the command line while the server runs
        assert cli(root, "eval", str(dataset), "--no-update").returncode == 0
        status = c.request("codekin/indexStatus")["result"]
        assert status["drift"] == []
        assert status["folders"][0]["evaluation"]["model"] == "codekin-encoder"
        assert "result" in c.request("shutdown")
        c.notify("exit")
        assert c.wait() == 0
    finally:
        c.kill()


def test_no_evaluation_yet_is_no_drift(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "a.py").write_text("def add(a, b):\n    return a + b\n")
    c = RawClient(tmp_path / "server.log")
    try:
        assert "result" in c.initialize(root.resolve())
        while (status := c.request("codekin/indexStatus")["result"])["state"] != "ready":
            pass
        assert status["drift"] == [] and status["folders"][0]["evaluation"] is None
    finally:
        c.kill()
