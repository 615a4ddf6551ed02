"""``codekin org index``: incremental, resumable, shared text embedded once, revisions."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

pytest.importorskip("ray")
pytest.importorskip("qdrant_client")

from codekin.embeddings.fake import FakeEncoder  # noqa: E402
from codekin.org.qdrant_store import QdrantStore  # noqa: E402
from codekin.org.spec import parse_store  # noqa: E402
from codekin.parsers import chunk_file, detect_language  # noqa: E402
from codekin.workspace import Workspace  # noqa: E402
from tests.org.corpus import FILES  # noqa: E402
from tests.org.org_support import FAKE_DIM, git, make_remote, org_index, write_repo  # noqa: E402

SHARED = {"common/strings.py": FILES["src/config_loader.py"], "common/shapes.py": FILES["src/geometry.py"]}


def test_text_shared_by_two_repositories_is_embedded_once(tmp_path: Path, ray_address: str) -> None:
    write_repo(tmp_path / "alpha", {**SHARED, "web/cart.ts": FILES["web/cart.ts"]})
    write_repo(tmp_path / "beta", {**SHARED, "server/retry.go": FILES["server/retry.go"]})
    (tmp_path / "repos.txt").write_text("alpha\nbeta\n")
    store = f"qdrant-local:{tmp_path / 'shared'}"
    run = org_index(ray_address, tmp_path / "repos.txt", store)
    assert run.returncode == 0, run.stderr
    alpha, beta, totals = run.repo("alpha"), run.repo("beta"), run.report["totals"]
    shared_chunks = sum(len(chunk_file(p, t.encode(), detect_language(p, b""))) for p, t in SHARED.items())
    assert alpha["files"] == beta["files"] == 3
    # every chunk is stored, the shared ones once per repository; each text is encoded once
    assert run.report["points"] == totals["chunks"] == alpha["chunks"] + beta["chunks"]
    assert run.report["encoded"] == totals["embedded"] == totals["chunks"] - totals["reused"]
    assert totals["reused"] == shared_chunks > 0
    with Workspace(tmp_path, encoder=FakeEncoder(FAKE_DIM), store=store) as ws:
        hits = ws.search("slugify", 10)
        assert {(h.repo, h.path) for h in hits if h.symbol == "slugify"} == {  # type: ignore[attr-defined]
            ("alpha", "common/strings.py"),
            ("beta", "common/strings.py"),
        }
        assert {h.repo for h in ws.search("slugify", 10, repos=["beta"])} == {"beta"}  # type: ignore[attr-defined]


def test_a_killed_job_resumes_without_embedding_again(tmp_path: Path, ray_address: str) -> None:
    write_repo(tmp_path / "sample", FILES)
    (tmp_path / "repos.txt").write_text("sample\n")
    store = f"qdrant-local:{tmp_path / 'shared'}"
    killed = org_index(
        ray_address, tmp_path / "repos.txt", store, "--files-per-task", "1", "--kill-after-writes", "2"
    )
    assert killed.returncode != 0 and killed.report == {}
    with QdrantStore(parse_store(store)) as s:  # listed, as not complete, with what it wrote
        (summary,) = s.repos()
        assert (summary.name, summary.updated) == ("sample", 0.0) and s.count("sample") > 0
    resumed = org_index(ray_address, tmp_path / "repos.txt", store, "--files-per-task", "1")
    assert resumed.returncode == 0, resumed.stderr
    done = resumed.repo("sample")
    assert done["unchanged"] == 2  # the two files stored before the kill
    assert done["indexed"] == len(FILES) - 2
    # a clean run of the same repository into a new store: the same points
    clean = org_index(ray_address, tmp_path / "repos.txt", f"qdrant-local:{tmp_path / 'clean'}")
    assert resumed.report["points"] == clean.report["points"] == clean.report["totals"]["chunks"]
    assert resumed.report["encoded"] < clean.report["encoded"]


def test_reruns_are_incremental(tmp_path: Path, ray_address: str) -> None:
    repo = write_repo(tmp_path / "sample", FILES)
    (tmp_path / "repos.txt").write_text("sample\n")
    store = f"qdrant-local:{tmp_path / 'shared'}"
    first = org_index(ray_address, tmp_path / "repos.txt", store)
    assert first.returncode == 0, first.stderr
    geometry = repo / "src/geometry.py"
    geometry.write_text(geometry.read_text() + "\n\ndef perimeter(sides):\n    return sum(sides)\n")
    (repo / "db/users.sql").unlink()
    (repo / "blob.py").write_bytes(b"\x00binary\x00")
    again = org_index(ray_address, tmp_path / "repos.txt", store)
    assert again.returncode == 0, again.stderr
    r = again.repo("sample")
    assert (r["unchanged"], r["indexed"], r["removed"]) == (len(FILES) - 2, 1, 1)
    assert r["skipped"] == {"blob.py": "binary content"}
    assert 1 <= r["embedded"] < r["chunks"]  # only geometry.py's new chunks; the rest were stored
    assert again.report["points"] == first.report["points"] - 1 + r["embedded"]
    with Workspace(tmp_path, encoder=FakeEncoder(FAKE_DIM), store=store) as ws:
        assert ws.search("perimeter", 1)[0].symbol == "perimeter"
        assert not [h for h in ws.search("users email table", 10) if h.path == "db/users.sql"]


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_a_revision_is_indexed_as_committed(tmp_path: Path, ray_address: str) -> None:
    repo = write_repo(tmp_path / "svc", {"app.py": "def greet():\n    return 'hello'\n"})
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git[:3], "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "v1"], check=True)
    (repo / "app.py").write_text("def farewell():\n    return 'bye'\n")
    subprocess.run([*git, "commit", "-qam", "v2"], check=True)
    v1 = subprocess.run(
        [*git, "rev-parse", "HEAD~1"], capture_output=True, text=True, check=True
    ).stdout.strip()
    (tmp_path / "repos.txt").write_text("svc@HEAD~1\nmissing-dir\n")
    store = f"qdrant-local:{tmp_path / 'shared'}"
    run = org_index(ray_address, tmp_path / "repos.txt", store)
    assert run.returncode == 1  # one repository could not be indexed
    assert "not a directory" in run.repo("missing-dir")["error"]
    assert run.repo("svc@HEAD~1")["error"] == ""
    assert run.repo("svc@HEAD~1")["revision"] == v1
    with Workspace(tmp_path, encoder=FakeEncoder(FAKE_DIM), store=store) as ws:
        hit = ws.search("greet", 1)[0]
        assert (hit.symbol, hit.repo, hit.revision) == ("greet", "svc@HEAD~1", v1)  # type: ignore[attr-defined]
        assert not [h for h in ws.search("farewell", 5) if h.symbol == "farewell"]


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_git_urls_are_cloned_once_and_failures_stay_per_repository(
    tmp_path: Path, ray_address: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from codekin.cli import main

    remote = make_remote(tmp_path)
    (tmp_path / "repos.txt").write_text(
        f"file://{remote}@v1\nfile://{remote}\nfile://{remote}@v9\nfile://{tmp_path / 'nowhere.git'}\n"
    )
    store = f"qdrant-local:{tmp_path / 'shared'}"
    cache = tmp_path / "cache"
    run = org_index(ray_address, tmp_path / "repos.txt", store, "--cache-dir", str(cache))
    assert run.returncode == 1  # two of the four could not be indexed; the others were
    assert "no revision 'v9' (branches and tags: main, v1)" in run.repo("lib@v9")["error"]
    assert run.repo("nowhere")["error"].startswith(f"cannot clone file://{tmp_path / 'nowhere.git'}: ")
    assert (run.repo("lib@v1")["revision"], run.repo("lib")["revision"]) == (
        git(remote, "rev-parse", "v1^{commit}"),
        git(remote, "rev-parse", "main"),
    )
    assert run.repo("lib@v1")["chunks"] == run.repo("lib")["chunks"] == 1
    assert len(list(cache.iterdir())) == 1  # one clone for the three entries of that URL
    with Workspace(tmp_path, encoder=FakeEncoder(FAKE_DIM), store=store) as ws:
        assert {(h.repo, h.symbol) for h in ws.search("first second", 5)} == {  # type: ignore[attr-defined]
            ("lib@v1", "first"),
            ("lib", "second"),
        }
    assert main(["org", "list", "--store", store, "--json"]) == 0
    listed = {r["name"]: r for r in json.loads(capsys.readouterr().out)["repos"]}
    assert set(listed) == {"lib", "lib@v1"} and listed["lib"]["source"] == f"file://{remote}"
    again = org_index(ray_address, tmp_path / "repos.txt", store, "--cache-dir", str(cache))
    assert again.repo("lib")["unchanged"] == 1 and again.repo("lib")["embedded"] == 0
