"""The ``codekin`` command line: index, search, similar, context, status, eval, serve."""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from codekin.agents.install import AGENTS_BLOCK, CLIENTS, client_config, write_agents_block
from codekin.evaluation import (
    DatasetError,
    EvalQuery,
    EvalReport,
    evaluate,
    load_dataset,
    mine_repository,
    write_dataset,
)
from codekin.evaluation import feedback as eval_feedback
from codekin.evaluation import history as eval_history
from codekin.evaluation.compare import Comparison, compare
from codekin.hit import Coverage, FileHit, Hit
from codekin.index import explain
from codekin.index.code_index import CorruptIndex
from codekin.index.indexer import IndexProgress, IndexStats
from codekin.index.lock import IndexLocked
from codekin.settings import BACKENDS, Source, project_sources, resolve
from codekin.workspace import Workspace

log = logging.getLogger("codekin")


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--root", default=None, help="repository root (default: the current directory)")
    p.add_argument("-k", type=int, default=10, help="number of results (default 10)")
    p.add_argument("--json", action="store_true", help="machine-readable output on stdout")
    p.add_argument("--model", default=None, help="encoder: packaged model name, transformers id or directory")
    p.add_argument(
        "--backend", default=None, choices=BACKENDS, help="encoder runtime (default: the setting, auto)"
    )
    p.add_argument("--index-dir", default=None, help="where the index lives (default <root>/.codekin)")
    p.add_argument("-v", "--verbose", action="count", default=0, help="more logging on stderr")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="codekin", description="Semantic code search for your repository.")
    parser.add_argument("--version", action="version", version=f"codekin {_version()}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("index", help="index a repository (incremental)")
    p.add_argument("path", nargs="?", default=None, help="repository root (same as --root)")
    p.add_argument(
        "--full", action="store_true", help="re-embed everything (built beside the live index, swapped in)"
    )
    p.add_argument(
        "--rollback",
        action="store_true",
        help="put back the index that was live before the last full rebuild or model change",
    )
    _add_common(p)

    p = sub.add_parser("search", help="natural-language or identifier search")
    p.add_argument("query", nargs="+")
    p.add_argument("--language", action="append", default=None, help="only this language (repeatable)")
    p.add_argument("--path", action="append", default=None, help="only paths matching this glob (repeatable)")
    p.add_argument("--files", action="store_true", help="the best files (with their best chunks), not chunks")
    p.add_argument("--no-update", action="store_true", help="search the index as it is, without updating")
    p.add_argument(
        "--store",
        default=None,
        help="search a shared org index: qdrant-local:DIR or qdrant://HOST:PORT/COLLECTION",
    )
    p.add_argument(
        "--repo", action="append", default=None, help="with --store: only this repository (repeatable)"
    )
    p.add_argument(
        "--explain",
        action="store_true",
        help="show every signal that placed each hit (dense, BM25, adjustments, final score)",
    )
    p.add_argument(
        "--fast",
        action="store_true",
        help="keywords and the code-aware ranking only: no model load, no update (the index as it is)",
    )
    _add_common(p)

    p = sub.add_parser(
        "similar", help="code similar to PATH[:LINE[-END]], or to code on stdin ('-'), in any language"
    )
    p.add_argument(
        "target",
        help="PATH:LINE (the chunk there), PATH:START-END (a selection), PATH (the whole file), or -",
    )
    p.add_argument(
        "--language", action="append", default=None, help="only results in this language (repeatable)"
    )
    p.add_argument("--path", action="append", default=None, help="only paths matching this glob (repeatable)")
    p.add_argument(
        "--code-language", default=None, help="language of the code on stdin (else: one --language)"
    )
    p.add_argument("--include-non-code", action="store_true", help="prose, data and config files too")
    p.add_argument(
        "--siblings",
        action="store_true",
        help="rank the rest of the query's file with code elsewhere (default: after it)",
    )
    p.add_argument("--no-update", action="store_true", help="search the index as it is, without updating")
    _add_common(p)

    p = sub.add_parser("context", help="chunks for an assistant's prompt, within a token budget")
    p.add_argument("query", nargs="*")
    p.add_argument("--at", default=None, help="PATH:LINE whose neighbourhood to gather")
    p.add_argument("--tokens", type=int, default=2000, help="token budget (default 2000)")
    p.add_argument("--no-update", action="store_true", help="search the index as it is, without updating")
    _add_common(p)

    p = sub.add_parser("mcp", help="serve coding agents over MCP (stdio), or print a client's configuration")
    p.add_argument(
        "--root",
        action="append",
        default=None,
        help="a root to serve (repeatable; default: the client's MCP roots, else the current directory)",
    )
    p.add_argument(
        "--print-config", choices=CLIENTS, default=None, help="print this client's MCP configuration"
    )
    p.add_argument("--model", default=None, help="encoder: packaged model name, transformers id or directory")
    p.add_argument(
        "--backend", default=None, choices=BACKENDS, help="encoder runtime (default: the setting, auto)"
    )
    p.add_argument("--index-dir", default=None, help="where the index lives (one root only)")
    p.add_argument(
        "--store", default=None, help="answer search from a shared org index (qdrant-local:DIR, qdrant://…)"
    )
    p.add_argument("-v", "--verbose", action="count", default=0, help="more logging on stderr")

    p = sub.add_parser("agents-md", help="add codekin's tool instructions for agents to AGENTS.md")
    p.add_argument(
        "--file", default="AGENTS.md", help="the instructions file (default AGENTS.md; e.g. CLAUDE.md)"
    )
    p.add_argument("--print", action="store_true", help="print the block instead of writing it")
    p.add_argument("-v", "--verbose", action="count", default=0)

    p = sub.add_parser("status", help="what the index holds")
    _add_common(p)

    p = sub.add_parser("doctor", help="check the index end to end (exit 1 when something is wrong)")
    p.add_argument(
        "--sample",
        type=int,
        default=200,
        help="stored vectors used as queries for the ANN recall (default 200)",
    )
    _add_common(p)

    p = sub.add_parser(
        "eval",
        help="measure search quality: on a JSONL query set, or on queries mined from doc comments",
        description='Scores search on DATASET (JSONL, one {"query": ..., "path": ...[, "start_line": N, '
        '"end_line": M]} per line) or, with --mine, on queries made from the first sentence of this '
        "repository's doc comments, searched in a copy with those comments removed, or, with "
        "--feedback, on the search results opened in the editors (setting feedback = true).",
    )
    p.add_argument("dataset", nargs="?", default=None, help="JSONL query set (paths relative to the root)")
    p.add_argument(
        "--mine", action="store_true", help="mine the query set from this repository's doc comments"
    )
    p.add_argument(
        "--limit", type=int, default=200, help="with --mine: at most this many queries (default 200)"
    )
    p.add_argument("--seed", type=int, default=0, help="with --mine: seed of the query sample (default 0)")
    p.add_argument(
        "--feedback",
        action="store_true",
        help="the query set is the results opened in the editors (setting feedback = true), logged "
        "in the index dir's feedback.jsonl: each query's answer is the chunk opened for it",
    )
    p.add_argument(
        "--save-dataset",
        metavar="FILE",
        default=None,
        help="with --mine or --feedback: also write the queries here",
    )
    p.add_argument(
        "--files", action="store_true", help="score file results (search --files) instead of chunks"
    )
    p.add_argument("--worst", type=int, default=10, help="how many of the worst queries to list (default 10)")
    p.add_argument(
        "--compare",
        nargs=2,
        metavar=("MODEL_A", "MODEL_B"),
        default=None,
        help="score the same queries with two encoders side by side (a confidence interval of the "
        "difference and the queries that changed most); each keeps its own index under the index dir",
    )
    p.add_argument("--no-update", action="store_true", help="search the index as it is, without updating")
    _add_common(p)

    from codekin.org.command import add_parser as add_org_parser  # no Ray or Qdrant import

    add_org_parser(sub)

    p = sub.add_parser("serve", help="run the language server (stdio by default)")
    p.add_argument("--tcp", default=None, metavar="HOST:PORT", help="listen on TCP instead of stdio")
    p.add_argument("--log-file", default=None, help="also write logs to this file")
    p.add_argument("-v", "--verbose", action="count", default=0)
    from codekin.tuning.command import add_parser as add_tune_parser

    add_tune_parser(sub, _add_common)
    return parser


def _version() -> str:
    from codekin import __version__

    return __version__


def _setup_logging(verbose: int) -> None:
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    logging.basicConfig(level=level, stream=sys.stderr, format="codekin: %(levelname)s %(message)s")
    for noisy in ("transformers", "urllib3", "filelock", "huggingface_hub"):
        logging.getLogger(noisy).setLevel(logging.ERROR)


def open_workspace(args: argparse.Namespace) -> Workspace:
    root = Path(getattr(args, "path", None) or args.root or ".")
    files = project_sources(root.resolve()) if root.is_dir() else []
    overrides: dict[str, Any] = {
        "model": args.model,
        "backend": args.backend,
        "index_dir": args.index_dir,
        "store": getattr(args, "store", None),
    }
    settings, problems = resolve(*files, Source("command line", overrides))
    for problem in problems:
        log.warning("%s", problem)
    return Workspace(root, settings)


def main(argv: Sequence[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    args = build_parser().parse_args(argv)
    _setup_logging(args.verbose)
    if args.command == "serve":
        from codekin.server import run_server

        return run_server(tcp=args.tcp, log_file=args.log_file)
    if args.command in ("mcp", "agents-md"):
        return cmd_agents(args)
    if args.command == "org":
        from codekin.org.command import run_in_driver

        try:
            return run_in_driver(list(argv) if argv is not None else sys.argv[1:])
        except RuntimeError as exc:
            print(f"codekin: error: {exc}", file=sys.stderr)
            return 1
    try:
        with open_workspace(args) as ws:
            handler = {
                "index": cmd_index,
                "search": cmd_search,
                "similar": cmd_similar,
                "context": cmd_context,
                "status": cmd_status,
                "doctor": cmd_doctor,
                "eval": cmd_eval,
                "tune": cmd_tune,
            }[args.command]
            return handler(ws, args)
    except (
        IndexLocked,
        CorruptIndex,
        NotADirectoryError,
        LookupError,
        RuntimeError,
        OSError,
        DatasetError,
    ) as exc:
        print(f"codekin: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("codekin: interrupted; the index keeps everything committed so far", file=sys.stderr)
        return 130


# --- commands ------------------------------------------------------------------------------
def _index_with_progress(ws: Workspace, full: bool = False, quiet: bool = False) -> IndexStats:
    if quiet or not sys.stderr.isatty():
        return ws.index(full=full, progress=_plain_progress() if not quiet else None)
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    with Progress(
        TextColumn("[bold]{task.fields[phase]:<9}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[unit]}  {task.fields[chunks]}  {task.fields[rate]}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task("index", total=None, phase="scanning", unit="files", chunks="", rate="")

        def on_progress(p: IndexProgress) -> None:
            if p.phase == "embedding":  # every file searchable by keywords; now the vectors
                spent = p.elapsed - (p.lexical_elapsed or 0.0)
                rate = f"{p.embedded / spent:.0f}/s" if spent > 1 and p.embedded else ""
                bar.update(
                    task,
                    total=p.to_embed or None,
                    completed=p.embedded,
                    phase=p.phase,
                    unit="chunks",
                    chunks="(searchable by keywords meanwhile)",
                    rate=rate,
                )
                return
            bar.update(
                task,
                total=p.files_total or None,
                completed=p.files_done,
                phase=p.phase,
                unit="files",
                chunks=f"{p.chunks_done} chunks",
                rate="",
            )

        return ws.index(full=full, progress=on_progress)


def _plain_progress() -> Any:
    last = [0.0]

    def on_progress(p: IndexProgress) -> None:
        now = time.monotonic()
        if p.phase == "done" or now - last[0] > 5:
            last[0] = now
            done = f"{p.embedded}/{p.to_embed}" if p.phase == "embedding" else str(p.embedded)
            print(
                f"codekin: {p.phase}: {p.files_done}/{p.files_total} files, {p.chunks_done} chunks, "
                f"{done} embedded, {p.elapsed:.0f}s",
                file=sys.stderr,
            )

    return on_progress


def cmd_index(ws: Workspace, args: argparse.Namespace) -> int:
    if args.rollback:
        return _rollback(ws, args)
    stats = _index_with_progress(ws, full=args.full, quiet=args.json)
    if args.json:
        print(json.dumps(stats.__dict__, indent=2))
        return 0
    if stats.rebuilt_reason:
        print(f"note: {stats.rebuilt_reason}")
    rate = stats.embedded / stats.elapsed if stats.elapsed > 0 else 0.0
    print(
        f"indexed {ws.root}: {stats.files_total} files, {stats.chunks_total} chunks "
        f"({stats.files_indexed} files updated, {stats.files_removed} removed, "
        f"{stats.files_skipped} skipped; searchable by keywords after {stats.lexical_elapsed:.1f}s; "
        f"{stats.embedded} chunks embedded in {stats.elapsed:.1f}s, {rate:.0f}/s)"
    )
    if stats.cancelled:
        print("note: interrupted; the next run resumes (unembedded chunks are found by keywords meanwhile)")
    for path, reason in list(stats.skipped.items())[:10]:
        print(f"  skipped {path}: {reason}")
    if len(stats.skipped) > 10:
        print(f"  … {stats.files_skipped - 10} more skipped (run with -v to see all)")
    return 0


def _rollback(ws: Workspace, args: argparse.Namespace) -> int:
    if args.full:
        raise LookupError("--rollback and --full exclude each other")
    restored = ws.rollback()
    model = restored.model if restored else "an unknown model"
    if args.json:
        print(json.dumps({"rolled_back": True, "model": model, "configured_model": ws.settings.model}))
        return 0
    print(f"rolled back {ws.index_dir}: the index built with {model} is live again (run again to undo)")
    if restored and restored.model != ws.settings.model:
        print(
            f"note: this index was built with {model}, but {ws.settings.model} is configured; set "
            f"model = {model!r} (or pass --model), or the next update rebuilds it"
        )
    return 0


def _ensure_fresh(ws: Workspace, args: argparse.Namespace) -> None:
    if getattr(args, "no_update", False):
        return
    if not ws.writable:
        _note(args, "the index is read-only here: searching it as it is, without updating it")
        return
    try:
        stats = _index_with_progress(ws, quiet=args.json)
    except IndexLocked as exc:  # its run commits every file first: what it holds is searchable
        _note(args, f"{exc}; searching the index as it is")
        return
    if stats.rebuilt_reason:
        _note(args, stats.rebuilt_reason)


def cmd_search(ws: Workspace, args: argparse.Namespace) -> int:
    query = " ".join(args.query)
    shared = bool(ws.settings.store)  # a shared org index: nothing local to update
    if shared and args.files:
        raise LookupError("--files is not available over a shared store (--store) yet")
    if args.repo and not shared:
        raise LookupError("--repo narrows a shared store: give --store too")
    if args.fast and args.explain:
        raise LookupError("--explain needs the dense part: drop --fast")
    if not (args.fast or shared):
        _ensure_fresh(ws, args)
    where: dict[str, Any] = {"languages": args.language, "paths": args.path, "explain": args.explain}
    where |= {"repos": args.repo} if shared else {"lexical": args.fast}
    if args.files:
        files = ws.files(query, args.k, **where)
        items, coverage = [f.to_dict() for f in files], files.coverage
        if not args.json:
            _print_files(files, False)
    else:
        hits = ws.search(query, args.k, **where)
        items, coverage = [h.to_dict() for h in hits], hits.coverage
        if not args.json:
            _print_hits(hits, False)
    if args.json:  # the results and how much of the index was embedded (partial, embedded/total)
        print(json.dumps({"results": items, **coverage.to_dict()}, indent=2))
        return 0
    if note := _coverage_note(coverage, args.fast):
        print(note)
    if args.explain and not shared:
        _print_provenance(ws)
    return 0


def _print_provenance(ws: Workspace) -> None:
    """The model, weights and index generation the explained scores came from (one line)."""
    m = ws.code_index.manifest
    generation = ws.code_index.generation()
    print(f"explained with model {m.model} (weights {m.model_hash[:16]}), index generation {generation}")


def _coverage_note(coverage: Coverage, fast: bool = False) -> str | None:
    if coverage.lexical_only:
        if fast:
            return "(--fast: keywords and ranking only, no model loaded; the index as it is, not updated)"
        return "(keywords and ranking only: the index was built for another model; codekin index rebuilds it)"
    if coverage.partial:
        return (
            f"(partial: {coverage.embedded}/{coverage.total} chunks embedded so far; "
            "the rest were matched by keywords only)"
        )
    return None


def _parse_location(target: str) -> tuple[str, int | None]:
    path, _, line = target.rpartition(":")
    if path and line.isdigit():
        return path, int(line)
    return target, None


def _parse_span(target: str) -> tuple[str, int | None, int | None]:
    """PATH, PATH:LINE or PATH:START-END."""
    path, _, span = target.rpartition(":")
    start, _, end = span.partition("-")
    if path and start.isdigit() and (not end or end.isdigit()):
        return path, int(start), int(end) if end else None
    return target, None, None


def cmd_similar(ws: Workspace, args: argparse.Namespace) -> int:
    _ensure_fresh(ws, args)
    filters = {
        "languages": args.language,
        "paths": args.path,
        "include_non_code": args.include_non_code,
        "include_siblings": args.siblings,
    }
    if args.target == "-":
        language = args.code_language or (
            args.language[0] if args.language and len(args.language) == 1 else None
        )
        code = sys.stdin.buffer.read().decode("utf-8", "replace")  # any bytes, whatever the locale
        hits = ws.similar(code, language, args.k, **filters)
    else:
        path, line, end = _parse_span(args.target)
        if not (ws.root / path).exists() and not Path(path).exists():
            raise LookupError(f"{path}: no such file")
        where = Path(path).resolve() if Path(path).exists() else ws.root / path
        hits = ws.similar_to(where, line, args.k, end_line=end, **filters)
    _print_hits(hits, args.json)
    return 0


def cmd_context(ws: Workspace, args: argparse.Namespace) -> int:
    _ensure_fresh(ws, args)
    path, line = _parse_location(args.at) if args.at else (None, None)
    if args.at and line is None:
        raise LookupError(f"--at wants PATH:LINE, got {args.at!r}")
    query = " ".join(args.query) or None
    if query is None and path is None:
        raise LookupError("give a question, --at PATH:LINE, or both")
    built = ws.context(query=query, path=path, line=line, token_budget=args.tokens, k=args.k)
    print(json.dumps(built.to_dict(), indent=2) if args.json else built.render())
    return 0


def cmd_agents(args: argparse.Namespace) -> int:
    """``mcp`` (serve, or --print-config) and ``agents-md``: no Workspace of their own."""
    if args.command == "agents-md":
        if args.print:
            print(AGENTS_BLOCK, end="")
            return 0
        what = write_agents_block(Path(args.file))
        print(f"{what} the codekin block in {args.file}")
        return 0
    if args.print_config:
        where, text = client_config(args.print_config)
        print(f"codekin: put this in {where}", file=sys.stderr)
        print(text, end="")
        return 0
    from codekin.agents.mcp_server import run_stdio

    if args.index_dir and len(args.root or []) > 1:
        print("codekin: error: --index-dir needs a single --root", file=sys.stderr)
        return 2
    overrides = {
        "model": args.model,
        "backend": args.backend,
        "index_dir": args.index_dir,
        "store": args.store,
    }
    return run_stdio([Path(r) for r in args.root or []], overrides)


def cmd_status(ws: Workspace, args: argparse.Namespace) -> int:
    st = ws.status(check=True)
    if args.json:
        print(json.dumps(st.__dict__, indent=2))
        return 0
    notes = [f"problem:      {st.problem}"] if st.problem else []
    notes += ["read-only:    yes (searchable with --no-update; not updated)"] if st.read_only else []
    notes += (
        ["rebuilding:   a full rebuild is in progress (or was interrupted) beside the live index"]
        if st.rebuilding
        else []
    )
    notes += [f"quarantined:  {name}" for name in st.quarantined]
    if not st.exists:
        print("\n".join([f"no index yet for {st.root} (run: codekin index {st.root})", *notes]))
        return 0
    updated = (
        time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(st.last_updated)) if st.last_updated else "never"
    )
    langs = ", ".join(f"{k} {v}" for k, v in list(st.languages.items())[:8])
    print(
        f"root:         {st.root}\nindex:        {st.index_dir} ({st.size_bytes / 1e6:.1f} MB)\n"
        f"files:        {st.files}\nchunks:       {st.chunks}\nmodel:        {st.model} ({st.dim} dims)\n"
        f"last update:  {updated}\nlanguages:    {langs}"
    )
    if st.evaluation:
        last = st.evaluation["latest"]
        day = time.strftime("%Y-%m-%d", time.localtime(last["time"]))
        print(
            f"evaluation:   MRR@{last['k']} {last['mrr']:.3f} (best {st.evaluation['best_mrr']:.3f}), "
            f"{last['queries']} queries {last['dataset']}, {last['model']}, {day}"
        )
        notes += [f"warning:      {w}" for w in st.evaluation["warnings"]]
    kinds = ", ".join(f"{k} {v}" for k, v in st.redaction_kinds.items())
    redacted = f"{st.redactions} secrets masked in {st.redacted_files} files" + (
        f" ({kinds})" if kinds else ""
    )
    print(
        f"redacted:     {redacted}"
        if ws.settings.redact_enabled
        else "redacted:     off (redact.enabled = false)"
    )
    if notes:
        print("\n".join(notes))
    return 0


def cmd_doctor(ws: Workspace, args: argparse.Namespace) -> int:
    report = ws.doctor(sample=max(args.sample, 1), k=args.k)
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
        return 0 if report.ok else 1
    print(f"codekin doctor: {report.root} (index {report.index_dir})")
    for c in report.checks:
        label = {"ok": "ok", "warn": "warn", "fail": "FAIL"}[c.status]
        print(f"  {label:<5} {c.name:<12} {c.detail}")
    d = report.to_dict()
    verdict = "no problems" if report.ok else f"{d['problems']} problem(s)"
    print(f"{verdict}, {d['warnings']} warning(s)")
    return 0 if report.ok else 1


def cmd_eval(ws: Workspace, args: argparse.Namespace) -> int:
    if [bool(args.dataset), args.mine, args.feedback].count(True) != 1:
        raise LookupError("give one of a DATASET file, --mine or --feedback (see codekin eval --help)")
    models: list[str | None] = list(args.compare) if args.compare else [None]  # None: the configured one
    if args.dataset:
        queries = load_dataset(args.dataset)  # before indexing: a bad file fails fast
        root, index_base = ws.root, ws.index_dir / "compare"
        dataset, source = str(Path(args.dataset).resolve()), f"from {args.dataset}"
    elif args.feedback:
        queries, root, index_base = _feedback_queries(ws), ws.root, ws.index_dir / "compare"
        if args.save_dataset:
            write_dataset(queries, args.save_dataset)
        dataset, source = (
            "feedback",
            f"from the results opened in the editors ({eval_feedback.FEEDBACK_NAME})",
        )
    else:
        work = ws.index_dir / "eval-mined"
        _note(args, f"mining doc comments of {ws.root} into a stripped copy at {work / 'tree'} …")
        mined = mine_repository(
            ws.file_filter,
            work / "tree",
            limit=args.limit,
            seed=args.seed,
            max_chunk_bytes=ws.settings.max_chunk_bytes,
            redactor=ws.redactor,
        )
        if not mined.queries:
            raise LookupError(f"no documented definitions with a usable doc comment in {mined.files} files")
        if args.save_dataset:
            write_dataset(mined.queries, args.save_dataset)
        queries, root, index_base = mined.queries, work / "tree", work
        dataset = f"mined (seed {args.seed}, limit {args.limit})"
        source = f"mined from {mined.documented} documented definitions in {mined.files} files"
    reports = []
    for model in models:
        with _eval_workspace(ws, root, index_base, model) as target:
            if target is ws:
                _ensure_fresh(ws, args)
            else:
                _index_with_progress(target, quiet=args.json)
            report = evaluate(target, queries, k=args.k, files=args.files)
            _record(ws, target, report, dataset)
        reports.append((target.settings.model, report))
    if args.compare:
        (model_a, a), (model_b, b) = reports
        _print_comparison(compare(a, b, model_a, model_b, changes=args.worst), a, args, source)
    else:
        _print_report(reports[0][1], args, source=source)
    return 0


def _feedback_queries(ws: Workspace) -> list[EvalQuery]:
    opened = eval_feedback.read(ws.index_dir)
    if not opened:
        raise LookupError(
            f"no opened results are logged in {ws.index_dir / eval_feedback.FEEDBACK_NAME}: set "
            "feedback = true and open search results in the editor"
        )
    return eval_feedback.to_dataset(opened)


@contextmanager
def _eval_workspace(ws: Workspace, root: Path, index_base: Path, model: str | None) -> Iterator[Workspace]:
    """Where one model is evaluated: the workspace itself for its own model on its own tree;
    otherwise an index of ``root`` under ``index_base`` kept per model (reused next time)."""
    own = model is None or model == ws.settings.model
    if own and root == ws.root:
        yield ws
        return
    if own:
        other = Workspace(root, replace(ws.settings, index_dir=str(index_base / "index")), encoder=ws.encoder)
    else:
        assert model is not None
        slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", model).strip("-")[-48:] or "model"
        index_dir = str(index_base / f"index-{slug}")
        other = Workspace(root, replace(ws.settings, model=model, index_dir=index_dir))
    with other:
        yield other


def _record(ws: Workspace, target: Workspace, report: EvalReport, dataset: str) -> None:
    """Append the run to the history of ``ws``'s index (codekin status reads it for drift)."""
    index = target.code_index
    corpus = (index.generation(), *index.counts())
    encoder = target.encoder
    record = eval_history.EvalRecord.of(report, dataset, target.settings.model, encoder.model_hash, corpus)
    try:
        eval_history.append(ws.index_dir, record)
    except OSError as exc:
        log.warning("the evaluation is not recorded in %s: %s", ws.index_dir, exc)


def _print_comparison(c: Comparison, a: EvalReport, args: argparse.Namespace, source: str) -> None:
    if args.json:
        out = {
            "mode": a.mode,
            "source": source,
            "queries": c.queries,
            "model_a": c.model_a,
            "model_b": c.model_b,
            "metrics": [{**asdict(m), "diff": m.diff, "significant": m.significant} for m in c.metrics],
            "changed": [asdict(ch) for ch in c.changed],
        }
        print(json.dumps(out, indent=2))
        return
    width = max(len(c.model_a), len(c.model_b), 8) + 2
    name_a, name_b = f"A {c.model_a}", f"B {c.model_b}"
    print(f"{c.queries} queries {source}; {a.mode[:-1]} results, top {a.summary.k}")
    print(f"  {'':<8} {name_a:>{width}}  {name_b:>{width}}  {'B - A':>7}  95% interval")
    for m in c.metrics:
        mark = "  *" if m.significant else ""
        print(
            f"  {m.name:<8} {m.a:>{width}.3f}  {m.b:>{width}.3f}  {m.diff:>+7.3f}  "
            f"[{m.low:+.3f}, {m.high:+.3f}]{mark}"
        )
    print("  (* the interval excludes 0: a difference these queries show reliably)")
    if c.changed:
        print("queries that changed most (rank of the first correct result, A -> B; '-' = not in the top):")
    for ch in c.changed:
        ra = str(ch.rank_a) if ch.rank_a else "-"
        rb = str(ch.rank_b) if ch.rank_b else "-"
        print(f"  {ra:>2} -> {rb:<2}  {ch.query[:90]!r}")


def cmd_tune(ws: Workspace, args: argparse.Namespace) -> int:
    from codekin.tuning import TuneHooks, TuneOptions, tune
    from codekin.tuning.progress import step_bar

    options = TuneOptions(
        steps=args.steps,
        epochs=args.epochs,
        batch=args.batch,
        lr=args.lr,
        max_tokens=args.max_tokens,
        out=Path(args.out) if args.out else None,
        resume=args.resume,
        checkpoint_every=args.checkpoint_every,
        seed=args.seed,
        k=args.k,
    )
    try:
        options.check()
    except ValueError as exc:
        raise LookupError(str(exc)) from None
    with step_bar(quiet=args.json) as on_step:
        hooks = TuneHooks(
            note=lambda text: _note(args, text),
            step=on_step,
            index=lambda target: _index_with_progress(target, quiet=args.json),
        )
        result = tune(ws, options, hooks)
    if args.json:
        changed = [asdict(ch) for ch in result.comparison.changed]
        print(json.dumps({**result.card, "tune_dir": str(result.tune_dir), "changed": changed}, indent=2))
        return 0
    train = result.card["training"]
    resumed = f", resumed from step {train['resumed_from']}" if train["resumed_from"] else ""
    print(
        f"trained {train['steps']} steps in {train['seconds'] / 60:.1f} min{resumed}; "
        f"final loss {train['loss']:.3f}"
    )
    files = result.card["files"]["held_out"]
    _print_comparison(
        result.comparison, result.base, args, f"held out from tuning ({files} files never trained on)"
    )
    print(f"tuned model: {result.model_dir}  (model card: {result.model_dir / 'README.md'})")
    print(
        f"to adopt it:  codekin index --model {result.model_dir}\n"
        "              (builds beside the live index and swaps in when complete; codekin index --rollback "
        f'undoes)\n              or set model = "{result.model_dir}" in .codekin.toml'
    )
    return 0


def _note(args: argparse.Namespace, text: str) -> None:
    if not args.json:
        print(f"codekin: {text}", file=sys.stderr)


def _print_report(report: EvalReport, args: argparse.Namespace, source: str) -> None:
    s, k = report.summary, report.summary.k
    if args.json:
        out = {
            "mode": report.mode,
            "source": source,
            "summary": asdict(s),
            "unknown_paths": list(report.unknown_paths),
            "queries": [
                {**r.query.to_json(), **asdict(r.score), "results": [list(span) for span in r.results]}
                for r in report.results
            ],
        }
        print(json.dumps(out, indent=2))
        return
    if report.unknown_paths:
        shown = ", ".join(report.unknown_paths[:5]) + (" …" if len(report.unknown_paths) > 5 else "")
        print(
            f"warning: {len(report.unknown_paths)} target paths are not in the index ({shown}); "
            "are they ignored, excluded or misspelt?"
        )
    print(f"{s.queries} queries {source}; {report.mode[:-1]} results, top {k}")
    print(
        f"  MRR@{k:<4} {s.mrr:.3f}\n  NDCG@{k:<3} {s.ndcg:.3f}\n  R@1     {s.recall_at_1:.3f}\n"
        f"  R@{k:<5} {s.recall_at_k:.3f}"
    )
    worst = report.worst(args.worst)
    if worst:
        print(f"worst {len(worst)} queries (rank of the first correct result, '-' = not in the top {k}):")
    for r in worst:
        rank = str(r.score.first_rank) if r.score.first_rank else "-"
        t = r.query.targets[0]
        where = f"{t.path}:{t.start_line}-{t.end_line}" if t.start_line else t.path
        more = f" (+{len(r.query.targets) - 1})" if len(r.query.targets) > 1 else ""
        got = f"{r.results[0][0]}:{r.results[0][1]}" if r.results else "nothing"
        print(f"  {rank:>2}  {r.query.query[:80]!r}\n      want {where}{more}; first result {got}")


def _score(h: Hit) -> str:
    """The ranking's score (the list's order), the cosine as a detail."""
    return f"{h.score:.3f}  (cosine {h.cosine:.3f})"


def _print_files(files: list[FileHit], as_json: bool) -> None:
    if as_json:
        print(json.dumps([f.to_dict() for f in files], indent=2))
        return
    if not files:
        print("no results")
        return
    for f in files:
        print(f"{f.path}  ({f.language})")
        for h in f.hits:
            print(f"    {h.start_line}-{h.end_line}  {h.symbol or h.kind}  {_score(h)}")
            if h.explain is not None:
                print(f"        why: {explain.compact(h.explain)}")


def _print_hits(hits: list[Hit], as_json: bool) -> None:
    if as_json:
        print(json.dumps([h.to_dict() for h in hits], indent=2))
        return
    if not hits:
        print("no results")
        return
    for h in hits:
        repo = getattr(h, "repo", "")  # hits of a shared org index name their repository
        where = f"{repo}:{h.path}" if repo else h.path
        print(f"{where}:{h.start_line}-{h.end_line}  {h.symbol or h.kind}  {_score(h)}")
        if h.explain is not None:
            print(f"    why: {explain.compact(h.explain)}")
        snippet = [line for line in h.text.splitlines() if line.strip()][:3]
        for line in snippet:
            print(f"    {line[:120]}")


if __name__ == "__main__":
    sys.exit(main())
