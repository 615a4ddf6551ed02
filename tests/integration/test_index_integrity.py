"""Index integrity faults reproduced the way they were found (issue 16, items 4-8): real
byte-level damage to the files a real index run wrote, a read-only index searched by an
unprivileged user, a full rebuild beside the live index while it is searched, and a reader in
another process. The CLI runs in a subprocess with the fake encoder swapped in (fast)."""

from __future__ import annotations

import json
import logging
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from codekin import Settings, Workspace
from codekin.embeddings.base import Vectors
from codekin.embeddings.fake import FakeEncoder
from codekin.index import layout
from codekin.index.store import CorruptIndex, Store
from codekin.index.vectors import VectorIndex
from tests.fake_cli import fake_cli

SRC = Path(__file__).resolve().parents[2] / "src"


def module_source(i: int) -> str:
    return (
        f"def compute_{i}(values):\n    total = 0\n    for v in values:\n        total += v * {i}\n"
        f"    return total\n\n\nclass Handler{i}:\n    def handle_{i}(self, request):\n"
        f"        return request.path + '{i}'\n"
    )


def make_repo(root: Path, n: int = 60) -> Path:
    for i in range(n):
        p = root / f"pkg{i % 6}" / f"mod{i}.py"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(module_source(i))
    return root


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "repo")


def build(root: Path, encoder: FakeEncoder | None = None) -> None:
    with Workspace(root, Settings(), encoder=encoder or FakeEncoder()) as ws:
        ws.index()


def cli(root: Path, *args: str, user: str | None = None) -> subprocess.CompletedProcess[str]:
    return fake_cli(root, *args, user=user)


def top_paths(hits: list) -> list[str]:  # type: ignore[type-arg]
    return [f"{h.path}:{h.start_line}" for h in hits]


# --- item 4: corruption in the middle of index.sqlite ---------------------------------------------
def damage_table_pages(db: Path, table: str) -> int:
    """Overwrite every page of ``table`` (found with SQLite's dbstat) with garbage, in place."""
    con = sqlite3.connect(db)
    page_size = con.execute("PRAGMA page_size").fetchone()[0]
    pages = [r[0] for r in con.execute("SELECT pageno FROM dbstat WHERE name = ?", (table,))]
    con.close()
    rng = np.random.default_rng(7)
    with open(db, "r+b") as fh:
        for page in pages:
            fh.seek((page - 1) * page_size)
            fh.write(rng.integers(0, 256, page_size, dtype=np.uint8).tobytes())
    return len(pages)


def test_corruption_inside_the_database_is_quarantined_and_rebuilt(repo: Path) -> None:
    build(repo)
    db = repo / ".codekin" / layout.DB_NAME
    assert damage_table_pages(db, "chunks") > 2  # pages in the middle of the file, header intact

    status = cli(repo, "status")
    assert status.returncode == 0 and "Traceback" not in status.stderr
    assert "corrupt" in status.stdout  # truthful, not the old counts as if all were well

    indexed = cli(repo, "index")
    assert indexed.returncode == 0, indexed.stderr
    assert "Traceback" not in indexed.stderr
    assert "note: index rebuilt: the database was corrupt" in indexed.stdout
    assert "60 files" in indexed.stdout
    aside = layout.quarantined(repo / ".codekin")
    assert len(aside) == 1

    found = cli(repo, "search", "compute_17", "--no-update", "--json")
    assert found.returncode == 0, found.stderr
    assert json.loads(found.stdout)["results"][0]["path"] == "pkg5/mod17.py"
    again = cli(repo, "index", "--json")  # no later run keeps failing or rebuilding
    assert again.returncode == 0 and json.loads(again.stdout)["embedded"] == 0
    status = json.loads(cli(repo, "status", "--json").stdout)
    assert status["problem"] is None and status["files"] == 60
    assert status["quarantined"] == [aside[0].name]


