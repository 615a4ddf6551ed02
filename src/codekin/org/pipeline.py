"""``codekin org index``: many repositories into one shared index, on Ray.

Ray tasks list each repository (codekin's walker and ignore rules) and chunk files in batches
(CPU); an actor pool embeds (each actor loads the encoder once; GPU actors when asked); the
driver owns the store: it looks up vectors already stored under the same embed key (so
unchanged chunks, and the same text in another repository or branch, are never embedded
again), upserts points in batches, then writes each file's marker. A killed job loses only the
files without a marker, and their vectors are found again by embed key.

Plain tasks and actors rather than Ray Data: the store lookup between chunking and embedding
and the marker after the upsert must happen in one place (qdrant-client's local mode is one
process), and a Ray Data job's start-up costs seconds that a 2-core CI cannot spare.
"""

from __future__ import annotations

import logging
import os
import subprocess
import tarfile
import tempfile
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from codekin.embeddings.base import Encoder, Vectors
from codekin.files import FileEntry
from codekin.org.qdrant_store import (
    DENSE,
    LEXICAL,
    FileMarker,
    Manifest,
    QdrantStore,
    chunk_payload,
    point_id,
)
from codekin.org.records import FileResult, Listing, chunk_files, list_repository
from codekin.org.spec import RepoSpec
from codekin.parsers import CHUNKER_VERSION

log = logging.getLogger(__name__)

MAX_SKIPS_KEPT = 50  # per repository


@dataclass(frozen=True)
class OrgOptions:
    model: str = "codekin-encoder"
    device: str = "auto"
    batch_size: int = 32
    max_tokens: int = 256
    max_file_bytes: int = 1_000_000
    max_chunk_bytes: int = 4000
    embed_actors: int = 1
    gpus_per_actor: float = 0.0
    files_per_task: int = 64
    embed_batch: int = 256  # texts per actor call
    upsert_batch: int = 256  # points per upsert request
    fake_dim: int = 0  # tests: the hashing FakeEncoder of this size instead of the model
    work_dir: str = ""  # where revisions are extracted ("" -> a temporary directory)
    kill_after_writes: int = 0  # tests: SIGKILL this process after that many batches are stored


@dataclass
class RepoReport:
    name: str
    path: str
    revision: str = ""
    files: int = 0  # indexable files listed
    unchanged: int = 0
    indexed: int = 0  # files (re)written
    removed: int = 0  # files gone since the last run
    chunks: int = 0  # chunks written
    embedded: int = 0  # texts this job sent to the encoder for it
    reused: int = 0  # chunks written with a vector already stored or being embedded for another
    skipped: dict[str, str] = field(default_factory=dict)  # path -> reason (first MAX_SKIPS_KEPT)
    skipped_count: int = 0  # walker skips and listed files that could not be read or chunked
    failed: int = 0  # listed files that could not be read or chunked
    error: str = ""  # why the repository could not be indexed at all

    @property
    def done(self) -> int:
        """Listed files dealt with so far."""
        return self.unchanged + self.indexed + self.failed


@dataclass
class OrgReport:
    store: str
    repos: list[RepoReport]
    elapsed: float = 0.0
    setup: float = 0.0  # of elapsed: starting the actors and loading the encoder
    embed_actors: int = 0
    encoded: int = 0  # texts the embedding actors encoded (as they counted them)

    def totals(self) -> dict[str, int]:
        keys = ("files", "unchanged", "indexed", "removed", "chunks", "embedded", "reused", "skipped_count")
        return {k: sum(int(getattr(r, k)) for r in self.repos) for k in keys}

    def to_dict(self) -> dict[str, Any]:
        return {
            "store": self.store,
            "elapsed": round(self.elapsed, 2),
            "setup": round(self.setup, 2),
            "embed_actors": self.embed_actors,
            "encoded": self.encoded,
            "totals": self.totals(),
            "repos": [{**r.__dict__} for r in self.repos],
        }


ProgressCallback = Callable[[RepoReport], None]


