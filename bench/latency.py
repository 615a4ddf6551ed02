"""Save -> searchable latency of the language server.

Starts the real ``codekin serve`` (real default model) on a copy of a workspace, waits for the
first index, then N times: saves a new function with a unique name to disk and polls
``codekin/search`` until the function is the top hit. Prints median / p95 / min / max.

    python bench/latency.py                       # server-side watcher (watchdog), 25 edits
    python bench/latency.py --watcher client      # client-side watcher (didChangeWatchedFiles)
    python bench/latency.py --edits 40 --debounce-ms 100 --workspace path/to/repo

The figure includes the debounce delay (``--debounce-ms``, default: the setting's default, 300).
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
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from lsprotocol import types
from pytest_lsp import LanguageClient, client_capabilities
from pytest_lsp.client import register_lsp_features

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


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--workspace", type=Path, default=FIXTURE, help="a repository to copy and index")
    parser.add_argument("--edits", type=int, default=25, help="number of saves (>= 20 for a p95)")
    parser.add_argument("--watcher", choices=["server", "client"], default="server")
    parser.add_argument("--debounce-ms", type=int, default=None)
    parser.add_argument("--pause", type=float, default=0.3, help="seconds between edits")
    return asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
