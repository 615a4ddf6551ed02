"""NDCG@10 on the semble code-search benchmark (see semble_data.py and bench/README.md).

    flock /tmp/codekin-heavy.lock .venv/bin/python bench/semble_bench.py --subset
    .venv/bin/python bench/semble_bench.py --model fake --systems bm25          # all repos, cheap
    .venv/bin/python bench/semble_bench.py --subset --ablate --no-build         # ranking ablations

Each repository's searched folder is indexed once per model with the real pipeline
(``Workspace(root, Settings(model=..., index_dir=...))``, index under
``.bench-cache/semble/<repo>/index-<model>``) and reused by later runs. Systems:

* ``bm25``   — codekin's lexical index alone (``CodeIndex.lexical_search``);
* ``dense``  — the encoder alone (``Settings(hybrid=False)``);
* ``hybrid`` — dense + BM25 fused by plain reciprocal rank (no code-aware ranking);
* ``ranked`` — what ``Workspace.search`` returns: hybrid + code-aware ranking (the default);
* ``files``  — what ``Workspace.files`` returns ("which files" results, one per file, ranked with
  ``FILE_RANKING``): the benchmark's targets are files, so this is the mode that answers it.

Overall = mean over repositories of per-repository mean NDCG@10 (semble's figure); by category
and by language are means over repositories of their per-repository means within the group.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _models import DEFAULT_CACHE, resolve  # noqa: E402
from _variants import Variant, ablation_variants, parse_variants  # noqa: E402
from semble_data import SUBSET, K, Repo, ensure_tree, load_repos, ndcg_at_k, tree_revision  # noqa: E402

from codekin import Workspace  # noqa: E402
from codekin.embeddings.base import Encoder, Vectors  # noqa: E402
from codekin.index.lexical import DEFAULT_QUERY, QueryOptions  # noqa: E402
from codekin.index.search import Searcher  # noqa: E402
from codekin.settings import DEFAULT_MODEL, Settings  # noqa: E402

SYSTEMS = ("bm25", "dense", "hybrid", "ranked", "files")


class QueryCache:
    """Wraps an encoder so repeated queries (one per system and ablation) embed once."""

    def __init__(self, inner: Encoder) -> None:
        self.inner = inner
        self.model_id = inner.model_id
        self.model_hash = inner.model_hash
        self.dim = inner.dim
        self._memo: dict[str, Vectors] = {}

    def embed_documents(self, texts: list[str]) -> Vectors:
        return self.inner.embed_documents(texts)

    def embed_queries(self, texts: list[str]) -> Vectors:
        import numpy as np

        missing = [t for t in dict.fromkeys(texts) if t not in self._memo]
        if missing:
            for t, row in zip(missing, self.inner.embed_queries(missing), strict=True):
                self._memo[t] = row
        return np.stack([self._memo[t] for t in texts])


def bench_model(candidate: str) -> str:
    """``--model`` -> the ``Settings.model`` value: aliases as in quality.py, mpnet assembled once."""
    return candidate if candidate == "fake" else resolve(candidate, DEFAULT_CACHE)


def model_slug(model: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in model.rstrip("/").split("/")[-1])


def make_encoder(model: str) -> Encoder:
    from codekin.embeddings import build_encoder

    return build_encoder(model, Settings(model=model, device="cpu"))


def open_workspace(
    repo: Repo, model: str, encoder: Encoder, build: bool
) -> tuple[Workspace, dict[str, Any]] | None:
    root = ensure_tree(repo)
    if root is None:
        print(f"  {repo.name}: no mirror (fetch github:{repo.url.split('github.com/')[1]})", file=sys.stderr)
        return None
    index_dir = repo.cache / f"index-{model_slug(model)}"
    return open_cached(repo.name, root, index_dir, model, encoder, build, tree_revision(repo))


def open_cached(
    name: str, root: Path, index_dir: Path, model: str, encoder: Encoder, build: bool, revision: str
) -> tuple[Workspace, dict[str, Any]] | None:
    """``root`` indexed into ``index_dir`` (built or brought up to date unless ``build`` is off and
    it was never built); ``bench_index.json`` there records files, chunks, indexing seconds and
    the tree's revision."""
    stats_file = index_dir / "bench_index.json"
    if not build and not stats_file.exists():
        print(f"  {name}: not indexed with {model} (run without --no-build)", file=sys.stderr)
        return None
    ws = Workspace(root, Settings(model=model, index_dir=str(index_dir)), encoder=encoder)
    started = time.monotonic()
    stats = ws.index()
    elapsed = time.monotonic() - started
    info: dict[str, Any] = json.loads(stats_file.read_text()) if stats_file.exists() else {}
    if stats.embedded or not info:  # first build (or an update): record what indexing cost
        info = {
            "files": stats.files_total,
            "chunks": stats.chunks_total,
            "embedded": stats.embedded + int(info.get("embedded", 0)),
            "seconds": round(elapsed + float(info.get("seconds", 0.0)), 2),
            "revision": revision,
        }
        stats_file.write_text(json.dumps(info))
    return ws, info


