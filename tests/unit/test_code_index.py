"""CodeIndex opened as built: what status, doctor and model-free searches read, with nothing
written, and what an index that records no manifest says about itself."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from codekin import Settings, Workspace
from codekin.embeddings.fake import FakeEncoder
from codekin.index.code_index import MANIFEST_NAME, CodeIndex, recorded_manifest
from codekin.index.lock import ReadOnlyIndex


@pytest.fixture
def built(tmp_path: Path) -> Path:
    """The data directory of an index of two small files, built with a 32-dimension encoder."""
    (tmp_path / "a.py").write_text("class A:\n    def m(self):\n        return 1\n")
    (tmp_path / "b.py").write_text("def free(x):\n    return x + 1\n")
    with Workspace(tmp_path, Settings(), encoder=FakeEncoder(dim=32)) as ws:
        ws.index()
        return ws.code_index.dir


def snapshot(data: Path) -> dict[str, int]:
    """Modification times of the index's files (SQLite's -wal and -shm files aside: a read-only
    reader of a WAL database may create them)."""
    return {p.name: p.stat().st_mtime_ns for p in data.iterdir() if not p.name.endswith(("-wal", "-shm"))}


def test_opened_as_built_it_reads_what_built_it_and_writes_nothing(built: Path) -> None:
    before = snapshot(built)
    with CodeIndex.as_built(built) as index:
        assert index.readonly and index.mismatch is None
        assert index.recorded is not None and index.recorded.dim == 32
        assert index.manifest == index.recorded
        assert index.counts() == (2, len(index.chunk_ids())) and index.counts().files == 2
        assert index.unembedded_ids() == []
        assert sum(len(ids) for ids, _ in index.iter_stored_vectors()) == index.counts().chunks
    assert recorded_manifest(built) == index.recorded
    assert snapshot(built) == before


def test_an_index_that_records_no_manifest_says_so(built: Path) -> None:
    with sqlite3.connect(built / "index.sqlite") as db:
        db.execute("DELETE FROM meta WHERE key LIKE 'manifest.%'")
    (built / MANIFEST_NAME).unlink()
    with CodeIndex.as_built(built) as index:
        assert index.recorded is None and index.manifest.format < 0
        assert index.counts().files == 2  # still readable: status and doctor report it
    assert recorded_manifest(built) is None


def test_there_is_nothing_to_open_as_built_in_an_empty_directory(tmp_path: Path) -> None:
    with pytest.raises(ReadOnlyIndex):
        CodeIndex.as_built(tmp_path)


def test_the_container_heads_are_the_classes_whose_members_are_chunks(built: Path) -> None:
    with CodeIndex.as_built(built) as index:
        chunks = dict(index.chunks_of_file("a.py")) | dict(index.chunks_of_file("b.py"))
        heads = index.container_heads(chunks)
        assert {chunks[c].qualified_name for c in heads} == {"A"}
        assert index.chunks(list(heads)) == {c: chunks[c] for c in heads}
