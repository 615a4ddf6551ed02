"""Query -> ranked chunks: dense (usearch) and lexical (FTS5 BM25) retrieval, fused and ranked
by :mod:`codekin.index.ranking` (or by plain reciprocal rank), with language and path filters."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pathspec

from codekin.embeddings.base import Encoder, Vectors
from codekin.hit import FileHit, Hit, non_increasing
from codekin.index.code_index import CodeIndex
from codekin.index.ranking import DEFAULT_RANKING, FILE_RANKING, RRF_K, Candidate, RankConfig, rank
from codekin.parsers.model import Chunk

CANDIDATES = 100  # per retriever, before fusion
FILE_CANDIDATES = 200  # files scored by file-level BM25 (the others' share is 0)
CHUNKS_PER_FILE = 3  # chunks shown under each file result


@dataclass(frozen=True)
class Filters:
    languages: tuple[str, ...] = ()
    paths: tuple[str, ...] = ()  # gitignore-style globs; a chunk must match one

    def path_spec(self) -> pathspec.PathSpec | None:  # type: ignore[type-arg]
        return pathspec.GitIgnoreSpec.from_lines(self.paths) if self.paths else None

    def __bool__(self) -> bool:
        return bool(self.languages or self.paths)


def rrf_fuse(rankings: Sequence[Sequence[int]], weights: Sequence[float] | None = None) -> list[int]:
    """Reciprocal rank fusion of id lists (best first) into one list, best first."""
    return [cid for cid, _ in rrf_scores(rankings, weights)]


def rrf_scores(
    rankings: Sequence[Sequence[int]], weights: Sequence[float] | None = None
) -> list[tuple[int, float]]:
    """Reciprocal rank fusion: (id, fused score) pairs, best first."""
    scores: dict[int, float] = {}
    for i, ranking in enumerate(rankings):
        w = weights[i] if weights else 1.0
        for pos, cid in enumerate(ranking):
            scores[cid] = scores.get(cid, 0.0) + w / (RRF_K + pos + 1)
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
        encoder: Encoder,
        hybrid: bool = True,
        ranking: RankConfig | None = DEFAULT_RANKING,
        file_ranking: RankConfig | None = FILE_RANKING,
    ) -> None:
        """``ranking`` None: dense order only (``hybrid`` False) or plain fusion; otherwise the
        code-aware ranking of :mod:`codekin.index.ranking` with that configuration.
        ``file_ranking`` is the same for :meth:`search_files`."""
        self.index = index
        self.encoder = encoder
        self.hybrid = hybrid
        self.ranking = ranking
        self.file_ranking = file_ranking

    def search(self, query: str, k: int = 10, filters: Filters = Filters()) -> list[Hit]:
        qvec = self.encoder.embed_queries([query])[0]
        ranked = self._ranked(query, qvec, k, filters, self.ranking)
        return self._hits([cid for cid, _ in ranked], qvec, [s for _, s in ranked])

    def search_files(self, query: str, k: int = 10, filters: Filters = Filters()) -> list[FileHit]:
        """The k files that best answer the query, each with its best chunks."""
        qvec = self.encoder.embed_queries([query])[0]
        # every ranked candidate, not a page of chunks: a few big files can fill 100 chunks
        depth = max(CANDIDATES, k * CHUNKS_PER_FILE)
        ranked = self._ranked(query, qvec, depth, filters, self.file_ranking, keep_all=True)
        chunks = self.index.store.chunks_by_ids([cid for cid, _ in ranked])
        per_file: dict[str, list[int]] = {}
        for cid, _ in ranked:
            if cid in chunks:
                per_file.setdefault(chunks[cid].path, []).append(cid)
        files = list(per_file.items())[:k]
        # files come in the order of their best chunk, so its score is the file's (non-increasing)
        shown = [c for _, cs in files for c in cs[:CHUNKS_PER_FILE]]
        order = dict(ranked)
        hits = {h.chunk_id: h for h in self._hits(shown, qvec, [order[c] for c in shown])}
        out: list[FileHit] = []
        for path, cids in files:
            best = tuple(hits[c] for c in cids[:CHUNKS_PER_FILE] if c in hits)
            if best:
                out.append(FileHit(path, best[0].language, best[0].score, best, best[0].cosine))
        return out

    def _ranked(
        self,
        query: str,
        qvec: Vectors,
        k: int,
        filters: Filters,
        ranking: RankConfig | None,
        keep_all: bool = False,
    ) -> list[tuple[int, float]]:
        """(chunk id, score) pairs, best first, the score being what the order was decided by:
        the cosine (dense alone), the fused reciprocal-rank score (``ranking`` None) or the
        ranking's (:func:`order_scores`); the best ``k``, or (``keep_all``) every candidate of
        the ``k``-deep retrieval."""
        limit = None if keep_all else k
        dense = self._dense(qvec, filters, max(CANDIDATES, k))
        if not self.hybrid:
            kept = dense[:limit]
            return list(zip([cid for cid, _ in kept], non_increasing(s for _, s in kept), strict=True))
        lexical = self.index.store.lexical_search(query, max(CANDIDATES, k) * 2, filters.languages)
        if filters.paths:
            keep = set(self._keep_paths([cid for cid, _ in lexical], filters))
            lexical = [(cid, s) for cid, s in lexical if cid in keep]
        if ranking is None:
            return rrf_scores([[c for c, _ in dense], [c for c, _ in lexical]])[:limit]
        candidates = self._candidates(dense, lexical)
        if ranking.use_file_lexical:
            self._add_file_lexical(query, candidates, filters)
        ranked = rank(query, candidates, ranking)
        return list(zip([c.chunk_id for c in ranked], order_scores(ranked), strict=True))[:limit]

    def _candidates(
        self, dense: list[tuple[int, float]], lexical: list[tuple[int, float]]
    ) -> list[Candidate]:
        ids = list(dict.fromkeys([cid for cid, _ in dense] + [cid for cid, _ in lexical]))
        chunks = self.index.store.chunks_by_ids(ids)
        out: dict[int, Candidate] = {}
        for cid in ids:
            ch = chunks.get(cid)
            if ch is not None:
                out[cid] = Candidate(
                    cid, ch.path, ch.symbol, ch.kind, ch.start_line, ch.end_line, ch.language, ch.container
                )
        for r, (cid, score) in enumerate(dense):
            if cid in out:
                out[cid].dense_rank, out[cid].dense_score = r, score
        for r, (cid, score) in enumerate(lexical):
            if cid in out:
                out[cid].lexical_rank, out[cid].lexical_score = r, score
        return list(out.values())

    def _add_file_lexical(self, query: str, candidates: list[Candidate], filters: Filters) -> None:
        files = self.index.store.file_lexical_search(query, FILE_CANDIDATES, filters.languages)
        if not files or files[0][1] <= 0:
            return
        share = {path: max(score, 0.0) / files[0][1] for path, score in files}
        for c in candidates:
            c.file_lexical = share.get(c.path, 0.0)

    def similar_to_vector(
        self,
        qvec: Vectors,
        k: int = 10,
        filters: Filters = Filters(),
        exclude: set[int] | None = None,
        exclude_hash: str | None = None,
    ) -> list[Hit]:
        exclude = exclude or set()
        found = self._dense(qvec, filters, k + len(exclude) + 20)
        ids = [cid for cid, _ in found if cid not in exclude]
        hits = self._hits(ids, qvec)
        if exclude_hash:
            chunks = self.index.store.chunks_by_ids([h.chunk_id for h in hits])
            hits = [h for h in hits if chunks[h.chunk_id].content_hash != exclude_hash]
        return hits[:k]

    # --- pieces -----------------------------------------------------------------------------
    def _dense(self, qvec: Vectors, filters: Filters, count: int) -> list[tuple[int, float]]:
        if not filters:
            return self.index.vectors().search(qvec, count)
        # Filtered: exact scoring over the chunks that pass (no recall lost to the filter).
        ids = self._keep_paths(self.index.store.chunk_ids(filters.languages or None), filters)
        found, rows = self.index.store.vectors_for_ids(ids)
        if not found:
            return []
        scores = rows @ qvec
        top = np.argsort(-scores)[:count]
        return [(found[i], float(scores[i])) for i in top]

    def _keep_paths(self, ids: list[int], filters: Filters) -> list[int]:
        spec = filters.path_spec()
        if spec is None or not ids:
            return ids
        chunks = self.index.store.chunks_by_ids(ids)
        return [cid for cid in ids if cid in chunks and spec.match_file(chunks[cid].path)]

    def _hits(self, ids: list[int], qvec: Vectors, scores: Sequence[float] | None = None) -> list[Hit]:
        """Hits for ``ids`` with their cosine to ``qvec``. ``scores``: each id's ranking score;
        None: the ids are in similarity order and the score is the cosine, capped so that it
        never rises down the list."""
        chunks = self.index.store.chunks_by_ids(ids)
        found, rows = self.index.store.vectors_for_ids(ids)
        by_id = dict(zip(found, (rows @ qvec).tolist(), strict=True)) if found else {}
        cosines = [by_id.get(cid, 0.0) for cid in ids]
        order = non_increasing(cosines) if scores is None else scores
        return [
            to_hit(cid, chunks[cid], score, cos)
            for cid, score, cos in zip(ids, order, cosines, strict=True)
            if cid in chunks
        ]


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
