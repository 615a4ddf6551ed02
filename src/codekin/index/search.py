"""Query -> ranked chunks: dense (usearch) and lexical (FTS5 BM25) retrieval, fused and ranked
by :mod:`codekin.index.ranking` (or by plain reciprocal rank), with language and path filters.

Chunks not embedded yet (the embedding phase of a run is still going) are found by the lexical
retrieval alone and ranked like any other candidate without a dense rank; with no encoder at all
(``search --fast``) every query is lexical. Results carry the index's :class:`Coverage`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import numpy.typing as npt
import pathspec

from codekin.embeddings.base import Encoder, Vectors
from codekin.hit import Coverage, FileHit, Hit, Results, non_increasing
from codekin.index import explain as explanation
from codekin.index.code_index import CodeIndex
from codekin.index.lexical import DEFAULT_QUERY, QueryOptions
from codekin.index.query_cache import PendingVector, QueryVectors
from codekin.index.ranking import (
    DEFAULT_RANKING,
    FILE_RANKING,
    RRF_K,
    Candidate,
    RankConfig,
    rank,
    reciprocal_rank,
    set_ranks,
)
from codekin.index.similar import SimilarQuery, combine
from codekin.parsers.model import Chunk

CANDIDATES = 100  # per retriever, before fusion
FILE_CANDIDATES = 200  # files scored by file-level BM25 (the others' share is 0)
CHUNKS_PER_FILE = 3  # chunks shown under each file result
SIMILAR_SLACK = 20  # extra neighbours per query chunk, for excluded texts and filters
SIMILAR_PROBES = 32  # a query of more chunks searches from its heaviest ones (all are scored)
Explanations = dict[int, dict[str, Any]]  # chunk id -> explanation (codekin.index.explain)


@dataclass(frozen=True)
class Filters:
    languages: tuple[str, ...] = ()
    paths: tuple[str, ...] = ()  # gitignore-style globs; a chunk must match one
    exclude_languages: tuple[str, ...] = ()  # e.g. prose and config for a code query

    def path_spec(self) -> pathspec.PathSpec | None:  # type: ignore[type-arg]
        return pathspec.GitIgnoreSpec.from_lines(self.paths) if self.paths else None

    def __bool__(self) -> bool:
        return bool(self.languages or self.paths or self.exclude_languages)


def rrf_scores(rankings: Sequence[Sequence[int]]) -> list[tuple[int, float]]:
    """Plain reciprocal rank fusion of id lists (best first): (id, fused score), best first."""
    scores: dict[int, float] = {}
    for ranking in rankings:
        for pos, cid in enumerate(ranking):
            scores[cid] = scores.get(cid, 0.0) + reciprocal_rank(pos, 1.0, RRF_K)
    return sorted(scores.items(), key=lambda item: -item[1])


def order_scores(ranked: Sequence[Candidate]) -> list[float]:
    """The score each ranked candidate's place was decided by: its final score times the
    per-file diversity decay applied when it was placed, capped by the one above (the ranking
    stops re-scoring after its first 50 places and keeps the rest in score order)."""
    return non_increasing(c.score * c.notes.get("diversity", 1.0) for c in ranked)


class Searcher:
    def __init__(
        self,
        index: CodeIndex,
        encoder: Encoder | None,
        hybrid: bool = True,
        ranking: RankConfig | None = DEFAULT_RANKING,
        file_ranking: RankConfig | None = FILE_RANKING,
        queries: QueryVectors | None = None,
        query_options: QueryOptions = DEFAULT_QUERY,
    ) -> None:
        """``ranking`` None: dense order only (``hybrid`` False) or plain fusion; otherwise the
        code-aware ranking of :mod:`codekin.index.ranking` with that configuration.
        ``file_ranking`` is the same for :meth:`search_files`. ``encoder`` None: lexical
        retrieval only. ``queries``: a cache of query vectors shared across searches.
        ``query_options``: how a query becomes a BM25 query."""
        self.index = index
        self.encoder = encoder
        self.hybrid = hybrid
        self.ranking = ranking
        self.file_ranking = file_ranking
        self.queries = queries
        self.query_options = query_options

    def coverage(self) -> Coverage:
        if self.encoder is not None:
            self.index.vectors()  # current, so the count comes from them
        return Coverage(*self.index.coverage(), lexical_only=self.encoder is None)

    def _query_vector(self, query: str, coverage: Coverage) -> PendingVector:
        """The query's vector, encoding (on its own thread when a cache is shared) while the
        lexical retrieval runs; none when there is nothing to compare it with (no encoder, or
        no chunk embedded yet)."""
        encoder = self.encoder
        if encoder is None or coverage.embedded == 0:
            return PendingVector()
        if self.queries is not None:
            return self.queries.start(encoder, query)
        return PendingVector(lambda: encoder.embed_queries([query])[0])

    def search(
        self, query: str, k: int = 10, filters: Filters = Filters(), explain: bool = False
    ) -> Results[Hit]:
        """The k best chunks; ``explain``: each carries every signal that placed it."""
        coverage = self.coverage()
        qvec = self._query_vector(query, coverage)
        why: Explanations | None = {} if explain else None
        options = self.query_options.for_index(coverage.total)
        ranked = self._ranked(query, qvec, options, k, filters, self.ranking, why=why)
        hits = self._hits([cid for cid, _ in ranked], qvec.get(), [s for _, s in ranked], why)
        return Results(hits, coverage)

    def search_files(
        self, query: str, k: int = 10, filters: Filters = Filters(), explain: bool = False
    ) -> Results[FileHit]:
        """The k files that best answer the query, each with its best chunks."""
        coverage = self.coverage()
        qvec = self._query_vector(query, coverage)
        # every ranked candidate, not a page of chunks: a few big files can fill 100 chunks
        depth = max(CANDIDATES, k * CHUNKS_PER_FILE)
        why: Explanations | None = {} if explain else None
        options = self.query_options.for_index(coverage.total)
        ranked = self._ranked(query, qvec, options, depth, filters, self.file_ranking, keep_all=True, why=why)
        chunks = self.index.chunks([cid for cid, _ in ranked])
        per_file: dict[str, list[int]] = {}
        for cid, _ in ranked:
            if cid in chunks:
                per_file.setdefault(chunks[cid].path, []).append(cid)
        files = list(per_file.items())[:k]
        # files come in the order of their best chunk, so its score is the file's (non-increasing)
        shown = [c for _, cs in files for c in cs[:CHUNKS_PER_FILE]]
        order = dict(ranked)
        hits = {h.chunk_id: h for h in self._hits(shown, qvec.get(), [order[c] for c in shown], why)}
        out: Results[FileHit] = Results(coverage=coverage)
        for path, cids in files:
            best = tuple(hits[c] for c in cids[:CHUNKS_PER_FILE] if c in hits)
            if best:
                out.append(FileHit(path, best[0].language, best[0].score, best, best[0].cosine))
        return out

    def _ranked(
        self,
        query: str,
        qvec: PendingVector,
        options: QueryOptions,
        k: int,
        filters: Filters,
        ranking: RankConfig | None,
        keep_all: bool = False,
        why: Explanations | None = None,
    ) -> list[tuple[int, float]]:
        """(chunk id, score) pairs, best first, the score being what the order was decided by:
        the cosine (dense alone), the fused reciprocal-rank score (``ranking`` None) or the
        ranking's (:func:`order_scores`); the best ``k``, or (``keep_all``) every candidate of
        the ``k``-deep retrieval. ``why`` receives each returned id's explanation."""
        limit = None if keep_all else k
        if not self.hybrid and (vector := qvec.get()) is not None:
            kept = self._dense(vector, filters, max(CANDIDATES, k))[:limit]
            out = list(zip([cid for cid, _ in kept], non_increasing(s for _, s in kept), strict=True))
            if why is not None:
                source = self._provenance()
                for r, ((cid, cos), (_, s)) in enumerate(zip(kept, out, strict=True)):
                    why[cid] = explanation.dense_only(cos, r, s, source)
            return out
        lexical = self.index.lexical_search(query, max(CANDIDATES, k) * 2, filters.languages, options)
        if filters.paths or filters.exclude_languages:
            keep = set(self._keep(filters, [cid for cid, _ in lexical]))
            lexical = [(cid, s) for cid, s in lexical if cid in keep]
        vector = qvec.get()  # encoded while the lexical retrieval ran
        dense = self._dense(vector, filters, max(CANDIDATES, k)) if vector is not None else []
        if ranking is None:
            fused = rrf_scores([[c for c, _ in dense], [c for c, _ in lexical]])[:limit]
            if why is not None:
                source = self._provenance()
                d_rank = {cid: r for r, (cid, _) in enumerate(dense)}
                l_rank = {cid: r for r, (cid, _) in enumerate(lexical)}
                for cid, s in fused:
                    why[cid] = explanation.rrf_only(d_rank.get(cid), l_rank.get(cid), s, source)
            return fused
        candidates = self._candidates(dense, lexical)
        if ranking.use_file_lexical:
            self._add_file_lexical(query, candidates, filters, options)
        ranked = rank(query, candidates, ranking)
        out = list(zip([c.chunk_id for c in ranked], order_scores(ranked), strict=True))[:limit]
        if why is not None:
            source = self._provenance()
            for c, (_, s) in zip(ranked, out, strict=False):
                why[c.chunk_id] = explanation.ranked(c, s, ranking, source)
        return out

    def _provenance(self) -> dict[str, Any]:
        m = self.index.manifest
        return explanation.provenance(m.model, m.model_hash, self.index.generation())

    def _candidates(
        self, dense: list[tuple[int, float]], lexical: list[tuple[int, float]]
    ) -> list[Candidate]:
        ids = list(dict.fromkeys([cid for cid, _ in dense] + [cid for cid, _ in lexical]))
        chunks = self.index.chunk_heads(ids)
        heads = self.index.container_heads(chunks)
        out: dict[int, Candidate] = {}
        for cid in ids:
            ch = chunks.get(cid)
            if ch is not None:
                out[cid] = Candidate(
                    cid,
                    ch.path,
                    ch.symbol,
                    ch.kind,
                    ch.start_line,
                    ch.end_line,
                    ch.language,
                    ch.container,
                    is_header=cid in heads,
                )
        set_ranks(out, dense, lexical)
        return list(out.values())

    def _add_file_lexical(
        self, query: str, candidates: list[Candidate], filters: Filters, options: QueryOptions
    ) -> None:
        files = self.index.file_lexical_search(query, FILE_CANDIDATES, filters.languages, options)
        if not files or files[0][1] <= 0:
            return
        share = {path: max(score, 0.0) / files[0][1] for path, score in files}
        for c in candidates:
            c.file_lexical = share.get(c.path, 0.0)

    def similar(
        self, query: SimilarQuery, k: int = 10, filters: Filters = Filters(), siblings_last: bool = True
    ) -> list[Hit]:
        """Chunks most similar to a query of one or more chunks, best first (scored by
        :func:`~codekin.index.similar.combine`). The query's own chunks never come back; the rest
        of its file (``query.siblings``) comes after code elsewhere when ``siblings_last``."""
        depth = k + len(query.exclude) + SIMILAR_SLACK + (len(query.siblings) if siblings_last else 0)
        vectors = self.index.vectors()
        allowed = self._allowed(filters) if filters else None
        heaviest = np.argsort(-np.asarray(query.weights), kind="stable")[:SIMILAR_PROBES]
        probes = [query.vectors[i] for i in heaviest]
        if len(query.weights) > 1:  # the whole query's direction finds what matches it as a whole
            probes.append(np.asarray(query.weights, dtype=np.float32) @ query.vectors)
        found: dict[int, None] = {}
        for probe in probes:
            found.update(
                (cid, None) for cid, _ in vectors.search(probe, depth, allowed) if cid not in query.exclude
            )
        ids, rows = vectors.get(list(found))
        scores = combine(query, rows)
        ranked = [ids[i] for i in np.argsort(-scores, kind="stable")]
        if siblings_last:  # stable: each group keeps its order
            ranked.sort(key=lambda cid: cid in query.siblings)
        score_of = dict(zip(ids, scores.tolist(), strict=True))
        hits: list[Hit] = []
        for start in range(0, len(ranked), k + SIMILAR_SLACK):  # read chunk texts a page at a time
            page = ranked[start : start + k + SIMILAR_SLACK]
            chunks = self.index.chunks(page)
            hits += [
                to_hit(cid, chunks[cid], score_of[cid])
                for cid in page
                if cid in chunks and chunks[cid].content_hash not in query.exclude_hashes
            ]
            if len(hits) >= k:
                break
        # the similarity is the cosine detail; the score follows the order (siblings come last)
        hits = hits[:k]
        shown = non_increasing(h.score for h in hits)
        return [replace(h, score=round(s, 4), cosine=h.score) for h, s in zip(hits, shown, strict=True)]

    # --- pieces -----------------------------------------------------------------------------
    def _dense(self, qvec: Vectors, filters: Filters, count: int) -> list[tuple[int, float]]:
        return self.index.vectors().search(qvec, count, self._allowed(filters) if filters else None)

    def _allowed(self, filters: Filters) -> npt.NDArray[np.uint64]:
        """Ids of the chunks that pass the filters (from the index's catalog, no store query)."""
        spec = filters.path_spec()
        path_filter = (filters.paths, spec.match_file) if spec is not None else None
        return self.index.catalog().allowed(filters.languages, filters.exclude_languages, path_filter)

    def _keep(self, filters: Filters, ids: list[int]) -> list[int]:
        """The ids among ``ids`` whose chunk passes the path and excluded-language filters."""
        spec = filters.path_spec()
        if not ids or (spec is None and not filters.exclude_languages):
            return ids
        chunks = self.index.chunks(ids)
        return [
            cid
            for cid in ids
            if cid in chunks
            and (spec is None or spec.match_file(chunks[cid].path))
            and chunks[cid].language not in filters.exclude_languages
        ]

    def _hits(
        self,
        ids: list[int],
        qvec: Vectors | None,
        scores: Sequence[float] | None = None,
        why: Explanations | None = None,
    ) -> list[Hit]:
        """Hits for ``ids`` with their cosine to ``qvec`` (0 without one, or without a vector).
        ``scores``: each id's ranking score; None: the ids are in similarity order and the score
        is the cosine, capped so that it never rises down the list. ``why``: explanations to
        attach, by id."""
        chunks = self.index.chunks(ids)
        by_id: dict[int, float] = {}
        if qvec is not None:
            found, rows = self.index.stored_vectors(ids)
            by_id = dict(zip(found, (rows @ qvec).tolist(), strict=True)) if found else {}
        cosines = [by_id.get(cid, 0.0) for cid in ids]
        order = non_increasing(cosines) if scores is None else scores
        hits = [
            to_hit(cid, chunks[cid], score, cos)
            for cid, score, cos in zip(ids, order, cosines, strict=True)
            if cid in chunks
        ]
        return [replace(h, explain=why.get(h.chunk_id)) for h in hits] if why is not None else hits


def to_hit(cid: int, chunk: Chunk, score: float, cosine: float = 0.0) -> Hit:
    return Hit(
        path=chunk.path,
        start_line=chunk.start_line + 1,
        end_line=chunk.end_line + 1,
        symbol=chunk.qualified_name,
        kind=chunk.kind,
        language=chunk.language,
        score=round(float(score), 4),
        text=chunk.text,
        start_col=chunk.start_col,
        end_col=chunk.end_col,
        chunk_id=cid,
        cosine=round(float(cosine), 4),
    )
