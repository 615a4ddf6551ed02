"""Incremental indexing, deletion, rebuilds and recovery, with the fake encoder."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from codekin import Settings, Workspace
from codekin.embeddings.fake import FakeEncoder
from codekin.index.lock import IndexLocked, WriteLock


def module_source(i: int) -> str:
    return (
        f'"""Module {i}."""\n\nimport os\n\n\n'
        f"def compute_{i}(values):\n    total = 0\n    for v in values:\n"
        f"        total += v * {i}\n    return total\n\n\n"
        f'class Handler{i}:\n    """Handles requests number {i}."""\n\n'
        f"    def handle(self, request):\n        return request.path + '{i}'\n\n"
        f"    def close(self):\n        return os.getpid() + {i}\n"
    )


@pytest.fixture
def repo50(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    for i in range(50):
        p = root / f"pkg{i % 5}" / f"mod{i}.py"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(module_source(i))
    return root


def chunk_count(ws: Workspace, path: str) -> int:
    return len(ws.code_index.chunks_of_file(path))


def test_edit_one_function_reembeds_only_changed_chunks(repo50: Path) -> None:
    enc = FakeEncoder()
    ws = Workspace(repo50, Settings(), encoder=enc)
    first = ws.index()
    assert first.files_total == 50 and first.chunks_total > 50
    assert enc.documents_embedded == first.embedded == first.chunks_total

    target = repo50 / "pkg3" / "mod13.py"
    target.write_text(target.read_text().replace("total += v * 13", "total += v * 13 + 1"))
    before = enc.documents_embedded
    second = ws.index()
    assert enc.documents_embedded - before == 1  # exactly the edited function
    assert second.files_indexed == 1 and second.files_unchanged == 49
    assert second.chunks_total == first.chunks_total

    third = ws.index()  # nothing changed: nothing embedded, nothing re-chunked
    assert third.embedded == 0 and third.files_indexed == 0

    # touching a file without changing content re-reads it but embeds nothing
    target.write_text(target.read_text())
    assert ws.index().embedded == 0


def test_deleting_a_file_removes_its_chunks(repo50: Path) -> None:
    ws = Workspace(repo50, Settings(), encoder=FakeEncoder())
    ws.index()
    n = chunk_count(ws, "pkg0/mod0.py")
    assert n >= 3
    (repo50 / "pkg0" / "mod0.py").unlink()
    stats = ws.index()
    assert stats.files_removed == 1 and stats.chunks_removed == n
    assert chunk_count(ws, "pkg0/mod0.py") == 0
    assert all(h.path != "pkg0/mod0.py" for h in ws.search("compute_0 values", k=50))


def test_update_paths_handles_create_change_delete_and_overlay(repo50: Path) -> None:
    ws = Workspace(repo50, Settings(), encoder=FakeEncoder())
    ws.index()
    new = repo50 / "pkg9" / "fresh.py"
    new.parent.mkdir()
    new.write_text("def brand_new_function_xyzzy():\n    return 42\n")
    (repo50 / "pkg1" / "mod1.py").unlink()
    ws.update([new, repo50 / "pkg1" / "mod1.py"])
    assert ws.search("brand_new_function_xyzzy", k=1)[0].path == "pkg9/fresh.py"
    assert chunk_count(ws, "pkg1/mod1.py") == 0
    # unsaved buffer text replaces the file's content until the file is read again
    ws.update([], overlays={str(new): "def unsaved_buffer_plugh():\n    return 7\n"})
    assert ws.search("unsaved_buffer_plugh", k=1)[0].path == "pkg9/fresh.py"
    ws.update([new])  # didClose: back to what is on disk
    assert "brand_new" in ws.search("brand_new_function_xyzzy", k=1)[0].text
    # a deleted directory arrives as one path
    import shutil

    shutil.rmtree(repo50 / "pkg2")
    ws.update([repo50 / "pkg2"])
    assert ws.status().files == 50 - 1 + 1 - 10


def test_model_change_rebuilds_with_reason(repo50: Path) -> None:
    ws = Workspace(repo50, Settings(), encoder=FakeEncoder(dim=64))
    ws.index()
    ws.close()
    ws2 = Workspace(repo50, Settings(), encoder=FakeEncoder(dim=32))
    stats = ws2.index()
    assert stats.rebuilt_reason and "dim changed (64 -> 32)" in stats.rebuilt_reason
    assert stats.embedded == stats.chunks_total > 0


def test_corrupt_vector_file_is_rebuilt_from_store_without_reembedding(repo50: Path) -> None:
    ws = Workspace(repo50, Settings(), encoder=FakeEncoder())
    ws.index()
    expected = [h.path for h in ws.search("Handler7 handle request", k=3)]
    ws.close()
    vec = repo50 / ".codekin" / "vectors.usearch"
    vec.write_bytes(vec.read_bytes()[: vec.stat().st_size // 3])  # truncated
    enc = FakeEncoder()
    ws2 = Workspace(repo50, Settings(), encoder=enc)
    assert [h.path for h in ws2.search("Handler7 handle request", k=3)] == expected
    assert ws2.index().embedded == 0 and enc.documents_embedded == 0


def test_corrupt_database_rebuilds_with_message(repo50: Path) -> None:
    ws = Workspace(repo50, Settings(), encoder=FakeEncoder())
    ws.index()
    ws.close()
    db = repo50 / ".codekin" / "index.sqlite"
    for extra in ("index.sqlite-wal", "index.sqlite-shm"):
        (repo50 / ".codekin" / extra).unlink(missing_ok=True)
    db.write_bytes(b"this is not a database" * 100)
    stats = Workspace(repo50, Settings(), encoder=FakeEncoder()).index()
    assert stats.rebuilt_reason and "unreadable" in stats.rebuilt_reason
    assert stats.files_total == 50


def test_second_writer_gets_a_clear_error(repo50: Path) -> None:
    ws = Workspace(repo50, Settings(), encoder=FakeEncoder())
    ws.index()
    holder = WriteLock(repo50 / ".codekin" / "write.lock")
    holder.acquire()
    try:
        with pytest.raises(IndexLocked, match="another codekin process"):
            ws.index()
        assert ws.search("compute values", k=1)  # readers still work
    finally:
        holder.release()
    ws.index()


def test_empty_repository(tmp_path: Path) -> None:
    ws = Workspace(tmp_path, Settings(), encoder=FakeEncoder())
    stats = ws.index()
    assert (stats.files_total, stats.chunks_total) == (0, 0)
    assert ws.search("anything") == []
    assert (tmp_path / ".codekin" / ".gitignore").read_text() == "*\n"


def test_bad_input_is_skipped_and_everything_else_indexed(tree) -> None:  # type: ignore[no-untyped-def]
    root = tree(
        {
            "good.py": "def good_function():\n    return 1\n",
            "binary.py": b"\x00\x01\x02" * 100,
            "latin1.py": b"def caf\xe9_menu():\n    return 'cr\xe8me'\n",
            "bundle.js": "var a=1;" * 3000,
            "broken.py": "def broken(:\n    return (\n\ndef after_broken():\n    return 2\n",
            "huge.txt": "x" * 2_000_000,
            "notes.unknownext": "plain words about the moon\n",
        }
    )
    ws = Workspace(root, Settings(), encoder=FakeEncoder())
    stats = ws.index()
    assert set(stats.skipped) == {"binary.py", "bundle.js", "huge.txt"}
    indexed = set(ws.code_index.file_rows())
    assert indexed == {"good.py", "latin1.py", "broken.py", "notes.unknownext"}
    assert ws.search("after_broken", k=1)[0].path == "broken.py"
    assert ws.search("menu", k=1)[0].path == "latin1.py"


def test_similar_to_excludes_the_query_chunk(repo50: Path) -> None:
    ws = Workspace(repo50, Settings(), encoder=FakeEncoder())
    ws.index()
    hits = ws.similar_to(repo50 / "pkg0" / "mod5.py", line=7, k=5)
    assert hits and all(not (h.path == "pkg0/mod5.py" and h.start_line <= 7 <= h.end_line) for h in hits)
    assert all(h.kind == "function" for h in hits[:3])
    with pytest.raises(LookupError):
        ws.similar_to("missing.py", 1)


def test_filters_by_language_and_path(tree) -> None:  # type: ignore[no-untyped-def]
    root = tree(
        {
            "a/x.py": "def read_config(path):\n    return open(path).read()\n",
            "b/y.go": "package b\n\nfunc ReadConfig(path string) string {\n\treturn path\n}\n",
        }
    )
    ws = Workspace(root, Settings(), encoder=FakeEncoder())
    ws.index()
    assert {h.path for h in ws.search("read config", languages=["go"])} == {"b/y.go"}
    assert {h.path for h in ws.search("read config", paths=["a/**"])} == {"a/x.py"}


def test_store_survives_sqlite_being_read_by_another_connection(repo50: Path) -> None:
    ws = Workspace(repo50, Settings(), encoder=FakeEncoder())
    ws.index()
    other = sqlite3.connect(repo50 / ".codekin" / "index.sqlite")
    assert other.execute("SELECT count(*) FROM files").fetchone()[0] == 50
    other.close()


def test_file_vanishing_or_unreadable_mid_run_is_skipped(tree, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    from codekin.files import read_source as real_read_source
    from codekin.index import indexer

    root = tree({f"m{i}.py": f"def fn_{i}():\n    return {i}\n" for i in range(6)})

    def flaky_read(entry):  # type: ignore[no-untyped-def]
        if entry.rel == "m2.py":
            entry.abs.unlink()  # deleted between the walk and the read
        if entry.rel == "m4.py":
            raise indexer.SkipFile("cannot read: Permission denied")
        return real_read_source(entry)

    monkeypatch.setattr(indexer, "read_source", flaky_read)
    stats = Workspace(root, Settings(), encoder=FakeEncoder()).index()
    assert stats.skipped == {"m2.py": "file vanished", "m4.py": "cannot read: Permission denied"}
    assert stats.files_total == 4


def test_fifty_megabyte_file_is_skipped_without_reading(tree) -> None:  # type: ignore[no-untyped-def]
    root = tree({"ok.py": "def ok():\n    return 1\n"})
    with open(root / "dump.sql", "wb") as fh:
        fh.truncate(50 * 1024 * 1024)
    stats = Workspace(root, Settings(), encoder=FakeEncoder()).index()
    assert "larger than max_file_bytes" in stats.skipped["dump.sql"] and stats.files_total == 1


def test_editor_updates_defer_vector_saves_until_close(repo50: Path) -> None:
    import json

    ws = Workspace(repo50, Settings(), encoder=FakeEncoder())
    ws.index()
    sidecar = repo50 / ".codekin" / "vectors.usearch.json"
    saved = json.loads(sidecar.read_text())["generation"]
    (repo50 / "pkg0" / "mod0.py").write_text("def replaced_function():\n    return 0\n")
    ws.update([repo50 / "pkg0" / "mod0.py"])  # a small update does not rewrite the vector file
    assert json.loads(sidecar.read_text())["generation"] == saved
    generation = ws.code_index.generation()
    ws.close()  # ...but closing saves what is not on disk yet
    assert json.loads(sidecar.read_text())["generation"] == generation > saved
    enc = FakeEncoder()
    again = Workspace(repo50, Settings(), encoder=enc)
    assert again.search("replaced_function", k=1)[0].path == "pkg0/mod0.py"
    assert enc.documents_embedded == 0
