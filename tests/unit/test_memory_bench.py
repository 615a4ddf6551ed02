"""bench/memory_corpus.py and bench/memory.py's workload: a deterministic corpus whose chunks
all differ, the counts an index of it holds, and queries the real search path accepts (fake
encoder, a small size)."""

from __future__ import annotations

import importlib
import sqlite3
import sys
from pathlib import Path

from codekin import Settings, Workspace
from codekin.embeddings.fake import FakeEncoder

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))
mc = importlib.import_module("memory_corpus")
mb = importlib.import_module("memory")


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_seed_writes_the_same_files_and_another_seed_does_not(tmp_path: Path) -> None:
    first = mc.generate(tmp_path / "a", 12, functions_per_file=5, seed=3)
    mc.generate(tmp_path / "b", 12, functions_per_file=5, seed=3)
    mc.generate(tmp_path / "c", 12, functions_per_file=5, seed=4)
    assert len(first) == 12
    assert _tree(tmp_path / "a") == _tree(tmp_path / "b")
    assert _tree(tmp_path / "a") != _tree(tmp_path / "c")
    assert {p.suffix for p in first} == {".py", ".go", ".js", ".rs", ".java"}


def test_a_slice_is_the_first_files_of_the_larger_corpus(tmp_path: Path) -> None:
    mc.generate(tmp_path / "big", 11, functions_per_file=4, seed=1)
    mc.generate(tmp_path / "small", 6, functions_per_file=4, seed=1)
    big, small = _tree(tmp_path / "big"), _tree(tmp_path / "small")
    assert small.items() <= big.items()


def test_an_index_holds_one_chunk_per_function_plus_headers_all_distinct(tmp_path: Path) -> None:
    root = tmp_path / "corpus"
    mc.generate(root, 10, functions_per_file=20, seed=mb.SEED)
    index_dir = tmp_path / "index"
    with Workspace(root, Settings(index_dir=str(index_dir)), encoder=FakeEncoder(dim=384)) as ws:
        stats = ws.index()
        assert (stats.files_total, stats.chunks_total) == (10, 212)  # 21.2 a file, as FILES assumes
        db = mb.index_db(index_dir)
        assert mb.counts(db) == (10, 212)
        con = sqlite3.connect(db)
        texts = [row[0] for row in con.execute("SELECT text FROM chunks")]
        kinds = dict(con.execute("SELECT kind, count(*) FROM chunks GROUP BY kind").fetchall())
        con.close()
        assert len(set(texts)) == len(texts)
        assert kinds["function"] + kinds["method"] == 200

        work = mb.workload(db)
        assert len(work["queries"]) == len(set(work["queries"])) == 100
        assert len(work["similar"]) == 20
        for query in work["queries"][:10]:
            assert ws.search(query, 10)
        for path, line in work["similar"]:
            ws.similar_to(path, line, 10)  # raises LookupError when no chunk is at that line
