"""Lexical query options travel with the search (``Searcher(query_options=...)``, a benchmark
variant's ``query``) instead of a module global that callers overwrite."""

from __future__ import annotations

import sys
from pathlib import Path

from codekin import Settings, Workspace
from codekin.embeddings.fake import FakeEncoder
from codekin.index import lexical
from codekin.index.lexical import QueryOptions
from codekin.index.search import Searcher

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from _variants import parse_variants  # noqa: E402

NO_STEMS = QueryOptions(stem_prefixes=False)


def test_stem_prefixes_reach_the_index_only_through_the_options(tmp_path: Path) -> None:
    (tmp_path / "web.py").write_text("def routing_table():\n    return {}\n")
    with Workspace(tmp_path, Settings(), encoder=FakeEncoder()) as ws:
        ws.index()
        index = ws.code_index
        assert index.lexical_search("routes", 10)  # "rout"* matches routing_table
        assert index.lexical_search("routes", 10, options=NO_STEMS) == []
        stemmed = Searcher(ws.code_index, None).search("routes", 5)
        plain = Searcher(ws.code_index, None, query_options=NO_STEMS).search("routes", 5)
        assert [h.path for h in stemmed] == ["web.py"] and list(plain) == []
        assert [h.path for h in ws.search("routes", 5, lexical=True)] == ["web.py"]  # the default


def test_a_variant_carries_its_query_options_and_leaves_the_defaults_alone() -> None:
    variant = parse_variants("v=stem_prefixes:0")["v"]
    assert variant.query == NO_STEMS
    assert not hasattr(lexical, "QUERY_OPTIONS")  # nothing module-wide to overwrite
