from __future__ import annotations

from codekin.index.lexical import code_tokens, fts_query, split_identifier
from codekin.index.search import rrf_scores


def test_split_identifier() -> None:
    assert split_identifier("parseHTTPConfig_file") == ["parse", "http", "config", "file"]
    assert split_identifier("XMLParser") == ["xml", "parser"]


def test_code_tokens_keep_whole_identifiers() -> None:
    toks = code_tokens("def load_json(path): return readFile(path)")
    assert "loadjson" in toks and "load" in toks and "json" in toks
    assert "readfile" in toks and "read" in toks and "file" in toks
    assert toks.count("path") == 2


def test_fts_query_is_an_or_of_unique_tokens() -> None:
    assert fts_query("parse parse_config!") == '"parse" OR "parseconfig" OR "config"'
    assert fts_query("?? !!") == ""


def test_rrf_prefers_items_ranked_well_by_both() -> None:
    dense = [1, 2, 3, 4]
    lexical = [3, 5, 1]
    fused = [cid for cid, _ in rrf_scores([dense, lexical])]
    assert fused[:2] == [1, 3]
    assert set(fused) == {1, 2, 3, 4, 5}
