"""A real SIGKILL part way through indexing, in its lexical phase or its embedding phase: the
index opens, is consistent and searchable (by keywords where vectors are missing), and the next
run finishes without re-embedding what was committed, equal to a clean index."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

from codekin import Settings, Workspace
from codekin.embeddings.fake import FakeEncoder
from codekin.hit import Coverage
from codekin.index import layout

SLOW_INDEXER = textwrap.dedent(
    """
    import sys, time
    import codekin.index.indexer as indexer
    from codekin import Settings, Workspace
    from codekin.embeddings.fake import FakeEncoder

    class SlowEncoder(FakeEncoder):
        def embed_documents(self, texts):
            time.sleep(0.2)
            return super().embed_documents(texts)

    if sys.argv[2] == "slow-chunking":  # the run is killed in its first phase
        chunk_source = indexer.chunk_source
        def slow_chunk_source(*args, **kwargs):
            time.sleep(0.02)
            return chunk_source(*args, **kwargs)
        indexer.chunk_source = slow_chunk_source
    Workspace(sys.argv[1], Settings(), encoder=SlowEncoder()).index(full=sys.argv[2] == "full")
    print("finished")
    """
)


def count(db: Path, table: str) -> int:
    if not db.exists():
        return 0
    try:
        con = sqlite3.connect(db, timeout=5)
        try:
            return int(con.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
        finally:
            con.close()
    except sqlite3.Error:
        return 0


def committed_files(db: Path) -> int:
    return count(db, "files")


def make_repo(root: Path) -> None:
    for i in range(300):
        p = root / f"d{i % 7}" / f"m{i}.py"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(f"def alpha_{i}(x):\n    return x + {i}\n\n\ndef beta_{i}(y):\n    return y * {i}\n")


def kill_when(script: Path, root: Path, mode: str, ready: Callable[[], bool]) -> None:
    """Run the slow indexer and SIGKILL it once ``ready()`` holds."""
    proc = subprocess.Popen([sys.executable, str(script), str(root), mode], stdout=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while not ready() and time.monotonic() < deadline:
        assert proc.poll() is None, "indexer ended before it could be killed"
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL


def content(root: Path) -> tuple[set[tuple[object, ...]], set[tuple[object, ...]]]:
    """Files and (chunk span, hash, embedding) rows: what must match a clean index."""
    db = sqlite3.connect(layout.live_dir(root / ".codekin") / layout.DB_NAME)
    try:
        files = set(db.execute("SELECT path, hash FROM files"))
        rows = set(
            db.execute(
                "SELECT c.path, c.start_byte, c.end_byte, c.content_hash, v.vector "
                "FROM chunks c LEFT JOIN vectors v USING (embed_key)"
            )
        )
    finally:
        db.close()
    return files, rows


def clean_index(tmp_path: Path) -> tuple[set[tuple[object, ...]], set[tuple[object, ...]]]:
    root = tmp_path / "clean"
    make_repo(root)
    with Workspace(root, Settings(), encoder=FakeEncoder()) as ws:
        ws.index()
    return content(root)


def test_sigkill_in_the_lexical_phase_then_resume(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    make_repo(root)
    script = tmp_path / "slow_index.py"
    script.write_text(SLOW_INDEXER)
    db = root / ".codekin" / "index.sqlite"
    kill_when(script, root, "slow-chunking", lambda: committed_files(db) >= 40)

    done_before = committed_files(db)
    assert 40 <= done_before < 300
    assert count(db, "vectors") == 0  # killed before the embedding phase
    enc = FakeEncoder()
    ws = Workspace(root, Settings(), encoder=enc)
    files, chunks = ws.code_index.counts()
    assert files == done_before and chunks == 2 * files  # every committed file has all its chunks
    path = sorted(ws.code_index.file_rows())[-1]
    name = "alpha_" + path.removesuffix(".py").rsplit("m", 1)[1]
    hits = ws.search(name, k=5)  # searchable by keywords before resuming
    assert hits[0].path == path and hits.partial and hits.coverage.embedded == 0
    assert enc.documents_embedded == 0  # a query on an index without vectors does not embed

    stats = ws.index()
    assert stats.files_total == 300 and stats.chunks_total == 600
    assert stats.files_unchanged == done_before and stats.files_indexed == 300 - done_before
    assert enc.documents_embedded == 600  # every chunk once, committed ones included
    assert not ws.search(name, k=5).partial
    ws.close()
    assert content(root) == clean_index(tmp_path)


def test_sigkill_in_the_embedding_phase_then_resume(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    make_repo(root)
    script = tmp_path / "slow_index.py"
    script.write_text(SLOW_INDEXER)
    db = root / ".codekin" / "index.sqlite"
    kill_when(script, root, "index", lambda: count(db, "vectors") >= 128)

    embedded_before = count(db, "vectors")
    assert 128 <= embedded_before < 600
    enc = FakeEncoder()
    ws = Workspace(root, Settings(), encoder=enc)
    index = ws.code_index
    assert index.counts() == (300, 600)  # the lexical phase had committed every file
    ids, _ = index.stored_vectors(index.chunk_ids())
    assert len(ids) == embedded_before  # and the embedding phase kept each batch it finished
    hits = ws.search("alpha_299", k=3)  # the last file: found by keywords, not embedded yet
    assert hits[0].path == "d5/m299.py"
    assert hits.partial and hits.coverage == Coverage(embedded_before, 600)

    stats = ws.index()
    assert stats.files_unchanged == 300 and stats.files_indexed == 0
    assert stats.embedded == enc.documents_embedded == 600 - embedded_before  # only what lacked one
    assert not ws.search("alpha_299", k=3).partial
    ws.close()
    assert content(root) == clean_index(tmp_path)


def test_sigkill_during_a_full_rebuild_keeps_the_old_index_serving_then_resumes(tmp_path: Path) -> None:
    """A full rebuild builds beside the live index: killed part way, the live index still
    answers completely; the next full run resumes the half-built one and swaps it in."""
    root = tmp_path / "repo"
    make_repo(root)
    with Workspace(root, Settings(), encoder=FakeEncoder()) as ws:
        ws.index()
        expected = [(h.path, h.start_line) for h in ws.search("alpha_123 beta", k=10)]
    script = tmp_path / "slow_rebuild.py"
    script.write_text(SLOW_INDEXER)
    building = layout.next_dir(root / ".codekin") / layout.DB_NAME
    kill_when(script, root, "full", lambda: count(building, "vectors") >= 128)
    embedded_before = count(building, "vectors")
    assert 128 <= embedded_before < 600

    enc = FakeEncoder()
    ws = Workspace(root, Settings(), encoder=enc)
    found = ws.search("alpha_123 beta", k=10)
    assert [(h.path, h.start_line) for h in found] == expected and not found.partial
    status = ws.status()
    assert status.files == 300 and status.rebuilding
    assert ws.index().embedded == 0  # the live index is complete; the half-built one waits

    stats = ws.index(full=True)
    assert stats.files_total == 300 and stats.chunks_total == 600
    assert enc.documents_embedded == 600 - embedded_before  # resumed, not restarted
    assert not layout.next_dir(root / ".codekin").exists() and not ws.status().rebuilding
    assert layout.live_dir(root / ".codekin").name.startswith(layout.DATA_PREFIX)
    assert [(h.path, h.start_line) for h in ws.search("alpha_123 beta", k=10)] == expected
    ws.close()
