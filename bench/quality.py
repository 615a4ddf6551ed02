"""Natural-language search quality: MRR@10, recall@1 and recall@10 of BM25, dense and hybrid.

    flock /tmp/codekin-heavy.lock .venv/bin/python bench/quality.py [--models minilm,mpnet] [--quick]
    ... --models codekin@torch,codekin@onnx-int8   # the quality cost of a runtime

Datasets (see bench/_datasets.py): CoSQA dev (web query -> function file) and docstring ->
function pairs mined from the standard library, indexed with docstrings removed. Systems:
``bm25`` (codekin's FTS5 lexical index alone, ``CodeIndex.lexical_search``), ``dense``
(``Settings(hybrid=False)``) and ``hybrid`` (the default settings). Each model's index is built
once through ``Workspace.index`` and opened twice (dense, hybrid); nothing is re-embedded.
Work files live in a temporary directory; the assembled mpnet model in ``.bench-cache/``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path
from typing import Any, Protocol

from _datasets import Dataset, Query, Target, load_cosqa, load_stdlib
from _models import DEFAULT_CACHE, resolve, short_name
from _variants import Variant, parse_variants

import codekin
from codekin import Settings, Workspace
from codekin.embeddings import Encoder
from codekin.index.search import Searcher

REPO = Path(__file__).resolve().parents[1]
DEFAULT_COSQA = REPO.parent / "shared" / "datasets" / "cosqa-dev.json"
K = 10
MAX_TOKENS = Settings().max_tokens  # the default truncation (256)
log = logging.getLogger("bench.quality")


class Span(Protocol):
    @property
    def path(self) -> str: ...
    @property
    def start_line(self) -> int: ...
    @property
    def end_line(self) -> int: ...


@dataclass(frozen=True)
class LexicalHit:
    path: str
    start_line: int  # 1-based inclusive, like codekin.Hit
    end_line: int


# --- metrics (pure) -----------------------------------------------------------------------------
def matches(hit: Span, target: Target) -> bool:
    """Same file and, when the target has a span, overlapping lines."""
    if hit.path != target.path:
        return False
    return target.start_line == 0 or (hit.start_line <= target.end_line and target.start_line <= hit.end_line)


def first_rank(hits: Sequence[Span], target: Target) -> int | None:
    """1-based rank of the first matching hit (chunks are not collapsed to files)."""
    return next((i for i, hit in enumerate(hits, 1) if matches(hit, target)), None)


@dataclass(frozen=True)
class Scores:
    mrr: float
    recall_1: float
    recall_k: float
    queries: int


def score(ranks: Sequence[int | None], k: int = K) -> Scores:
    n = len(ranks)
    if n == 0:
        return Scores(0.0, 0.0, 0.0, 0)
    found = [r for r in ranks if r is not None and r <= k]
    return Scores(
        mrr=sum(1.0 / r for r in found) / n,
        recall_1=sum(1 for r in found if r == 1) / n,
        recall_k=len(found) / n,
        queries=n,
    )


# --- running ------------------------------------------------------------------------------------
@dataclass
class Row:
    dataset: str
    system: str
    model: str
    mrr: float
    recall_1: float
    recall_10: float
    queries: int
    chunks: int
    index_s: float | None  # embedding run shared by dense and hybrid; None for bm25
    chunks_per_s: float | None
    query_ms: float


def evaluate(
    search: Callable[[str], Sequence[Span]], queries: Sequence[Query], k: int = K
) -> tuple[Scores, float]:
    """Scores and mean milliseconds per query (after one warm-up query)."""
    if queries:
        search(queries[0].text)
    ranks: list[int | None] = []
    start = time.perf_counter()
    for q in queries:
        ranks.append(first_rank(search(q.text)[:k], q.target))
    ms = 1000 * (time.perf_counter() - start) / max(1, len(queries))
    return score(ranks, k), ms


def lexical_searcher(ws: Workspace, k: int = K) -> Callable[[str], list[LexicalHit]]:
    index = ws.code_index

    def search(query: str) -> list[LexicalHit]:
        ids = [cid for cid, _ in index.lexical_search(query, k)]
        chunks = index.chunks(ids)
        return [
            LexicalHit(chunks[c].path, chunks[c].start_line + 1, chunks[c].end_line + 1)
            for c in ids
            if c in chunks
        ]

    return search


def run_dataset(
    data: Dataset,
    candidates: Sequence[str],
    work: Path,
    cache: Path,
    k: int = K,
    variants: dict[str, Variant] | None = None,
    max_tokens: int = MAX_TOKENS,
) -> list[Row]:
    repo = work / data.name / "repo"
    data.write(repo)
    indexable = {entry.rel for entry in Workspace(repo, Settings()).file_filter.walk()}
    queries = [q for q in data.queries if q.target.path in indexable]
    if len(queries) < len(data.queries):
        data.notes.append(f"{len(data.queries) - len(queries)} queries dropped: target file not indexable")
    rows: list[Row] = []
    for n, candidate in enumerate(candidates):
        rows += run_model(
            data.name,
            queries,
            candidate,
            repo,
            work / data.name / f"index-{n}",
            cache,
            n == 0,
            k,
            variants,
            max_tokens,
        )
    return rows


def run_model(
    dataset: str,
    queries: Sequence[Query],
    candidate: str,
    repo: Path,
    index_dir: Path,
    cache: Path,
    with_bm25: bool,
    k: int = K,
    variants: dict[str, Variant] | None = None,
    max_tokens: int = MAX_TOKENS,
) -> list[Row]:
    """Index ``repo`` once with the candidate's encoder, then rank with bm25 (optionally),
    dense, hybrid and each ranking variant (system ``hybrid:NAME``)."""
    base, _, backend = candidate.partition("@")  # codekin@onnx-int8: the encoder on that runtime
    model, name = resolve(base, cache), short_name(base) + (f"@{backend}" if backend else "")
    name += f"/{max_tokens}t" if max_tokens != MAX_TOKENS else ""
    settings = Settings(
        model=model, backend=backend or "auto", hybrid=False, index_dir=str(index_dir), max_tokens=max_tokens
    )
    t0 = time.perf_counter()
    dense_ws = Workspace(
        repo, settings, encoder=unchecked_onnx(settings) if backend.startswith("onnx") else None
    )
    encoder = dense_ws.encoder
    log.info("%s: %s loaded in %.1fs", dataset, name, time.perf_counter() - t0)
    stats = dense_ws.index()
    if stats.skipped:
        log.warning("%s: skipped %s", dataset, stats.skipped)
    chunks, index_s = stats.chunks_total, stats.elapsed
    rate = stats.embedded / index_s if index_s else 0.0
    log.info(
        "%s: %s indexed %d chunks (%d embedded) in %.1fs", dataset, name, chunks, stats.embedded, index_s
    )

    rows: list[Row] = []

    def add(system: str, model: str, scores: Scores, ms: float, timed: bool = True) -> None:
        row = Row(
            dataset,
            system,
            model,
            scores.mrr,
            scores.recall_1,
            scores.recall_k,
            scores.queries,
            chunks,
            index_s if timed else None,
            rate if timed else None,
            ms,
        )
        log.info("%s", format_table([row], header=False))
        rows.append(row)

    if with_bm25:
        add("bm25", "-", *evaluate(lexical_searcher(dense_ws, k), queries, k), timed=False)
    add("dense", name, *evaluate(partial(dense_ws.search, k=k), queries, k))
    dense_ws.close()
    with Workspace(repo, settings.replace(hybrid=True), encoder=encoder) as hybrid_ws:
        again = hybrid_ws.index()
        if again.embedded:
            log.warning("%s: reopening the index re-embedded %d chunks", dataset, again.embedded)
        add("hybrid", name, *evaluate(partial(hybrid_ws.search, k=k), queries, k))
        for vname, v in (variants or {}).items():
            searcher = Searcher(hybrid_ws.code_index, encoder, ranking=v.ranking, query_options=v.query)
            run = partial(searcher.search, k=k)
            add(f"hybrid:{vname}", name, *evaluate(run, queries, k))
    shutil.rmtree(index_dir, ignore_errors=True)
    return rows


def unchecked_onnx(settings: Settings) -> Encoder:
    """The ONNX encoder even where its export failed the parity gate (to measure what it costs)."""
    from codekin.embeddings.backend import onnx_encoder

    encoder = onnx_encoder(
        settings.model,
        int8=settings.backend == "onnx-int8",
        batch_size=settings.batch_size,
        max_tokens=settings.max_tokens,
        checked=False,
    )
    assert encoder is not None  # built when missing
    return encoder


# --- output -------------------------------------------------------------------------------------
COLUMNS = (
    "dataset",
    "system",
    "model",
    "MRR@10",
    "R@1",
    "R@10",
    "queries",
    "chunks",
    "index s",
    "chunks/s",
    "query ms",
)


def _cells(row: Row) -> list[str]:
    def opt(v: float | None, fmt: str) -> str:
        return "-" if v is None else format(v, fmt)

    return [
        row.dataset,
        row.system,
        row.model,
        f"{row.mrr:.3f}",
        f"{row.recall_1:.3f}",
        f"{row.recall_10:.3f}",
        str(row.queries),
        str(row.chunks),
        opt(row.index_s, ".1f"),
        opt(row.chunks_per_s, ".1f"),
        f"{row.query_ms:.1f}",
    ]


def format_table(rows: Sequence[Row], header: bool = True) -> str:
    body = [_cells(r) for r in rows]
    widths = [max(len(c), *(len(b[i]) for b in body)) if body else len(c) for i, c in enumerate(COLUMNS)]
    lines = [
        " ".join(
            c.ljust(w) if i < 3 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )
        for cells in ([list(COLUMNS)] if header else []) + body
    ]
    if header:
        lines.insert(1, " ".join("-" * w for w in widths))
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument(
        "--models",
        default="codekin,minilm,mpnet",
        help="comma-separated candidates: codekin, minilm, mpnet, or any model id / local directory; "
        "NAME@BACKEND runs it on that encoder runtime (torch, onnx, onnx-int8)",
    )
    p.add_argument("--datasets", default="cosqa,stdlib", help="comma-separated: cosqa, stdlib")
    p.add_argument("--quick", action="store_true", help="small samples for a smoke test")
    p.add_argument("--max-tokens", type=int, default=MAX_TOKENS, help="encoder truncation (the setting)")
    p.add_argument("--cosqa", type=Path, default=DEFAULT_COSQA, help="path of cosqa-dev.json")
    p.add_argument("--cosqa-queries", type=int, default=0, help="sample this many CoSQA queries (0 = all)")
    p.add_argument("--stdlib-root", type=Path, default=None, help="standard library directory")
    p.add_argument("--stdlib-modules", type=int, default=40)
    p.add_argument("--stdlib-queries", type=int, default=500)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--variants", default="", help="ranking variants as in semble_bench.py (NAME=key:value,...;...)"
    )
    p.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE, help="assembled models (git-ignored)")
    p.add_argument("--json", type=Path, default=None, metavar="OUT", help="also write the figures as JSON")
    args = p.parse_args(argv)
    if args.quick:
        args.cosqa_queries = args.cosqa_queries or 40
        args.stdlib_modules, args.stdlib_queries = min(args.stdlib_modules, 4), min(args.stdlib_queries, 40)
    return args


def load(name: str, args: argparse.Namespace) -> Dataset:
    if name == "cosqa":
        return load_cosqa(
            args.cosqa, max_queries=args.cosqa_queries, max_files=120 if args.quick else 0, seed=args.seed
        )
    if name == "stdlib":
        return load_stdlib(
            args.stdlib_root, modules=args.stdlib_modules, max_queries=args.stdlib_queries, seed=args.seed
        )
    raise SystemExit(f"unknown dataset {name!r} (cosqa, stdlib)")


def main(argv: Sequence[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S", stream=sys.stderr
    )
    args = parse_args(argv)
    candidates = [m.strip() for m in args.models.split(",") if m.strip()]
    variants = parse_variants(args.variants)
    started = time.perf_counter()
    rows: list[Row] = []
    facts: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="codekin-bench-") as tmp:
        for name in (d.strip() for d in args.datasets.split(",") if d.strip()):
            data = load(name, args)
            log.info("%s: %d files, %d queries", name, len(data.files), len(data.queries))
            rows += run_dataset(
                data, candidates, Path(tmp), args.cache_dir, variants=variants, max_tokens=args.max_tokens
            )
            facts[name] = {"files": len(data.files), "notes": data.notes}
    wall = time.perf_counter() - started
    print(format_table(rows))
    for name, f in facts.items():
        print(f"{name}: {f['files']} files; " + "; ".join(f["notes"]))
    print(
        f"wall {wall:.0f}s; codekin {codekin.__version__}; {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} cpus"
    )
    if args.json:
        report = {
            "args": {k: str(v) for k, v in vars(args).items()},
            "datasets": facts,
            "rows": [asdict(r) for r in rows],
            "wall_s": wall,
            "cpus": os.cpu_count(),
        }
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