class Embedder:
    """An embedding actor's body: the encoder is loaded once, in ``__init__``."""

    def __init__(self, options: OrgOptions) -> None:
        self.encoder = make_encoder(options)
        self.encoded = 0

    def info(self) -> tuple[str, str, int]:
        return self.encoder.model_id, self.encoder.model_hash, self.encoder.dim

    def embed(self, texts: list[str]) -> Vectors:
        self.encoded += len(texts)
        return self.encoder.embed_documents(texts)

    def count(self) -> int:
        """Texts this actor has encoded."""
        return self.encoded


def actor_cpus(cluster_cpus: float, actors: int, gpus_per_actor: float) -> float:
    """The CPUs each embedding actor reserves: none on a GPU; on CPUs, one each but always
    leaving one for the chunking tasks (otherwise actors holding every CPU would starve them)."""
    if gpus_per_actor:
        return 0.0
    return max(0.0, min(1.0, (cluster_cpus - 1) / actors))


def make_encoder(options: OrgOptions) -> Encoder:
    if options.fake_dim:
        from codekin.embeddings.fake import FakeEncoder

        return FakeEncoder(options.fake_dim)
    from codekin.embeddings import build_encoder
    from codekin.settings import Settings

    settings = Settings(device=options.device, batch_size=options.batch_size, max_tokens=options.max_tokens)
    return build_encoder(options.model, settings)


def resolve_revision(spec: RepoSpec, work_dir: Path) -> tuple[str, str]:
    """(directory to index, revision): a given revision is extracted (``git archive``) into
    ``work_dir``; otherwise the directory itself, at its HEAD commit when it is a git checkout."""
    root = Path(spec.path)
    if not root.is_dir():
        raise FileNotFoundError(f"{spec.path}: not a directory")
    if not spec.revision:
        head = _git(root, "rev-parse", "--verify", "-q", "HEAD")
        return str(root), head.decode().strip() if head else ""
    sha = _git(root, "rev-parse", "--verify", "-q", f"{spec.revision}^{{commit}}")
    if not sha:
        raise LookupError(f"{spec.path}: no revision {spec.revision!r} (is it a git repository?)")
    commit = sha.decode().strip()
    tree = work_dir / "trees" / commit
    if not tree.is_dir():
        data = _git(root, "archive", "--format=tar", commit)
        if data is None:
            raise LookupError(f"{spec.path}: git archive {commit} failed")
        tree.parent.mkdir(parents=True, exist_ok=True)
        partial = Path(tempfile.mkdtemp(dir=tree.parent, prefix="extract-"))
        with tempfile.TemporaryFile() as fh:
            fh.write(data)
            fh.seek(0)
            with tarfile.open(fileobj=fh) as tar:
                tar.extractall(partial, filter="data")
        partial.rename(tree)
    return str(tree), commit


def _git(root: Path, *args: str) -> bytes | None:
    try:
        done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, check=False, timeout=600)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 else None


@dataclass
class _EmbedJob:
    keys: list[str]
    vectors: dict[str, Vectors] = field(default_factory=dict)
    waiters: int = 0  # write jobs still needing these vectors
    done: bool = False


@dataclass
class _WriteJob:
    repo: int
    files: list[FileResult]
    vectors: dict[str, Vectors]  # found in the store
    source: dict[str, int]  # embed key -> embed job producing it
    deps: set[int]


