from __future__ import annotations

from pathlib import Path

import pytest

from codekin import Workspace
from codekin.embeddings.fake import FakeEncoder
from codekin.index.lexical import QueryOptions, fts_query, stem
from codekin.index.ranking import (
    DEFAULT_RANKING,
    FILE_RANKING,
    PLAIN_RRF,
    Candidate,
    RankConfig,
    analyse_query,
    apply_file_coherence,
    diversify,
    drop_overlaps,
    file_key,
    fuse_ranks,
    fuse_scores,
    is_auxiliary_path,
    is_generated_path,
    is_test_path,
    looks_like_symbol,
    path_match,
    rank,
)
from codekin.index.search import Searcher
from codekin.settings import Settings


def cand(
    cid: int, path: str, dense: int | None = None, lexical: int | None = None, **kw: object
) -> Candidate:
    return Candidate(cid, path, dense_rank=dense, lexical_rank=lexical, **kw)  # type: ignore[arg-type]


def ids(ranked: list[Candidate]) -> list[int]:
    return [c.chunk_id for c in ranked]


# --- query analysis ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "query",
    ["JsonParser", "json_pointer", "Rails::Paths", "mergeConfig", "mergeConfig()", "HTTPStatusError", "Args"],
)
def test_identifier_queries_are_symbols(query: str) -> None:
    assert looks_like_symbol(query)


@pytest.mark.parametrize("query", ["session", "how are routes registered", "JSON response helpers", ""])
def test_sentences_and_plain_words_are_not_symbols(query: str) -> None:
    assert not looks_like_symbol(query)


def test_analyse_query_collects_identifiers_stems_and_intent() -> None:
    info = analyse_query("how does parseConfig handle test fixtures")
    assert not info.is_symbol
    assert info.identifiers == ("parseconfig",)
    assert {"pars", "config", "fixtur"} <= info.stems
    assert not {"how", "does", "handl"} & info.stems  # function words and generic verbs
    assert info.wants_tests and not info.wants_non_code
    assert analyse_query("README and docs").wants_non_code


def test_stem_conflates_inflections() -> None:
    assert stem("handler") == stem("handles") == stem("handling") == stem("handle") == "handl"
    assert stem("routes") == stem("routing") == "rout"
    assert stem("status") == "status" and stem("class") == "class"


# --- lexical query --------------------------------------------------------------------------
def test_fts_query_options() -> None:
    plain = QueryOptions(drop_stopwords=False, stem_prefixes=False)
    assert fts_query("how are routes registered", plain) == '"how" OR "are" OR "routes" OR "registered"'
    both = QueryOptions(drop_stopwords=True, stem_prefixes=True)
    assert fts_query("how are routes registered", both) == '"routes" OR "registered" OR "rout"* OR "regist"*'
    # an uninflected word gets no prefix term; a one-word query keeps even a stopword
    assert fts_query("parse config", both) == '"parse" OR "config"'
    assert fts_query("where", both) == '"where"'


# --- path classes ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "path",
    [
        "tests/test_app.py",
        "src/foo_test.go",
        "src/a/b.test.ts",
        "lib/__tests__/x.js",
        "FooTests.cs",
        "spec/models/user_spec.rb",
        "src/test/java/FooTest.java",
        "src/__mocks__/fs.js",
    ],
)
def test_test_paths(path: str) -> None:
    assert is_test_path(path) and not is_auxiliary_path(path)


@pytest.mark.parametrize(
    "path", ["examples/basic.rs", "lib/mock/mock-agent.js", "internal/mocks/store.go", "benches/sort.rs"]
)
def test_auxiliary_paths_are_not_tests(path: str) -> None:
    assert is_auxiliary_path(path) and not is_test_path(path)


@pytest.mark.parametrize(
    "path", ["src/testing_utils_not.py", "src/latest.py", "lib/contest.js", "src/attest/core.go"]
)
def test_not_test_paths(path: str) -> None:
    assert not is_test_path(path)


def test_generated_paths() -> None:
    assert is_generated_path("api/service.pb.go") and is_generated_path("dist/app.min.js")
    assert not is_generated_path("src/generator.py")


def test_path_match_reads_file_names() -> None:
    assert path_match(analyse_query("session management"), "src/flask/sessions.py") == 1.0
    assert path_match(analyse_query("template rendering"), "src/flask/templating.py") == 1.0
    assert path_match(analyse_query("JsonParser"), "gson/JsonParser.java") == 1.0
    assert path_match(analyse_query("session management"), "src/flask/app.py") == 0.0


# --- signals --------------------------------------------------------------------------------
def test_plain_rrf_prefers_items_ranked_well_by_both() -> None:
    cs = [
        cand(1, "a", dense=0, lexical=2),
        cand(2, "b", dense=1),
        cand(3, "c", dense=2, lexical=0),
        cand(5, "e", lexical=1),
    ]
    assert ids(rank("x", cs, PLAIN_RRF))[:2] == [1, 3]


