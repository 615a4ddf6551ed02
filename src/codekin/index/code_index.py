"""An index directory: manifest + SQLite store + usearch vectors, kept consistent.

The store is the source of truth. The vector file is a cache of it, tagged with the store
generation it reflects; when they disagree (a killed run, a corrupt file) the vectors are rebuilt
from the embeddings in the store, without calling the encoder."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from codekin.embeddings.base import Vectors
from codekin.index.manifest import Manifest, read_manifest, write_manifest
from codekin.index.store import CorruptIndex, PendingFile, Store
from codekin.index.vectors import VectorIndex

log = logging.getLogger(__name__)

DB_NAME = "index.sqlite"
VECTORS_NAME = "vectors.usearch"
MANIFEST_NAME = "manifest.json"


def prepare_dir(index_dir: Path) -> None:
    index_dir.mkdir(parents=True, exist_ok=True)
    ignore = index_dir / ".gitignore"
    if not ignore.exists():
        ignore.write_text("*\n")


class CodeIndex:
    def __init__(self, index_dir: Path, manifest: Manifest) -> None:
        prepare_dir(index_dir)
        self.dir = index_dir
        self.manifest = manifest
        self.rebuilt_reason: str | None = None
        self._lock = threading.RLock()
        self._vectors: VectorIndex | None = None
        self._saved_generation = -1  # generation of the vector file on disk, as far as we know
        self._saved_at = time.monotonic()
        old = read_manifest(index_dir / MANIFEST_NAME)
        if old is not None and (why := old.mismatch(manifest)):
            self.rebuilt_reason = f"index rebuilt: {why}"
            self._wipe()
        try:
            self.store = Store(index_dir / DB_NAME)
        except CorruptIndex as exc:
            self.rebuilt_reason = f"index rebuilt: the database was unreadable ({exc})"
            self._wipe()
            self.store = Store(index_dir / DB_NAME)
        if self.rebuilt_reason:
            log.warning("%s", self.rebuilt_reason)
        write_manifest(index_dir / MANIFEST_NAME, manifest)

    @property
    def vectors_path(self) -> Path:
        return self.dir / VECTORS_NAME

    def _wipe(self) -> None:
        for name in (DB_NAME, DB_NAME + "-wal", DB_NAME + "-shm", VECTORS_NAME, VECTORS_NAME + ".json"):
            (self.dir / name).unlink(missing_ok=True)

    def clear(self) -> None:
        """Drop everything indexed (keeps the directory and manifest)."""
        with self._lock:
            self.store.close()
            self._wipe()
            self.store = Store(self.dir / DB_NAME)
            self._vectors = None

    def close(self) -> None:
        self.store.close()

    def vectors(self) -> VectorIndex:
        """The vectors matching the store's current generation (loaded or rebuilt if stale)."""
        with self._lock:
            generation = self.store.generation()
            if self._vectors is not None and self._vectors.generation == generation:
                return self._vectors
            loaded = VectorIndex.load(self.vectors_path, self.manifest.dim)
            if loaded is not None and loaded.generation == generation:
                self._vectors = loaded
                self._saved_generation = generation
            else:
                self._vectors = self._rebuild_vectors(generation)
            return self._vectors

    def _rebuild_vectors(self, generation: int) -> VectorIndex:
        vectors = VectorIndex(self.manifest.dim, generation=generation)
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
