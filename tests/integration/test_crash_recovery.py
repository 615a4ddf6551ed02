"""A real SIGKILL part way through indexing: the index opens, is consistent, and the next run
finishes without re-embedding what was committed."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from codekin import Settings, Workspace
from codekin.embeddings.fake import FakeEncoder
from codekin.index import layout

SLOW_INDEXER = textwrap.dedent(
    """
    import sys, time
    from codekin import Settings, Workspace
    from codekin.embeddings.fake import FakeEncoder

    class SlowEncoder(FakeEncoder):
        def embed_documents(self, texts):
            time.sleep(0.2)
            return super().embed_documents(texts)

    Workspace(sys.argv[1], Settings(), encoder=SlowEncoder()).index()
    print("finished")
    """
)


def committed_files(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        con = sqlite3.connect(db, timeout=5)
        try:
            return int(con.execute("SELECT count(*) FROM files").fetchone()[0])
        finally:
            con.close()
    except sqlite3.Error:
        return 0


def test_sigkill_mid_index_then_resume(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    for i in range(300):
        p = root / f"d{i % 7}" / f"m{i}.py"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(f"def alpha_{i}(x):\n    return x + {i}\n\n\ndef beta_{i}(y):\n    return y * {i}\n")
    script = tmp_path / "slow_index.py"
    script.write_text(SLOW_INDEXER)
    db = root / ".codekin" / "index.sqlite"

    proc = subprocess.Popen([sys.executable, str(script), str(root)], stdout=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while committed_files(db) < 40 and time.monotonic() < deadline:
        assert proc.poll() is None, "indexer ended before it could be killed"
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL

    done_before = committed_files(db)
    assert 40 <= done_before < 300

    enc = FakeEncoder()
    ws = Workspace(root, Settings(), encoder=enc)
    store = ws.code_index.store
    files, chunks = store.counts()
    assert files == done_before and chunks == 2 * files  # every committed file has all its chunks
    ids, rows = store.vectors_for_ids(store.chunk_ids())
    assert len(ids) == chunks  # and every chunk its embedding
    assert len(ws.search("alpha beta", k=5)) == 5  # searchable before resuming

    stats = ws.index()
    assert stats.files_total == 300 and stats.chunks_total == 600
    assert enc.documents_embedded == 600 - chunks  # committed work was not embedded again
    assert stats.files_unchanged == done_before
    hits = ws.search("alpha_299", k=3)
    assert any(h.path == "d5/m299.py" for h in hits)


SLOW_FULL_REBUILD = SLOW_INDEXER.replace(".index()", ".index(full=True)")


def test_sigkill_during_a_full_rebuild_keeps_the_old_index_serving_then_resumes(tmp_path: Path) -> None:
    """A full rebuild builds beside the live index: killed part way, the live index still
    answers completely; the next full run resumes the half-built one and swaps it in."""
    root = tmp_path / "repo"
    for i in range(300):
        p = root / f"d{i % 7}" / f"m{i}.py"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(f"def alpha_{i}(x):\n    return x + {i}\n\n\ndef beta_{i}(y):\n    return y * {i}\n")
    with Workspace(root, Settings(), encoder=FakeEncoder()) as ws:
        ws.index()
        expected = [(h.path, h.start_line) for h in ws.search("alpha_123 beta", k=10)]
    script = tmp_path / "slow_rebuild.py"
    script.write_text(SLOW_FULL_REBUILD)
    building = layout.next_dir(root / ".codekin") / layout.DB_NAME

    proc = subprocess.Popen([sys.executable, str(script), str(root)], stdout=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while committed_files(building) < 40 and time.monotonic() < deadline:
        assert proc.poll() is None, "rebuild ended before it could be killed"
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    done_before = committed_files(building)
    assert 40 <= done_before < 300

    enc = FakeEncoder()
    ws = Workspace(root, Settings(), encoder=enc)
    assert [(h.path, h.start_line) for h in ws.search("alpha_123 beta", k=10)] == expected
    status = ws.status()
    assert status.files == 300 and status.rebuilding
    assert ws.index().embedded == 0  # the live index is complete; the half-built one waits

    stats = ws.index(full=True)
    assert stats.files_total == 300 and stats.chunks_total == 600
    assert enc.documents_embedded == 600 - 2 * done_before  # resumed, not restarted
    assert not layout.next_dir(root / ".codekin").exists() and not ws.status().rebuilding
    assert layout.live_dir(root / ".codekin").name.startswith(layout.DATA_PREFIX)
    assert [(h.path, h.start_line) for h in ws.search("alpha_123 beta", k=10)] == expected
    ws.close()
