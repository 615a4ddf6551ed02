"""The same search-quality test over a local index and over the shared Qdrant index built by
``codekin org index``: the same ranking runs over both."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("ray")
pytest.importorskip("qdrant_client")

from codekin.cli import main  # noqa: E402
from codekin.embeddings.fake import FakeEncoder  # noqa: E402
from codekin.org.seam import LocalStore  # noqa: E402
from codekin.org.search import StoreSearcher  # noqa: E402
from codekin.settings import Settings  # noqa: E402
from codekin.workspace import Workspace  # noqa: E402
from tests.org.corpus import FILES, QUERIES  # noqa: E402
from tests.org.org_support import FAKE_DIM, mcp_search, org_index, write_repo  # noqa: E402


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, ray_address: str) -> tuple[Path, str]:
    root = tmp_path_factory.mktemp("quality")
    repo = write_repo(root / "sample", FILES)
    (root / "repos.txt").write_text("sample\n")
    store = f"qdrant-local:{root / 'shared'}"
    run = org_index(ray_address, root / "repos.txt", store)
    assert run.returncode == 0, run.stderr
    assert run.report["totals"]["files"] == len(FILES)
    assert "org: sample:" in run.stderr and "(done)" in run.stderr  # progress per repository
    return repo, store


def _top(hits: list) -> tuple[str, str]:  # type: ignore[type-arg]
    return (hits[0].path, hits[0].symbol) if hits else ("", "")


def test_same_answers_on_both_stores(built: tuple[Path, str]) -> None:
    repo, store = built
    encoder = FakeEncoder(FAKE_DIM)
    with Workspace(repo, encoder=encoder) as local, Workspace(repo, encoder=encoder, store=store) as shared:
        local.index()
        for query, answer in QUERIES.items():
            assert _top(local.search(query, 5)) == answer, query
            hits = shared.search(query, 5)
            assert _top(hits) == answer, query
            assert {h.repo for h in hits} == {"sample"}  # type: ignore[attr-defined]


def test_dense_order_is_identical_on_both_stores(built: tuple[Path, str]) -> None:
    repo, store = built
    encoder = FakeEncoder(FAKE_DIM)
    dense = Settings(hybrid=False)
    with (
        Workspace(repo, dense, encoder=encoder) as local,
        Workspace(repo, dense, encoder=encoder, store=store) as shared,
    ):
        local.index()
        for query in QUERIES:
            a = [(h.score, (h.path, h.start_line)) for h in local.search(query, 8)]
            b = [(h.score, (h.path, h.start_line)) for h in shared.search(query, 8)]
            assert [x[0] for x in a] == pytest.approx([x[0] for x in b], abs=TIE), query
            where = {hit: score for score, hit in b}
            for (score, hit), (_, other) in zip(a, b, strict=True):
                if hit != other:  # only equal cosines (or the cut after the last) may swap places
                    assert abs(where.get(hit, b[-1][0]) - score) <= TIE, query


TIE = 2e-3  # cosines this close are equal (usearch and Qdrant round differently)


def test_the_local_index_through_the_seam_ranks_exactly_as_workspace(built: tuple[Path, str]) -> None:
    repo, _ = built
    encoder = FakeEncoder(FAKE_DIM)
    with Workspace(repo, encoder=encoder) as ws:
        ws.index()
        seam = StoreSearcher(LocalStore(ws.code_index), encoder)
        for query in [*QUERIES, "Circle", "tests for geometry", "README"]:
            want = [(h.chunk_id, h.score, h.cosine) for h in ws.search(query, 10)]
            assert [(h.chunk_id, h.score, h.cosine) for h in seam.search(query, 10)] == want, query


def test_filters_and_repos_narrow_a_shared_search(built: tuple[Path, str]) -> None:
    repo, store = built
    with Workspace(repo, encoder=FakeEncoder(FAKE_DIM), store=store) as shared:
        assert {h.language for h in shared.search("total price", 10, languages=["go"])} == {"go"}
        assert all(h.path.startswith("web/") for h in shared.search("total price", 10, paths=["web/**"]))
        assert shared.search("area of a circle", 5, repos=["other"]) == []


def test_cli_search_over_the_store_names_the_repository(
    built: tuple[Path, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    repo, store = built
    monkeypatch.setattr("codekin.workspace.build_encoder", lambda *a, **k: FakeEncoder(FAKE_DIM))
    assert (
        main(["search", "--root", str(repo), "--store", store, "--json", "-k", "3", "area of a circle"]) == 0
    )
    hits = json.loads(capsys.readouterr().out)["results"]
    assert (hits[0]["repo"], hits[0]["path"], hits[0]["symbol"]) == (
        "sample",
        "src/geometry.py",
        "Circle.area",
    )
    assert not (repo / ".codekin" / "next").exists()  # nothing local was indexed for a --store search


def test_a_store_built_with_another_model_is_refused(
    built: tuple[Path, str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    repo, store = built

    class Other(FakeEncoder):
        model_id, model_hash = "other", "other-v1"

    monkeypatch.setattr("codekin.workspace.build_encoder", lambda *a, **k: Other(FAKE_DIM))
    assert main(["search", "--root", str(repo), "--store", store, "q"]) == 1
    assert "was built with fake" in capsys.readouterr().err


def test_mcp_search_answers_from_the_store_with_repositories(built: tuple[Path, str]) -> None:
    from codekin.agents.mcp_server import build_server

    repo, store = built
    app = build_server([repo], {"store": store}, encoder=FakeEncoder(FAKE_DIM), watch=False)

    try:
        found = mcp_search(app.server, {"query": "area of a circle", "k": 2, "snippet": "path"})
        assert "1. sample:src/geometry.py:" in found and "Circle.area" in found
        assert "no results" in mcp_search(app.server, {"query": "area of a circle", "repos": ["other"]})
    finally:
        app.roots.close()
