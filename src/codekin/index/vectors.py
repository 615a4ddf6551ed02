"""usearch HNSW vectors keyed by chunk id, saved atomically with the store (id and generation)
they match and a digest of the file's bytes, checked on load: a damaged file is rebuilt from
the store, never searched."""

from __future__ import annotations

import json
import logging
import math
import os
import time
import zlib
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from usearch.index import Index, Matches

from codekin.embeddings.base import Vectors

log = logging.getLogger(__name__)


# Graph parameters chosen by bench/ann.py (README, "Approximate search"): the fastest setting
# whose graph finds >= 99% of the exact top 10 on codekin-encoder embeddings at 10k and 100k
# vectors. Against connectivity 16: recall@10 0.9915 / 1.000 (0.991 / 0.9995), 0.52 ms a query
# at 100k (0.60), the same build time, and far fewer misses on unclustered vectors (random, 10k:
# 0.958 against 0.811). Search breadth: usearch does not save it with the index, so a restored
# index is given it again.
CONNECTIVITY = 32
EXPANSION_ADD = 128
EXPANSION_SEARCH = 256
# Filtered search: up to FEW_ROWS passing rows are scored from their own vectors (fetching more
# costs more than one SIMD scan of the whole index); when at least OVERFETCH_SHARE of the rows
# pass, the graph is searched OVERFETCH x deeper than the pass rate needs and the passing rows
# kept; anything else is one exact scan of the index.
FEW_ROWS = 1024
# Up to this many vectors every search is an exact scan (1.4 ms at 20k x 384 against 0.7 ms for
# the graph): full recall and the same answer every time, where the graph, built by several
# threads, can leave one of many identical vectors (copied code) unreachable.
EXACT_BELOW = 20_000
OVERFETCH_SHARE = 0.25
OVERFETCH = 2.0


NO_KEY = np.iinfo(np.uint64).max  # usearch's key for an empty result slot


@dataclass(frozen=True)
class GraphRecall:
    """The HNSW graph against exact search on ``queries`` stored vectors."""

    vectors: int
    queries: int
    k: int
    recall: float | None  # mean share of the exact top k the graph found (None: too few vectors)
    graph_ms: float  # per query, one thread
    exact_ms: float


def _new_index(dim: int) -> Index:
    return Index(
        ndim=dim,
        metric="cos",
        dtype="f16",
        connectivity=CONNECTIVITY,
        expansion_add=EXPANSION_ADD,
        expansion_search=EXPANSION_SEARCH,
    )


