"""``codekin doctor``: an index checked end to end, read-only.

The manifest against the configured encoder, SQLite's quick check, the saved vectors against
the chunks (orphan vectors with no chunk, chunks with no vector), files changed on disk since
they were indexed, who holds the write lock, and how much of the exact top 10 the usearch HNSW
graph finds on stored vectors used as queries (searches are exact below
:data:`~codekin.index.vectors.EXACT_BELOW` vectors; the graph's recall is what a growing index
will get)."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from codekin.index import layout
from codekin.index.code_index import CodeIndex, CorruptIndex
from codekin.index.layout import DB_NAME, MANIFEST_NAME, VECTORS_NAME
from codekin.index.lock import backend, read_holder
from codekin.index.manifest import Manifest, read_manifest
from codekin.index.vectors import EXACT_BELOW, VectorIndex

if TYPE_CHECKING:
    from codekin.workspace import Workspace

Status = Literal["ok", "warn", "fail"]
RECALL_WARN = 0.98  # below this the graph misses neighbours a user would notice
RECALL_FAIL = 0.90
SHOWN = 5  # ids or paths listed per finding


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    detail: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DoctorReport:
    root: str
    index_dir: str
    checks: list[Check]

    @property
    def ok(self) -> bool:
        return all(c.status != "fail" for c in self.checks)

    @property
    def recall(self) -> dict[str, Any] | None:
        found = [c.data for c in self.checks if c.name == "ann recall" and c.data]
        return found[0] if found else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "root": self.root,
            "index_dir": self.index_dir,
            "ok": self.ok,
            "problems": sum(c.status == "fail" for c in self.checks),
            "warnings": sum(c.status == "warn" for c in self.checks),
            "recall": self.recall,
            "checks": [asdict(c) for c in self.checks],
        }


def diagnose(ws: Workspace, *, sample: int = 200, k: int = 10) -> DoctorReport:
    data = layout.live_dir(ws.index_dir)
    checks: list[Check] = []
    if not (data / DB_NAME).exists():
        checks.append(Check("index", "fail", f"no index in {ws.index_dir} (run: codekin index {ws.root})"))
        return DoctorReport(str(ws.root), str(ws.index_dir), checks)
    checks += _layout(ws, data)
    try:
        index = CodeIndex.as_built(data)
    except CorruptIndex as exc:
        checks.append(
            Check("database", "fail", f"cannot be opened: {exc} (the next `codekin index` rebuilds it)")
        )
        return DoctorReport(str(ws.root), str(ws.index_dir), checks)
    try:
        checks.append(_database(index))
        if checks[-1].status == "fail":
            return DoctorReport(str(ws.root), str(ws.index_dir), checks)
        manifest = _manifest(ws, index.recorded, data)
        checks.append(manifest)
        vectors, vector_checks = _vectors(index, data)
        checks += vector_checks
    finally:
        index.close()
    if manifest.status == "fail":  # built for other settings: the files are all owed anyway
        checks.append(Check("stale files", "warn", "not checked: the index is rebuilt for the new settings"))
    else:
        checks.append(_stale(ws))
    checks.append(_lock(ws.index_dir / "write.lock"))
    if vectors is not None:
        checks.append(_recall(vectors, sample, k))
    return DoctorReport(str(ws.root), str(ws.index_dir), checks)


def _layout(ws: Workspace, data: Path) -> list[Check]:
    out: list[Check] = []
    if owed := layout.rebuild_owed(data):
        out.append(Check("rebuild", "warn", f"a full rebuild is owed ({owed}): run `codekin index`"))
    if layout.next_dir(ws.index_dir).is_dir():
        out.append(Check("rebuild", "warn", "a rebuild beside the live index is running or was interrupted"))
    for aside in layout.quarantined(data):
        out.append(Check("quarantine", "warn", f"a corrupt database was moved aside: {aside.name}"))
    return out


def _database(index: CodeIndex) -> Check:
    problem = index.quick_check()
    if problem:
        return Check(
            "database", "fail", f"PRAGMA quick_check: {problem} (the next `codekin index` rebuilds it)"
        )
    files, chunks = index.counts()
    return Check(
        "database",
        "ok",
        f"quick_check ok; {files} files, {chunks} chunks",
        {"files": files, "chunks": chunks},
    )


def _manifest(ws: Workspace, recorded: Manifest | None, data: Path) -> Check:
    if recorded is None:
        return Check(
            "manifest", "fail", "the index does not record which model built it: run `codekin index --full`"
        )
    try:
        encoder = ws.encoder
    except (OSError, RuntimeError, ValueError) as exc:
        return Check(
            "manifest", "fail", f"the configured encoder {ws.settings.model!r} cannot be loaded: {exc}"
        )
    wanted = ws._manifest(encoder)
    facts = asdict(recorded)
    if why := recorded.mismatch(wanted):
        return Check(
            "manifest", "fail", f"built for other settings: {why}; `codekin index` rebuilds it", facts
        )
    on_file = read_manifest(data / MANIFEST_NAME)
    if on_file is not None and on_file != recorded:
        return Check(
            "manifest", "warn", f"{MANIFEST_NAME} differs from the store's record (the store decides)", facts
        )
    detail = (
        f"{recorded.model} (weights {recorded.model_hash[:16]}, {recorded.dim} dims, "
        f"chunker {recorded.chunker_version}) matches the encoder"
    )
    return Check("manifest", "ok", detail, facts)


def _vectors(index: CodeIndex, data: Path) -> tuple[VectorIndex | None, list[Check]]:
    """The saved vector file against the chunks; the vectors to measure (the file, or the ones
    the next open rebuilds from the store)."""
    dim = index.recorded.dim if index.recorded else 0
    chunk_ids = set(index.chunk_ids())
    unembedded = index.unembedded_ids()
    checks: list[Check] = []
    if unembedded:
        shown = ", ".join(map(str, unembedded[:SHOWN]))
        detail = (
            f"{len(unembedded)} chunks have no stored embedding (ids {shown}): run `codekin index --full`"
        )
        checks.append(Check("embeddings", "fail", detail, {"chunks_without_embedding": len(unembedded)}))
    saved = VectorIndex.load(data / VECTORS_NAME, dim) if dim > 0 else None
    if saved is None:
        if chunk_ids:
            checks.append(
                Check(
                    "vectors",
                    "warn",
                    "no usable vector file: it is rebuilt from the stored embeddings on open",
                )
            )
        rebuilt = VectorIndex(dim) if dim > 0 else None
        if rebuilt is not None:
            for ids, rows in index.iter_stored_vectors():
                rebuilt.add(ids, rows)
        return rebuilt, checks
    current = (saved.generation, saved.store_id) == (index.generation(), index.store_id)
    held = {int(i) for i in saved.ids()}
    orphans = sorted(held - chunk_ids)
    missing = sorted(chunk_ids - held - set(unembedded))
    facts = {"vectors": len(held), "orphans": len(orphans), "missing": len(missing), "current": current}
    if not current:
        detail = (
            f"the vector file is behind the store (generation {saved.generation}, store "
            f"{index.generation()}): rebuilt from the stored embeddings on open"
        )
        checks.append(Check("vectors", "warn", detail, facts))
    elif orphans or missing:
        parts = []
        if orphans:
            parts.append(
                f"{len(orphans)} orphan vectors with no chunk (ids {', '.join(map(str, orphans[:SHOWN]))})"
            )
        if missing:
            parts.append(f"{len(missing)} chunks with no vector (ids {', '.join(map(str, missing[:SHOWN]))})")
        fix = f"delete {VECTORS_NAME}.json (rebuilt from the store on open) or run `codekin index --full`"
        checks.append(Check("vectors", "fail", f"{'; '.join(parts)}: {fix}", facts))
    else:
        checks.append(Check("vectors", "ok", f"{len(held)} vectors, one per chunk, none orphaned", facts))
    return saved, checks


def _stale(ws: Workspace) -> Check:
    fresh = ws.freshness(limit=SHOWN)
    if not fresh.stale_count:
        return Check(
            "stale files", "ok", "every indexed file matches the disk (size and mtime)", {"stale": 0}
        )
    more = " …" if fresh.stale_count > len(fresh.stale) else ""
    detail = (
        f"{fresh.stale_count} files changed on disk since indexed: {', '.join(fresh.stale)}{more} "
        "(run `codekin index`)"
    )
    return Check("stale files", "warn", detail, {"stale": fresh.stale_count, "first": list(fresh.stale)})


def _lock(path: Path) -> Check:
    """Who holds the write lock, probed without taking it for long or writing to it."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    except FileNotFoundError:
        return Check("write lock", "ok", "free (never taken)", {"held": False})
    except OSError as exc:
        return Check("write lock", "warn", f"cannot be read: {exc.strerror}", {"held": None})
    try:
        lock = backend()
        try:
            free = lock.try_lock(fd)
        except OSError as exc:
            return Check("write lock", "warn", f"cannot be probed: {exc.strerror}", {"held": None})
        if free:
            lock.unlock(fd)
            return Check("write lock", "ok", "free", {"held": False})
    finally:
        os.close(fd)
    holder = read_holder(path)
    who = holder.describe() if holder else "an unknown process"
    data: dict[str, Any] = {"held": True, "pid": str(holder.pid) if holder and holder.pid else "?"}
    return Check("write lock", "ok", f"held by {who} (an index run or an editor's server is writing)", data)


def _recall(vectors: VectorIndex, sample: int, k: int) -> Check:
    r = vectors.graph_recall(sample=sample, k=k)
    facts = asdict(r) | {"exact_below": EXACT_BELOW, "searched_exactly": r.vectors <= EXACT_BELOW}
    if r.recall is None:
        return Check("ann recall", "ok", f"{r.vectors} vectors: too few to measure", facts)
    mode = (
        f"searches are exact below {EXACT_BELOW:,} vectors, so this is the graph's quality as the index grows"
        if r.vectors <= EXACT_BELOW
        else "searches use this graph"
    )
    detail = (
        f"HNSW recall@{r.k} {r.recall:.3f} against exact search over {r.queries} stored vectors "
        f"of {r.vectors} (graph {r.graph_ms:.2f} ms/query, exact {r.exact_ms:.2f} ms/query); {mode}"
    )
    status: Status = "ok"
    if r.recall < RECALL_WARN:
        status = "fail" if r.recall < RECALL_FAIL and r.vectors > EXACT_BELOW else "warn"
    return Check("ann recall", status, detail, facts)
