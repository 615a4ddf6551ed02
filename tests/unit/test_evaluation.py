"""codekin eval's pieces on small fixtures with known answers: datasets, metrics, the doc-comment
miner (exact stripped files and targets) and a whole evaluation run with the fake encoder."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from codekin.embeddings.fake import FakeEncoder
from codekin.evaluation import DatasetError, EvalQuery, Target, evaluate, load_dataset, mine_repository
from codekin.evaluation.dataset import write_dataset
from codekin.evaluation.metrics import score_query, summarise
from codekin.evaluation.mine import strip_doc_comments
from codekin.files import FileFilter
from codekin.settings import Settings
from codekin.workspace import Workspace
from tests.conftest import write_tree

PY = '''import math


class Circle:
    """A circle in the plane."""

    def __init__(self, radius):
        self.radius = radius


def distance(a, b):
    """Euclidean distance between two points."""
    return math.sqrt((a[0] - b[0]) ** 2 + (a[1] - b[1]) ** 2)


def only_doc():
    """This function has nothing but its docstring."""
'''
TS = """export class Cart {
  items: number[] = [];

  /**
   * Total price of the cart after the discount.
   * @param discount fraction taken off
   */
  total(discount: number): number {
    return this.items.reduce((a, b) => a + b, 0) * (1 - discount);
  }
}
"""
GO = """package server

