"""codekin doctor: a healthy index passes; a planted orphan vector, a chunk missing its vector, a
chunk whose embedding is gone, a stale file, a held lock and a model change are reported; the
JSON carries the measured HNSW recall. Fake encoder throughout."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
from pathlib import Path

import numpy as np
import pytest

from codekin.embeddings.fake import FakeEncoder
from codekin.index.code_index import CodeIndex
from codekin.index.layout import VECTORS_NAME, live_dir
from codekin.index.lock import WriteLock
from codekin.index.vectors import VectorIndex
from codekin.settings import Settings
from codekin.workspace import Workspace
from tests.fake_cli import fake_cli


def make_repo(root: Path, n: int = 40) -> Path:
    for i in range(n):
        p = root / f"pkg{i % 4}" / f"mod{i}.py"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(
            f"def compute_{i}(values):\n    return sum(v * {i} for v in values)\n\n\n"
            f"class Handler{i}:\n    def handle_{i}(self, request):\n        return request.path + '{i}'\n"
        )
    return root


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = make_repo(tmp_path / "repo")
    with Workspace(root, Settings(), encoder=FakeEncoder()) as ws:
        ws.index()
    return root


def doctor(root: Path, **kw: int) -> dict:  # type: ignore[type-arg]
    with Workspace(root, Settings(), encoder=FakeEncoder()) as ws:
        return ws.doctor(**kw).to_dict()


def check(report: dict, name: str) -> dict:  # type: ignore[type-arg]
    found = [c for c in report["checks"] if c["name"] == name]
    assert found, [c["name"] for c in report["checks"]]
    return found[0]


def edit_vector_file(root: Path, change: str) -> int:
    """Plant a fault in the saved vector file, kept consistent with its sidecar (the store's
    generation and id, a fresh checksum) so that it is loaded as it is. Returns the id touched."""
    data = live_dir(root / ".codekin")
    with CodeIndex.as_built(data) as index:
        ids = index.chunk_ids()
    vectors = VectorIndex.load(data / VECTORS_NAME, 64)
    assert vectors is not None
    if change == "orphan":
        touched = max(ids) + 1000
        row = np.ones((1, 64), dtype=np.float32) / 8.0
        vectors.add([touched], row)
    else:
        touched = ids[3]
        vectors.remove([touched])
    vectors.save(data / VECTORS_NAME)
    return touched


def test_a_healthy_index_passes(repo: Path) -> None:
    report = doctor(repo)
    assert report["ok"] and report["problems"] == 0, report
    assert {c["status"] for c in report["checks"]} == {"ok"}
    assert check(report, "vectors")["data"] == {"vectors": 120, "orphans": 0, "missing": 0, "current": True}
    recall = report["recall"]
    assert recall["queries"] == 120 and recall["k"] == 10 and 0.9 <= recall["recall"] <= 1.0
    assert recall["searched_exactly"] is True


def test_a_planted_orphan_vector_is_reported(repo: Path) -> None:
    orphan = edit_vector_file(repo, "orphan")
    report = doctor(repo)
    vectors = check(report, "vectors")
    assert not report["ok"] and vectors["status"] == "fail"
    assert vectors["data"]["orphans"] == 1 and vectors["data"]["missing"] == 0
    assert f"ids {orphan}" in vectors["detail"]


def test_a_chunk_missing_its_vector_is_reported(repo: Path) -> None:
    missing = edit_vector_file(repo, "missing")
    vectors = check(doctor(repo), "vectors")
    assert (
        vectors["status"] == "fail" and vectors["data"]["missing"] == 1 and str(missing) in vectors["detail"]
    )


def test_a_chunk_whose_embedding_is_gone_is_reported(repo: Path) -> None:
    db = sqlite3.connect(live_dir(repo / ".codekin") / "index.sqlite")
    key = db.execute("SELECT embed_key FROM chunks ORDER BY id LIMIT 1").fetchone()[0]
    db.execute("DELETE FROM vectors WHERE embed_key=?", (key,))
    db.commit()
    db.close()
    report = doctor(repo)
    assert not report["ok"] and check(report, "embeddings")["data"] == {"chunks_without_embedding": 1}


def test_stale_files_and_the_lock_holder(repo: Path) -> None:
    target = repo / "pkg0" / "mod0.py"
    target.write_text(target.read_text() + "\n# edited\n")
    os.utime(target, ns=(1, 1))
    (repo / "pkg0" / "brand_new.py").write_text("def fresh():\n    return 1\n")
    lock = WriteLock(repo / ".codekin" / "write.lock")
    lock.acquire()
    try:
        report = doctor(repo)
    finally:
        lock.release()
    stale = check(report, "stale files")
    assert stale["status"] == "warn" and stale["data"]["stale"] == 2 and "pkg0/mod0.py" in stale["detail"]
    assert check(report, "write lock")["data"] == {"held": True, "pid": str(os.getpid())}
    assert report["ok"]  # warnings only
    assert check(doctor(repo), "write lock")["data"] == {"held": False}


def test_a_model_change_fails_the_manifest(repo: Path) -> None:
    with Workspace(repo, Settings(), encoder=FakeEncoder(dim=32)) as ws:
        report = ws.doctor().to_dict()
    manifest = check(report, "manifest")
    assert manifest["status"] == "fail" and "dim changed (64 -> 32)" in manifest["detail"]


def test_no_index(tmp_path: Path) -> None:
    report = doctor(make_repo(tmp_path / "empty", n=1))
    assert not report["ok"] and check(report, "index")["status"] == "fail"


def cli(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return fake_cli(root, *args)


def test_cli_doctor_json_includes_the_recall_and_the_exit_code_says_what_is_wrong(repo: Path) -> None:
    done = cli(repo, "doctor", "--json", "--sample", "50")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["ok"] and data["recall"]["queries"] == 50 and 0.0 < data["recall"]["recall"] <= 1.0
    human = cli(repo, "doctor")
    assert human.returncode == 0 and "ann recall   HNSW recall@10" in human.stdout, human.stdout
    edit_vector_file(repo, "orphan")
    bad = cli(repo, "doctor")
    assert bad.returncode == 1 and "FAIL  vectors" in bad.stdout and "1 problem(s)" in bad.stdout
    assert json.loads(cli(repo, "doctor", "--json").stdout)["ok"] is False
