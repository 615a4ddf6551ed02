"""Peak RSS at 100k chunks: indexing a synthetic corpus with the real pipeline, then serving
searches from the index in a fresh process, side by side with a 10k-chunk slice of the same
corpus (the growth per 10k chunks) and, with ``--before``, another build of codekin.

Corpus (``memory_corpus.py``, seeded, written once under ``.bench-cache/memory``): 4,717 files
in Python, Go, JavaScript, Rust and Java, 20 functions each with varied identifiers and bodies:
about 100,000 chunks (functions, methods, classes, module headers). The reference is its first
472 files (the same generator and seed: byte-identical files), about 10,000 chunks.

Each phase runs in its own child process (``PYTHONPATH`` = the build's src) whose peak RSS
(``VmHWM``) is reported:

* ``index``: ``Workspace(root, Settings(index_dir=...)).index()`` on a fresh index. The real
  codekin-encoder is loaded in that process and embeds one batch of the corpus first, so the
  model's resident memory is counted. ``--encoder random`` (default) then indexes with a
  stand-in that has the real model's identity (id, hash, 384 dimensions) and returns seeded
  random unit vectors: everything is measured except the encoder's activations while it embeds
  the corpus's batches. Those are measured apart (``batch``: the real model embedding one batch
  of 32 texts of 256 tokens, peak over the RSS before it) and added to give a bound.
  ``--encoder real`` embeds every chunk for real: about an hour for 100k chunks on 2 cores.
* ``serve``: a fresh process opens the index and answers 100 ``Workspace.search`` calls (50
  identifiers sampled from the index, 50 sentences) and 20 ``similar_to`` calls with the real
  model encoding the queries; p50 latency of each. Over a ``random`` index the results mean
  nothing for quality; the memory and the work per query are the same.

    flock /tmp/codekin-heavy.lock python bench/memory.py [--before /work/main/src]
    flock /tmp/codekin-heavy.lock python bench/memory.py --encoder real   # the long run
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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from memory_corpus import ADJECTIVES, NOUNS, VERBS, generate

HERE = Path(__file__).resolve().parent
THIS_SRC = HERE.parent / "src"
CACHE = HERE.parent / ".bench-cache" / "memory"
FILES = 4_717  # about 100,000 chunks (21.2 a file with 20 functions)
REFERENCE_FILES = 472  # about 10,000 chunks
GOAL_MB = 1_536  # peak RSS < 1.5 GB at 100k chunks (issue 17)
SEED = 17

# Shared by the children: their own resident and peak memory from /proc.
_PROC = r"""
def mem(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024  # kB -> MB
    return 0.0
"""

INDEX_CHILD = (
    _PROC
    + r"""
import json, sys, time
import numpy as np
from codekin import Settings, Workspace
root, index_dir, mode = sys.argv[1], sys.argv[2], sys.argv[3]
sample = json.loads(sys.stdin.read())
settings = Settings(index_dir=index_dir)
start_rss = mem("VmRSS")
with Workspace(root, settings) as probe:
    real = probe.encoder
    real.embed_documents(sample)  # loads the weights and embeds one batch: counted from here on
model_rss, model_peak = mem("VmRSS"), mem("VmHWM")
try:  # restart the peak here: the indexing phase's own (Linux: clear_refs 5 resets VmHWM)
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    reset = True
except OSError:
    reset = False

class RandomVectors:
    # the real model's identity, seeded random unit vectors instead of its forward pass
    def __init__(self, real, seed):
        self.model_id, self.model_hash, self.dim = real.model_id, real.model_hash, real.dim
        self.real, self.seed, self.calls = real, seed, 0
    def embed_documents(self, texts):
        self.calls += 1
        rows = np.random.default_rng([self.seed, self.calls]).standard_normal((len(texts), self.dim))
        rows /= np.linalg.norm(rows, axis=1, keepdims=True)
        return rows.astype(np.float32)
    def embed_queries(self, texts):
        return self.real.embed_queries(texts)

encoder = RandomVectors(real, 17) if mode == "random" else real
t = time.perf_counter()
with Workspace(root, settings, encoder=encoder) as ws:
    stats = ws.index()
    seconds = time.perf_counter() - t
    after_rss = mem("VmRSS")
print(json.dumps({"files": stats.files_total, "chunks": stats.chunks_total, "seconds": seconds,
                  "start_rss": start_rss, "model_rss": model_rss, "after_rss": after_rss,
                  "model_peak": model_peak,
                  "index_peak": mem("VmHWM") if reset else None,
                  "peak": max(model_peak, mem("VmHWM"))}))
"""
)

BATCH_CHILD = (
    _PROC
    + r"""
import json, sys
from codekin import Settings, Workspace
root, index_dir = sys.argv[1], sys.argv[2]
texts = json.loads(sys.stdin.read())
with Workspace(root, Settings(index_dir=index_dir)) as ws:
    real = ws.encoder
    real.embed_documents(texts[:2])  # loads the weights
    before = mem("VmRSS")
    inner = real.loaded() if hasattr(real, "loaded") else real  # a deferred encoder's loaded one
    inner = inner.documents() if hasattr(inner, "documents") else inner  # queries on ONNX: torch's
    tokenizer = getattr(inner, "_tokenizer", None)
    tokens = [len(tokenizer(t)["input_ids"]) for t in texts] if callable(tokenizer) else []
    real.embed_documents(texts)
    print(json.dumps({"before": before, "peak": mem("VmHWM"), "min_tokens": min(tokens, default=-1)}))
"""
)

SERVE_CHILD = (
    _PROC
    + r"""
import json, sys, time
from codekin import Settings, Workspace
root, index_dir = sys.argv[1], sys.argv[2]
work = json.loads(sys.stdin.read())
start_rss = mem("VmRSS")
def timed(call):
    t = time.perf_counter()
    call()
    return (time.perf_counter() - t) * 1000
with Workspace(root, Settings(index_dir=index_dir)) as ws:
    ws.search("warm up the model", 10)
    search = [timed(lambda: ws.search(q, 10)) for q in work["queries"]]
    similar = [timed(lambda: ws.similar_to(p, line, 10)) for p, line in work["similar"]]
    print(json.dumps({"search": search, "similar": similar, "start_rss": start_rss,
                      "after_rss": mem("VmRSS"), "peak": mem("VmHWM")}))
"""
)


@dataclass
class Row:
    build: str
    phase: str
    files: int
    chunks: int
    peak_mb: float  # the process's
    note: str
    phase_peak_mb: float | None = None  # the indexing phase's own (model resident), where known


def corpus(cache: Path, name: str, files: int) -> Path:
    """The corpus of ``files`` files under ``cache``, written once (a marker says it is whole)."""
    root = cache / name
    marker = cache / f"{name}.done"
    if not marker.exists() or marker.read_text() != f"{files} {SEED}":
        shutil.rmtree(root, ignore_errors=True)
        generate(root, files, seed=SEED)
        marker.write_text(f"{files} {SEED}")
    return root


def child(script: str, args: list[str], src: Path, stdin: Any) -> dict[str, Any]:
    env = dict(os.environ, PYTHONPATH=str(src), HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    done = subprocess.run(
        [sys.executable, "-c", script, *args],
        input=json.dumps(stdin),
        capture_output=True,
        text=True,
        env=env,
    )
    if done.returncode != 0:
        raise SystemExit(f"child failed ({done.returncode}):\n{done.stderr[-4000:]}")
    out: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return out


def index_db(index_dir: Path) -> Path:
    """The live database of an index directory (read through the pointer file, as layout does)."""
    from codekin.index import layout

    return layout.live_dir(index_dir) / layout.DB_NAME


def counts(db: Path) -> tuple[int, int]:
    con = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)
    try:
        files = int(con.execute("SELECT count(*) FROM files").fetchone()[0])
        chunks = int(con.execute("SELECT count(*) FROM chunks").fetchone()[0])
    finally:
        con.close()
    return files, chunks


def sample_texts(root: Path, n: int, min_chars: int) -> list[str]:
    """``n`` texts of at least ``min_chars`` characters cut from the corpus's files (seeded)."""
    paths = sorted(root.rglob("*.*"))
    rng = random.Random(SEED)
    out = []
    for path in rng.sample(paths, n) if len(paths) >= n else rng.choices(paths, k=n):
        out.append(path.read_text(encoding="utf-8")[: max(min_chars, 1)])
    return out


def workload(db: Path) -> dict[str, Any]:
    """100 queries (50 identifiers from the index, 50 sentences) and 20 similar_to targets."""
    rng = random.Random(SEED)
    con = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)
    try:
        symbols = [r[0] for r in con.execute("SELECT symbol FROM chunks WHERE kind = 'function' ORDER BY id")]
        targets = con.execute(
            "SELECT path, start_line FROM chunks WHERE kind IN ('function', 'method') ORDER BY id"
        ).fetchall()
    finally:
        con.close()
    sentences = [
        f"{rng.choice(VERBS)} the {rng.choice(ADJECTIVES)} {rng.choice(NOUNS)} "
        f"{rng.choice(('and return it', 'from a file', 'with a retry', 'into a list', 'for each item'))}"
        for _ in range(50)
    ]
    queries = rng.sample(symbols, 50) + sentences
    rng.shuffle(queries)
    identifiers = [q not in sentences for q in queries]
    similar = [(str(p), int(line) + 1) for p, line in rng.sample(targets, 20)]
    return {"queries": queries, "identifiers": identifiers, "similar": similar}