// Retry calls fn until it succeeds, sleeping with exponential backoff.
func Retry(attempts int, fn func() error) error {
\tvar err error
\tfor i := 0; i < attempts; i++ {
\t\tif err = fn(); err == nil {
\t\t\treturn nil
\t\t}
\t}
\treturn err
}
"""


# --- datasets ----------------------------------------------------------------------------------
def test_load_dataset_reads_every_form(tmp_path: Path) -> None:
    f = tmp_path / "set.jsonl"
    f.write_text(
        "# a comment\n"
        '{"query": "parse the config", "path": "./src/config.py"}\n'
        "\n"
        '{"query": "area", "path": "geo.py", "start_line": 3, "end_line": 9}\n'
        '{"query": "routes", "path": ["a.py", "b\\\\c.py"]}\n'
    )
    assert load_dataset(f) == [
        EvalQuery("parse the config", (Target("src/config.py"),)),
        EvalQuery("area", (Target("geo.py", 3, 9),)),
        EvalQuery("routes", (Target("a.py"), Target("b/c.py"))),
    ]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "Expecting property name"),
        ('{"path": "a.py"}', '"query" must be a non-empty string'),
        ('{"query": "x"}', '"path" must be'),
        ('{"query": "x", "path": "a.py", "start_line": 2}', "go together"),
        ('{"query": "x", "path": "a.py", "start_line": 5, "end_line": 2}', "1 <= start <= end"),
        ('{"query": "x", "path": ["a", "b"], "start_line": 1, "end_line": 2}', "single path"),
        ('["x"]', "JSON object"),
    ],
)
def test_load_dataset_names_the_bad_line(tmp_path: Path, line: str, message: str) -> None:
    f = tmp_path / "set.jsonl"
    f.write_text('{"query": "fine", "path": "a.py"}\n' + line + "\n")
    with pytest.raises(DatasetError, match=rf"set\.jsonl:2: .*{message}"):
        load_dataset(f)


def test_empty_or_missing_dataset_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "empty.jsonl").write_text("\n# nothing\n")
    with pytest.raises(DatasetError, match="no queries"):
        load_dataset(tmp_path / "empty.jsonl")
    with pytest.raises(DatasetError, match="cannot read"):
        load_dataset(tmp_path / "missing.jsonl")


def test_write_then_load_round_trips(tmp_path: Path) -> None:
    queries = [EvalQuery("a", (Target("x.py", 1, 4),)), EvalQuery("b", (Target("y.py"), Target("z.py")))]
    write_dataset(queries, tmp_path / "out.jsonl")
    assert load_dataset(tmp_path / "out.jsonl") == queries


# --- metrics -----------------------------------------------------------------------------------
def test_second_place_on_the_right_lines() -> None:
    s = score_query([("b.py", 1, 5), ("a.py", 15, 30)], [Target("a.py", 10, 20)])
    assert (s.first_rank, s.reciprocal_rank, s.recall_at_1, s.recall_at_k) == (2, 0.5, 0.0, 1.0)
    assert s.ndcg == pytest.approx(1 / math.log2(3))


def test_right_file_wrong_lines_and_beyond_k_are_misses() -> None:
    assert score_query([("a.py", 21, 30)], [Target("a.py", 10, 20)]).first_rank is None
    results = [(f"f{i}.py", 1, 2) for i in range(10)] + [("a.py", 1, 2)]
    s = score_query(results, [Target("a.py")], k=10)
    assert (s.first_rank, s.ndcg, s.recall_at_k) == (None, 0.0, 0.0)


def test_several_targets_count_once_each() -> None:
    s = score_query(
        [("x.py", 1, 1), ("x.py", 5, 6), ("z.py", 1, 1), ("y.py", 1, 1)], [Target("x.py"), Target("y.py")]
    )
    assert s.first_rank == 1 and s.recall_at_1 == 0.5 and s.recall_at_k == 1.0
    assert s.ndcg == pytest.approx((1 + 1 / math.log2(5)) / (1 + 1 / math.log2(3)))


def test_summary_is_the_mean() -> None:
    scores = [
        score_query([("a.py", 1, 1)], [Target("a.py")]),
        score_query([("b.py", 1, 1), ("a.py", 1, 1)], [Target("a.py")]),
        score_query([], [Target("a.py")]),
    ]
    s = summarise(scores)
    assert s.queries == 3
    assert s.mrr == pytest.approx(0.5) and s.recall_at_1 == pytest.approx(1 / 3)
    assert s.recall_at_k == pytest.approx(2 / 3)


# --- the doc-comment miner ---------------------------------------------------------------------
def test_strip_python_docstrings_keeps_files_valid() -> None:
    out, defs = strip_doc_comments("geo.py", PY.encode())
    assert [(d.kind, d.qualified_name, d.query) for d in defs] == [
        ("function", "distance", "Euclidean distance between two points")
    ]
    # the class (docstring-only header) and only_doc (docstring-only body) keep their docstrings
    assert out.decode() == PY.replace('    """Euclidean distance between two points."""\n', "")


def test_strip_block_comment_of_an_indented_method() -> None:
    out, defs = strip_doc_comments("web/cart.ts", TS.encode())
    assert [(d.qualified_name, d.query) for d in defs] == [
        ("Cart.total", "Total price of the cart after the discount")
    ]
    lines = TS.split("\n")
    assert out.decode() == "\n".join(lines[:3] + lines[7:])


def test_strip_line_comment() -> None:
    out, defs = strip_doc_comments("retry.go", GO.encode())
    assert [d.query for d in defs] == ["Retry calls fn until it succeeds, sleeping with exponential backoff"]
    assert out.decode() == GO.replace(
        "// Retry calls fn until it succeeds, sleeping with exponential backoff.\n", ""
    )


def test_mine_repository_copies_stripped_files_with_targets(tmp_path: Path) -> None:
    repo = write_tree(
        tmp_path / "repo",
        {"geo.py": PY, "web/cart.ts": TS, "server/retry.go": GO, "notes.txt": "plain text\n"},
    )
    tree = tmp_path / "work" / "tree"
    mined = mine_repository(FileFilter(repo), tree)
    assert mined.files == 4 and mined.documented == 3
    assert [(q.query, q.targets) for q in mined.queries] == [
        ("Euclidean distance between two points", (Target("geo.py", 11, 12),)),
        (
            "Retry calls fn until it succeeds, sleeping with exponential backoff",
            (Target("server/retry.go", 3, 11),),
        ),
        ("Total price of the cart after the discount", (Target("web/cart.ts", 4, 6),)),
    ]
    assert "Euclidean" not in (tree / "geo.py").read_text()
    assert "Euclidean" in (repo / "geo.py").read_text()  # the repository itself is untouched
    assert (tree / "notes.txt").read_text() == "plain text\n"

    (repo / "notes.txt").unlink()
    again = mine_repository(FileFilter(repo), tree, limit=2, seed=1)
    assert len(again.queries) == 2 and not (tree / "notes.txt").exists()
    assert again.queries == mine_repository(FileFilter(repo), tree, limit=2, seed=1).queries


def test_mine_refuses_to_empty_a_folder_it_did_not_make(tmp_path: Path) -> None:
    repo = write_tree(tmp_path / "repo", {"geo.py": PY})
    mine_dir = write_tree(tmp_path / "mine", {"precious.txt": "keep me"})
    with pytest.raises(FileExistsError, match="refusing"):
        mine_repository(FileFilter(repo), mine_dir)
    assert (mine_dir / "precious.txt").read_text() == "keep me"


# --- a whole run -------------------------------------------------------------------------------
def test_evaluate_scores_chunks_and_files(tmp_path: Path) -> None:
    repo = write_tree(tmp_path / "repo", {"geo.py": PY, "web/cart.ts": TS, "server/retry.go": GO})
    with Workspace(repo, Settings(index_dir=str(tmp_path / "idx")), encoder=FakeEncoder()) as ws:
        ws.index()
        queries = [
            EvalQuery("euclidean distance between two points", (Target("geo.py", 11, 13),)),
            EvalQuery("Retry", (Target("server/retry.go"),)),
            EvalQuery("total price", (Target("web/missing.ts"),)),
        ]
        report = evaluate(ws, queries, k=5)
        assert report.mode == "chunks" and report.unknown_paths == ("web/missing.ts",)
        ranks = [r.score.first_rank for r in report.results]
        assert ranks[:2] == [1, 1] and ranks[2] is None
        assert report.summary.mrr == pytest.approx(2 / 3)
        assert [r.query.query for r in report.worst(5)] == ["total price"]
        assert all(len(r.results) <= 5 for r in report.results)

        files = evaluate(ws, queries, k=5, files=True)
        assert files.mode == "files"
        for r in files.results:
            paths = [p for p, _, _ in r.results]
            assert len(paths) == len(set(paths))  # one result per file
        assert [r.score.first_rank for r in files.results] == [1, 1, None]
