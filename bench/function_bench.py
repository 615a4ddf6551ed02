"""Doc comment -> function: MRR@10 and R@10 per language over a pinned panel of repositories.

    flock /tmp/codekin-heavy.lock .venv/bin/python bench/function_bench.py     # mine, index, score
    .venv/bin/python bench/function_bench.py --no-build --per-repo --json out.json
    .venv/bin/python bench/function_bench.py --no-build --variants "a07=dense_share:0.7"
    .venv/bin/python bench/function_bench.py --no-build --failures 10          # dense right, default wrong

Each panel repository (function_panel.toml, none from the semble benchmark or the training
sources) is mined as ``codekin eval --mine`` mines it: doc comments removed from the indexed copy,
the query is a doc comment's first sentence, and a hit is correct when its lines overlap the
definition's lines in the stripped copy (``--limit`` queries per repository, seeded). The copy is
indexed once per model under ``.bench-cache/function/<repo>/index-<model>`` and reused. Systems:

* ``bm25``    — codekin's lexical index alone (``CodeIndex.lexical_search``);
* ``dense``   — the encoder alone (``hybrid=False``);
* ``default`` — ``Workspace.search`` with ``Settings()`` defaults: the shipped ranking;
* ``--variants`` — the default ranking changed as in ``_variants.parse_variants``.

A language's figure is the mean over its queries (all its repositories pooled). Headline: the
mean over languages (each language weighs the same, as semble's mean over repositories); the mean
over all queries is printed beside it.
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

from _variants import Variant, parse_variants  # noqa: E402
from function_data import (  # noqa: E402
    CACHE_DIR,
    PanelRepo,
    check_panel,
    ensure_tree,
    load_panel,
    mined_queries,
    stripped_tree,
)
from semble_bench import QueryCache, bench_model, make_encoder, mean, model_slug, open_cached, print_index  # noqa: E402

from codekin import Workspace  # noqa: E402
from codekin.evaluation.dataset import EvalQuery  # noqa: E402
from codekin.evaluation.metrics import score_query  # noqa: E402
from codekin.hit import Hit  # noqa: E402
from codekin.index.lexical import DEFAULT_QUERY, QueryOptions  # noqa: E402
from codekin.index.search import Searcher, to_hit  # noqa: E402
from codekin.settings import DEFAULT_MODEL, Settings  # noqa: E402

SYSTEMS = ("bm25", "dense", "default")
K = 10
METRICS = (("mrr", "MRR@10"), ("r10", "R@10"))

Search = Callable[[str], list[Hit]]


def searchers(ws: Workspace, systems: list[str], variants: dict[str, Variant]) -> dict[str, Search]:
    index = ws.code_index

    def bm25(query: str, options: QueryOptions = DEFAULT_QUERY) -> list[Hit]:
        ids = [cid for cid, _ in index.lexical_search(query, K, options=options)]
        chunks = index.chunks(ids)
        return [to_hit(cid, chunks[cid], 0.0) for cid in ids if cid in chunks]

    out: dict[str, Search] = {}
    for system in systems:
        if system == "bm25":
            out[system] = bm25
        elif system == "dense":
            out[system] = Searcher(ws.code_index, ws.encoder, hybrid=False, ranking=None).search
        elif system == "default":
            out[system] = ws.search
        else:
            raise SystemExit(f"unknown system {system!r} (choose from {', '.join(SYSTEMS)})")
    for name, v in variants.items():
        if v.files:
            raise SystemExit(f"variant {name}: files:1 lists files; this benchmark scores functions")
        if v.lexical_only:
            out[name] = partial(bm25, options=v.query)
        else:
            out[name] = Searcher(ws.code_index, ws.encoder, ranking=v.ranking, query_options=v.query).search
    return out


def hit_summary(h: Hit) -> dict[str, Any]:
    return {"path": h.path, "lines": [h.start_line, h.end_line], "symbol": h.symbol, "kind": h.kind}


def score_row(repo: PanelRepo, q: EvalQuery, results: dict[str, list[Hit]]) -> dict[str, Any]:
    """One query's outcome under every system: rank of the first correct hit, reciprocal rank,
    recall@10, the top three hits and the correct hit found (its symbol and kind)."""
    t = q.targets[0]
    row: dict[str, Any] = {
        "repo": repo.name,
        "language": repo.language,
        "query": q.query,
        "target": {"path": t.path, "lines": [t.start_line, t.end_line]},
    }
    for name, hits in results.items():
        s = score_query([(h.path, h.start_line, h.end_line) for h in hits], q.targets, K)
        found = hits[s.first_rank - 1] if s.first_rank else None
        row[name] = {
            "rank": s.first_rank,
            "mrr": s.reciprocal_rank,
            "r10": s.recall_at_k,
            "top": [hit_summary(h) for h in hits[:3]],
            "found": hit_summary(found) if found else None,
        }
    return row


def summarise(rows: list[dict[str, Any]], systems: list[str]) -> dict[str, Any]:
    """Per repository and per language (queries pooled) means; overall as the mean over
    languages (the headline) and over queries."""

    def means(sel: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
        return {s: {m: mean([r[s][m] for r in sel]) for m, _ in METRICS} for s in systems}

    by_repo: dict[str, list[dict[str, Any]]] = defaultdict(list)
    by_lang: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        by_repo[r["repo"]].append(r)
        by_lang[r["language"]].append(r)
    languages: dict[str, dict[str, Any]] = {
        lg: {**means(qs), "queries": len(qs), "repos": len({q["repo"] for q in qs})}
        for lg, qs in sorted(by_lang.items())
    }
    over_languages = {
        s: {m: mean([languages[lg][s][m] for lg in languages]) for m, _ in METRICS} for s in systems
    }
    return {
        "overall": {
            "languages": over_languages,
            "queries": means(rows),
            "n_languages": len(languages),
            "n_repos": len(by_repo),
            "n_queries": len(rows),
        },
        "by_language": languages,
        "by_repo": {
            name: {**means(qs), "language": qs[0]["language"], "queries": len(qs)}
            for name, qs in sorted(by_repo.items())
        },
    }


def print_tables(
    tables: dict[str, Any], systems: list[str], query_ms: dict[str, list[float]], per_repo: bool
) -> None:
    width = max(9, *(len(s) + 2 for s in systems))
    o = tables["overall"]
    for metric, label in METRICS:
        head = "".join(f"{s:>{width}s}" for s in systems)

        def line(name: str, row: dict[str, Any], extra: str = "", metric: str = metric) -> str:
            return f"{name:26s}" + "".join(f"{row[s][metric]:{width}.3f}" for s in systems) + f"  {extra}"

        print(
            f"\n{label} — {o['n_repos']} repositories, {o['n_languages']} languages, {o['n_queries']} queries"
        )
        print(f"{'':26s}{head}")
        for lg, row in tables["by_language"].items():
            print(line(lg, row, f"{row['queries']} queries, {row['repos']} repos"))
        print(line("mean over languages", o["languages"], "(headline)"))
        print(line("mean over queries", o["queries"]))
        if per_repo:
            print(f"\n{label} by repository\n{'':26s}{head}")
            for name, row in tables["by_repo"].items():
                print(line(name, row, f"{row['language']}, {row['queries']} queries"))
    print(f"\n{'query ms':26s}" + "".join(f"{mean(query_ms[s]):{width}.1f}" for s in systems))


def failures(
    rows: list[dict[str, Any]], n: int, good: str = "dense", bad: str = "default"
) -> list[dict[str, Any]]:
    """Up to ``n`` queries that ``good`` ranks first and ``bad`` does not, taken in turn from
    each language (worst ``bad`` rank first within a language)."""
    per_lang: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        if r[good]["rank"] == 1 and r[bad]["rank"] != 1:
            per_lang[r["language"]].append(r)
    for qs in per_lang.values():
        qs.sort(key=lambda r: -(r[bad]["rank"] or K + 1))
    out: list[dict[str, Any]] = []
    while len(out) < n and any(per_lang.values()):
        for lg in sorted(per_lang):
            if per_lang[lg] and len(out) < n:
                out.append(per_lang[lg].pop(0))
    return out


def print_failures(cases: list[dict[str, Any]], good: str = "dense", bad: str = "default") -> None:
    print(f"\n{good} ranks the target first, {bad} does not ({len(cases)} shown)")
    for r in cases:
        want, top = r[good]["found"], r[bad]["top"]
        rank = r[bad]["rank"] or f">{K}"
        print(f"- [{r['language']}, {r['repo']}] {r['query']!r}")
        print(f"    expected {want['symbol'] or '?'} ({want['kind']}) {want['path']}:{want['lines'][0]}")
        first = top[0] if top else None
        if first:
            where = f"{first['path']}:{first['lines'][0]}"
            print(f"    {bad} #1 {first['symbol'] or '-'} ({first['kind']}) {where}; target at rank {rank}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repos", help="comma-separated panel names (default: the whole panel)")
    ap.add_argument(
        "--model",
        default=DEFAULT_MODEL,
        help="codekin, minilm, mpnet, a model id or directory; fake (bm25 only)",
    )
    ap.add_argument("--systems", default=",".join(SYSTEMS))
    ap.add_argument("--variants", default="", help="ranking configurations, see _variants.parse_variants()")
    ap.add_argument("--limit", type=int, default=100, help="queries per repository (default 100)")
    ap.add_argument("--seed", type=int, default=0, help="seed of each repository's query sample")
    ap.add_argument("--no-build", action="store_true", help="skip repositories not indexed yet")
    ap.add_argument("--index-only", action="store_true", help="mine and index, do not score")
    ap.add_argument("--remine", action="store_true", help="strip and mine again (new query sets)")
    ap.add_argument("--per-repo", action="store_true", help="also print the per-repository tables")
    ap.add_argument(
        "--failures", type=int, default=0, metavar="N", help="print N queries dense gets, default misses"
    )
    ap.add_argument("--json", help="write tables, index figures and per-query results here")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    model = bench_model(args.model)
    panel = load_panel(names=args.repos.split(",") if args.repos else None)
    check_panel(panel)
    systems = [s for s in args.systems.split(",") if s]
    variants = parse_variants(args.variants)
    encoder = QueryCache(make_encoder(model))
    max_chunk_bytes = Settings().max_chunk_bytes

    rows: list[dict[str, Any]] = []
    index_info: dict[str, dict[str, Any]] = {}
    mining: dict[str, dict[str, int]] = {}
    query_ms: dict[str, list[float]] = defaultdict(list)
    for repo in panel:
        tree = ensure_tree(repo)
        if tree is None:
            print(f"  {repo.name}: no mirror (fetch github:{repo.slug})", file=sys.stderr)
            continue
        mined = mined_queries(
            repo, tree, limit=args.limit, seed=args.seed, max_chunk_bytes=max_chunk_bytes, remine=args.remine
        )
        mining[repo.name] = {
            "files": mined.files,
            "documented": mined.documented,
            "queries": len(mined.queries),
        }
        index_dir = repo.cache(CACHE_DIR) / f"index-{model_slug(model)}"
        opened = open_cached(
            repo.name, stripped_tree(repo), index_dir, model, encoder, not args.no_build, repo.revision
        )
        if opened is None:
            continue
        ws, info = opened
        index_info[repo.name] = info
        print(
            f"  {repo.name:24s} {repo.language:10s} {info['files']:5d} files {info['chunks']:6d} chunks "
            f"{len(mined.queries):4d} queries (of {mined.documented}) indexed in {info['seconds']:.0f}s",
            file=sys.stderr,
        )
        if args.index_only:
            ws.close()
            continue
        runs = searchers(ws, systems, variants)
        for q in mined.queries:
            ws.encoder.embed_queries([q.query])  # embed once, outside the timings
            results: dict[str, list[Hit]] = {}
            for name, run in runs.items():
                t0 = time.perf_counter()
                results[name] = run(q.query)
                query_ms[name].append((time.perf_counter() - t0) * 1000)
            rows.append(score_row(repo, q, results))
        ws.close()

    if args.index_only or not rows:
        print_index(index_info)
        return 0
    names_run = systems + list(variants)
    tables = summarise(rows, names_run)
    print(f"\nmodel {model}; {args.limit} queries per repository at most, seed {args.seed}")
    print_tables(tables, names_run, query_ms, args.per_repo)
    if args.failures and {"dense", "default"} <= set(names_run):
        print_failures(failures(rows, args.failures))
    print_index(index_info)
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "model": model,
                    "limit": args.limit,
                    "seed": args.seed,
                    "panel": {
                        r.name: {"language": r.language, "url": r.url, "revision": r.revision} for r in panel
                    },
                    "mining": mining,
                    "index": index_info,
                    "tables": tables,
                    "queries": rows,
                },
                indent=1,
            )
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