def searchers(
    ws: Workspace, systems: list[str], ablations: dict[str, Variant]
) -> dict[str, Callable[[str], list[str]]]:
    out: dict[str, Callable[[str], list[str]]] = {}
    index = ws.code_index

    def bm25(query: str, options: QueryOptions = DEFAULT_QUERY) -> list[str]:
        ids = [cid for cid, _ in index.lexical_search(query, K, options=options)]
        chunks = index.chunks(ids)
        return [chunks[c].path for c in ids if c in chunks]

    def via(searcher: Searcher) -> Callable[[str], list[str]]:
        return lambda q: [h.path for h in searcher.search(q, K)]

    def variant(v: Variant) -> Callable[[str], list[str]]:
        if v.lexical_only:
            return partial(bm25, options=v.query)
        if v.files:
            searcher = Searcher(ws.code_index, ws.encoder, file_ranking=v.ranking, query_options=v.query)
            return lambda q: [f.path for f in searcher.search_files(q, K)]
        return via(Searcher(ws.code_index, ws.encoder, ranking=v.ranking, query_options=v.query))

    for system in systems:
        if system == "bm25":
            out[system] = bm25
        elif system == "dense":
            out[system] = via(Searcher(ws.code_index, ws.encoder, hybrid=False, ranking=None))
        elif system == "hybrid":
            out[system] = via(Searcher(ws.code_index, ws.encoder, hybrid=True, ranking=None))
        elif system == "ranked":
            out[system] = lambda q: [h.path for h in ws.search(q, K)]
        elif system == "files":
            out[system] = lambda q: [f.path for f in ws.files(q, K)]
        else:
            raise SystemExit(f"unknown system {system!r} (choose from {', '.join(SYSTEMS)})")
    for name, v in ablations.items():
        out[name] = variant(v)
    return out


def mean(xs: list[float]) -> float:
    return sum(xs) / len(xs) if xs else float("nan")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repos", help="comma-separated repository names (default: all)")
    ap.add_argument("--subset", action="store_true", help="the ablation subset (semble_data.SUBSET)")
    ap.add_argument("--systems", default=",".join(SYSTEMS))
    ap.add_argument(
        "--model",
        default=DEFAULT_MODEL,
        help="encoder: codekin, minilm, mpnet (assembled from its PyPI parts), a model id or directory; "
        "'fake' = hashing encoder (bm25 only)",
    )
    ap.add_argument("--ablate", action="store_true", help="also run every ranking signal on/off")
    ap.add_argument("--variants", default="", help="extra configurations, see parse_variants()")
    ap.add_argument("--no-build", action="store_true", help="skip repositories not indexed yet")
    ap.add_argument("--index-only", action="store_true")
    ap.add_argument("--json", help="write per-query results and tables here")
    ap.add_argument("--per-repo", action="store_true", help="print the per-repository table")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    args.model = bench_model(args.model)

    names = args.repos.split(",") if args.repos else (list(SUBSET) if args.subset else None)
    repos = load_repos(names)
    systems = [s for s in args.systems.split(",") if s]
    ablations = ablation_variants() if args.ablate else {}
    ablations.update(parse_variants(args.variants))
    encoder = QueryCache(make_encoder(args.model))

    per_query: list[dict[str, Any]] = []
    index_info: dict[str, dict[str, Any]] = {}
    query_ms: dict[str, list[float]] = defaultdict(list)
    unanswerable: dict[str, int] = {}
    for repo in repos:
        opened = open_workspace(repo, args.model, encoder, build=not args.no_build)
        if opened is None:
            continue
        ws, info = opened
        index_info[repo.name] = info
        print(
            f"  {repo.name:20s} {info['files']:5d} files {info['chunks']:6d} chunks "
            f"indexed in {info['seconds']:.1f}s",
            file=sys.stderr,
        )
        if args.index_only:
            ws.close()
            continue
        queries = repo.answerable()
        if len(queries) < len(repo.queries):
            unanswerable[repo.name] = len(repo.queries) - len(queries)
            print(
                f"  {repo.name}: {unanswerable[repo.name]} of {len(repo.queries)} queries not scored: "
                f"none of their files is in the extracted revision ({tree_revision(repo)})",
                file=sys.stderr,
            )
        runs = searchers(ws, systems, ablations)
        for q in queries:
            ws.encoder.embed_queries([q.query])  # embed once, outside the timings
            row: dict[str, Any] = {
                "repo": repo.name,
                "language": repo.language,
                "category": q.category,
                "query": q.query,
                "targets": q.targets,
            }
            for name, run in runs.items():
                t0 = time.perf_counter()
                paths = [repo.repo_path(p) for p in run(q.query)]
                query_ms[name].append((time.perf_counter() - t0) * 1000)
                row[name] = ndcg_at_k(paths, q.targets)
                row[f"{name}_top"] = paths[:3]
            per_query.append(row)
        ws.close()

    if args.index_only or not per_query:
        print_index(index_info)
        return 0
    names_run = systems + list(ablations)
    tables = summarise(per_query, names_run)
    print_tables(tables, names_run, query_ms, args.per_repo)
    if unanswerable:
        print(
            f"\nnot scored: {sum(unanswerable.values())} queries whose files the available revision lacks ("
            + ", ".join(f"{r} {n}" for r, n in unanswerable.items())
            + ")"
        )
    print_index(index_info)
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "model": args.model,
                    "tables": tables,
                    "index": index_info,
                    "unanswerable": unanswerable,
                    "queries": per_query,
                },
                indent=1,
            )
        )
    return 0