class VectorIndex:
    def __init__(
        self, dim: int, index: Index | None = None, generation: int = -1, store_id: str = ""
    ) -> None:
        self.dim = dim
        self._index = index if index is not None else _new_index(dim)
        self.generation = generation  # store generation these vectors reflect
        self.store_id = store_id  # and the store (database file) they belong to

    def __len__(self) -> int:
        return len(self._index)

    def add(self, ids: list[int], vectors: Vectors) -> None:
        if ids:
            self._index.add(np.asarray(ids, dtype=np.uint64), np.ascontiguousarray(vectors, dtype=np.float32))

    def remove(self, ids: list[int]) -> None:
        if ids:
            self._index.remove(np.asarray(ids, dtype=np.uint64))

    def search(
        self, vector: Vectors, count: int, allowed: Collection[int] | None = None
    ) -> list[tuple[int, float]]:
        """Nearest chunk ids with cosine similarity, best first; only ids in ``allowed`` when it
        is given. A filtered search never scans more than the index and loses no recall: few
        passing rows are scored exactly, a loose filter over-fetches from the graph (and falls
        back to the exact scan when too few pass), a selective one is an exact scan."""
        n = len(self._index)
        if n == 0 or count <= 0:
            return []
        query = np.asarray(vector, dtype=np.float32)
        if allowed is None:
            return self._matches(self._search(query, min(count, n)))
        keys = (
            allowed.astype(np.uint64, copy=False)
            if isinstance(allowed, np.ndarray)
            else np.fromiter(allowed, dtype=np.uint64, count=len(allowed))
        )
        if len(keys) == 0:
            return []
        if len(keys) <= FEW_ROWS:
            return self._score_rows(query, keys, count)
        if len(keys) >= OVERFETCH_SHARE * n:
            depth = min(n, math.ceil(count * OVERFETCH * n / len(keys)) + count)
            found = self._matches(self._search(query, depth), keys)
            if len(found) >= min(count, len(keys)) or depth == n:
                return found[:count]
        return self._matches(self._search(query, n, exact=True), keys)[:count]

    def _search(self, query: Vectors, count: int, exact: bool = False) -> Matches:
        found = self._index.search(query, count, exact=exact or len(self._index) <= EXACT_BELOW)
        assert isinstance(found, Matches)  # one query vector in, one result set out
        return found

    def get(self, ids: Collection[int]) -> tuple[list[int], Vectors]:
        """The vectors held for these ids (ids not in the index are dropped), unit length."""
        keys = [int(i) for i in ids]
        found = self._index.get(np.asarray(keys, dtype=np.uint64), dtype="f32") if keys else None
        # usearch answers one key with the row itself (or None), several with a tuple of them
        rows = list(found) if isinstance(found, tuple) else [found]
        kept = [(k, r) for k, r in zip(keys, rows, strict=False) if r is not None]
        if not kept:
            return [], np.zeros((0, self.dim), dtype=np.float32)
        matrix = np.vstack([r for _, r in kept])
        matrix /= np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)
        return [k for k, _ in kept], matrix

    def ids(self) -> np.ndarray:
        """Every key held, as uint64."""
        return np.asarray(self._index.keys, dtype=np.uint64)

    def graph_recall(self, sample: int = 200, k: int = 10, seed: int = 0) -> GraphRecall:
        """How much of the exact top ``k`` the HNSW graph finds (``exact=False`` whatever the
        size: what searches get once the index outgrows EXACT_BELOW), with stored vectors as
        the queries (each query's own key left out). A graph neighbour at a distance no worse
        than the exact k-th counts as found: copies of one vector are interchangeable."""
        keys = self.ids()
        n = len(keys)
        k = min(k, n - 1)  # a query's neighbours are the other vectors
        if k < 1:
            return GraphRecall(n, 0, k, None, 0.0, 0.0)
        rng = np.random.default_rng(seed)
        chosen = rng.choice(keys, size=min(sample, n), replace=False)
        queries = np.asarray(self._index.get(chosen, dtype="f32"), dtype=np.float32)
        started = time.perf_counter()
        graph = self._index.search(queries, k + 1, exact=False, threads=1)
        graph_s = time.perf_counter() - started
        started = time.perf_counter()
        exact = self._index.search(queries, k + 1, exact=True, threads=1)
        exact_s = time.perf_counter() - started
        found = 0
        for row, key in enumerate(chosen):
            e_keys, e_dist = np.asarray(exact.keys[row]), np.asarray(exact.distances[row])
            g_keys, g_dist = np.asarray(graph.keys[row]), np.asarray(graph.distances[row])
            e_dist = e_dist[e_keys != key][:k]
            g_dist = g_dist[(g_keys != key) & (g_keys != NO_KEY)][:k]
            found += min(k, int(np.sum(g_dist <= e_dist[-1] + 1e-6)))
        m = len(chosen)
        return GraphRecall(n, m, k, found / (m * k), graph_s / m * 1000, exact_s / m * 1000)

    def _score_rows(self, query: Vectors, keys: np.ndarray, count: int) -> list[tuple[int, float]]:
        ids, rows = self.get(keys.tolist())
        if not ids:
            return []
        norm = float(np.linalg.norm(query)) or 1.0
        scores = rows @ (query / norm)
        top = np.argsort(-scores, kind="stable")[:count]
        return [(ids[i], float(scores[i])) for i in top]

    @staticmethod
    def _matches(found: Matches, keep: np.ndarray | None = None) -> list[tuple[int, float]]:
        keys, distances = np.asarray(found.keys), np.asarray(found.distances)
        if keep is not None:
            mask = np.isin(keys, keep)
            keys, distances = keys[mask], distances[mask]
        return [(int(k), 1.0 - float(d)) for k, d in zip(keys, distances, strict=True)]

    def save(self, path: Path) -> None:
        """Write to a temp file and rename over the old one, then record what it reflects."""
        raw = self._index.save()  # no path: the serialised bytes
        if raw is None:
            raise RuntimeError("usearch returned no data to save")
        data = memoryview(raw)  # written as it is: a bytes() copy doubled the save's peak memory
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path)
        sidecar = _sidecar(path)
        tmp_meta = sidecar.with_name(sidecar.name + ".tmp")
        meta = {
            "generation": self.generation,
            "store_id": self.store_id,
            "count": len(self._index),
            "digest": _digest(data),
        }
        tmp_meta.write_text(json.dumps(meta))
        os.replace(tmp_meta, sidecar)

    @classmethod
    def load(cls, path: Path, dim: int) -> VectorIndex | None:
        """The saved index, or None when missing, unreadable, damaged or of another dimension."""
        try:
            meta = json.loads(_sidecar(path).read_text())
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            log.warning("vector index %s is unreadable (%s); it will be rebuilt from the store", path, exc)
            return None
        if isinstance(meta, dict) and "digest" not in meta and "generation" in meta:
            log.info("vector index %s predates checksums; it will be rebuilt from the store", path)
            return None
        if not isinstance(meta, dict) or meta.get("digest") != _digest(data):
            log.warning("vector index %s fails its checksum; it will be rebuilt from the store", path)
            return None
        try:
            index = Index.restore(data)
        except (ValueError, RuntimeError) as exc:
            log.warning("vector index %s is unreadable (%s); it will be rebuilt from the store", path, exc)
            return None
        if index is None or index.ndim != dim or len(index) != meta.get("count"):
            log.warning("vector index %s does not match its metadata; it will be rebuilt", path)
            return None
        index.expansion_search = EXPANSION_SEARCH  # type: ignore[misc]  # usearch has the setter
        return cls(dim, index, int(meta.get("generation", -1)), str(meta.get("store_id", "")))


def _digest(data: bytes | memoryview) -> str:
    """CRC-32 of the file: catches damage, not tampering, at half blake2b's cost (100k x 384
    vectors, a 92 MB file: 43 ms against 100 ms)."""
    return f"crc32:{zlib.crc32(data):08x}"


def _sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".json")
