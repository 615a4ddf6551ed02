"""Save -> searchable latency of the language server; filtered search latency (``--filtered``).

Starts the real ``codekin serve`` (real default model) on a copy of a workspace, waits for the
first index, then N times: saves a new function with a unique name to disk and polls
``codekin/search`` until the function is the top hit. Prints median / p95 / min / max.

    python bench/latency.py                       # server-side watcher (watchdog), 25 edits
    python bench/latency.py --watcher client      # client-side watcher (didChangeWatchedFiles)
    python bench/latency.py --edits 40 --debounce-ms 100 --workspace path/to/repo

The figure includes the debounce delay (``--debounce-ms``, default: the setting's default, 300).

``--filtered``: a filtered dense search (a language, a path glob, code only) on an index of
``--chunks`` (10,000) chunks of TheAlgorithms' repositories (fetched as for
``similar_bench.py --set algorithms``), embedded by the fast fake encoder at 384 dimensions (the
timing depends on the vector count, not on what the vectors mean): the old path (every passing
row's vector read from SQLite and scored) beside the new one (``VectorIndex.search`` with the
passing ids), with the new path's recall of the exact top 100; then whole
``Workspace.similar_to`` and ``Workspace.search`` calls with a language filter.
Run heavy benchmarks one at a time: ``flock /tmp/codekin-heavy.lock python bench/latency.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import statistics
import string
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import _algorithms
import numpy as np
from lsprotocol import types
from pytest_lsp import LanguageClient, client_capabilities
from pytest_lsp.client import register_lsp_features

from codekin import Settings, Workspace
from codekin.embeddings.fake import FakeEncoder
from codekin.index.ranking import NON_CODE_LANGUAGES
from codekin.index.search import Filters, Searcher
from codekin.server.core import json_converter

FIXTURE = Path(__file__).resolve().parent.parent / "tests" / "e2e" / "fixtures" / "workspace"
CLIENTS = {"server": "neovim@v0.11.0", "client": "visual-studio-code@v1.65.2"}
POLL_S = 0.02


def make_client() -> LanguageClient:
    client = LanguageClient(converter_factory=json_converter)
    register_lsp_features(client)

    @client.feature(types.CLIENT_REGISTER_CAPABILITY)  # type: ignore[untyped-decorator]
    def registered(params: types.RegistrationParams) -> None:
        return None

    @client.feature("codekin/indexStatusChanged")  # type: ignore[untyped-decorator]
    def status_changed(params: Any) -> None:
        return None

    return client


async def call(client: LanguageClient, method: str, params: Any = None) -> Any:
    return await asyncio.wait_for(client.protocol.send_request_async(method, params), 600)  # type: ignore[no-untyped-call]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    rank = q * (len(ordered) - 1)
    lo, hi = int(rank), min(int(rank) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (rank - lo)


async def run(args: argparse.Namespace) -> int:
    tmp = Path(tempfile.mkdtemp(prefix="codekin-latency-"))
    root = tmp / "ws"
    shutil.copytree(args.workspace, root, ignore=shutil.ignore_patterns(".codekin", ".git"))
    root = root.resolve()
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    client = make_client()
    await client.start_io(sys.executable, "-m", "codekin.cli", "serve", env=env)
    options: dict[str, Any] = {}
    if args.debounce_ms is not None:
        options["debounceMs"] = args.debounce_ms
    try:
        started = time.perf_counter()
        await client.initialize_session(
            types.InitializeParams(
                capabilities=client_capabilities(CLIENTS[args.watcher]),
                root_uri=root.as_uri(),
                workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name="ws")],
                initialization_options={"codekin": options},
            )
        )
        while (status := await call(client, "codekin/indexStatus"))["state"] == "indexing":
            await asyncio.sleep(0.2)
        print(
            f"initial index: {status['files']} files, {status['chunks']} chunks in "
            f"{time.perf_counter() - started:.1f} s (model load included); watcher={status['watcher']}"
        )
        rng = random.Random(7)
        latencies: list[float] = []
        target = root / "latency_edits.py"
        body = ""
        for i in range(args.edits):
            word = "".join(rng.choice(string.ascii_lowercase) for _ in range(10))
            name = f"handle_{word}_{i}"
            body += f"\n\ndef {name}(request):\n    return request.get({word!r}, {i})\n"
            saved = time.perf_counter()
            target.write_text(body)
            if args.watcher == "client":
                kind = types.FileChangeType.Created if i == 0 else types.FileChangeType.Changed
                client.workspace_did_change_watched_files(
                    types.DidChangeWatchedFilesParams(
                        changes=[types.FileEvent(uri=target.as_uri(), type=kind)]
                    )
                )
            while True:
                result = await call(client, "codekin/search", {"query": name, "limit": 1})
                if result["items"] and result["items"][0]["symbol"] == name:
                    break
                if time.perf_counter() - saved > 120:
                    raise SystemExit(f"edit {i}: {name} not searchable after 120 s")
                await asyncio.sleep(POLL_S)
            latencies.append((time.perf_counter() - saved) * 1000)
            await asyncio.sleep(args.pause)
        debounce = args.debounce_ms if args.debounce_ms is not None else 300
        where = f"debounce {debounce} ms, {args.watcher}-side watcher"
        print(f"save -> searchable over {len(latencies)} edits ({where}):")
        print(
            f"  median {statistics.median(latencies):.0f} ms   p95 {percentile(latencies, 0.95):.0f} ms   "
            f"min {min(latencies):.0f} ms   max {max(latencies):.0f} ms"
        )
        print(f"  median minus debounce {statistics.median(latencies) - debounce:.0f} ms")
        await client.shutdown_session()
    finally:
        await client.stop()  # type: ignore[no-untyped-call]
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


def filtered(args: argparse.Namespace) -> int:
    tmp = Path(tempfile.mkdtemp(prefix="codekin-filtered-"))
    try:
        root = tmp / "corpus"
        per_language = args.chunks // 6 // len(_algorithms.REPOS)  # about six chunks a file
        for language, (repo, ext, commit) in _algorithms.REPOS.items():
            written = 0
            git = ["git", f"--git-dir={args.mirrors / f'TheAlgorithms+{repo}' / 'repo'}"]
            names = subprocess.run(
                [*git, "ls-tree", "-r", "--name-only", commit], capture_output=True, text=True
            )
            for name in names.stdout.split():
                if written >= per_language:
                    break
                if name.endswith((ext, ".md")):
                    data = subprocess.run([*git, "show", f"{commit}:{name}"], capture_output=True).stdout
                    (root / language / name).parent.mkdir(parents=True, exist_ok=True)
                    (root / language / name).write_bytes(data)
                    written += 1
        ws = Workspace(root, Settings(index_dir=str(tmp / "index")), encoder=FakeEncoder(dim=384))
        stats = ws.index()
        searcher = Searcher(ws.code_index, ws.encoder)
        index, vectors = ws.code_index, ws.code_index.vectors()
        print(
            f"index: {stats.chunks_total} chunks of {stats.files_total} files; languages {index.languages()}"
        )
        rng = random.Random(3)
        ids = index.chunk_ids()
        probes = [v for v in index.stored_vectors(rng.sample(ids, 40))[1]]
        cases = {
            "language go": Filters(languages=("go",)),
            "languages python+java": Filters(languages=("python", "java")),
            "code only": Filters(exclude_languages=tuple(sorted(NON_CODE_LANGUAGES))),
            "path rust/**": Filters(paths=("rust/**",)),
        }
        print(f"{'filter':<26}{'passing':>9}{'old ms':>9}{'new ms':>9}{'recall@100':>12}")
        for label, f in cases.items():
            old_ms, new_ms, recall = [], [], []
            for q in probes:
                started = time.perf_counter()
                exact = full_scan(searcher, q, f, 100)
                old_ms.append((time.perf_counter() - started) * 1000)
                started = time.perf_counter()
                got = vectors.search(q, 100, searcher._allowed(f))
                new_ms.append((time.perf_counter() - started) * 1000)
                want = {cid for cid, _ in exact}
                recall.append(len(want & {cid for cid, _ in got}) / max(len(want), 1))
            passing = len(searcher._allowed(f))
            print(
                f"{label:<26}{passing:>9}{statistics.median(old_ms):>9.1f}{statistics.median(new_ms):>9.1f}"
                f"{statistics.mean(recall):>12.3f}"
            )
        chunks = index.chunks(rng.sample(ids, 40))
        where = [(root / c.path, c.start_line + 1) for c in chunks.values()]
        calls: dict[str, Callable[[int], object]] = {
            "similar_to(languages=[go])": lambda i: ws.similar_to(*where[i], languages=["go"]),
            "similar_to()": lambda i: ws.similar_to(*where[i]),
            "search(languages=[go])": lambda i: ws.search(f"sort the numbers {i}", languages=["go"]),
        }
        for label, call in calls.items():
            took = []
            for i in range(len(where)):
                started = time.perf_counter()
                call(i)
                took.append((time.perf_counter() - started) * 1000)
            median, p95 = statistics.median(took), percentile(took, 0.95)
            print(f"Workspace.{label:<28} median {median:.1f} ms  p95 {p95:.1f} ms")
        ws.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


def full_scan(searcher: Searcher, qvec: Any, f: Filters, count: int) -> list[tuple[int, float]]:
    """The old filtered path: every passing row's vector read from SQLite and scored."""
    index = searcher.index
    passing = [cid for cid, _ in index.chunk_paths(f.languages or None, f.exclude_languages or None)]
    if f.paths:
        spec = f.path_spec()
        chunks = index.chunks(passing)
        passing = [c for c in passing if c in chunks and spec is not None and spec.match_file(chunks[c].path)]
    found, rows = index.stored_vectors(passing)
    if not found:
        return []
    scores = rows @ qvec
    return [(found[i], float(scores[i])) for i in np.argsort(-scores)[:count]]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--workspace", type=Path, default=FIXTURE, help="a repository to copy and index")
    parser.add_argument("--edits", type=int, default=25, help="number of saves (>= 20 for a p95)")
    parser.add_argument("--watcher", choices=["server", "client"], default="server")
    parser.add_argument("--debounce-ms", type=int, default=None)
    parser.add_argument("--pause", type=float, default=0.3, help="seconds between edits")
    parser.add_argument("--filtered", action="store_true", help="filtered search latency instead")
    parser.add_argument("--chunks", type=int, default=10_000, help="--filtered: about this many chunks")
    parser.add_argument(
        "--mirrors", type=Path, default=Path("/work/.mirror"), help="--filtered: TheAlgorithms"
    )
    args = parser.parse_args()
    return filtered(args) if args.filtered else asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