def summarise(rows: list[dict[str, Any]], systems: list[str]) -> dict[str, Any]:
    by_repo: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        by_repo[r["repo"]].append(r)
    lang = {r["repo"]: r["language"] for r in rows}

    def repo_means(filter_: Callable[[dict[str, Any]], bool]) -> dict[str, dict[str, float]]:
        out: dict[str, dict[str, float]] = {}
        for repo, qs in by_repo.items():
            sel = [q for q in qs if filter_(q)]
            if sel:
                out[repo] = {s: mean([q[s] for q in sel]) for s in systems}
        return out

    def avg(means: dict[str, dict[str, float]]) -> dict[str, float]:
        return {s: mean([m[s] for m in means.values()]) for s in systems}

    all_repos = repo_means(lambda q: True)
    tables: dict[str, Any] = {
        "overall": {**avg(all_repos), "repos": len(all_repos), "queries": len(rows)},
        "by_repo": all_repos,
        "by_category": {},
        "by_language": {},
    }
    for cat in sorted({r["category"] for r in rows}):
        m = repo_means(lambda q, c=cat: q["category"] == c)  # type: ignore[misc]
        tables["by_category"][cat] = {**avg(m), "queries": sum(1 for r in rows if r["category"] == cat)}
    for lg in sorted(set(lang.values())):
        m = {repo: v for repo, v in all_repos.items() if lang[repo] == lg}
        tables["by_language"][lg] = {**avg(m), "repos": len(m)}
    return tables


def print_tables(
    tables: dict[str, Any], systems: list[str], query_ms: dict[str, list[float]], per_repo: bool
) -> None:
    width = max(8, *(len(s) + 1 for s in systems))
    head = "".join(f"{s:>{width}s}" for s in systems)

    def line(label: str, row: dict[str, float], extra: str = "") -> str:
        return f"{label:22s}" + "".join(f"{row[s]:{width}.3f}" for s in systems) + f"  {extra}"

    o = tables["overall"]
    print(f"\nNDCG@{K} — {o['repos']} repositories, {o['queries']} queries (mean of per-repo means)")
    print(f"{'':22s}{head}")
    print(line("overall", o))
    print(f"{'query ms':22s}" + "".join(f"{mean(query_ms[s]):{width}.1f}" for s in systems))
    print(f"\nby category\n{'':22s}{head}")
    for cat, row in tables["by_category"].items():
        print(line(cat, row, f"{row['queries']} queries"))
    print(f"\nby language\n{'':22s}{head}")
    for lg, row in tables["by_language"].items():
        print(line(lg, row, f"{row['repos']} repos"))
    if per_repo:
        print(f"\nby repository\n{'':22s}{head}")
        for repo, row in sorted(tables["by_repo"].items()):
            print(line(repo, row))


def print_index(info: dict[str, dict[str, Any]]) -> None:
    if not info:
        return
    files = sum(i["files"] for i in info.values())
    chunks = sum(i["chunks"] for i in info.values())
    embedded = sum(i["embedded"] for i in info.values())
    seconds = sum(i["seconds"] for i in info.values())
    rate = embedded / seconds if seconds else float("nan")
    print(
        f"\nindex: {len(info)} repos, {files} files, {chunks} chunks, {embedded} embedded in "
        f"{seconds:.0f}s when first built ({rate:.1f} chunks/s)"
    )


if __name__ == "__main__":
    raise SystemExit(main())