def test_symbol_query_leans_on_lexical_list() -> None:
    def make() -> list[Candidate]:
        return [cand(1, "a.py", dense=0), cand(2, "b.py", lexical=1)]

    assert ids(rank("fooBar", make(), PLAIN_RRF))[0] == 1
    assert ids(rank("fooBar", make(), PLAIN_RRF.but(use_query_type=True)))[0] == 2


def test_definition_named_by_query_rises() -> None:
    def make() -> list[Candidate]:
        return [cand(1, "x.py", dense=0, symbol="helper"), cand(2, "y.py", dense=1, symbol="JsonParser")]

    assert ids(rank("JsonParser", make(), PLAIN_RRF))[0] == 1
    assert ids(rank("JsonParser", make(), PLAIN_RRF.but(use_name_match=True)))[0] == 2


def test_tests_and_non_code_sink_unless_asked_for() -> None:
    def make() -> list[Candidate]:
        return [
            cand(1, "tests/test_router.py", dense=0, language="python"),
            cand(2, "README.md", dense=1, language="markdown"),
            cand(3, "src/router.py", dense=2, language="python"),
        ]

    cfg = PLAIN_RRF.but(use_test_penalty=True, use_non_code_penalty=True)
    assert ids(rank("route matching", make(), cfg))[0] == 3
    assert ids(rank("route matching tests", make(), cfg))[0] == 1
    assert ids(rank("route matching docs", make(), cfg)) == [2, 3, 1]


def test_function_search_demotes_mocks_and_examples_less_than_tests() -> None:
    """Function search: tests x0.5, auxiliary code (mocks, examples) x0.8; file search: both x0.5."""
    paths = ["src/agent.js", "lib/mock/mock-agent.js", "test/agent.test.js"]
    for config, factors in ((DEFAULT_RANKING, [1.0, 0.8, 0.5]), (FILE_RANKING, [1.0, 0.5, 0.5])):
        ranked = rank("release every connection", [cand(i, p, dense=0) for i, p in enumerate(paths)], config)
        got = {c.path: c.notes["factor"] for c in ranked}
        assert [got[p] for p in paths] == pytest.approx(factors)


def test_file_coherence_adds_the_files_other_chunks() -> None:
    cs = [cand(1, "a", score=1.0), cand(2, "b", score=0.9), cand(3, "b", score=0.5), cand(4, "b", score=0.2)]
    apply_file_coherence(cs, weight=0.5, top=3)
    assert cs[0].score == 1.0
    assert cs[1].score == pytest.approx(0.9 + 0.5 * (0.5 + 0.2))
    assert cs[2].score == pytest.approx(0.5 + 0.5 * (0.9 + 0.2))


def test_diversify_lets_other_files_in() -> None:
    cs = [cand(1, "a", score=1.0), cand(2, "a", score=0.9), cand(3, "a", score=0.8), cand(4, "b", score=0.6)]
    assert ids(diversify(cs, [(file_key, 0.5)])) == [1, 4, 2, 3]
    assert ids(diversify(cs, [(file_key, 1.0)])) == [1, 2, 3, 4]


def test_drop_overlaps_keeps_the_better_chunk() -> None:
    cs = [
        cand(1, "a", start_line=10, end_line=30),
        cand(2, "a", start_line=25, end_line=40),
        cand(3, "b", start_line=25, end_line=40),
        cand(4, "a", start_line=31, end_line=35),
    ]
    assert ids(drop_overlaps(cs)) == [1, 3, 4]


def test_chunk_and_file_rankings_keep_the_signals_that_helped_each() -> None:
    def on(config: RankConfig) -> set[str]:
        return {f for f in vars(config) if f.startswith("use_") and getattr(config, f)}

    # chunk search answers with definitions: no file-level signals
    assert on(DEFAULT_RANKING) == {
        "use_score_fusion",
        "use_name_match",
        "use_non_code_penalty",
        "use_test_penalty",
        "use_module_penalty",
        "use_header_penalty",
        "use_dedup",
    }
    assert DEFAULT_RANKING.sentence_name_share == 0.0 and DEFAULT_RANKING.member_name_boost > 0
    # "which files": file names, coherence and whole-file lexical evidence, no per-file diversity
    assert on(FILE_RANKING) == {
        "use_score_fusion",
        "use_name_match",
        "use_path_match",
        "use_non_code_penalty",
        "use_test_penalty",
        "use_file_coherence",
        "use_file_lexical",
        "use_dedup",
    }
    assert not any(getattr(PLAIN_RRF, f) for f in vars(PLAIN_RRF) if f.startswith("use_"))


