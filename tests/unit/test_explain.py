"""search(explain=True): every hit carries the signals that placed it, and they recompose into
its score the way the ranking defines it; the CLI, the MCP server and the language server pass
it through. Fake encoder throughout."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import numpy as np
import pytest
from mcp import Client

from codekin.agents.mcp_server import build_server
from codekin.embeddings.fake import FakeEncoder
from codekin.hit import Hit
from codekin.index.ranking import DEFAULT_RANKING, FILE_RANKING, RankConfig
from codekin.settings import Settings
from codekin.workspace import Workspace
from tests.conftest import write_tree
from tests.fake_cli import fake_cli

CONFIG = "\n\n".join(
    f"def {name}_config(path):\n    data = open(path).read()\n    return {name}(data)\n"
    for name in ("parse", "load", "save", "merge", "check")
)
FILES = {
    "app/config.py": "import os\nCONFIG_DIR = os.environ.get('CONFIG_DIR', '.')\n\n\n" + CONFIG,
    "app/render.py": "def render_page(tpl):\n    return tpl.format()\n\n\n"
    "def render_row(r):\n    return str(r)\n",
    "tests/test_config.py": "def test_parse_config():\n    assert parse_config('x')\n",
    "web/config.ts": "export function parseConfig(text: string) {\n  return JSON.parse(text);\n}\n",
    "docs/config.md": "# Config\n\nThe parse config step reads the config file and checks it.\n",
}


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[Workspace]:
    root = write_tree(tmp_path / "repo", FILES)
    with Workspace(root, Settings(index_dir=str(tmp_path / "idx")), encoder=FakeEncoder()) as w:
        w.index()
        yield w


def check_composition(hits: list[Hit], config: RankConfig, query: str) -> None:
    """Recompute every hit's score from its explanation's named parts."""
    assert hits
    encoder = FakeEncoder()
    qvec = encoder.embed_queries([query])[0]
    previous = math.inf
    for h in hits:
        e = h.explain
        assert e is not None
        dense, lexical = e["dense"], e["lexical"]
        # the dense part is the real cosine of the query and the chunk's encoder input
        # (the index holds vectors as float16: 1e-3)
        assert dense["cosine"] == pytest.approx(h.cosine, abs=2e-3)
        if dense["rank"] is not None:
            assert dense["normalised"] == pytest.approx(max(dense["cosine"], 0.0) / dense["best"])
        else:
            assert 0.0 <= dense["normalised"] <= 1.0
        if lexical["rank"] is not None:
            assert lexical["bm25"] > 0 and lexical["normalised"] == pytest.approx(
                lexical["bm25"] / lexical["best"]
            )
        else:
            assert lexical["normalised"] == 0.0
        share = e["fusion"]["dense_share"]
        assert share == config.dense_share
        fused = share * dense["normalised"] + (1 - share) * lexical["normalised"]
        assert e["fusion"]["fused"] == pytest.approx(fused)
        final = (fused * math.prod(e["factors"].values()) + sum(e["bonuses"].values())) * e["diversity"]
        assert e["final"] == pytest.approx(final)
        assert e["score"] == pytest.approx(min(final, previous))
        assert h.score == pytest.approx(e["score"], abs=1e-4)
        previous = e["score"]
        assert e["model"] == "fake" and e["weights_hash"] == "fake-v1" and e["index_generation"] >= 1
    # the cosine is what the encoder gives for this chunk's text
    top = hits[0]
    doc = encoder.embed_documents([f"{top.path}\n{top.kind} {top.symbol}\n{top.text}"])[0]
    assert top.explain is not None and top.explain["dense"]["cosine"] == pytest.approx(
        float(doc @ qvec), abs=2e-3
    )


def test_chunk_search_explanations_recompose_into_the_score(ws: Workspace) -> None:
    query = "parse_config"
    hits = ws.search(query, k=10, explain=True)
    check_composition(hits, DEFAULT_RANKING, query)
    by_place = {(h.path, h.symbol): h.explain for h in hits}
    # each enabled factor is named, with the value the ranking gives that kind of chunk
    named = by_place[("app/config.py", "parse_config")]
    assert named is not None and named["factors"]["name_match"] == 1.0 + DEFAULT_RANKING.name_exact_boost
    assert set(named["factors"]) == {"name_match", "module", "header", "non_code", "test", "auxiliary"}
    test = by_place.get(("tests/test_config.py", "test_parse_config"))
    assert test is not None and test["factors"]["test"] == DEFAULT_RANKING.test_factor
    assert hits[0].symbol == "parse_config" and hits[0].explain is not None
    assert hits[0].explain["lexical"]["rank"] is not None and hits[0].explain["dense"]["rank"] is not None


def test_sentence_query_shows_module_and_non_code_penalties(ws: Workspace) -> None:
    query = "where is the config directory read from the environment"
    hits = ws.search(query, k=20, explain=True)
    check_composition(hits, DEFAULT_RANKING, query)
    factors = {(h.path, h.kind): h.explain["factors"] for h in hits if h.explain}
    assert factors[("app/config.py", "module")]["module"] == DEFAULT_RANKING.module_factor
    md = [f for (path, _), f in factors.items() if path.endswith(".md")]
    assert md and md[0]["non_code"] == DEFAULT_RANKING.non_code_factor


def test_file_search_explanations_include_the_file_signals(ws: Workspace) -> None:
    query = "parse config"
    files = ws.files(query, k=10, explain=True)
    best = [f.hits[0] for f in files]
    check_composition(best, FILE_RANKING, query)
    for f in files:
        check_composition(list(f.hits[:1]), FILE_RANKING, query)
        e = f.hits[0].explain
        assert e is not None and set(e["bonuses"]) == {"coherence", "file_lexical"}
        assert "path" in e["factors"]
    assert any(f.hits[0].explain and f.hits[0].explain["bonuses"]["file_lexical"] > 0 for f in files)


def test_without_explain_hits_carry_none(ws: Workspace) -> None:
    hits = ws.search("parse config", k=3)
    assert hits and all(h.explain is None for h in hits)
    assert "explain" not in hits[0].to_dict()


def test_dense_only_search_explains_the_cosine(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "repo", FILES)
    settings = Settings(index_dir=str(tmp_path / "idx"), hybrid=False)
    with Workspace(root, settings, encoder=FakeEncoder()) as w:
        w.index()
        hits = w.search("parse config", k=5, explain=True)
    assert hits
    for n, h in enumerate(hits, 1):
        assert h.explain is not None and h.explain["fusion"]["method"] == "dense"
        assert h.explain["dense"]["rank"] == n and h.explain["lexical"] is None
        assert h.score == pytest.approx(h.explain["score"], abs=1e-4)


def cli(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return fake_cli(root, *args)


def test_cli_json_explain_names_the_dense_and_lexical_parts(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "repo", FILES)
    done = cli(root, "search", "--json", "--explain", "parse_config")
    assert done.returncode == 0, done.stderr
    hits = json.loads(done.stdout)["results"]
    assert hits and all("explain" in h for h in hits)
    e = hits[0]["explain"]
    assert {"cosine", "rank"} <= set(e["dense"]) and {"bm25", "rank"} <= set(e["lexical"])
    assert e["lexical"]["bm25"] > 0 and e["factors"]["name_match"] == 2.0
    assert e["final"] == pytest.approx(hits[0]["score"], abs=1e-4)
    human = cli(root, "search", "--explain", "--no-update", "-k", "2", "parse_config")
    assert human.returncode == 0, human.stderr
    assert "why: dense cos" in human.stdout and "bm25" in human.stdout and "name_match x2.00" in human.stdout
    assert "explained with model fake (weights fake-v1), index generation" in human.stdout
    files = cli(root, "search", "--json", "--explain", "--files", "--no-update", "parse config")
    assert files.returncode == 0, files.stderr
    assert all("explain" in h for f in json.loads(files.stdout)["results"] for h in f["hits"])
    plain = cli(root, "search", "--json", "--no-update", "parse_config")
    assert plain.returncode == 0 and all("explain" not in h for h in json.loads(plain.stdout)["results"])


def test_mcp_search_passes_explain_through(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "repo", FILES)
    app = build_server(encoder=FakeEncoder(), watch=False, cwd=root)

    async def run() -> tuple[str, str]:
        async with Client(app.server) as client:
            explained = await client.call_tool("search", {"query": "parse_config", "k": 2, "explain": True})
            plain = await client.call_tool("search", {"query": "parse_config", "k": 2})
            return explained.content[0].text, plain.content[0].text  # type: ignore[union-attr]

    try:
        explained, plain = anyio.run(run)
    finally:
        app.roots.close()
    assert explained.count("    why: dense cos") == 2 and "name_match x2.00" in explained
    assert "# explained with model fake (weights fake-v1), index generation" in explained
    assert "why:" not in plain


def test_lsp_search_passes_explain_through(tmp_path: Path) -> None:
    sys.path.insert(0, str(Path(__file__).parents[1] / "e2e"))
    from raw_lsp import RawClient

    root = write_tree(tmp_path / "repo", FILES).resolve()
    c = RawClient(tmp_path / "server.log")
    try:
        assert "result" in c.initialize(root)
        while c.request("codekin/indexStatus")["result"]["state"] != "ready":
            pass
        items: list[dict[str, Any]] = c.request(
            "codekin/search", {"query": "parse_config", "limit": 3, "explain": True}
        )["result"]["items"]
        plain = c.request("codekin/search", {"query": "parse_config", "limit": 3})["result"]["items"]
        files = c.request("codekin/search", {"query": "parse config", "files": True, "explain": True})
        assert "result" in c.request("shutdown")
        c.notify("exit")
        assert c.wait() == 0
    finally:
        c.kill()
    assert items and all("explain" in i for i in items)
    e = items[0]["explain"]
    assert e["dense"]["cosine"] == pytest.approx(items[0]["cosine"], abs=2e-3)
    assert e["lexical"]["bm25"] > 0 and e["score"] == pytest.approx(items[0]["score"], abs=1e-4)
    assert plain and all("explain" not in i for i in plain)
    assert all("bonuses" in i["explain"] for i in files["result"]["items"])
    assert np.isfinite(e["final"])


def test_plain_reciprocal_rank_fusion_explains_its_ranks(ws: Workspace) -> None:
    from codekin.index.search import RRF_K, Searcher

    hits = Searcher(ws.code_index, FakeEncoder(), ranking=None).search("parse config", k=5, explain=True)
    assert hits
    for h in hits:
        e = h.explain
        assert e is not None and e["fusion"]["method"] == "rrf"
        ranks = [r for r in (e["dense"]["rank"], e["lexical"]["rank"]) if r is not None]
        assert e["final"] == pytest.approx(sum(1 / (RRF_K + r) for r in ranks))
        assert h.score == pytest.approx(e["score"], abs=1e-4)
