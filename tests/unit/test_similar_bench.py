"""bench/similar_bench.py: parsing GPTCloneBench records, name masking, the corpus and the metric,
and one end-to-end run through the real find-similar path with the fake encoder."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

from codekin import Settings, Workspace
from codekin.embeddings.fake import FakeEncoder

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))
sb = importlib.import_module("similar_bench")

DOLLARS, DASHES = "$" * 40, "-" * 40
RECORDS = f"""{DOLLARS}
7
0
Gpt3D_Clone7_0.py 1 4
Gpt3D_Clone7_0.py 6 9

{DASHES}

def second_largest(numbers) :
\treturn sorted(numbers)[-2]
{DASHES}

def second_largest(values):
    ordered = sorted(set(values))
    return ordered[-2] if len(ordered) > 1 else None
{DOLLARS}
7
1
Gpt3D_Clone7_1.py 1 4
Gpt3D_Clone7_1.py 6 9

{DASHES}

def second_largest(numbers) :
\treturn sorted(numbers)[-2]
{DASHES}

def second_largest(xs):
    return second_largest(xs[1:]) if xs else None
{DASHES}

{DOLLARS}
9
0
Gpt3D_Clone9_0.py 1 3
Gpt3D_Clone9_0.py 5 7

{DASHES}

def read_lines(path):
    return open(path).read().splitlines()
{DASHES}

def read_lines(filename):
    with open(filename) as handle:
        return [line.rstrip("\\n") for line in handle]
"""


def test_parse_pairs_reads_every_record() -> None:
    pairs = sb.parse_pairs(RECORDS, "py")
    assert [(p.function, p.language) for p in pairs] == [("7", "py"), ("7", "py"), ("9", "py")]
    assert pairs[0].original == "def second_largest(numbers) :\n\treturn sorted(numbers)[-2]\n"
    assert pairs[1].rewrite.startswith("def second_largest(xs):")
    assert pairs[2].rewrite.endswith("for line in handle]\n")


def test_mask_name_renames_the_function_and_its_recursive_calls() -> None:
    code = "def second_largest(xs):\n    return second_largest(xs[1:]) if xs else None\n"
    assert sb.mask_name(code, "py") == "def f(xs):\n    return f(xs[1:]) if xs else None\n"
    java = "@Override\npublic int size(List<String> items) {\n    return items.size();\n}\n"
    masked = "@Override\npublic int f(List<String> items) {\n    return items.size();\n}\n"
    assert sb.mask_name(java, "java") == masked


def test_corpus_keeps_each_distinct_snippet_once_and_every_rewrite_as_a_query() -> None:
    corpus = sb.build_corpus(sb.parse_pairs(RECORDS, "py"), mask=False)
    assert sorted(corpus.files) == [
        "py/clone/7_1.py",
        "py/clone/7_2.py",
        "py/clone/9_1.py",
        "py/orig/7.py",
        "py/orig/9.py",
    ]
    assert corpus.queries == ["py/clone/7_1.py", "py/clone/7_2.py", "py/clone/9_1.py"]
    assert corpus.function_of["py/clone/7_2.py"] == corpus.function_of["py/orig/7.py"] == "py:7"


def test_evaluate_counts_any_file_of_the_same_function_and_skips_the_query_itself() -> None:
    corpus = sb.build_corpus(sb.parse_pairs(RECORDS, "py"), mask=False)
    answers = {
        "py/clone/7_1.py": ["py/clone/7_1.py", "py/clone/7_2.py"],  # itself skipped: rank 1
        "py/clone/7_2.py": ["py/orig/9.py", "py/orig/7.py"],  # rank 2
        "py/clone/9_1.py": ["py/orig/7.py"],  # not found
    }
    got = sb.evaluate(corpus, lambda q: answers[q])
    assert got.queries == 3
    assert got.mrr == pytest.approx((1 + 1 / 2) / 3)
    assert got.recall_1 == pytest.approx(1 / 3) and got.recall_k == pytest.approx(2 / 3)


def test_similar_search_runs_the_real_find_similar_path(tmp_path: Path) -> None:
    corpus = sb.build_corpus(sb.parse_pairs(RECORDS, "py"), mask=False)
    for rel, text in corpus.files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    with Workspace(tmp_path, Settings(index_dir=str(tmp_path / ".idx")), encoder=FakeEncoder()) as ws:
        ws.index()
        found = sb.similar_search(ws)("py/clone/9_1.py")
        assert "py/clone/9_1.py" not in found  # the query chunk itself is excluded
        assert set(found) <= set(corpus.files) and len(found) == len(corpus.files) - 1
        lexical = sb.lexical_search(ws, corpus.files)("py/clone/9_1.py")
        assert lexical[0] == "py/clone/9_1.py"  # BM25 finds the query's own text first
        scores = sb.evaluate(corpus, sb.similar_search(ws))
        assert scores.queries == 3 and 0 < scores.mrr <= 1