# --- end to end on a small workspace ------------------------------------------------------
def _workspace(tmp_path: Path) -> Workspace:
    (tmp_path / "src").mkdir()
    (tmp_path / "tests").mkdir()
    (tmp_path / "src" / "sessions.py").write_text(
        "class SessionStore:\n    def open_session(self, request):\n        return request.cookies\n\n"
        "    def save_session(self, session, response):\n        response.set_cookie(session)\n"
    )
    (tmp_path / "src" / "routing.py").write_text(
        "def add_url_rule(rule, endpoint):\n"
        "    '''Register a route for the endpoint.'''\n"
        "    RULES[rule] = endpoint\n"
    )
    (tmp_path / "tests" / "test_sessions.py").write_text(
        "def test_session_cookie():\n    session = open_session(request)\n    assert session cookie session\n"
    )
    (tmp_path / "NOTES.md").write_text("# session cookie notes\nsession session cookie session\n")
    ws = Workspace(tmp_path, Settings(index_dir=str(tmp_path / ".idx")), encoder=FakeEncoder())
    ws.index()
    return ws


def test_workspace_search_ranks_code_above_tests_and_notes(tmp_path: Path) -> None:
    with _workspace(tmp_path) as ws:
        hits = ws.search("session cookie", k=4)
        assert hits[0].path == "src/sessions.py"
        plain = Searcher(ws.code_index, ws.encoder, hybrid=True, ranking=None).search("session cookie", 4)
        assert {h.path for h in plain} >= {"tests/test_sessions.py"}
        assert len({(h.path, h.start_line) for h in hits}) == len(hits)


def test_symbol_search_finds_the_definition_first(tmp_path: Path) -> None:
    with _workspace(tmp_path) as ws:
        assert ws.search("add_url_rule", k=3)[0].symbol == "add_url_rule"
        assert ws.search("SessionStore", k=3)[0].path == "src/sessions.py"


def test_path_match_joins_adjacent_words() -> None:
    assert path_match(analyse_query("URL-encoded form body parser"), "lib/plug/parsers/urlencoded.ex") == 1.0
    assert path_match(analyse_query("type adapter factory"), "gson/TypeAdapterFactory.java") == 1.0


def test_weighted_rrf_leans_on_the_dense_list() -> None:
    # equal ranks in opposite lists: plain RRF ties (lower id first), dense weight 2 prefers dense
    def make() -> list[Candidate]:
        return [cand(1, "a.py", lexical=0), cand(2, "b.py", dense=0)]

    rrf = DEFAULT_RANKING.but(use_score_fusion=False)
    assert ids(rank("sum the prices", make(), PLAIN_RRF)) == [1, 2]
    assert ids(rank("sum the prices", make(), rrf))[0] == 2
    cs = make()
    fuse_ranks(cs, k=60, dense_weight=2.0, lexical_weight=1.0)
    assert [c.score for c in cs] == [pytest.approx(1 / 61), pytest.approx(2 / 61)]


def test_fuse_scores_divides_by_each_lists_best() -> None:
    cs = [
        cand(1, "a", dense=0, lexical=1, dense_score=0.8, lexical_score=5.0),
        cand(2, "b", dense=1, dense_score=0.4),  # not in the lexical list: 0 there
        cand(3, "c", lexical=0, lexical_score=10.0),  # not in the dense list: its lowest cosine
    ]
    fuse_scores(cs, dense_share=0.75)
    assert cs[0].score == pytest.approx(0.75 * 1.0 + 0.25 * 0.5)
    assert cs[1].score == pytest.approx(0.75 * 0.5)
    assert cs[2].score == pytest.approx(0.75 * 0.5 + 0.25 * 1.0)
    only_lexical = [cand(1, "a", lexical=0, lexical_score=3.0), cand(2, "b", lexical=1, lexical_score=1.5)]
    fuse_scores(only_lexical, dense_share=0.75)  # no dense list at all (and no division by zero)
    assert [c.score for c in only_lexical] == [pytest.approx(0.25), pytest.approx(0.125)]


def test_score_fusion_keeps_how_far_ahead_the_best_is() -> None:
    # "a" is far the best by cosine and close second by BM25; "b" leads BM25 barely and is a
    # weak dense match. Rank fusion sees only the positions and picks "b"; score fusion sees
    # the margins and picks "a".
    def make() -> list[Candidate]:
        return [
            cand(1, "a.py", dense=0, lexical=2, dense_score=0.9, lexical_score=9.0),
            cand(2, "b.py", dense=1, lexical=0, dense_score=0.35, lexical_score=10.0),
            cand(3, "c.py", dense=2, lexical=1, dense_score=0.3, lexical_score=9.5),
        ]

    assert ids(rank("sum the prices", make(), PLAIN_RRF))[0] == 2
    assert ids(rank("sum the prices", make(), PLAIN_RRF.but(use_score_fusion=True)))[0] == 1


