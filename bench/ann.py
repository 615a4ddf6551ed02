"""Choose the usearch HNSW parameters: recall@10 of the graph against exact search, and the
latency of one query, over connectivity x expansion_add x expansion_search, at 10k and 100k
vectors of the model's dimension (384).

    flock /tmp/codekin-heavy.lock python bench/ann.py [--sizes 10000 100000] [--real DB ...]

Vectors: ``random`` are independent random unit vectors, the hardest case for a graph (no
clusters to follow); ``real`` are codekin-encoder embeddings read from existing indexes
(``--real``: their index.sqlite files), grown to the size by adding small random perturbations
of them (each a real vector plus Gaussian noise, renormalised), which keeps their clustered
shape. Queries are 200 fresh vectors of the same kind (not in the index). Recall compares the
graph (``exact=False``) with usearch's exact scan of the same float16 index, as ``codekin
doctor`` does; latency is the median of single-query searches on one thread. The shipped
setting is marked ``*``.
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from usearch.index import Index

from codekin.index import vectors as shipped

DIM = 384
QUERIES = 200
K = 10
# connectivity, expansion_add, expansion_search: codekin.index.vectors (16, 128, 256 before this bench)
SHIPPED = (shipped.CONNECTIVITY, shipped.EXPANSION_ADD, shipped.EXPANSION_SEARCH)
CONNECTIVITY = (8, 16, 32)
EXPANSION_ADD = (64, 128, 256)
EXPANSION_SEARCH = (16, 32, 64, 128, 256, 512)
TARGET = 0.99


def unit(x: np.ndarray) -> np.ndarray:
    return np.asarray(x / np.linalg.norm(x, axis=1, keepdims=True), dtype=np.float32)


def random_vectors(n: int, rng: np.random.Generator) -> np.ndarray:
    return unit(rng.standard_normal((n, DIM)))


def read_real(paths: list[Path]) -> np.ndarray:
    rows: list[np.ndarray] = []
    for p in paths:
        db = sqlite3.connect(f"file:{p}?mode=ro", uri=True)
        rows += [np.frombuffer(b, dtype=np.float32) for (b,) in db.execute("SELECT vector FROM vectors")]
        db.close()
    return unit(np.vstack(rows)) if rows else np.zeros((0, DIM), dtype=np.float32)


def grown(real: np.ndarray, n: int, rng: np.random.Generator, noise: float = 0.35) -> np.ndarray:
    """``n`` vectors: the real ones, then perturbed copies of random real ones. ``noise`` is the
    per-dimension standard deviation relative to a unit vector's (1/sqrt(DIM))."""
    picks = rng.integers(0, len(real), size=max(n - len(real), 0))
    extra = real[picks] + rng.standard_normal((len(picks), DIM)) * noise / np.sqrt(DIM)
    return unit(np.vstack([real[:n], extra]))[:n]


@dataclass(frozen=True)
class Row:
    kind: str
    n: int
    connectivity: int
    expansion_add: int
    expansion_search: int
    build_s: float
    recall: float
    ms: float


def measure(kind: str, data: np.ndarray, queries: np.ndarray, conn: int, add: int) -> Iterator[Row]:
    index = Index(ndim=DIM, metric="cos", dtype="f16", connectivity=conn, expansion_add=add)
    started = time.perf_counter()
    index.add(np.arange(len(data), dtype=np.uint64), data, threads=2)
    build = time.perf_counter() - started
    exact = index.search(queries, K, exact=True, threads=2)
    for ef in EXPANSION_SEARCH:
        index.expansion_search = ef  # type: ignore[misc]  # usearch has the setter
        found = 0
        times: list[float] = []
        for i, q in enumerate(queries):
            t = time.perf_counter()
            m = index.search(q, K, threads=1)
            times.append(time.perf_counter() - t)
            worst = float(np.asarray(exact.distances[i])[-1])
            found += int(np.sum(np.asarray(m.distances) <= worst + 1e-6))  # ties count as found
        yield Row(
            kind, len(data), conn, add, ef, build, found / (len(queries) * K), statistics.median(times) * 1000
        )


def best(rows: list[Row]) -> Row | None:
    """The fastest setting that reaches TARGET recall."""
    good = [r for r in rows if r.recall >= TARGET]
    return min(good, key=lambda r: r.ms) if good else None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument(
        "--real", type=Path, nargs="*", default=[], help="index.sqlite files with real embeddings"
    )
    ap.add_argument("--connectivity", type=int, nargs="+", default=list(CONNECTIVITY))
    ap.add_argument("--expansion-add", type=int, nargs="+", default=list(EXPANSION_ADD))
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    real = read_real(args.real)
    kinds = ["random"] + (["real"] if len(real) else [])
    if args.real and not len(real):
        print("no real embeddings found in --real files; random vectors only", file=sys.stderr)
    print(f"# {len(real)} real embeddings read; {QUERIES} queries; recall@{K} of the graph vs exact")
    head = f"{'vectors':<8} {'n':>7} {'conn':>4} {'ef_add':>6} {'ef_search':>9} {'build s':>8}"
    print(f"{head} {'recall@10':>9} {'ms/query':>8}")
    for kind in kinds:
        for n in args.sizes:
            if kind == "random":
                data, queries = random_vectors(n, rng), random_vectors(QUERIES, rng)
            else:
                data, queries = grown(real, n, rng), grown(real, QUERIES + len(real), rng)[len(real) :]
            rows: list[Row] = []
            for conn in args.connectivity:
                for add in args.expansion_add:
                    for r in measure(kind, data, queries, conn, add):
                        rows.append(r)
                        mark = (
                            "*" if (r.connectivity, r.expansion_add, r.expansion_search) == SHIPPED else " "
                        )
                        where = f"{kind:<8} {n:>7} {conn:>4} {add:>6} {r.expansion_search:>9}{mark}"
                        print(f"{where} {r.build_s:>7.1f} {r.recall:>9.4f} {r.ms:>8.3f}", flush=True)
            b = best(rows)
            as_shipped = [r for r in rows if (r.connectivity, r.expansion_add, r.expansion_search) == SHIPPED]
            if b is not None:
                print(
                    f"# {kind} {n}: fastest at recall@{K} >= {TARGET}: connectivity {b.connectivity}, "
                    f"expansion_add {b.expansion_add}, expansion_search {b.expansion_search}: recall "
                    f"{b.recall:.4f}, {b.ms:.3f} ms/query, build {b.build_s:.1f} s",
                    flush=True,
                )
            else:
                print(f"# {kind} {n}: no setting reached recall@{K} {TARGET}", flush=True)
            for s in as_shipped:
                print(
                    f"# {kind} {n}: shipped {SHIPPED}: recall {s.recall:.4f}, {s.ms:.3f} ms/query", flush=True
                )


if __name__ == "__main__":
    main()