class OrgIndexer:
    """One ``codekin org index`` run; Ray must be initialised (``ray.init``) by the caller."""

    def __init__(
        self, store: QdrantStore, options: OrgOptions, progress: ProgressCallback | None = None
    ) -> None:
        self.store = store
        self.options = options
        self.progress = progress
        self.embed_jobs: dict[int, _EmbedJob] = {}
        self.inflight: dict[str, int] = {}  # embed key -> embed job (until its points are stored)
        self.waiting: list[_WriteJob] = []
        self.markers: dict[int, dict[str, FileMarker]] = {}  # per repository, as this run updates them
        self.next_job = 0
        self.writes = 0

    def run(self, repos: list[RepoSpec]) -> OrgReport:
        import ray as ray_module

        ray: Any = ray_module  # its stubs do not follow remote functions and actors

        started = time.monotonic()
        opts = self.options
        reports = [RepoReport(r.name, r.path) for r in repos]
        report = OrgReport(self.store.spec.describe(), reports, embed_actors=opts.embed_actors)
        list_task = ray.remote(num_cpus=1)(list_repository)
        chunk_task = ray.remote(num_cpus=1)(chunk_files)
        cpus = float(ray.cluster_resources().get("CPU", 1))
        count = max(1, opts.embed_actors)
        actor_cls = ray.remote(
            num_cpus=actor_cpus(cpus, count, opts.gpus_per_actor), num_gpus=opts.gpus_per_actor
        )(Embedder)
        actors = [actor_cls.remote(opts) for _ in range(count)]
        model_id, model_hash, dim = ray.get(actors[0].info.remote())
        report.setup = time.monotonic() - started
        self.store.ensure(Manifest(model_id, model_hash, dim, CHUNKER_VERSION))

        with tempfile.TemporaryDirectory(prefix="codekin-org-") as scratch:
            work = Path(opts.work_dir or scratch)
            work.mkdir(parents=True, exist_ok=True)
            roots: dict[int, str] = {}
            for i, spec in enumerate(repos):
                try:
                    roots[i], reports[i].revision = resolve_revision(spec, work)
                except (OSError, LookupError) as exc:
                    reports[i].error = str(exc)
                    log.warning("repository %s skipped: %s", spec.name, exc)
            listings = {i: list_task.remote(root, opts.max_file_bytes) for i, root in roots.items()}
            todo: deque[tuple[int, list[FileEntry], dict[str, str]]] = deque()
            for i, ref in listings.items():
                self._plan(i, ray.get(ref), reports[i], todo, opts.files_per_task)
            chunking: dict[Any, int] = {}
            embedding: dict[Any, int] = {}
            turn = 0
            window = 2 * max(1, int(cpus)) + 1  # chunk tasks in flight
            while todo or chunking or embedding:
                while todo and len(chunking) < window:
                    i, batch, known = todo.popleft()
                    chunking[chunk_task.remote(batch, known, opts.max_chunk_bytes)] = i
                ready, _ = ray.wait(list(chunking) + list(embedding), num_returns=1)
                ref = ready[0]
                if ref in chunking:
                    i = chunking.pop(ref)
                    for texts, job_id in self._chunked(i, ray.get(ref), reports[i]):
                        actor = actors[turn % len(actors)]
                        turn += 1
                        embedding[actor.embed.remote(texts)] = job_id
                else:
                    job_id = embedding.pop(ref)
                    self._embedded(job_id, ray.get(ref), reports)
            report.encoded = sum(ray.get([a.count.remote() for a in actors]))
            for actor in actors:
                ray.kill(actor)
        report.elapsed = time.monotonic() - started
        return report

    # --- stages -----------------------------------------------------------------------------
    def _plan(
        self,
        i: int,
        listing: Listing,
        rep: RepoReport,
        todo: deque[tuple[int, list[FileEntry], dict[str, str]]],
        per_task: int,
    ) -> None:
        markers = self.store.markers(rep.name)
        self.markers[i] = markers
        rep.files = len(listing.files)
        for rel, why in listing.skipped:
            self._skip(rep, rel, why)
        listed = {e.rel for e in listing.files}
        gone = [p for p in markers if p not in listed]
        self._remove(i, rep, gone)
        known = {p: m.digest for p, m in markers.items()}
        for start in range(0, len(listing.files), per_task):
            batch = listing.files[start : start + per_task]
            todo.append((i, batch, {e.rel: known[e.rel] for e in batch if e.rel in known}))
        if not listing.files:
            self._report(rep)

    def _chunked(self, i: int, results: list[FileResult], rep: RepoReport) -> list[tuple[list[str], int]]:
        """Account for a chunked batch; returns the embed calls to make: (texts, embed job)."""
        changed: list[FileResult] = []
        for r in results:
            if r.unchanged:
                rep.unchanged += 1
            elif r.skipped:
                rep.failed += 1
                self._skip(rep, r.path, r.skipped)
                if r.path in self.markers[i]:  # indexed before, not indexable now
                    self._remove(i, rep, [r.path])
            else:
                changed.append(r)
        if not changed:
            self._report(rep)
            return []
        texts = {rec.embed_key: rec.text for r in changed for rec in r.records}
        source = {k: self.inflight[k] for k in texts if k in self.inflight}
        stored = self.store.vectors_for_keys([k for k in texts if k not in source])
        new = [k for k in texts if k not in source and k not in stored]
        records = sum(len(r.records) for r in changed)
        rep.embedded += len(new)
        rep.reused += records - len(new)
        calls = []
        for start in range(0, len(new), self.options.embed_batch):
            keys = new[start : start + self.options.embed_batch]
            job_id = self.next_job
            self.next_job += 1
            self.embed_jobs[job_id] = _EmbedJob(keys)
            for k in keys:
                self.inflight[k] = source[k] = job_id
            calls.append(([texts[k] for k in keys], job_id))
        deps = {j for j in source.values() if not self.embed_jobs[j].done}
        job = _WriteJob(i, changed, stored, source, deps)
        for j in set(source.values()):
            self.embed_jobs[j].waiters += 1
        if deps:
            self.waiting.append(job)
        else:
            self._write(job, rep)
        return calls

    def _embedded(self, job_id: int, rows: Vectors, reports: list[RepoReport]) -> None:
        job = self.embed_jobs[job_id]
        job.vectors = dict(zip(job.keys, np.asarray(rows, dtype=np.float32), strict=True))
        job.done = True
        still: list[_WriteJob] = []
        for w in self.waiting:
            w.deps.discard(job_id)
            if w.deps:
                still.append(w)
            else:
                self._write(w, reports[w.repo])
        self.waiting = still
        self._release(job_id)

    def _write(self, job: _WriteJob, rep: RepoReport) -> None:
        """Upsert a batch's points, drop the ids its files no longer use, then mark the files."""
        from qdrant_client import models as qm

        points: list[qm.PointStruct] = []
        markers: list[FileMarker] = []
        stale: list[int] = []
        mine = set(job.source.values())
        for r in job.files:
            ids = []
            for rec in r.records:
                j = job.source.get(rec.embed_key)
                vec = job.vectors[rec.embed_key] if j is None else self.embed_jobs[j].vectors[rec.embed_key]
                pid = point_id(rep.name, r.path, rec.ordinal)
                ids.append(pid)
                indices, values = rec.sparse
                points.append(
                    qm.PointStruct(
                        id=pid,
                        vector={
                            DENSE: vec.tolist(),
                            LEXICAL: qm.SparseVector(indices=indices, values=values),
                        },
                        payload=chunk_payload(
                            rep.name, rep.revision, rec.chunk, rec.embed_key, rec.is_header
                        ),
                    )
                )
            old = self.markers[job.repo].get(r.path)
            if old is not None:
                stale += [p for p in old.ids if p not in set(ids)]
            markers.append(FileMarker(rep.name, r.path, r.digest, tuple(ids), rep.revision))
            rep.indexed += 1
            rep.chunks += len(r.records)
        self.store.upsert(points, self.options.upsert_batch)
        self.store.delete(stale)
        self.store.put_markers(markers)
        self.writes += 1
        if self.writes == self.options.kill_after_writes:  # tests: a job killed mid-way
            os._exit(137)  # no cleanup, no flush: as abrupt as SIGKILL, on every platform
        for j in mine:
            self.embed_jobs[j].waiters -= 1
            self._release(j)
        self._report(rep)

    def _release(self, job_id: int) -> None:
        """Forget an embed job's vectors once every write job that needs them has stored them
        (from then on they are found in the store)."""
        job = self.embed_jobs.get(job_id)
        if job is not None and job.done and job.waiters == 0:
            for k in job.keys:
                if self.inflight.get(k) == job_id:
                    del self.inflight[k]
            del self.embed_jobs[job_id]

    def _remove(self, i: int, rep: RepoReport, paths: list[str]) -> None:
        """Drop the points and markers of files that are gone or no longer indexable."""
        markers = self.markers[i]
        self.store.delete([p for path in paths if (m := markers.get(path)) is not None for p in m.ids])
        self.store.drop_markers(rep.name, paths)
        for p in paths:
            markers.pop(p, None)
        rep.removed += len(paths)

    def _skip(self, rep: RepoReport, rel: str, why: str) -> None:
        rep.skipped_count += 1
        if len(rep.skipped) < MAX_SKIPS_KEPT:
            rep.skipped[rel] = why

    def _report(self, rep: RepoReport) -> None:
        if self.progress is not None:
            self.progress(rep)
