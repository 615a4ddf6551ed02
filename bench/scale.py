"""Org-scale indexing on Ray into Qdrant: throughput against Ray workers, the pipeline's overhead
against the single-process indexer, upsert throughput, and a projection to 1,000 repositories.

    flock /tmp/codekin-heavy.lock python bench/scale.py [--mirrors DIR ...] [--real-repo NAME]

Corpus: the given bare git mirrors (default: four under /work/.mirror), extracted at HEAD with
``git archive``. Two encoders:

* the hashing FakeEncoder (64 dims): embedding costs nothing, so the rate is the pipeline's own
  (walk, chunk, sparse vectors, store lookups, upserts) and the driver's ceiling;
* codekin's encoder (``--model``), on one repository (``--real-repo``): the rate a CPU worker
  embeds at, which bounds everything else here.

Rows at equal settings: ``single`` is ``Workspace.index()`` per repository (walk, chunk, embed,
SQLite + usearch), ``ray cpus=N actors=A`` is ``codekin org index`` on a local Ray of N CPUs
with A embedding actors into qdrant-client's local mode, in memory (the pipeline's cost) or on
disk (local mode commits every point to SQLite: its own ceiling, not a server's).
``chunks/s`` counts chunks written per second of the job without its setup (Ray start, actors,
model load: shown apart).
"""

import ray  # noqa: I001  (first: before codekin loads usearch, see codekin.org.command.run_in_driver)

import argparse
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from codekin.embeddings import build_encoder
from codekin.embeddings.base import Encoder
from codekin.embeddings.fake import FakeEncoder
from codekin.org.pipeline import OrgIndexer, OrgOptions
from codekin.org.qdrant_store import DENSE, LEXICAL, QdrantStore, point_id
from codekin.org.records import chunk_files, list_repository
from codekin.org.spec import RepoSpec, parse_store
from codekin.settings import DEFAULT_MODEL, Settings
from codekin.workspace import Workspace

MIRRORS = Path("/work/.mirror")
DEFAULT_REPOS = ("pallets+jinja", "spf13+afero", "indexmap-rs+indexmap", "uber-go+zap")
TARGET_CHUNKS = 50_000_000
TARGET_REPOS = 1_000


@dataclass
class Row:
    name: str
    chunks: int
    seconds: float  # the job without its setup
    setup: float = 0.0

    @property
    def rate(self) -> float:
        return self.chunks / self.seconds if self.seconds > 0 else 0.0


def extract(names: list[str], out: Path) -> list[Path]:
    roots = []
    for name in names:
        git_dir = MIRRORS / name / "repo"
        root = out / name.split("+")[-1]
        root.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(
            ["git", f"--git-dir={git_dir}", "archive", "HEAD"], capture_output=True, check=True
        )
        subprocess.run(["tar", "-x", "-C", str(root)], input=archive.stdout, check=True)
        roots.append(root)
    return roots


def single(roots: list[Path], encoder: Encoder, scratch: Path, label: str) -> Row:
    chunks, seconds = 0, 0.0
    for root in roots:
        settings = Settings(index_dir=str(scratch / f"local-{label}-{root.name}"))
        with Workspace(root, settings, encoder=encoder) as ws:
            stats = ws.index()
        chunks += stats.chunks_added
        seconds += stats.elapsed
    return Row(f"single process ({label})", chunks, seconds)


def org(
    roots: list[Path],
    cpus: int,
    actors: int,
    options: OrgOptions,
    scratch: Path,
    label: str,
    disk: bool = False,
) -> Row:
    """An org job; into Qdrant's in-memory local mode unless ``disk`` (local mode on disk)."""
    address = f"qdrant-local:{scratch / f'qdrant-{label}-{cpus}-{actors}'}" if disk else "qdrant-memory:"
    ray.init(num_cpus=cpus, include_dashboard=False, log_to_driver=False)
    try:
        with QdrantStore(parse_store(address)) as store:
            opts = OrgOptions(**{**options.__dict__, "embed_actors": actors})
            report = OrgIndexer(store, opts).run([RepoSpec(r.name, str(r)) for r in roots])
    finally:
        ray.shutdown()
    chunks = report.totals()["chunks"]
    name = f"ray cpus={cpus} actors={actors} ({label}, {'qdrant on disk' if disk else 'qdrant in memory'})"
    return Row(name, chunks, report.elapsed - report.setup, report.setup)


