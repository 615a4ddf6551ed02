"""Search over a :class:`~codekin.org.seam.SearchStore`: the same candidates, the same
``rank()`` and the same scores as :class:`codekin.index.search.Searcher`, with hits that name
their repository."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from codekin.embeddings.base import Encoder, Vectors
from codekin.hit import Hit, non_increasing
from codekin.index.ranking import DEFAULT_RANKING, Candidate, RankConfig, rank, set_ranks
from codekin.index.search import CANDIDATES, Filters, order_scores, rrf_scores, to_hit
from codekin.org.seam import Scope, SearchStore, StoredChunk

PATH_SLACK = 4  # path globs filter after retrieval: fetch this many times deeper


@dataclass(frozen=True)
class OrgHit(Hit):
    """A hit from a shared index: a :class:`Hit` plus where it lives."""

    repo: str = ""
    revision: str = ""


class StoreSearcher:
    def __init__(
        self,
        store: SearchStore,
        encoder: Encoder,
        hybrid: bool = True,
        ranking: RankConfig | None = DEFAULT_RANKING,
    ) -> None:
        self.store = store
        self.encoder = encoder
        self.hybrid = hybrid
        self.ranking = ranking

    def search(
        self, query: str, k: int = 10, filters: Filters | None = None, repos: Sequence[str] = ()
    ) -> list[OrgHit]:
        filters = filters or Filters()
        qvec = self.encoder.embed_queries([query])[0]
        scope = Scope(filters.languages, filters.exclude_languages, tuple(repos))
        depth = max(CANDIDATES, k) * (PATH_SLACK if filters.paths else 1)
        spec = filters.path_spec()
        dense = self.store.dense(qvec, depth, scope)
        lexical = self.store.lexical(query, depth * 2, scope) if self.hybrid else []
        chunks = self.store.chunks(list(dict.fromkeys([c for c, _ in dense] + [c for c, _ in lexical])))
        if spec is not None:
            chunks = {cid: sc for cid, sc in chunks.items() if spec.match_file(sc.chunk.path)}
        dense = [(c, s) for c, s in dense if c in chunks][: max(CANDIDATES, k)]
        lexical = [(c, s) for c, s in lexical if c in chunks][: max(CANDIDATES, k) * 2]
        ranked = self._ranked(query, dense, lexical, chunks)[:k]
        return self._hits(ranked, chunks, qvec)

    def _ranked(
        self,
        query: str,
        dense: list[tuple[int, float]],
        lexical: list[tuple[int, float]],
        chunks: dict[int, StoredChunk],
    ) -> list[tuple[int, float]]:
        """As ``Searcher._ranked``: dense alone, plain fusion, or the code-aware ranking."""
        if not self.hybrid:
            return list(zip([c for c, _ in dense], non_increasing(s for _, s in dense), strict=True))
        if self.ranking is None:
            return rrf_scores([[c for c, _ in dense], [c for c, _ in lexical]])
        out: dict[int, Candidate] = {}
        for cid in dict.fromkeys([c for c, _ in dense] + [c for c, _ in lexical]):
            ch = chunks[cid].chunk
            out[cid] = Candidate(
                cid,
                _label(chunks[cid]),
                ch.symbol,
                ch.kind,
                ch.start_line,
                ch.end_line,
                ch.language,
                ch.container,
                is_header=chunks[cid].is_header,
            )
        set_ranks(out, dense, lexical)
        ranked = rank(query, list(out.values()), self.ranking)
        return list(zip([c.chunk_id for c in ranked], order_scores(ranked), strict=True))

    def _hits(
        self, ranked: list[tuple[int, float]], chunks: dict[int, StoredChunk], qvec: Vectors
    ) -> list[OrgHit]:
        rows = self.store.vectors([cid for cid, _ in ranked])
        out = []
        for cid, score in ranked:
            cosine = float(rows[cid] @ qvec) if cid in rows else 0.0
            hit = to_hit(cid, chunks[cid].chunk, score, cosine)
            out.append(OrgHit(**hit.__dict__, repo=chunks[cid].repo, revision=chunks[cid].revision))
        return out


def _label(stored: StoredChunk) -> str:
    """The path the ranking sees. Per-file signals (overlaps, diversity) must not merge one path
    of two repositories, so a shared index's paths are prefixed by the repository; the prefix
    ends in "/" and holds no other, so the ranking's path tests (a tests/ directory, a file's
    name) read the same as without it."""
    if not stored.repo:
        return stored.chunk.path
    return stored.repo.replace("/", ":") + "\0/" + stored.chunk.path
