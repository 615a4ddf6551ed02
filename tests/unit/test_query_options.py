"""Lexical query options travel with the search (``Searcher(query_options=...)``, a benchmark
variant's ``query``) instead of a module global that callers overwrite."""

from __future__ import annotations

import sys
from pathlib import Path

from codekin import Settings, Workspace
from codekin.embeddings.fake import FakeEncoder
from codekin.index import lexical
from codekin.index.lexical import DEFAULT_QUERY, QueryOptions
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


def test_function_words_leave_sentence_queries_only_in_a_large_index() -> None:
    small, large = DEFAULT_QUERY.for_index(49_999), DEFAULT_QUERY.for_index(50_000)
    assert small == DEFAULT_QUERY and large.drop_stopwords
    assert '"the"' in lexical.fts_query("parse the config file", small)
    assert '"the"' not in lexical.fts_query("parse the config file", large)
    assert QueryOptions(stopwords_from=None).for_index(10**7) == QueryOptions(stopwords_from=None)


def test_a_search_over_a_large_index_asks_bm25_without_function_words(tmp_path: Path) -> None:
    # 12 chunks count as "large" here: every chunk that only has "the" in common with the query
    # stops matching, and the one that names what the query asks for stays first
    for i in range(11):
        (tmp_path / f"m{i}.py").write_text(f"def helper_{i}():\n    # the value of it\n    return {i}\n")
    (tmp_path / "cfg.py").write_text("def parse_config(path):\n    return open(path).read()\n")
    with Workspace(tmp_path, Settings(), encoder=FakeEncoder()) as ws:
        ws.index()
        query = "parse the config"
        everything = Searcher(ws.code_index, None, query_options=QueryOptions(stopwords_from=None))
        large = Searcher(ws.code_index, None, query_options=QueryOptions(stopwords_from=12))
        assert len(everything.search(query, 20)) == 12
        found = large.search(query, 20)
        assert [h.path for h in found] == ["cfg.py"]