def test_corruption_found_by_a_search_is_moved_aside_with_one_message(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build(repo)
    damage_table_pages(repo / ".codekin" / layout.DB_NAME, "chunks")
    # Damage the open-time check does not see (it came after the open, or the check missed
    # it) is met at use: a query raises "database disk image is malformed".
    with monkeypatch.context() as m:
        m.setattr(Store, "quick_check", lambda self: None)
        ws = Workspace(repo, Settings(), encoder=FakeEncoder())
        with pytest.raises(CorruptIndex) as caught:
            ws.search("compute_17", k=3)
    message = str(caught.value)
    assert "malformed" in message and "moved aside" in message and "codekin index" in message
    assert len(layout.quarantined(repo / ".codekin")) == 1
    ws.close()
    stats = Workspace(repo, Settings(), encoder=FakeEncoder()).index()
    assert stats.rebuilt_reason and "corrupt" in stats.rebuilt_reason
    assert stats.files_total == 60


def test_a_search_that_meets_corruption_in_the_cli_exits_with_one_line(repo: Path) -> None:
    build(repo)
    damage_table_pages(repo / ".codekin" / layout.DB_NAME, "chunks")
    found = cli(repo, "search", "compute_17", "--no-update")
    assert found.returncode == 1 and "Traceback" not in found.stderr
    assert found.stderr.count("codekin: error:") == 1 and "corrupt" in found.stderr
    fixed = cli(repo, "search", "compute_17", "--json")  # the update rebuilds, then answers
    assert fixed.returncode == 0, fixed.stderr
    assert json.loads(fixed.stdout)["results"][0]["path"] == "pkg5/mod17.py"


# --- item 5: garbage inside the vectors file, same size -------------------------------------------
def test_damaged_vectors_are_detected_and_rebuilt_from_the_store(repo: Path) -> None:
    build(repo)
    with Workspace(repo, Settings(), encoder=FakeEncoder()) as ws:
        before = top_paths(ws.search("handle request path", k=5))
    vectors = repo / ".codekin" / layout.VECTORS_NAME
    size = vectors.stat().st_size
    with open(vectors, "r+b") as fh:
        fh.seek(size // 2)
        fh.write(np.random.default_rng(3).integers(0, 256, size // 4, dtype=np.uint8).tobytes())
    assert vectors.stat().st_size == size
    assert VectorIndex.load(vectors, 64) is None  # the checksum catches it

    enc = FakeEncoder()
    with Workspace(repo, Settings(), encoder=enc) as ws:
        assert top_paths(ws.search("handle request path", k=5)) == before
        stats = ws.index()
    assert enc.documents_embedded == 0 and stats.embedded == 0  # rebuilt from stored embeddings
    assert VectorIndex.load(vectors, 64) is not None  # and saved whole again


# --- item 6: manifest loss -----------------------------------------------------------------------
class OtherModel(FakeEncoder):
    """Another model of the same dimension (different vectors for the same text)."""

    model_id = "other"
    model_hash = "other-v1"

    def _embed(self, texts: list[str]) -> Vectors:
        return np.ascontiguousarray(super()._embed(texts)[:, ::-1])


def test_deleted_manifest_and_another_model_of_the_same_dimension_reembeds(repo: Path) -> None:
    build(repo)
    (repo / ".codekin" / layout.MANIFEST_NAME).unlink()
    enc = OtherModel()
    with Workspace(repo, Settings(), encoder=enc) as ws:
        stats = ws.index()
        assert stats.rebuilt_reason == "index rebuilt: model changed (fake -> other)"
        assert enc.documents_embedded == stats.chunks_total > 0
        assert ws.status().model == "other"


def test_garbage_manifest_with_the_same_model_reembeds_nothing(
    repo: Path, caplog: pytest.LogCaptureFixture
) -> None:
    build(repo)
    manifest = repo / ".codekin" / layout.MANIFEST_NAME
    manifest.write_bytes(b"\x00garbage{")
    enc = FakeEncoder()
    with caplog.at_level(logging.WARNING), Workspace(repo, Settings(), encoder=enc) as ws:
        stats = ws.index()
    assert stats.rebuilt_reason is None and enc.documents_embedded == 0
    assert "the store records fake, so nothing is re-embedded" in caplog.text
    assert json.loads(manifest.read_text())["model"] == "fake"  # the readable copy is rewritten


def test_an_index_that_records_no_model_and_has_no_manifest_is_rebuilt(repo: Path) -> None:
    build(repo)
    db = sqlite3.connect(repo / ".codekin" / layout.DB_NAME)
    db.execute("DELETE FROM meta WHERE key LIKE 'manifest.%'")  # as written before this change
    db.commit()
    db.close()
    (repo / ".codekin" / layout.MANIFEST_NAME).unlink()
    enc = FakeEncoder()
    stats = Workspace(repo, Settings(), encoder=enc).index()
    assert stats.rebuilt_reason and "does not record which model" in stats.rebuilt_reason
    assert enc.documents_embedded == stats.chunks_total


# --- item 7: a read-only index --------------------------------------------------------------------
@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A directory an unprivileged user can read (pytest's tmp_path is private to root)."""
    path = Path(tempfile.mkdtemp(prefix="codekin-ro-"))
    path.chmod(0o755)
    yield path
    for p in [path, *path.rglob("*")]:
        if not p.is_symlink():
            p.chmod(0o755 if p.is_dir() else 0o644)
    shutil.rmtree(path)


def snapshot(index_dir: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(index_dir)): (p.stat().st_size, p.stat().st_mtime_ns) for p in index_dir.rglob("*")
    }


@pytest.mark.skipif(shutil.which("setpriv") is None, reason="needs setpriv to run as an unprivileged user")
def test_read_only_index_is_searchable_and_never_written(shared_dir: Path) -> None:
    # root ignores file modes, so the read-only side runs as nobody (uid 65534) via setpriv
    if not os.access(sys.executable, os.X_OK) or not SRC.stat().st_mode & 0o005:
        pytest.skip("the interpreter or the source tree is not readable by other users")
    repo = make_repo(shared_dir / "repo")
    build(repo)
    for p in [repo, *repo.rglob("*")]:
        p.chmod(0o555 if p.is_dir() else 0o444)
    before = snapshot(repo / ".codekin")

    found = cli(repo, "search", "compute_17", "--no-update", "--json", user="65534")
    assert found.returncode == 0, found.stderr
    assert json.loads(found.stdout)["results"][0]["path"] == "pkg5/mod17.py"
    status = cli(repo, "status", user="65534")
    assert status.returncode == 0, status.stderr
    assert "files:        60" in status.stdout and "read-only:    yes" in status.stdout
    updated = cli(repo, "index", user="65534")
    assert updated.returncode == 1 and "Traceback" not in updated.stderr
    assert updated.stderr.count("codekin: error:") == 1 and "read-only" in updated.stderr
    searched = cli(repo, "search", "compute_17", user="65534")  # would update: says why not
    assert searched.returncode == 0 and "read-only" in searched.stderr
    assert searched.stdout.startswith("pkg5/mod17.py:1-5  compute_17")
    assert snapshot(repo / ".codekin") == before


def test_status_does_not_write_a_writable_index(repo: Path) -> None:
    build(repo)
    index_dir = repo / ".codekin"
    before = snapshot(index_dir)
    result = cli(repo, "status")
    assert result.returncode == 0 and "files:        60" in result.stdout
    after = snapshot(index_dir)
    # SQLite's own shared-memory files for a read-only connection are all it may add (empty WAL)
    added = {k: v for k, v in after.items() if k not in before}
    assert set(added) <= {"index.sqlite-wal", "index.sqlite-shm"}
    assert added.get("index.sqlite-wal", (0, 0))[0] == 0
    assert {k: after[k] for k in before} == before


# --- item 8: a full rebuild beside the live index -----------------------------------------------
class SlowEncoder(FakeEncoder):
    """Slow document embedding (a rebuild that takes a while); queries stay fast."""

    def embed_documents(self, texts: list[str]) -> Vectors:
        time.sleep(0.15)
        return super().embed_documents(texts)


def test_searches_during_a_full_reindex_get_the_complete_old_answers(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "repo", 200)
    build(root)
    ws = Workspace(root, Settings(), encoder=SlowEncoder())
    queries = ["compute_17 values", "handle request path", "Handler150"]
    expected = {q: top_paths(ws.search(q, k=5)) for q in queries}
    assert all(len(v) == 5 for v in expected.values())

    done = threading.Event()
    errors: list[BaseException] = []

    def reindex() -> None:
        try:
            ws.index(full=True)
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            done.set()

    worker = threading.Thread(target=reindex)
    worker.start()
    during = 0
    while not done.is_set():
        building = layout.next_dir(ws.index_dir).exists()
        for q in queries:
            assert top_paths(ws.search(q, k=5)) == expected[q]
        during += building
    worker.join()
    assert not errors
    assert during >= 3  # searches did run while the new index was being built
    assert not layout.next_dir(ws.index_dir).exists()
    assert layout.live_dir(ws.index_dir).name.startswith(layout.DATA_PREFIX)
    for q in queries:
        assert top_paths(ws.search(q, k=5)) == expected[q]
    ws.close()


def test_a_reader_sees_a_full_reindex_run_by_another_process(repo: Path) -> None:
    build(repo)
    reader = Workspace(repo, Settings(), encoder=FakeEncoder())
    assert reader.search("zebra_striped_unicorn", k=3)[0].path != "extra/new_module.py"
    new = repo / "extra" / "new_module.py"
    new.parent.mkdir()
    new.write_text("def zebra_striped_unicorn(x):\n    return x\n")
    for _ in range(2):  # twice: the first rebuild's generation is removed by the second
        result = cli(repo, "index", "--full")
        assert result.returncode == 0, result.stderr
        hits = reader.search("zebra_striped_unicorn", k=3)
        assert hits[0].path == "extra/new_module.py"
        assert reader.status().files == 61
    reader.close()
    # the index directory holds the live generation and the one before it, nothing else
    assert len(layout.generations(repo / ".codekin")) == 2


def test_the_servers_full_reindex_keeps_answers_complete_and_not_partial(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from codekin.server import state as server_state

    monkeypatch.setattr(server_state, "build_encoder", lambda *a, **k: SlowEncoder())
    root = make_repo(tmp_path / "repo", 200)
    state = server_state.ServerState()
    folder = state.add_folder(root, Settings())
    try:
        state.schedule_index(folder).result(timeout=120)
        ws = folder.workspace
        assert ws is not None and not state.partial
        expected = top_paths(ws.search("compute_17 values", k=5))
        running = state.schedule_index(folder, full=True)  # codekin.server.reindex {"full": true}
        during = 0
        while not running.done():
            assert top_paths(ws.search("compute_17 values", k=5)) == expected
            assert state.status().partial is False
            during += 1
        assert running.result() is not None and during >= 3
        assert folder.state == "ready" and folder.files == 200
        assert top_paths(ws.search("compute_17 values", k=5)) == expected
    finally:
        state.close()


# --- byte-level damage to each index file: every case answers correctly after one index run ------
def _garbage(path: Path, offset: int, length: int, seed: int = 0) -> None:
    with open(path, "r+b") as fh:
        fh.seek(offset)
        fh.write(np.random.default_rng(seed).integers(0, 256, length, dtype=np.uint8).tobytes())


def _db_page(db: Path, seed: int) -> None:
    pages = db.stat().st_size // 4096
    _garbage(db, 4096 * (1 + np.random.default_rng(seed).integers(pages - 1)), 4096, seed)


DAMAGE = {
    "db header": lambda d: _garbage(d / "index.sqlite", 0, 100),
    "db page 1": lambda d: _db_page(d / "index.sqlite", 1),
    "db page 2": lambda d: _db_page(d / "index.sqlite", 2),
    "db page 3": lambda d: _db_page(d / "index.sqlite", 3),
    "db chunks table": lambda d: damage_table_pages(d / "index.sqlite", "chunks"),
    "db vectors table": lambda d: damage_table_pages(d / "index.sqlite", "vectors"),
    "db fts": lambda d: damage_table_pages(d / "index.sqlite", "chunks_fts_data"),
    "db truncated": lambda d: os.truncate(d / "index.sqlite", (d / "index.sqlite").stat().st_size // 2),
    "db empty": lambda d: os.truncate(d / "index.sqlite", 0),
    "db deleted": lambda d: (d / "index.sqlite").unlink(),
    "wal garbage": lambda d: (d / "index.sqlite-wal").write_bytes(os.urandom(50_000)),
    "vectors garbage": lambda d: _garbage(d / "vectors.usearch", 2000, 3000),
    "vectors truncated": lambda d: os.truncate(d / "vectors.usearch", 1000),
    "vectors deleted": lambda d: (d / "vectors.usearch").unlink(),
    "vectors sidecar garbage": lambda d: (d / "vectors.usearch.json").write_bytes(b"\xff{"),
    "manifest garbage": lambda d: (d / "manifest.json").write_bytes(b"\x00"),
    "manifest deleted": lambda d: (d / "manifest.json").unlink(),
}


@pytest.mark.parametrize("case", sorted(DAMAGE))
def test_damage_to_an_index_file_never_crashes_nor_answers_wrongly(repo: Path, case: str) -> None:
    build(repo)
    index_dir = repo / ".codekin"
    DAMAGE[case](index_dir)
    # a reader before any repair: the right answer, or one clear CorruptIndex message
    with Workspace(repo, Settings(), encoder=FakeEncoder()) as ws:
        try:
            assert ws.search("compute_17", k=3)[0].path == "pkg5/mod17.py"
        except CorruptIndex as exc:
            assert exc.reported and "codekin index" in str(exc)
    with Workspace(repo, Settings(), encoder=FakeEncoder()) as ws:
        stats = ws.index()
        assert stats.files_total == 60
        assert ws.search("compute_17", k=3)[0].path == "pkg5/mod17.py"
        assert ws.index().embedded == 0  # settled: no later run rebuilds again


@pytest.mark.parametrize("pointer", [b"\xff\xfe garbage", b"data-404\n", b""])
def test_a_damaged_pointer_falls_back_to_the_last_published_index(repo: Path, pointer: bytes) -> None:
    build(repo)
    with Workspace(repo, Settings(), encoder=FakeEncoder()) as ws:
        ws.index(full=True)
        published = layout.live_dir(ws.index_dir)
    (repo / ".codekin" / layout.CURRENT_NAME).write_bytes(pointer)
    assert layout.live_dir(repo / ".codekin") == published
    with Workspace(repo, Settings(), encoder=FakeEncoder()) as ws:
        assert ws.search("compute_17", k=3)[0].path == "pkg5/mod17.py"
        assert ws.index().embedded == 0  # the writer repairs the pointer
    assert (repo / ".codekin" / layout.CURRENT_NAME).read_text().strip() == published.name


def test_a_corrupt_half_built_rebuild_is_started_again(repo: Path) -> None:
    build(repo)
    nxt = layout.next_dir(repo / ".codekin")
    nxt.mkdir()
    (nxt / layout.DB_NAME).write_bytes(os.urandom(20_000))
    with Workspace(repo, Settings(), encoder=FakeEncoder()) as ws:
        stats = ws.index(full=True)
        assert stats.files_total == 60 and not nxt.exists()
        assert ws.search("compute_17", k=3)[0].path == "pkg5/mod17.py"
