"""The pure pieces of bench/quality.py: metrics, docstring stripping, query mining (no model)."""

from __future__ import annotations

import ast
import importlib
import json
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))
ds = importlib.import_module("_datasets")
quality = importlib.import_module("quality")


def hit(path: str, start: int = 1, end: int = 1) -> object:
    return quality.LexicalHit(path, start, end)


def test_metrics_on_a_toy_ranking() -> None:
    target = ds.Target("a.py", 10, 20)
    rankings = [
        [hit("a.py", 12, 15)],  # rank 1
        [hit("b.py"), hit("a.py", 1, 9), hit("a.py", 20, 30)],  # rank 3 (span 1-9 does not overlap)
        [hit("b.py")] * 10 + [hit("a.py", 10, 10)],  # rank 11: beyond k
        [],  # not found
    ]
    ranks = [quality.first_rank(r, target) for r in rankings]
    assert ranks == [1, 3, 11, None]
    s = quality.score(ranks, k=10)
    assert s.queries == 4
    assert s.mrr == pytest.approx((1 + 1 / 3) / 4)
    assert s.recall_1 == pytest.approx(0.25)
    assert s.recall_k == pytest.approx(0.5)
    assert quality.score([]).queries == 0


def test_file_target_matches_any_span() -> None:
    assert quality.matches(hit("x.py", 100, 200), ds.Target("x.py"))
    assert not quality.matches(hit("y.py"), ds.Target("x.py"))


SOURCE = '''"""Module docstring."""
import os


@staticmethod
def documented(a, b):
    """Add two numbers.

    More text.
    """
    return a + b  # keep me


class Thing:
    """A thing."""

    def only_doc(self):
        """Nothing but a docstring."""

    def one_liner(self): "Inline doc."; return "é"

    async def fetch(self):
        """Fetch it."""  # trailing comment
        return os.sep


def plain():
    x = "not a docstring"
    return x
'''


def test_strip_docstrings_removes_them_and_records_spans() -> None:
    out = ds.strip_docstrings(SOURCE)
    tree = ast.parse(out.text)  # still valid Python
    for node in ast.walk(tree):
        assert ds._docstring_expr(node) is None
    for gone in (
        "Module docstring",
        "Add two numbers",
        "More text",
        "A thing",
        "Nothing but",
        "Inline doc",
        "Fetch it",
    ):
        assert gone not in out.text
    for kept in (
        "return a + b  # keep me",
        'x = "not a docstring"',
        "return os.sep",
        'return "é"',
        "@staticmethod",
    ):
        assert kept in out.text
    by_name = {f.qualname: f for f in out.functions}
    assert list(by_name) == ["documented", "Thing.only_doc", "Thing.one_liner", "Thing.fetch", "plain"]
    lines = out.text.splitlines()
    for f in out.functions:  # spans point at the stripped text: decorator/def line .. last line
        first = lines[f.start_line - 1].lstrip()
        assert first.startswith(("@", "def ", "async def ")), f
        assert lines[f.end_line - 1].strip()
    doc = by_name["documented"]
    assert lines[doc.start_line - 1] == "@staticmethod"
    assert lines[doc.end_line - 1].strip() == "return a + b  # keep me"
    assert doc.docstring == "Add two numbers.\n\nMore text."
    assert by_name["Thing.only_doc"].only_docstring
    assert lines[by_name["Thing.only_doc"].end_line - 1].strip() == "pass"
    assert not by_name["Thing.fetch"].only_docstring
    assert by_name["plain"].docstring is None


def test_first_sentence_and_query_filters() -> None:
    assert ds.first_sentence("Return the sum of a and b.\n\nDetails.") == "Return the sum of a and b."
    assert ds.first_sentence("Round up, e.g. 20 -> 512. Then more.") == "Round up, e.g. 20 -> 512."
    assert ds.first_sentence("Split the\n  string on commas") == "Split the string on commas"
    assert ds.usable_query("Return the sum of a and b.")
    assert not ds.usable_query("Get it.")  # too short
    assert not ds.usable_query("foo(a, b) -> int returns the thing")  # a signature
    assert not ds.usable_query("See the module documentation for details.")


def test_cosqa_uses_relevant_pairs_one_file_per_function(tmp_path: Path) -> None:
    rows = [
        {"idx": "0", "doc": "sum two ints", "code": "def add(a, b):\n    return a + b", "label": 1},
        {"idx": "1", "doc": "irrelevant query", "code": "def sub(a, b):\n    return a - b", "label": 0},
        {"idx": "2", "doc": "add numbers python", "code": "def add(a, b):\n    return a + b", "label": 1},
    ]
    path = tmp_path / "cosqa.json"
    path.write_text(json.dumps(rows))
    data = ds.load_cosqa(path)
    assert len(data.files) == 2
    assert [q.text for q in data.queries] == ["sum two ints", "add numbers python"]
    assert {q.target.path for q in data.queries} == {"cosqa/fn_0000.py"}
    assert data.files["cosqa/fn_0000.py"].endswith("return a + b\n")


def _module(tag: str, n: int = 20) -> str:
    funcs = [
        f'def {tag}_{i}(x):\n    """Compute the {tag} value number {i} for the caller.\n\n'
        f'    Details.\n    """\n'
        f"    y = x * {i}\n    return y + {i}\n"
        for i in range(n)
    ]
    return f'"""The {tag} module."""\n\n' + "\n\n".join(funcs)


def test_stdlib_sample_is_reproducible(tmp_path: Path) -> None:
    for tag in ("alpha", "beta", "gamma"):
        (tmp_path / f"{tag}.py").write_text(_module(tag))
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_x.py").write_text(_module("delta"))  # test dirs are never sampled
    a = ds.load_stdlib(tmp_path, modules=2, max_queries=5, seed=1)
    b = ds.load_stdlib(tmp_path, modules=2, max_queries=5, seed=1)
    assert a.queries == b.queries and len(a.queries) == 5
    assert len(a.files) == 2 and "tests/test_x.py" not in a.files
    assert all('"""' not in text for text in a.files.values())
    for q in a.queries:
        lines = a.files[q.target.path].splitlines()
        number = q.text.split("number ")[1].split()[0]
        assert (
            lines[q.target.start_line - 1].startswith("def ")
            and f"_{number}(x)" in lines[q.target.start_line - 1]
        )
        assert lines[q.target.end_line - 1].strip() == f"return y + {number}"


def test_table_lists_every_row() -> None:
    rows = [quality.Row("cosqa", "bm25", "-", 0.5, 0.25, 0.75, 4, 10, None, None, 1.0)]
    table = quality.format_table(rows)
    assert "MRR@10" in table and "0.500" in table and "cosqa" in table
