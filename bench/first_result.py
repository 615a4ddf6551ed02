"""Time to first result and to full index for a fresh ``codekin index``, and warm search latency,
each side by side with a reference build of codekin (``--before``, e.g. the main branch's src).

Corpus: five real repositories from the bare mirrors under ``/work/.mirror`` (extracted once at
their HEAD into ``.bench-cache/first-result/corpus``): about 590 files and 9,200 chunks.
``--large`` adds gson, axum and chi (``corpus-large``, indexes under ``work-large``): about
13,500 chunks, the size issue 17 sets its goals at.

Indexing (default): for each build, a fresh ``codekin index`` runs in its own process (real
default model, model load included, as a user starts it) while this process watches the
database: *first result* is when the first file's chunks are committed (a search can answer),
*every file searchable* is when the last file's are (checked by a lexical search for a symbol of
the last file committed), *full index* is when the process exits with every chunk embedded.

``--cli``: ``codekin search QUERY`` from the shell, a fresh process each time as a user runs it,
on the index each build made in the indexing run: seconds from process start to exit, with the
update check (the default) and with ``--no-update``, 8 queries (4 identifiers, 4 sentences) x
``--rounds``, builds alternating.

``--latency``: warm ``Workspace.search`` over the index each build made in the indexing run, in
one child process per build (model loaded and warmed first): 120 distinct queries (60
identifiers sampled from the index, 60 sentences) then the same queries again (the query-vector
cache answers those in this tree), and the lexical-only search (``search --fast``) of this
tree. p50 / p95 in ms. ``--fake-encoder``: the same distinct queries over indexes each build
makes with the fake encoder (384 dimensions, built once under ``--work``): retrieval and ranking
alone, without the model's query encoding (light: seconds a round).

    flock /tmp/codekin-heavy.lock python bench/first_result.py --before /work/main/src
    flock /tmp/codekin-heavy.lock python bench/first_result.py --latency --before /work/main/src
    flock /tmp/codekin-heavy.lock python bench/first_result.py --cli --before /work/main/src
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from semble_data import MIRROR_DIR, extract

from codekin.index import layout

HERE = Path(__file__).resolve().parent
THIS_SRC = HERE.parent / "src"
CACHE = HERE.parent / ".bench-cache" / "first-result"
# (mirror, folders extracted): about 9,200 chunks with the chunker of this tree
REPOS = [
    ("rust-lang+futures-rs", ["futures-util/src"]),
    ("jhy+jsoup", ["src/main/java"]),
    ("uber-go+zap", []),
    ("nodejs+undici", ["lib"]),
    ("pallets+jinja", ["src"]),
]
# --large adds these: about 13,500 chunks in all (the size issue 17 sets its latency goal at)
LARGE_EXTRA = [
    ("google+gson", ["gson/src/main/java"]),
    ("tokio-rs+axum", ["axum/src"]),
    ("go-chi+chi", []),
]
POLL_S = 0.1
SENTENCES = [
    "parse a template string into an abstract syntax tree",
    "escape html special characters",
    "retry a failed http request",
    "read the response body as json",
    "create a logger that writes json lines",
    "add structured fields to a log entry",
    "poll a future until it is ready",
    "combine two streams into one",
    "buffer items of a stream",
    "select the first future that completes",
    "parse an html document from a string",
    "find elements matching a css selector",
    "normalise whitespace in text",
    "resolve a relative url against a base url",
    "connection pool with a maximum number of connections",
    "abort a request with a signal",
    "set a timeout on a socket",
    "encode a form as multipart data",
    "compile a template to python code",
    "load templates from the file system",
    "sandboxed environment that blocks unsafe attributes",
    "register a custom filter",
    "sample log messages by level",
    "rotate the output file of a logger",
    "map the output of a future",
    "wake the task when data is available",
    "convert a stream into a sink",
    "clean untrusted html with an allow list",
    "pretty print an element with indentation",
    "handle redirects when fetching",
    "cache responses according to http headers",
    "websocket frame parsing",
    "mock an http agent for tests",
    "undefined variable in a template raises an error",
    "format the caller of a log statement",
    "level enabler for a logger core",
    "lock a mutex asynchronously",
    "split a reader and writer in two halves",
    "char stream tokeniser state machine",
    "proxy agent for http connections",
    "cookie parsing from set-cookie header",
    "stack trace of the current goroutine",
    "iterate over the attributes of an element",
    "a future that never resolves",
    "unfold a stream from a seed state",
    "join all futures in a collection",
    "lexer for template tags and variables",
    "macro call inside a template",
    "encode a time as iso8601 in logs",
    "discard logs in tests with a no-op logger",
    "parse the content type header",
    "fetch with a body stream upload",
    "throttle the number of concurrent tasks",
    "abortable future with a handle",
    "select child nodes by tag name",
    "entity escaping mode for xml output",
    "retry with exponential backoff",
    "dns lookup with caching",
    "sort items with a custom comparison",
    "translate messages with gettext in templates",
]


@dataclass
class IndexRun:
    label: str
    first_s: float  # first file committed (searchable)
    all_files_s: float  # every file committed
    full_s: float  # process exit, every chunk embedded
    files: int
    chunks: int
    probe: str  # the symbol searched once every file was committed
    probe_found: bool
    run_s: float  # the index run itself, as the process reports it (no start-up, no model load)


def corpus(large: bool = False) -> Path:
    root = CACHE / ("corpus-large" if large else "corpus")
    for slug, folders in REPOS + (LARGE_EXTRA if large else []):
        dest = root / slug.split("+", 1)[1]
        if not dest.is_dir():
            extract(MIRROR_DIR / slug / "repo", "HEAD", folders, dest)
    return root


def read_counts(db: Path) -> tuple[int, int]:
    """(files committed, chunks with a vector), or (0, 0) when the database is not there yet."""
    if not db.exists():
        return 0, 0
    try:
        con = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True, timeout=5)
        try:
            files = int(con.execute("SELECT count(*) FROM files").fetchone()[0])
            embedded = int(
                con.execute(
                    "SELECT count(*) FROM chunks c JOIN vectors v ON v.embed_key = c.embed_key"
                ).fetchone()[0]
            )
            return files, embedded
        finally:
            con.close()
    except sqlite3.Error:
        return 0, 0


def last_symbol(db: Path) -> tuple[str, str]:
    """A definition of the last file committed: (symbol, path)."""
    con = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)
    try:
        row = con.execute(
            "SELECT symbol, path FROM chunks WHERE symbol != '' AND length(symbol) > 5 "
            "AND path = (SELECT path FROM files ORDER BY indexed_at DESC LIMIT 1) LIMIT 1"
        ).fetchone()
    finally:
        con.close()
    return (str(row[0]), str(row[1])) if row else ("", "")


def lexical_probe(root: Path, index_dir: Path, symbol: str, path: str) -> bool:
    """Whether a lexical search (this tree, no model) finds ``symbol`` in ``path`` now."""
    from codekin import Settings, Workspace

    with Workspace(root, Settings(index_dir=str(index_dir))) as ws:
        return any(h.path == path for h in ws.search(symbol, k=10, lexical=True))


def expected_files(root: Path) -> int:
    """How many files an index of the corpus holds (a lexical pass with the fake encoder, once)."""
    marker = CACHE / "corpus-files.json"
    if marker.exists():
        return int(json.loads(marker.read_text())["files"])
    from codekin import Settings, Workspace
    from codekin.embeddings.fake import FakeEncoder

    with (
        tempfile.TemporaryDirectory() as tmp,
        Workspace(root, Settings(index_dir=tmp), encoder=FakeEncoder()) as ws,
    ):
        files = ws.index().files_total
    marker.write_text(json.dumps({"files": files}))
    return files


def index_run(label: str, src: Path, root: Path, index_dir: Path, files: int) -> IndexRun:
    """A fresh ``codekin index`` of ``root`` by the build in ``src``, watched from here."""
    env = dict(os.environ, PYTHONPATH=str(src), HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    cmd = [sys.executable, "-m", "codekin.cli", "index", str(root), "--index-dir", str(index_dir), "--json"]
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    first = all_files = None
    probe, found = ("", ""), False
    while proc.poll() is None:
        committed, _ = read_counts(_live_db(index_dir))
        now = time.perf_counter() - started
        if committed and first is None:
            first = now
        if committed >= files and all_files is None:
            probe = last_symbol(_live_db(index_dir))
            found = lexical_probe(root, index_dir, *probe)  # answered while the run goes on
            all_files = time.perf_counter() - started
        time.sleep(POLL_S)
    full = time.perf_counter() - started
    out, _ = proc.communicate()
    stats = json.loads(out)
    if all_files is None:  # the last commit came right before the process ended
        probe = last_symbol(_live_db(index_dir))
        found = lexical_probe(root, index_dir, *probe)
        all_files = full
    return IndexRun(
        label,
        first if first is not None else full,
        all_files,
        full,
        stats["files_total"],
        stats["chunks_total"],
        probe[0],
        found,
        stats["elapsed"],
    )


def _live_db(index_dir: Path) -> Path:
    return layout.live_dir(index_dir) / layout.DB_NAME


LATENCY_CHILD = r"""
import json, sys, time
from codekin import Settings, Workspace
root, index_dir, mode = sys.argv[1], sys.argv[2], sys.argv[3]
fast = mode == "fast"
queries = json.loads(sys.stdin.read())
if mode == "fake":  # retrieval and ranking alone: the fake encoder's index, built once
    from codekin.embeddings.fake import FakeEncoder
    ws = Workspace(root, Settings(index_dir=index_dir), encoder=FakeEncoder(dim=384))
    ws.index()
