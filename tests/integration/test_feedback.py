"""Opened results as feedback, driven as a user does: an editor (a raw LSP client against the real
`codekin serve` with the fake encoder) searches and reports the result it opened with
`codekin/resultOpened`; the server logs it, query redacted, only with `feedback = true`; then
`codekin eval --feedback` (the real CLI) turns the log into a dataset and scores it."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from codekin.evaluation import feedback, load_dataset
from tests.conftest import write_tree
from tests.fake_cli import fake_cli
from tests.unit.test_redact import SECRETS

sys.path.insert(0, str(Path(__file__).parents[1] / "e2e"))
from raw_lsp import RawClient  # noqa: E402

TOKEN = SECRETS["github_token"]
FILES = {
    "config.py": "def parse_config(path):\n    with open(path) as fh:\n        return fh.read().split('=')\n",
    "render.py": "def render_page(title, body):\n    return f'<h1>{title}</h1>' + body\n",
    "retry.py": "def retry_request(send, attempts):\n    for _ in range(attempts):\n        send()\n",
    "cache.py": "class LruCache:\n    def evict_oldest(self):\n        self.items.pop(0)\n",
}


def start(root: Path, log: Path, options: dict[str, Any]) -> RawClient:
    c = RawClient(log)
    answer = c.request(
        "initialize",
        {
            "processId": None,
            "rootUri": root.as_uri(),
            "capabilities": {},
            "workspaceFolders": None,
            "initializationOptions": options,
        },
    )
    assert "result" in answer, answer
    c.notify("initialized", {})
    while c.request("codekin/indexStatus")["result"]["state"] != "ready":
        pass
    return c


def stop(c: RawClient) -> None:
    assert "result" in c.request("shutdown")
    c.notify("exit")
    assert c.wait() == 0


def search(c: RawClient, query: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = c.request("codekin/search", {"query": query, "limit": 4})["result"]["items"]
    assert items, query
    return items


def opened(c: RawClient, query: str, item: dict[str, Any], rank: int) -> None:
    """What the editors send when the user picks the result at ``rank`` (1-based)."""
    c.notify(
        "codekin/resultOpened", {"query": query, "uri": item["uri"], "range": item["range"], "rank": rank}
    )


@pytest.fixture
def repo(tmp_path: Path) -> Iterator[Path]:
    yield write_tree(tmp_path / "repo", FILES).resolve()


def test_opened_results_are_logged_redacted_and_become_an_eval_dataset(repo: Path, tmp_path: Path) -> None:
    c = start(repo, tmp_path / "server.log", {"feedback": True})
    try:
        picks = []
        for query, want in (
            ("parse config file", "parse_config"),
            ("render the page", "render_page"),
            (f"retry with {TOKEN}", "retry_request"),
            ("evict oldest entry", "evict_oldest"),
            ("Parse  CONFIG file", "parse_config"),  # the same query again, spelled differently
        ):
            items = search(c, query)
            rank = next(n for n, i in enumerate(items, 1) if i["symbol"].endswith(want))
            opened(c, query, items[rank - 1], rank)
            picks.append((query, items[rank - 1], rank))
        # bad params are dropped without an answer or a crash; the server keeps serving
        c.notify("codekin/resultOpened", {"query": "x", "uri": picks[0][1]["uri"], "rank": 0})
        c.notify("codekin/resultOpened", {"query": "", "uri": 3, "range": None, "rank": 1})
        c.notify("codekin/resultOpened", [1, 2])
        assert c.request("codekin/indexStatus")["result"]["state"] == "ready"  # after the notifications
        stop(c)
    finally:
        c.kill()
    log_text = (repo / ".codekin" / feedback.FEEDBACK_NAME).read_text()
    assert TOKEN not in log_text and "ghp_****" in log_text
    records = feedback.read(repo / ".codekin")
    assert len(records) == 5
    first, item, rank = picks[0]
    assert (records[0].query, records[0].path, records[0].rank) == (first, "config.py", rank)
    start_line, end_line = item["range"]["start"]["line"] + 1, item["range"]["end"]["line"] + 1
    assert (records[0].start_line, records[0].end_line) == (start_line, end_line) == (1, 3)

    saved = tmp_path / "feedback-dataset.jsonl"
    run = fake_cli(repo, "eval", "--feedback", "--json", "--save-dataset", str(saved))
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert report["summary"]["queries"] == 4  # "parse config file" twice is one query
    assert report["summary"]["mrr"] > 0.5
    dataset = load_dataset(saved)  # the format `codekin eval DATASET` reads
    assert [(q.query, q.targets[0].path) for q in dataset] == [
        ("Parse CONFIG file", "config.py"),
        ("render the page", "render.py"),
        ("retry with ghp_" + "*" * (len(TOKEN) - 4), "retry.py"),
        ("evict oldest entry", "cache.py"),
    ]
    again = fake_cli(repo, "eval", str(saved), "--json")
    assert json.loads(again.stdout)["summary"] == report["summary"]
    human = fake_cli(repo, "eval", "--feedback")
    assert "4 queries from the results opened in the editors (feedback.jsonl)" in human.stdout, human.stdout


def test_nothing_is_logged_with_feedback_off(repo: Path, tmp_path: Path) -> None:
    c = start(repo, tmp_path / "server.log", {})
    try:
        item = search(c, "parse config file")[0]
        opened(c, "parse config file", item, 1)
        assert c.request("codekin/indexStatus")["result"]["state"] == "ready"
        stop(c)
    finally:
        c.kill()
    assert not (repo / ".codekin" / feedback.FEEDBACK_NAME).exists()
    run = fake_cli(repo, "eval", "--feedback")
    assert run.returncode == 1
    assert "no opened results are logged" in run.stderr and "feedback = true" in run.stderr


def test_eval_takes_one_query_source(repo: Path) -> None:
    run = fake_cli(repo, "eval", "--mine", "--feedback")
    assert run.returncode == 1 and "give one of a DATASET file, --mine or --feedback" in run.stderr


def test_dataset_keeps_the_most_opened_chunk_per_query() -> None:
    log = [
        feedback.Opened("sort rows", "a.py", 1, 4, 2, 1.0),
        feedback.Opened("sort rows", "b.py", 5, 9, 1, 2.0),
        feedback.Opened("Sort rows", "a.py", 1, 4, 1, 3.0),
        feedback.Opened("merge", "c.py", 1, 2, 1, 4.0),
        feedback.Opened("merge", "d.py", 3, 3, 3, 5.0),  # a tie: the latest wins
    ]
    assert [q.to_json() for q in feedback.to_dataset(log)] == [
        {"query": "Sort rows", "path": "a.py", "start_line": 1, "end_line": 4},
        {"query": "merge", "path": "d.py", "start_line": 3, "end_line": 3},
    ]


def test_damaged_log_lines_are_skipped(tmp_path: Path) -> None:
    good = feedback.Opened("parse", "a.py", 1, 2, 1, 1.0)
    feedback.append(tmp_path, good)
    with open(tmp_path / feedback.FEEDBACK_NAME, "a") as fh:
        fh.write('not json\n{"query": "x", "path": "a.py", "start_line": 0, "end_line": 1, "rank": 1}\n[]\n')
    assert feedback.read(tmp_path) == [good]