def _mb(value: float | None) -> str:
    return "?" if value is None else f"{value:.0f}"


def disk_mb(index_dir: Path) -> float:
    return sum(p.stat().st_size for p in index_dir.rglob("*") if p.is_file()) / 2**20


def p50(values: list[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def run_build(label: str, src: Path, sizes: list[tuple[str, Path]], args: argparse.Namespace) -> list[Row]:
    rows = []
    sample = sample_texts(sizes[0][1], 32, 1200)  # one real batch, loaded with the model
    for size, root in sizes:
        index_dir = args.work / f"{label}-{size}-{args.encoder}"
        shutil.rmtree(index_dir, ignore_errors=True)
        built = child(INDEX_CHILD, [str(root), str(index_dir), args.encoder], src, sample)
        files, chunks = counts(index_db(index_dir))
        rows.append(
            Row(
                label,
                f"index ({args.encoder})",
                files,
                chunks,
                built["peak"],
                f"model loaded {built['model_rss']:.0f} MB (its peak {built['model_peak']:.0f}), "
                f"indexing phase peak {_mb(built['index_peak'])} MB, after {built['after_rss']:.0f} MB, "
                f"{built['seconds']:.0f} s, on disk {disk_mb(index_dir):.0f} MB",
                built["index_peak"],
            )
        )
        print(f"  {label} {size}: index {rows[-1].peak_mb:.0f} MB peak ({rows[-1].note})", flush=True)
        if args.no_serve:
            continue
        work = workload(index_db(index_dir))
        served = child(SERVE_CHILD, [str(root), str(index_dir)], src, work)
        by_kind: dict[bool, list[float]] = {True: [], False: []}  # identifiers, sentences
        for took, is_identifier in zip(served["search"], work["identifiers"], strict=True):
            by_kind[is_identifier].append(took)
        rows.append(
            Row(
                label,
                "serve",
                files,
                chunks,
                served["peak"],
                f"search p50 {p50(served['search']):.1f} ms (identifiers {p50(by_kind[True]):.1f}, "
                f"sentences {p50(by_kind[False]):.1f}), similar_to p50 {p50(served['similar']):.1f} ms, "
                f"after {served['after_rss']:.0f} MB",
            )
        )
        print(f"  {label} {size}: serve {rows[-1].peak_mb:.0f} MB peak ({rows[-1].note})", flush=True)
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--before", type=Path, default=None, help="the reference build's src directory")
    ap.add_argument("--encoder", choices=("random", "real"), default="random")
    ap.add_argument("--files", type=int, default=FILES, help="files of the large corpus")
    ap.add_argument("--reference-files", type=int, default=REFERENCE_FILES, help="files of the slice")
    ap.add_argument("--cache", type=Path, default=CACHE, help="where the corpora are written")
    ap.add_argument("--work", type=Path, default=None, help="where the indexes are built (CACHE/work)")
    ap.add_argument("--no-serve", action="store_true", help="indexing only")
    args = ap.parse_args()
    args.work = args.work or args.cache / "work"
    args.work.mkdir(parents=True, exist_ok=True)
    sizes = [
        ("10k", corpus(args.cache, "corpus-10k", args.reference_files)),
        ("100k", corpus(args.cache, "corpus", args.files)),
    ]
    builds = [("before", args.before), ("this", THIS_SRC)] if args.before else [("this", THIS_SRC)]
    long_texts = sample_texts(sizes[1][1], 32, 4000)
    batch = child(BATCH_CHILD, [str(sizes[0][1]), str(args.work / "batch-probe")], THIS_SRC, long_texts)
    activations = batch["peak"] - batch["before"]
    print(
        f"real model, one batch of 32 texts (at least {batch['min_tokens']} tokens, cut to 256): "
        f"peak {batch['peak']:.0f} MB, {activations:.0f} MB over the {batch['before']:.0f} MB before it",
        flush=True,
    )
    rows: list[Row] = []
    for label, src in builds:
        rows += run_build(label, src, sizes, args)
    print()
    if args.encoder == "random":
        print(
            "index (random): the real model loaded and one batch embedded, then every chunk given a "
            "seeded random 384-d vector\n(everything but the encoder's activations while embedding; "
            "'bound' adds the one-batch peak above to the indexing phase's).\n"
            "Search results over it mean nothing for quality."
        )
    head = f"{'build':<8}{'phase':<16}{'files':>7}{'chunks':>9}{'peak MB':>9}{'bound MB':>10}{'goal MB':>9}"
    print(head + "  notes")
    for r in rows:
        bound = r.peak_mb
        if r.phase == "index (random)":  # the indexing phase with a batch's activations on top
            bound = max(r.peak_mb, (r.phase_peak_mb or r.peak_mb) + activations)
        print(
            f"{r.build:<8}{r.phase:<16}{r.files:>7}{r.chunks:>9}{r.peak_mb:>9.0f}{bound:>10.0f}"
            f"{GOAL_MB:>9}  {r.note}"
        )
    for label, _ in builds:
        idx = [r for r in rows if r.build == label and r.phase.startswith("index")]
        srv = [r for r in rows if r.build == label and r.phase == "serve"]
        for name, pair in (("index", idx), ("serve", srv)):
            if len(pair) == 2 and pair[1].chunks != pair[0].chunks:
                small, large = (r.phase_peak_mb or r.peak_mb for r in pair)
                per = (large - small) / ((pair[1].chunks - pair[0].chunks) / 10_000)
                what = "indexing phase peak" if name == "index" else "peak"
                print(f"{label} {name}: {per:+.1f} MB {what} per 10k chunks ({small:.0f} -> {large:.0f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