else:
    ws = Workspace(root, Settings(index_dir=index_dir))
def run(qs, **kw):
    took = []
    for q in qs:
        t = time.perf_counter()
        ws.search(q, 10, **kw)
        took.append((time.perf_counter() - t) * 1000)
    return took
if fast:
    run(queries[:5], lexical=True)
    out = {"fast": run(queries, lexical=True)}
elif mode == "fake":
    run(["warm up " + q for q in queries[:5]])
    out = {"fake": run(queries)}
else:
    run(["warm up " + q for q in queries[:5]])
    out = {"distinct": run(queries), "repeated": run(queries)}
print(json.dumps(out))
"""


def _symbols(index_dir: Path) -> list[str]:
    """Definition names in the index this tree built in the indexing run (query material)."""
    if not _live_db(index_dir).exists():
        raise SystemExit(f"no index in {index_dir}: run the indexing benchmark first (same --work)")
    con = sqlite3.connect(_live_db(index_dir))
    try:
        return sorted({r[0] for r in con.execute("SELECT symbol FROM chunks WHERE length(symbol) > 4")})
    finally:
        con.close()


def latency(args: argparse.Namespace, root: Path) -> None:
    index_dir = args.work / "index-this"
    symbols = _symbols(index_dir)
    rng = random.Random(11)
    queries = rng.sample(symbols, 60) + SENTENCES[:60]
    rng.shuffle(queries)
    builds = [("before", args.before), ("this", THIS_SRC)] if args.before else [("this", THIS_SRC)]
    results: dict[str, dict[str, list[float]]] = {label: {} for label, _ in builds}
    for _ in range(args.rounds):  # alternate the builds: load from other work falls on both
        for label, src in builds:
            modes = ("dense", "fast") if label == "this" else ("dense",)
            for mode in ("fake",) if args.fake_encoder else modes:
                env = dict(os.environ, PYTHONPATH=str(src), HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
                # each build searches the index it built
                own = args.work / (f"fake-{label}" if args.fake_encoder else f"index-{label}")
                done = subprocess.run(
                    [sys.executable, "-c", LATENCY_CHILD, str(root), str(own), mode],
                    input=json.dumps(queries),
                    capture_output=True,
                    text=True,
                    env=env,
                    check=True,
                )
                for key, values in json.loads(done.stdout.splitlines()[-1]).items():
                    results[label].setdefault(key, []).extend(values)
    files, chunks = _counts(index_dir)
    print(
        f"warm Workspace.search, k=10, {len(queries)} queries x {args.rounds} rounds; "
        f"{files} files, {chunks} chunks"
    )
    print(f"{'build':<10}{'queries':<30}{'p50 ms':>9}{'p95 ms':>9}")
    for label, by_kind in results.items():
        for kind, values in by_kind.items():
            what = {
                "distinct": "distinct (each encoded)",
                "repeated": "repeated (cached vectors)",
                "fast": "lexical only (--fast)",
                "fake": "distinct, fake encoder",
            }[kind]
            print(f"{label:<10}{what:<30}{_pct(values, 0.5):>9.1f}{_pct(values, 0.95):>9.1f}")


def cli_search(args: argparse.Namespace, root: Path) -> None:
    index_dir = args.work / "index-this"
    queries = random.Random(5).sample(_symbols(index_dir), 4) + SENTENCES[:4]
    builds = [("before", args.before), ("this", THIS_SRC)] if args.before else [("this", THIS_SRC)]
    seconds: dict[tuple[str, str], list[float]] = {}
    for _ in range(args.rounds):
        for label, src in builds:
            env = dict(os.environ, PYTHONPATH=str(src), HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
            own = args.work / f"index-{label}"
            for mode, extra in (("with update check", []), ("--no-update", ["--no-update"])):
                for q in queries:
                    cmd = [sys.executable, "-m", "codekin.cli", "search", q, "--root", str(root)]
                    cmd += ["--index-dir", str(own), "--json", *extra]
                    started = time.perf_counter()
                    subprocess.run(cmd, env=env, capture_output=True, check=True)
                    seconds.setdefault((label, mode), []).append(time.perf_counter() - started)
    files, chunks = _counts(index_dir)
    print(
        f"`codekin search QUERY --json`, a fresh process each, {len(queries)} queries x {args.rounds} rounds"
    )
    print(f"{files} files, {chunks} chunks; seconds from process start to exit")
    print(f"{'build':<10}{'mode':<22}{'p50 s':>8}{'p95 s':>8}")
    for (label, mode), values in seconds.items():
        print(f"{label:<10}{mode:<22}{_pct(values, 0.5):>8.2f}{_pct(values, 0.95):>8.2f}")


def _counts(index_dir: Path) -> tuple[int, int]:
    con = sqlite3.connect(_live_db(index_dir))
    try:
        return (
            int(con.execute("SELECT count(*) FROM files").fetchone()[0]),
            int(con.execute("SELECT count(*) FROM chunks").fetchone()[0]),
        )
    finally:
        con.close()


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    rank = q * (len(ordered) - 1)
    lo, hi = int(rank), min(int(rank) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (rank - lo)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--before", type=Path, default=None, help="the reference build's src directory")
    ap.add_argument("--work", type=Path, default=None, help="where the indexes are built (CACHE/work)")
    ap.add_argument("--large", action="store_true", help="three more repositories: about 13,500 chunks")
    ap.add_argument("--latency", action="store_true", help="warm search latency instead")
    ap.add_argument("--cli", action="store_true", help="`codekin search` from the shell instead")
    ap.add_argument("--rounds", type=int, default=2, help="--latency: rounds per build")
    ap.add_argument(
        "--fake-encoder",
        action="store_true",
        help="--latency: retrieval and ranking alone, on indexes each build makes with the fake encoder",
    )
    args = ap.parse_args()
    root = corpus(args.large)
    args.work = args.work or CACHE / ("work-large" if args.large else "work")
    args.work.mkdir(parents=True, exist_ok=True)
    if args.latency:
        latency(args, root)
        return 0
    if args.cli:
        cli_search(args, root)
        return 0
    builds = [("before", args.before), ("this", THIS_SRC)] if args.before else [("this", THIS_SRC)]
    files = expected_files(root)
    runs: list[IndexRun] = []
    for label, src in builds:
        index_dir = args.work / f"index-{label}"
        shutil.rmtree(index_dir, ignore_errors=True)
        runs.append(index_run(label, src, root, index_dir, files))
    print(
        f"fresh `codekin index` of {runs[0].files} files, {runs[0].chunks} chunks; seconds from process start"
    )
    print(f"{'build':<10}{'first result':>14}{'every file':>12}{'full index':>12}{'chunks/s':>10}  probe")
    for r in runs:
        probe = f"{r.probe} {'found' if r.probe_found else 'NOT found'}"
        print(
            f"{r.label:<10}{r.first_s:>14.1f}{r.all_files_s:>12.1f}{r.full_s:>12.1f}"
            f"{r.chunks / max(r.run_s, 1e-9):>10.1f}  {probe}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