def upsert_rate(roots: list[Path], dim: int, address: str, batch: int = 256) -> tuple[int, float]:
    """Points per second into a fresh collection: the corpus's chunks with their sparse vectors
    and payload, and random unit dense vectors of the encoder's size."""
    from qdrant_client import models as qm

    from codekin.org.qdrant_store import Manifest, chunk_payload

    records = []
    for root in roots:
        listing = list_repository(str(root), 1_000_000)
        for result in chunk_files(listing.files, {}, 4000):
            records += [(root.name, result.path, r) for r in result.records]
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((len(records), dim)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    points = [
        qm.PointStruct(
            id=point_id(repo, path, r.ordinal),
            vector={
                DENSE: vectors[i].tolist(),
                LEXICAL: qm.SparseVector(indices=r.sparse[0], values=r.sparse[1]),
            },
            payload=chunk_payload(repo, "", r.chunk, r.embed_key, r.is_header),
        )
        for i, (repo, path, r) in enumerate(records)
    ]
    with QdrantStore(parse_store(address)) as store:
        store.ensure(Manifest("bench", "bench", dim, "1"))
        started = time.monotonic()
        store.upsert(points, batch)
        return len(points), time.monotonic() - started


def table(rows: list[Row], reference: Row) -> None:
    print(f"{'run':<58} {'chunks':>7} {'seconds':>8} {'setup s':>8} {'chunks/s':>9} {'vs single':>9}")
    for r in rows:
        ratio = r.rate / reference.rate if reference.rate else 0.0
        print(f"{r.name:<58} {r.chunks:>7} {r.seconds:>8.1f} {r.setup:>8.1f} {r.rate:>9.1f} {ratio:>8.2f}x")


def projection(worker_rate: float, driver_rate: float, upserts: dict[str, float], gpu_rate: float) -> None:
    print(f"\nprojection: {TARGET_REPOS:,} repositories, {TARGET_CHUNKS / 1e6:.0f}M chunks")
    print("  assumptions: embedding dominates and scales linearly with workers (each actor holds its own")
    print("  encoder; chunking is ~1 CPU per worker); 1 driver upserts to one Qdrant server;")
    print(
        f"  GPU worker rate {gpu_rate:,.0f} chunks/s is an ASSUMPTION (--gpu-rate, not measured here: no GPU)"
    )
    print(
        f"  measured here: CPU worker {worker_rate:.1f} chunks/s, driver/pipeline ceiling {driver_rate:,.0f}"
    )
    print(
        f"  chunks/s (fake encoder, in-memory Qdrant); upserts {upserts['in memory']:,.0f} points/s in memory"
        f", {upserts['on disk']:,.0f} on disk (local mode commits every point: no server figure here)"
    )
    print(f"  {'workers':>8} {'CPU workers (measured rate)':>30} {'GPU workers (assumed rate)':>28}")
    for n in (1, 8, 32, 128):
        cpu_h = TARGET_CHUNKS / (n * worker_rate) / 3600
        gpu_h = TARGET_CHUNKS / min(n * gpu_rate, driver_rate) / 3600
        capped = " (driver-bound)" if n * gpu_rate > driver_rate else ""
        print(f"  {n:>8} {cpu_h:>27,.0f} h {gpu_h:>25,.1f} h{capped}")
    hours = TARGET_CHUNKS / driver_rate / 3600
    print(f"  one driver's ceiling alone: {hours:,.1f} h for {TARGET_CHUNKS / 1e6:.0f}M chunks")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--mirrors", nargs="+", default=list(DEFAULT_REPOS), help="names under /work/.mirror")
    parser.add_argument(
        "--real-repo", default="spf13+afero", help="the repository embedded with the real model"
    )
    parser.add_argument("--model", default=DEFAULT_MODEL)
    parser.add_argument("--gpu-rate", type=float, default=2000.0, help="assumed chunks/s of one GPU worker")
    parser.add_argument("--skip-real", action="store_true", help="fake encoder rows only")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    with tempfile.TemporaryDirectory(prefix="codekin-scale-") as tmp:
        scratch = Path(tmp)
        roots = extract(args.mirrors, scratch / "corpus")
        files = sum(len(list_repository(str(r), 1_000_000).files) for r in roots)
        print(f"corpus: {', '.join(args.mirrors)} ({files} indexable files)\n")

        fake = OrgOptions(fake_dim=64)
        print("fake encoder (the pipeline's own cost):")
        reference = single(roots, FakeEncoder(64), scratch, "fake")
        rows = [reference] + [org(roots, cpus, 1, fake, scratch, "fake") for cpus in (1, 2)]
        rows.append(org(roots, 2, 1, fake, scratch, "fake", disk=True))
        table(rows, reference)
        driver_rate = max(r.rate for r in rows[1:3])

        worker_rate = 0.0
        dim = 64
        if not args.skip_real:
            real_roots = [r for r in roots if r.name == args.real_repo.split("+")[-1]]
            encoder = build_encoder(args.model)
            dim = encoder.dim
            print(f"\n{args.model} ({dim} dims) on {args.real_repo}:")
            reference = single(real_roots, encoder, scratch, "model")
            del encoder
            real = OrgOptions(model=args.model, device="cpu")
            rows = [reference] + [
                org(real_roots, c, a, real, scratch, "model") for c, a in ((1, 1), (2, 1), (2, 2))
            ]
            table(rows, reference)
            worker_rate = rows[1].rate  # one worker: the 1-CPU run

        print()
        upserts: dict[str, float] = {}
        for where, address in (
            ("in memory", "qdrant-memory:"),
            ("on disk", f"qdrant-local:{scratch / 'up'}"),
        ):
            count, seconds = upsert_rate(roots, dim, address)
            upserts[where] = count / seconds
            print(
                f"upsert into local-mode Qdrant {where}: {count} points ({dim} dims + sparse) "
                f"in {seconds:.1f}s, {upserts[where]:,.0f} points/s (batches of 256)"
            )
        if worker_rate:
            projection(worker_rate, driver_rate, upserts, args.gpu_rate)
    return 0


if __name__ == "__main__":
    sys.exit(main())
