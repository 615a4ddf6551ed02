"""An index directory: manifest + SQLite store + usearch vectors, kept consistent.

The store is the source of truth. The vector file is a cache of it, tagged with the store
generation it reflects; when they disagree (a killed run, a corrupt file) the vectors are rebuilt
from the embeddings in the store, without calling the encoder."""

from __future__ import annotations

import logging
import shutil
import threading
from pathlib import Path

from codekin.embeddings.base import Vectors
from codekin.index.manifest import Manifest, read_manifest, write_manifest
from codekin.index.store import CorruptIndex, Store
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

    def apply(self, removed: list[int], added: list[int], rows: Vectors) -> None:
        """Mirror a committed store change into the in-memory vectors (writer only)."""
        with self._lock:
            vectors = self._vectors
            generation = self.store.generation()
            if vectors is None or vectors.generation < 0:
                self.vectors()
                return
            if vectors.generation >= generation:  # a concurrent reader already reloaded this state
                return
            vectors.remove(removed)
            vectors.add(added, rows)
            vectors.generation = generation

    def save_vectors(self) -> None:
        with self._lock:
            vectors = self.vectors()
            vectors.save(self.vectors_path)

    def disk_bytes(self) -> int:
        return sum(p.stat().st_size for p in self.dir.iterdir() if p.is_file())


def remove_index_dir(index_dir: Path) -> None:
    shutil.rmtree(index_dir, ignore_errors=True)
