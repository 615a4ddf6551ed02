from __future__ import annotations

from codekin.org.sparse import document_vector, query_vector, token_index
from codekin.parsers.model import Chunk, content_hash


def _chunk(path: str, symbol: str, text: str) -> Chunk:
    return Chunk(path, "python", "function", symbol, "", 0, len(text), 0, 1, 0, 0, text, content_hash(text))


def _score(query: str, chunk: Chunk) -> float:
    qi, _ = query_vector(query)
    di, dv = document_vector(chunk)
    weights = dict(zip(di, dv, strict=True))
    return sum(weights.get(i, 0.0) for i in qi)


def test_identifier_parts_and_whole_names_match() -> None:
    chunk = _chunk("src/http.py", "parseHttpConfig", "def parseHttpConfig(raw): return raw")
    assert _score("parse http config", chunk) > 0
    assert _score("parseHttpConfig", chunk) > _score("parse", chunk)
    assert _score("unrelated words", chunk) == 0


def test_the_symbol_weighs_more_than_the_body() -> None:
    named = _chunk("a.py", "retry", "def retry(): pass")
    mentions = _chunk("b.py", "run", "def run(): retry()")
    assert _score("retry", named) > _score("retry", mentions)


def test_inflected_words_match_by_stem() -> None:
    chunk = _chunk("r.py", "router", "class router: pass")
    assert _score("routes", chunk) > 0  # the stem of "routes" is indexed for "router"


def test_query_vectors_are_stable_and_distinct() -> None:
    assert query_vector("load settings") == query_vector("load settings")
    assert token_index("load") != token_index("settings")
    assert query_vector("a ?") == ([], [])
