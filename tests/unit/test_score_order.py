"""Hit.score is the value a result list is ordered by (never rising down the list) on every search
path; Hit.cosine is the query-chunk cosine beside it."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from codekin.embeddings.fake import FakeEncoder
from codekin.hit import FileHit, Hit, non_increasing
from codekin.index.ranking import DEFAULT_RANKING, FILE_RANKING, Candidate, rank
from codekin.index.search import Filters, Searcher, order_scores
from codekin.settings import Settings
from codekin.workspace import Workspace
from tests.conftest import write_tree

# Tests, prose and partial matches rank below what their cosine alone would give them.
FILES = {
    "app/config.py": "def parse_config(path):\n    return load(path)\n\n\n"
    "def save_config(cfg, path):\n    write(path, cfg)\n",
    "app/reader.py": "def read_file(path):\n    return open(path).read()\n\n\n"
    "def parse_lines(text):\n    return text.splitlines()\n",
    "app/merge.py": "def merge_config(a, b):\n    return {**a, **b}\n",
    "tests/test_config.py": "def test_parse_config_file():\n"
    "    assert parse_config('config file') == parse\n\n\n"
    "def test_parse_config_file_again():\n    assert parse_config('parse config file')\n",
    "docs/config.md": "# Parse a config file\n\nHow to parse the config file and read its values.\n",
    "web/config.ts": "export function parseConfigFile(text: string) {\n  return JSON.parse(text);\n}\n",
}
QUERIES = ("parse config file", "parse_config", "read the lines of a file", "merge two configs")


def _is_non_increasing(values: Sequence[float]) -> bool:
    return all(a >= b for a, b in zip(values, values[1:], strict=False))


@pytest.fixture
def ws(tmp_path: Path):  # type: ignore[no-untyped-def]
    root = write_tree(tmp_path / "repo", FILES)
    with Workspace(root, Settings(index_dir=str(tmp_path / "idx")), encoder=FakeEncoder()) as w:
        w.index()
        yield w


def _cosines(ws: Workspace, query: str, hits: Sequence[Hit]) -> list[float]:
    qvec = ws.encoder.embed_queries([query])[0]
    found, rows = ws.code_index.stored_vectors([h.chunk_id for h in hits])
    by_id = dict(zip(found, (rows @ qvec).tolist(), strict=True))
    return [round(by_id[h.chunk_id], 4) for h in hits]


def _searchers(ws: Workspace) -> dict[str, Searcher]:
    index, enc = ws.code_index, ws.encoder
    return {
        "ranked": Searcher(index, enc),
        "file ranking": Searcher(index, enc, ranking=FILE_RANKING),
        "plain fusion": Searcher(index, enc, ranking=None),
        "dense only": Searcher(index, enc, hybrid=False),
    }


@pytest.mark.parametrize("filters", [Filters(), Filters(languages=("python",)), Filters(paths=("app/**",))])
def test_search_scores_never_rise_and_cosine_is_the_cosine(ws: Workspace, filters: Filters) -> None:
    for name, searcher in _searchers(ws).items():
        for query in QUERIES:
            hits = searcher.search(query, k=20, filters=filters)
            assert hits, (name, query)
            assert _is_non_increasing([h.score for h in hits]), (name, query, [h.score for h in hits])
            assert [h.cosine for h in hits] == pytest.approx(_cosines(ws, query, hits), abs=2e-4)


def test_ranked_order_is_not_the_cosine_order(ws: Workspace) -> None:
    # the situation the score fixes: shown as cosines, the ranked list would read out of order
    for name in ("ranked", "plain fusion"):
        hits = _searchers(ws)[name].search("parse config file", k=20)
        assert not _is_non_increasing([h.cosine for h in hits]), name
        assert _is_non_increasing([h.score for h in hits]), name
        assert any(h.score != h.cosine for h in hits), name
    dense = _searchers(ws)["dense only"].search("parse config file", k=20)
    assert [h.score for h in dense] == pytest.approx([h.cosine for h in dense], abs=2e-3)  # f16 index


def test_plain_fusion_score_is_the_reciprocal_rank_score(ws: Workspace) -> None:
    hits = _searchers(ws)["plain fusion"].search("parse config file", k=5)
    # in both lists at best: 2 / 61; every score is a sum of 1 / (60 + rank)
    assert 0 < hits[-1].score <= hits[0].score <= round(2 / 61, 4)


def test_files_scores_never_rise(ws: Workspace) -> None:
    for name, searcher in _searchers(ws).items():
        for query in QUERIES:
            files: list[FileHit] = searcher.search_files(query, k=10)
            assert files, (name, query)
            assert _is_non_increasing([f.score for f in files]), (name, query)
            for f in files:
                assert f.score == f.hits[0].score and f.cosine == f.hits[0].cosine
                assert _is_non_increasing([h.score for h in f.hits]), (name, query, f.path)
            best = [h for f in files for h in f.hits]
            assert [h.cosine for h in best] == pytest.approx(_cosines(ws, query, best), abs=2e-4)


def test_similar_scores_never_rise(ws: Workspace) -> None:
    for hits in (
        ws.similar_to(ws.root / "app/config.py", 1, k=10),
        ws.similar("def parse_config(path):\n    return load(path)\n", "python", k=10),
        ws.similar("def parse_config(path):\n    return load(path)\n", k=10),
    ):
        assert hits
        assert _is_non_increasing([h.score for h in hits])
        assert all(-1.0 <= h.cosine <= 1.0001 for h in hits)


def test_context_pieces_carry_their_reason_and_cosine(ws: Workspace) -> None:
    # context is ordered by why a piece was chosen (enclosing, question, callees, similar), each
    # labelled; the cosine stays a detail beside it
    pieces = ws.context(query="parse config file", path=ws.root / "app/config.py", line=1).pieces
    assert pieces
    assert all(p.reason and -1.0 <= p.cosine <= 1.0 for p in pieces)
    assert any(p.cosine > 0 for p in pieces)


def test_json_carries_score_and_cosine(ws: Workspace) -> None:
    hit = ws.search("parse config file", k=1)[0].to_dict()
    assert isinstance(hit["score"], float) and isinstance(hit["cosine"], float)
    file = ws.files("parse config file", k=1)[0].to_dict()
    assert {"score", "cosine"} <= set(file) and {"score", "cosine"} <= set(file["hits"][0])


def _cand(cid: int, path: str, dense_score: float) -> Candidate:
    return Candidate(
        cid,
        path,
        symbol=f"f{cid}",
        start_line=cid * 10,
        end_line=cid * 10 + 5,
        language="python",
        dense_rank=cid,
        dense_score=dense_score,
    )


def test_order_scores_follow_the_diversity_decay() -> None:
    # three strong chunks of one file, then weaker ones of others: diversity moves the others up
    cands = [_cand(0, "a.py", 0.9), _cand(1, "a.py", 0.88), _cand(2, "a.py", 0.86)]
    cands += [_cand(3 + i, f"f{i}.py", 0.8 - 0.01 * i) for i in range(4)]
    config = DEFAULT_RANKING.but(use_file_diversity=True, use_name_match=False)
    ranked = rank("zzz", cands, config)
    scores = order_scores(ranked)
    assert not _is_non_increasing([c.score for c in ranked])  # raw scores read out of order
    assert _is_non_increasing(scores)
    # within the first 50 places the score is exactly the decayed one the order was decided by
    decay = config.diversity_decay
    seen: dict[str, int] = {}
    for c, s in zip(ranked, scores, strict=True):
        assert s == pytest.approx(c.score * decay ** seen.get(c.path, 0))
        seen[c.path] = seen.get(c.path, 0) + 1


def test_order_scores_cap_the_tail_beyond_the_diversified_places() -> None:
    # 60 chunks of one file and a few of others: after 50 places the rest keep their raw order
    cands = [_cand(i, "a.py", 1.0 - 0.001 * i) for i in range(60)]
    cands += [_cand(100 + i, f"f{i}.py", 0.3) for i in range(3)]
    config = DEFAULT_RANKING.but(use_file_diversity=True, use_name_match=False, use_dedup=False)
    ranked = rank("zzz", cands, config)
    raw = [c.score * c.notes.get("diversity", 1.0) for c in ranked]
    assert not _is_non_increasing(raw)  # the tail starts above the 50th place's decayed score
    assert order_scores(ranked) == non_increasing(raw) and _is_non_increasing(order_scores(ranked))


def test_non_increasing_caps_each_score_by_the_one_before() -> None:
    assert non_increasing([0.4, 0.37, 0.28, 0.22, 0.23, 0.1]) == [0.4, 0.37, 0.28, 0.22, 0.22, 0.1]
    assert non_increasing([]) == []
    assert non_increasing(np.array([1.0, 2.0]).tolist()) == [1.0, 1.0]
