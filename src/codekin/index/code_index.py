"""An index data directory: SQLite store + usearch vectors (+ a readable manifest copy), kept
consistent.

The store is the source of truth. The vector file is a cache of it, tagged with the store (id
and generation) it reflects and a digest of its bytes; when they disagree (a killed run, a
damaged file) the vectors are rebuilt from the embeddings in the store, without calling the
encoder. The store also records what built it (the manifest), so a lost or damaged
``manifest.json`` never decides whether to re-embed."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from codekin.embeddings.base import Vectors
from codekin.index.layout import DB_NAME, MANIFEST_NAME, VECTORS_NAME, mark_rebuild_owed, rebuild_owed
from codekin.index.lock import ReadOnlyIndex
from codekin.index.manifest import Manifest, read_manifest, write_manifest
from codekin.index.store import PendingFile, Store
from codekin.index.vectors import VectorIndex

log = logging.getLogger(__name__)

__all__ = ["DB_NAME", "MANIFEST_NAME", "VECTORS_NAME", "CodeIndex", "prepare_dir"]


def prepare_dir(index_dir: Path) -> None:
    index_dir.mkdir(parents=True, exist_ok=True)
    ignore = index_dir / ".gitignore"
    if not ignore.exists():
        ignore.write_text("*\n")


class CodeIndex:
    """``readonly``: open without writing anything (a read-only or shared index); ``check``: run
    SQLite's quick check on open. A damaged database raises CorruptIndex (the caller, who holds
    the write lock or not, decides whether to quarantine it). ``mismatch`` says why the index
    cannot serve ``manifest`` (another model, chunker or format), or is None."""

    def __init__(
        self, data_dir: Path, manifest: Manifest, *, readonly: bool = False, check: bool = False
    ) -> None:
        self.dir = data_dir
        self.manifest = manifest
        self.readonly = readonly
        self._lock = threading.RLock()
        self._vectors: VectorIndex | None = None
        self._saved_generation = -1  # generation of the vector file on disk, as far as we know
        self._saved_at = time.monotonic()
        self._coverage = (-1, 0, 0)  # (generation, embedded, chunks) of the last coverage() count
        if readonly and not (data_dir / DB_NAME).exists():
            raise ReadOnlyIndex(
                f"there is no index in {data_dir}, and it cannot be created there (read-only)"
            )
        if not readonly:
            prepare_dir(data_dir)
        self.store = Store(data_dir / DB_NAME, readonly=readonly, check=check)
        self.verified = check  # quick-checked since opened (a writer's next full run checks again)
        if self.store.created and not readonly and (data_dir / (VECTORS_NAME + ".json")).exists():
            # vectors saved for a database that is now gone or empty: it was lost, not new
            mark_rebuild_owed(data_dir, "the database was missing or empty beside saved vectors")
        owed = None if readonly else rebuild_owed(data_dir)
        self.rebuilt_reason: str | None = f"index rebuilt: {owed}" if owed else None
        self.recorded, self.mismatch = self._check_manifest()
        if self.mismatch is None and not readonly:
            self._record_manifest()

    def _check_manifest(self) -> tuple[Manifest | None, str | None]:
        """(what built this index, why it cannot serve ``self.manifest``). The store's own record
        decides; ``manifest.json`` only speaks for an index made before the store kept one."""
        recorded = Manifest.from_meta(self.store.meta())
        on_file = read_manifest(self.dir / MANIFEST_NAME)
        if recorded is not None:
            if on_file != recorded:
                state = "missing" if on_file is None else "unreadable or different"
                log.warning(
                    "%s is %s; the store records %s, so nothing is re-embedded for it",
                    self.dir / MANIFEST_NAME,
                    state,
                    recorded.model,
                )
            return recorded, recorded.mismatch(self.manifest)
        if self.store.counts()[1] == 0:
            return None, None  # nothing indexed yet: anything can build it
        if on_file is None or on_file.format < 0:
            return (
                None,
                "the index does not record which model built it (manifest.json missing or unreadable)",
            )
        return on_file, on_file.mismatch(self.manifest)

    def _record_manifest(self) -> None:
        if Manifest.from_meta(self.store.meta()) != self.manifest:
            self.store.set_metas(self.manifest.to_meta())
        if read_manifest(self.dir / MANIFEST_NAME) != self.manifest:
            write_manifest(self.dir / MANIFEST_NAME, self.manifest)
        self.recorded = self.manifest

    @property
    def vectors_path(self) -> Path:
        return self.dir / VECTORS_NAME

    def clear(self) -> None:
        """Drop everything indexed (keeps the directory)."""
        with self._lock:
            self.store.close()
            for name in (DB_NAME, DB_NAME + "-wal", DB_NAME + "-shm", VECTORS_NAME, VECTORS_NAME + ".json"):
                (self.dir / name).unlink(missing_ok=True)
            self.store = Store(self.dir / DB_NAME)
            self._vectors = None
            self._record_manifest()

    def close(self) -> None:
        self.store.close()

    def vectors(self) -> VectorIndex:
        """The vectors matching the store's current generation (loaded or rebuilt if stale)."""
        with self._lock:
            generation = self.store.generation()
            if self._vectors is not None and self._vectors.generation == generation:
                return self._vectors
            store_id = self.store.store_id
            loaded = VectorIndex.load(self.vectors_path, self.manifest.dim)
            if loaded is not None and (loaded.generation, loaded.store_id) == (generation, store_id):
                self._vectors = loaded
                self._saved_generation = generation
            else:
                self._vectors = self._rebuild_vectors(generation, store_id)
            return self._vectors

    def _rebuild_vectors(self, generation: int, store_id: str) -> VectorIndex:
        vectors = VectorIndex(self.manifest.dim, generation=generation, store_id=store_id)
        for ids, rows in self.store.iter_vectors():
            vectors.add(ids, rows)
        if len(vectors):
            log.info("rebuilt the vector index from %d stored embeddings", len(vectors))
        return vectors

    def commit_files(
        self, files: Sequence[PendingFile], new_vectors: dict[str, np.ndarray]
    ) -> tuple[list[int], list[int]]:
        """Commit files' new chunks to the store and mirror the change into the vectors in one
        step, so a concurrent reader never sees them apart. Returns (removed ids, added ids)."""
        with self._lock:
            vectors = self.vectors()
            removed, added = self.store.commit_files(files, new_vectors)
            ids, rows = self.store.vectors_for_ids([cid for cid, _ in added])
            self._mirror(vectors, removed, ids, rows)
            return removed, ids

    def add_vectors(self, new_vectors: dict[str, np.ndarray]) -> list[int]:
        """Store embeddings for chunks committed without one and mirror them into the vectors
        in one step; returns the ids of the chunks that gained a vector."""
        with self._lock:
            vectors = self.vectors()
            gained = self.store.add_vectors(new_vectors)
            ids, rows = self.store.vectors_for_ids(gained)
            self._mirror(vectors, [], ids, rows)
            return ids

    def coverage(self) -> tuple[int, int]:
        """(chunks with a vector, all chunks), counted once per store generation (from the
        vectors when they are loaded, else from the store: a lexical search never loads them)."""
        with self._lock:
            generation = self.store.generation()
            if self._coverage[0] != generation:
                total = self.store.counts()[1]
                if self._vectors is not None and self._vectors.generation == generation:
                    embedded = len(self._vectors)
                else:
                    embedded = total - self.store.count_missing_vectors()
                self._coverage = (generation, min(embedded, total), total)
            return self._coverage[1], self._coverage[2]

    def remove_files(self, paths: Sequence[str]) -> list[int]:
        with self._lock:
            vectors = self.vectors()
            removed = self.store.remove_files(paths)
            self._mirror(vectors, removed, [], np.zeros((0, self.manifest.dim), dtype=np.float32))
            return removed

    def _mirror(self, vectors: VectorIndex, removed: list[int], added: list[int], rows: Vectors) -> None:
        vectors.remove(removed)
        vectors.add(added, rows)
        vectors.generation = self.store.generation()

    def save_if_due(self, min_interval: float = 0.0) -> bool:
        """Save the vectors when they differ from the file and the last save is ``min_interval``
        seconds old (small editor-driven updates save at most that often). Writer only."""
        with self._lock:
            vectors = self.vectors()
            if vectors.generation == self._saved_generation:
                return False
            if time.monotonic() - self._saved_at < min_interval:
                return False
            vectors.save(self.vectors_path)
            self._saved_generation, self._saved_at = vectors.generation, time.monotonic()
            return True

    @property
    def unsaved(self) -> bool:
        return self._vectors is not None and self._vectors.generation != self._saved_generation