# --- function-level signals -------------------------------------------------------------------
def _scored(cid: int, score: float, **kw: object) -> Candidate:
    c = cand(cid, kw.pop("path", "a.rs"), dense=cid, **kw)  # type: ignore[arg-type]
    c.dense_score = score
    return c


def test_header_sinks_below_its_members_unless_named() -> None:
    config = PLAIN_RRF.but(use_score_fusion=True, dense_share=1.0, use_header_penalty=True)
    header = _scored(0, 0.80, symbol="JoinSet", kind="impl", is_header=True)
    member = _scored(1, 0.70, symbol="new", kind="method", container="JoinSet")
    assert ids(rank("create a task set", [header, member], config)) == [1, 0]
    assert ids(rank("JoinSet", [header, member], config)) == [0, 1]  # the type itself asked for
    whole = _scored(0, 0.80, symbol="Plain", kind="struct")  # no member chunks: not a header
    assert ids(rank("create a task set", [whole, member], config)) == [0, 1]


def test_the_shipped_chunk_ranking_puts_a_close_member_above_its_header() -> None:
    lines = {"start_line": 1, "end_line": 4}
    header = _scored(0, 0.80, symbol="RelationQueryBuilder", kind="class", is_header=True, **lines)
    at = {"kind": "method", "container": "RelationQueryBuilder", "start_line": 10, "end_line": 20}
    member = _scored(1, 0.75, symbol="set", **at)
    query = "Sets entity relation's value"
    assert ids(rank(query, [header, member], DEFAULT_RANKING.but(dense_share=1.0))) == [1, 0]
    far = _scored(1, 0.60, symbol="set", **at)
    assert ids(rank(query, [header, far], DEFAULT_RANKING.but(dense_share=1.0))) == [0, 1]  # mild
    assert ids(rank(query, [header, member], FILE_RANKING.but(dense_share=1.0))) == [0, 1]


def test_naming_a_type_lifts_its_members() -> None:
    config = PLAIN_RRF.but(use_score_fusion=True, dense_share=1.0, use_name_match=True, member_name_boost=1.0)
    member = _scored(0, 0.60, symbol="new", kind="method", container="JoinSet")
    other = _scored(1, 0.70, symbol="spawn", kind="method", container="Runtime")
    assert ids(rank("Create a new `JoinSet`", [member, other], config)) == [0, 1]
    assert ids(rank("Create a new `JoinSet`", [member, other], config.but(member_name_boost=0.0))) == [1, 0]


def test_sentence_name_share_scales_only_sentences() -> None:
    config = PLAIN_RRF.but(
        use_score_fusion=True, dense_share=1.0, use_name_match=True, sentence_name_share=0.1
    )
    named = _scored(0, 0.50, symbol="StreamParser", kind="class")
    answer = _scored(1, 0.60, symbol="parseBody", kind="method", container="Response")
    assert ids(rank("Returns a StreamParser for the response", [named, answer], config))[0] == 1
    assert ids(rank("StreamParser", [named, answer], config))[0] == 0


def test_module_code_sinks() -> None:
    config = PLAIN_RRF.but(use_score_fusion=True, dense_share=1.0, use_module_penalty=True)
    module = _scored(0, 0.80, kind="module")
    function = _scored(1, 0.70, symbol="load", kind="function")
    assert ids(rank("load the settings", [module, function], config)) == [1, 0]


def test_name_diversity_spreads_one_name_over_many_types() -> None:
    config = PLAIN_RRF.but(
        use_score_fusion=True, dense_share=1.0, use_name_diversity=True, name_diversity_decay=0.5
    )
    fmts = [_scored(i, 0.9 - i * 0.01, symbol="fmt", kind="method", path=f"f{i}.rs") for i in range(3)]
    other = _scored(3, 0.80, symbol="display_width", kind="function", path="w.rs")
    assert ids(rank("format for display", [*fmts, other], config)) == [0, 3, 1, 2]


def test_the_index_names_the_chunks_that_head_a_container_of_chunks(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text(
        "class A:\n    def m(self):\n        return 1\n\ndef free():\n    return 2\n"
    )
    with Workspace(tmp_path, Settings(), encoder=FakeEncoder()) as ws:
        ws.index()
        chunks = dict(ws.code_index.chunks_of_file("a.py"))
        heads = ws.code_index.container_heads(chunks)
        assert [chunks[cid].symbol for cid in heads] == ["A"]  # not m (a member), not free
        hits = Searcher(ws.code_index, ws.encoder).search("class A", k=5)
        assert hits
