"""The ``org_store`` setting: the local workspace index and a shared org index searched together
(one ranking, hits labelled by repository, the workspace's own repository from the local index),
read-only, in the language server and the MCP server. qdrant-client's local mode, no Ray."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("qdrant_client")

from codekin.embeddings.fake import FakeEncoder  # noqa: E402
from codekin.index.search import Filters  # noqa: E402
from codekin.org.merge import OrgSearches  # noqa: E402
from codekin.org.qdrant_store import QdrantStore  # noqa: E402
from codekin.settings import Settings  # noqa: E402
from codekin.workspace import Workspace  # noqa: E402
from tests.org.org_support import FAKE_DIM, mcp_search, write_repo  # noqa: E402
from tests.org.store_support import build_store  # noqa: E402

FRESH = {
    "src/pricing.py": 'def fresh_discount_rule(price):\n    """Apply the seasonal discount."""\n'
    "    return price * 0.9\n",
    "src/cart.py": "def cart_weight(items):\n    return sum(i.weight for i in items)\n",
}
STALE = {
    "src/pricing.py": 'def stale_discount_rule(price):\n    """Apply the seasonal discount."""\n'
    "    return price * 0.8\n",
    "src/cart.py": "def cart_weight(items):\n    return sum(i.weight for i in items)\n",
}
BILLING = {
    "src/invoice.py": "def invoice_total_with_tax(lines, tax_rate):\n"
    '    """The invoice total, tax included."""\n'
    "    return sum(l.amount for l in lines) * (1 + tax_rate)\n",
    "src/discount.py": "def loyalty_discount_rule(price, years):\n    return price * (1 - 0.01 * years)\n",
}


@pytest.fixture
def org(tmp_path: Path) -> tuple[Path, str]:
    """A local workspace ``sample`` and a store holding a stale ``sample``, ``sample@v1`` and ``billing``."""
    local = write_repo(tmp_path / "work" / "sample", FRESH)
    stale = write_repo(tmp_path / "stale" / "sample", STALE)
    billing = write_repo(tmp_path / "billing", BILLING)
    store = build_store(
        tmp_path / "shared",
        {"sample": (stale, "a" * 40), "sample@v1": (stale, "b" * 40), "billing": (billing, "c" * 40)},
    )
    return local, store


@pytest.fixture
def ws(org: tuple[Path, str]) -> Iterator[Workspace]:
    local, store = org
    with Workspace(local, Settings(org_store=store), encoder=FakeEncoder(FAKE_DIM)) as w:
        w.index()
        yield w


def _search(searches: OrgSearches, ws: Workspace, query: str, k: int = 10, repos: tuple[str, ...] = ()):  # type: ignore[no-untyped-def]
    return searches.search([ws], query, k, Filters(), repos)


def test_one_ranking_over_the_local_index_and_the_shared_store(ws: Workspace) -> None:
    searches = OrgSearches()
    try:
        found = _search(searches, ws, "discount rule for a price")
        repos = [h.repo for _, h in found]
        assert {"sample", "billing"} <= set(repos)
        scores = [h.score for _, h in found]
        assert scores == sorted(scores, reverse=True)  # one order, not two lists one after the other
        for owner, hit in found:  # local hits come with their workspace, shared ones without
            assert (owner is ws) == (hit.repo == "sample")
        top = _search(searches, ws, "invoice_total_with_tax")[0][1]
        assert (top.repo, top.revision, top.symbol) == ("billing", "c" * 40, "invoice_total_with_tax")
        assert _search(searches, ws, "fresh_discount_rule")[0][1].symbol == "fresh_discount_rule"
        assert not searches.problems()
    finally:
        searches.close()


def test_the_workspace_repository_is_answered_from_the_local_index_only(ws: Workspace) -> None:
    searches = OrgSearches()
    try:
        found = _search(searches, ws, "stale_discount_rule cart_weight", k=20)
        assert all(h.symbol != "stale_discount_rule" for _, h in found)  # the store's copies are not asked
        assert not [h for _, h in found if h.repo.startswith("sample@")]
        weights = [(owner, h) for owner, h in found if h.symbol == "cart_weight"]
        assert len(weights) == 1 and weights[0][0] is ws  # once, from the local index
        assert weights[0][1].chunk_id in {cid for cid, _ in ws.code_index.chunks_of_file("src/cart.py")}
    finally:
        searches.close()


def test_repos_narrow_the_merged_search(ws: Workspace) -> None:
    searches = OrgSearches()
    try:
        assert {h.repo for _, h in _search(searches, ws, "discount rule", repos=("billing",))} == {"billing"}
        assert {h.repo for _, h in _search(searches, ws, "discount rule", repos=("sample",))} == {"sample"}
    finally:
        searches.close()


def test_readers_never_write_to_the_shared_store(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a reader wrote to the shared store")

    for method in ("ensure", "upsert", "delete", "put_markers", "drop_markers", "put_repo", "remove_repo"):
        monkeypatch.setattr(QdrantStore, method, refuse)
    for name in ("upsert", "delete", "create_collection", "delete_collection", "set_payload"):
        monkeypatch.setattr(f"qdrant_client.QdrantClient.{name}", refuse)
    searches = OrgSearches()
    try:
        assert {h.repo for _, h in _search(searches, ws, "discount rule")} >= {"sample", "billing"}
    finally:
        searches.close()


def test_an_unusable_shared_store_leaves_the_local_answers(tmp_path: Path) -> None:
    local = write_repo(tmp_path / "sample", FRESH)
    settings = Settings(org_store=f"qdrant-local:{tmp_path / 'missing'}")
    searches = OrgSearches()
    with Workspace(local, settings, encoder=FakeEncoder(FAKE_DIM)) as w:
        w.index()
        try:
            found = _search(searches, w, "fresh_discount_rule")
            assert found[0][1].symbol == "fresh_discount_rule" and found[0][0] is w
            (problem,) = searches.problems()
            assert problem.startswith(f"org_store {settings.org_store}: ") and "no such directory" in problem
            assert not (tmp_path / "missing").exists()
        finally:
            searches.close()


def test_language_server_search_merges_the_shared_store(org: tuple[Path, str]) -> None:
    from codekin.server import create_server
    from codekin.server.features.search import search_folders, to_items
    from codekin.server.wire import SearchParams

    local, store = org
    server = create_server()
    settings = Settings(org_store=store)
    folder = server.state.add_folder(local, settings)
    folder.workspace = Workspace(local, settings, encoder=FakeEncoder(FAKE_DIM))
    folder.workspace.index()
    folder.state, folder.complete = "ready", True
    try:
        found, coverage = search_folders(server, SearchParams("discount rule for a price", 10))
        items = to_items(server, found)
        assert coverage.total == folder.workspace.coverage().total > 0
        assert [i.score for i in items] == sorted((i.score for i in items), reverse=True)
        mine = [i for i in items if i.repo == "sample"]
        theirs = [i for i in items if i.repo == "billing"]
        assert mine and theirs and len(mine) + len(theirs) == len(items)
        assert all(i.uri.startswith("file://") and i.revision == "" for i in mine)
        assert {i.uri for i in theirs} >= {f"codekin-org:/billing/src/discount.py?rev={'c' * 40}"}
        assert "fresh_discount_rule" in {i.symbol for i in mine}
        assert "stale_discount_rule" not in {i.symbol for i in items}
    finally:
        server.state.close()


def test_mcp_search_merges_the_shared_store(org: tuple[Path, str]) -> None:
    from codekin.agents.mcp_server import build_server

    local, store = org
    app = build_server([local], {"org_store": store}, encoder=FakeEncoder(FAKE_DIM), watch=False)

    try:
        found = mcp_search(app.server, {"query": "discount rule for a price", "k": 10, "snippet": "path"})
        assert "sample:src/pricing.py:" in found and "billing:src/discount.py:" in found
        assert "stale_discount_rule" not in found
        only = mcp_search(app.server, {"query": "discount rule", "repos": ["billing"], "snippet": "path"})
        assert "billing:" in only and "sample:" not in only
    finally:
        app.roots.close()


def test_workspace_search_and_the_cli_merge_with_org_store(
    org: tuple[Path, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from codekin.cli import main

    local, store = org
    with Workspace(local, Settings(org_store=store), encoder=FakeEncoder(FAKE_DIM)) as w:
        w.index()
        hits = w.search("discount rule for a price", 10)
        assert {h.repo for h in hits} == {"sample", "billing"}  # type: ignore[attr-defined]
        assert hits.coverage == w.coverage()
        assert {h.repo for h in w.search("discount rule", 10, repos=["billing"])} == {"billing"}  # type: ignore[attr-defined]
        assert not hasattr(w.search("discount rule", 10, lexical=True)[0], "repo")  # --fast: local only
    monkeypatch.setattr("codekin.workspace.build_encoder", lambda *a, **k: FakeEncoder(FAKE_DIM))
    argv = ["search", "--root", str(local), "--org-store", store, "--json", "-k", "5"]
    assert main([*argv, "invoice_total_with_tax"]) == 0
    top = json.loads(capsys.readouterr().out)["results"][0]
    assert (top["repo"], top["path"], top["symbol"]) == (
        "billing",
        "src/invoice.py",
        "invoice_total_with_tax",
    )
    assert main(["search", "--root", str(local), "--org-store", store, "-k", "3", "fresh_discount_rule"]) == 0
    assert capsys.readouterr().out.startswith("sample:src/pricing.py:1-3  fresh_discount_rule")
