"""The ``codekin`` command line: index, search, similar, context, status, serve."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from codekin.hit import Hit
from codekin.index.indexer import IndexProgress, IndexStats
from codekin.index.lock import IndexLocked
from codekin.settings import Settings, load_file_settings, merge
from codekin.workspace import Workspace

log = logging.getLogger("codekin")


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--root", default=None, help="repository root (default: the current directory)")
    p.add_argument("-k", type=int, default=10, help="number of results (default 10)")
    p.add_argument("--json", action="store_true", help="machine-readable output on stdout")
    p.add_argument("--model", default=None, help="encoder: packaged model name, transformers id or directory")
    p.add_argument("--index-dir", default=None, help="where the index lives (default <root>/.codekin)")
    p.add_argument("-v", "--verbose", action="count", default=0, help="more logging on stderr")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="codekin", description="Semantic code search for your repository.")
    parser.add_argument("--version", action="version", version=f"codekin {_version()}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("index", help="index a repository (incremental)")
    p.add_argument("path", nargs="?", default=None, help="repository root (same as --root)")
    p.add_argument("--full", action="store_true", help="drop the index and re-embed everything")
    _add_common(p)

    p = sub.add_parser("search", help="natural-language or identifier search")
    p.add_argument("query", nargs="+")
    p.add_argument("--language", action="append", default=None, help="only this language (repeatable)")
    p.add_argument("--path", action="append", default=None, help="only paths matching this glob (repeatable)")
    p.add_argument("--no-update", action="store_true", help="search the index as it is, without updating")
    _add_common(p)

    p = sub.add_parser("similar", help="code similar to PATH[:LINE], or to code on stdin ('-')")
    p.add_argument("target", help="PATH:LINE, PATH (first chunk), or - to read code from stdin")
    p.add_argument("--language", default=None, help="language of the code on stdin")
    p.add_argument("--no-update", action="store_true", help="search the index as it is, without updating")
    _add_common(p)

    p = sub.add_parser("context", help="chunks for an assistant's prompt, within a token budget")
    p.add_argument("query", nargs="*")
    p.add_argument("--at", default=None, help="PATH:LINE whose neighbourhood to gather")
    p.add_argument("--tokens", type=int, default=2000, help="token budget (default 2000)")
    p.add_argument("--no-update", action="store_true", help="search the index as it is, without updating")
    _add_common(p)

    p = sub.add_parser("status", help="what the index holds")
    _add_common(p)

    p = sub.add_parser("serve", help="run the language server (stdio by default)")
    p.add_argument("--tcp", default=None, metavar="HOST:PORT", help="listen on TCP instead of stdio")
    p.add_argument("--log-file", default=None, help="also write logs to this file")
    p.add_argument("-v", "--verbose", action="count", default=0)
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
    settings, problems = load_file_settings(root.resolve()) if root.is_dir() else (Settings(), [])
    overrides: dict[str, Any] = {"model": args.model, "index_dir": args.index_dir}
    settings, more = merge(settings, overrides, "command line")
    for problem in problems + more:
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
    try:
        with open_workspace(args) as ws:
            handler = {
                "index": cmd_index,
                "search": cmd_search,
                "similar": cmd_similar,
                "context": cmd_context,
                "status": cmd_status,
            }[args.command]
            return handler(ws, args)
    except (IndexLocked, NotADirectoryError, LookupError, RuntimeError, OSError) as exc:
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
        TextColumn("files  {task.fields[chunks]} chunks  {task.fields[rate]}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task("index", total=None, phase="scanning", chunks=0, rate="")

        def on_progress(p: IndexProgress) -> None:
            rate = f"{p.embedded / p.elapsed:.0f} emb/s" if p.elapsed > 1 and p.embedded else ""
            bar.update(
                task,
                total=p.files_total or None,
                completed=p.files_done,
                phase=p.phase,
                chunks=p.chunks_done,
                rate=rate,
            )

        return ws.index(full=full, progress=on_progress)


def _plain_progress() -> Any:
    last = [0.0]

    def on_progress(p: IndexProgress) -> None:
        now = time.monotonic()
        if p.phase == "done" or now - last[0] > 5:
            last[0] = now
            print(
                f"codekin: {p.phase}: {p.files_done}/{p.files_total} files, {p.chunks_done} chunks, "
                f"{p.embedded} embedded, {p.elapsed:.0f}s",
                file=sys.stderr,
            )

    return on_progress


def cmd_index(ws: Workspace, args: argparse.Namespace) -> int:
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
        f"{stats.files_skipped} skipped; "
        f"{stats.embedded} chunks embedded in {stats.elapsed:.1f}s, {rate:.0f}/s)"
    )
    for path, reason in list(stats.skipped.items())[:10]:
        print(f"  skipped {path}: {reason}")
    if len(stats.skipped) > 10:
        print(f"  … {stats.files_skipped - 10} more skipped (run with -v to see all)")
    return 0


def _ensure_fresh(ws: Workspace, args: argparse.Namespace) -> None:
    if not getattr(args, "no_update", False):
        _index_with_progress(ws, quiet=args.json)


def cmd_search(ws: Workspace, args: argparse.Namespace) -> int:
    _ensure_fresh(ws, args)
    hits = ws.search(" ".join(args.query), args.k, languages=args.language, paths=args.path)
    _print_hits(hits, args.json)
    return 0


def _parse_location(target: str) -> tuple[str, int | None]:
    path, _, line = target.rpartition(":")
    if path and line.isdigit():
        return path, int(line)
    return target, None


def cmd_similar(ws: Workspace, args: argparse.Namespace) -> int:
    _ensure_fresh(ws, args)
    if args.target == "-":
        hits = ws.similar(sys.stdin.read(), language=args.language, k=args.k)
    else:
        path, line = _parse_location(args.target)
        if not (ws.root / path).exists() and not Path(path).exists():
            raise LookupError(f"{path}: no such file")
        hits = ws.similar_to(
            Path(path).resolve() if Path(path).exists() else ws.root / path, line or 1, args.k
        )
    _print_hits(hits, args.json)
    return 0


def cmd_context(ws: Workspace, args: argparse.Namespace) -> int:
    _ensure_fresh(ws, args)
    path, line = _parse_location(args.at) if args.at else (None, None)
    hits = ws.context(query=" ".join(args.query) or None, path=path, line=line, token_budget=args.tokens)
    if args.json:
        _print_hits(hits, True)
    else:
        for h in hits:
            print(f"# {h.path}:{h.start_line}-{h.end_line} {h.symbol}\n{h.text}\n")
    return 0


def cmd_status(ws: Workspace, args: argparse.Namespace) -> int:
    st = ws.status()
    if args.json:
        print(json.dumps(st.__dict__, indent=2))
        return 0
    if not st.exists:
        print(f"no index yet for {st.root} (run: codekin index {st.root})")
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
    return 0


def _print_hits(hits: list[Hit], as_json: bool) -> None:
    if as_json:
        print(json.dumps([h.to_dict() for h in hits], indent=2))
        return
    if not hits:
        print("no results")
        return
    for h in hits:
        print(f"{h.path}:{h.start_line}-{h.end_line}  {h.symbol or h.kind}  {h.score:.3f}")
        snippet = [line for line in h.text.splitlines() if line.strip()][:3]
        for line in snippet:
            print(f"    {line[:120]}")


if __name__ == "__main__":
    sys.exit(main())
