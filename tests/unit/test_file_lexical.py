"""File-level BM25: one lexical document per file, kept in step with the chunks, and the ranking
signal that lets a file matching the query as a whole rise."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from codekin import Settings, Workspace
from codekin.embeddings.fake import FakeEncoder
from codekin.index.layout import DB_NAME
from codekin.index.ranking import FILE_RANKING, Candidate, apply_file_lexical, rank
from codekin.index.search import Searcher
from codekin.index.store import Store

# Each function names one word of "retry backoff jitter"; only policy.py has all three.
SPREAD = (
    "def retry_call(fn):\n    return fn()\n\n\n"
    "def backoff_delay(n):\n    return 2 ** n\n\n\n"
    "def add_jitter(delay):\n    return delay + 1\n"
)
ONE_WORD = "def retry_once(fn):\n    '''retry retry retry'''\n    return fn()\n"
# one chunk with two of the words, often: the best single chunk
TWO_WORDS = "def retry_backoff(fn):\n    '''retry with backoff: retry, backoff, retry'''\n    return fn()\n"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "net").mkdir(parents=True)
    (root / "net" / "policy.py").write_text(SPREAD)
    (root / "net" / "simple.py").write_text(ONE_WORD)
    (root / "net" / "other.py").write_text("def parse_header(line):\n    return line.split(':')\n")
    return root


def file_hits(ws: Workspace, query: str) -> list[tuple[str, float]]:
    return ws.code_index.file_lexical_search(query, 10)


def test_a_file_that_has_every_word_across_its_chunks_comes_first(repo: Path) -> None:
    with Workspace(repo, Settings(), encoder=FakeEncoder()) as ws:
        ws.index()
        found = file_hits(ws, "retry backoff jitter")
        assert [p for p, _ in found] == ["net/policy.py", "net/simple.py"]
        assert found[0][1] > found[1][1] > 0
        # the chunk-level index has no single chunk with all three words
        assert len(ws.code_index.lexical_search("retry backoff jitter", 10)) == 4


def test_file_documents_follow_edits_and_deletions(repo: Path) -> None:
    with Workspace(repo, Settings(), encoder=FakeEncoder()) as ws:
        ws.index()
        (repo / "net" / "policy.py").write_text("def read_config(path):\n    return open(path).read()\n")
        (repo / "net" / "simple.py").unlink()
        ws.index()
        assert file_hits(ws, "backoff jitter") == []
        assert [p for p, _ in file_hits(ws, "read config")] == ["net/policy.py"]
        assert file_hits(ws, "once") == []
        with closing(sqlite3.connect(ws.code_index.dir / DB_NAME)) as db:
            docs = db.execute("SELECT count(*) FROM file_docs").fetchone()[0]
        assert docs == 2  # one per file with chunks, no stale rows


def _old_index(repo: Path, tmp_path: Path) -> Path:
    """An index as a codekin without file documents left it: no such tables, no flag."""
    with Workspace(repo, Settings(index_dir=str(tmp_path / "idx")), encoder=FakeEncoder()) as ws:
        ws.index()
        db_path = ws.code_index.dir / DB_NAME
    with sqlite3.connect(db_path) as old:
        old.execute("DROP TABLE files_fts")
        old.execute("DROP TABLE file_docs")
        old.execute("DELETE FROM meta WHERE key = 'file_docs'")
    return db_path


def test_an_index_built_before_file_documents_gains_them_on_open(repo: Path, tmp_path: Path) -> None:
    store = Store(_old_index(repo, tmp_path))
    try:
        assert [p for p, _ in store.file_lexical_search("retry backoff jitter", 10)][0] == "net/policy.py"
        assert store.counts() == (3, 5)  # nothing else touched
    finally:
        store.close()


def test_an_old_index_opened_while_another_process_writes_waits_for_a_later_open(
    repo: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db_path = _old_index(repo, tmp_path)
    writer = sqlite3.connect(db_path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # another process mid-commit
    try:
        store = Store(db_path)  # no CorruptIndex, no rebuild: opens and serves
        assert store.file_lexical_search("retry backoff jitter", 10) == []
        assert store.lexical_search("jitter", 10)  # chunk search unaffected
        assert "not built now" in caplog.text
        store.close()
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    store = Store(db_path)
    try:
        assert store.file_lexical_search("retry backoff jitter", 10)[0][0] == "net/policy.py"
    finally:
        store.close()


def test_files_ranking_lifts_the_file_that_matches_as_a_whole(repo: Path) -> None:
    with Workspace(repo, Settings(), encoder=FakeEncoder()) as ws:
        ws.index()
        (repo / "net" / "simple.py").write_text(TWO_WORDS)
        ws.index()
        q = "retry backoff jitter"

        def top_file(**changes: object) -> str:
            searcher = Searcher(ws.code_index, ws.encoder, file_ranking=FILE_RANKING.but(**changes))
            return searcher.search_files(q, k=3)[0].path

        # the signal alone (coherence, which also favours policy.py's three chunks, off)
        assert top_file(use_file_coherence=False, use_file_lexical=False) == "net/simple.py"
        assert top_file(use_file_coherence=False, file_lexical_weight=0.3) == "net/policy.py"
        assert ws.files(q, k=3)[0].path == "net/policy.py"  # the shipped ranking


def test_file_lexical_bonus_is_a_share_of_the_best_score() -> None:
    cs = [
        Candidate(1, "a.py", score=2.0, file_lexical=0.0),
        Candidate(2, "b.py", score=1.9, file_lexical=1.0),
        Candidate(3, "c.py", score=1.0, file_lexical=0.5),
    ]
    apply_file_lexical(cs, weight=0.1)
    assert [c.score for c in cs] == [pytest.approx(2.0), pytest.approx(2.1), pytest.approx(1.1)]
    assert cs[1].notes["file_lexical"] == pytest.approx(0.2)


def test_rank_uses_the_file_share_only_when_switched_on() -> None:
    def make() -> list[Candidate]:
        return [
            Candidate(1, "a.py", dense_rank=0, dense_score=0.80, file_lexical=0.0),
            Candidate(2, "b.py", dense_rank=1, dense_score=0.78, file_lexical=1.0),
        ]

    assert [c.chunk_id for c in rank("q", make(), FILE_RANKING)] == [2, 1]
    assert [c.chunk_id for c in rank("q", make(), FILE_RANKING.but(use_file_lexical=False))] == [1, 2]
