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
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np

from codekin.embeddings.base import Vectors
from codekin.index.catalog import ChunkCatalog
from codekin.index.layout import DB_NAME, MANIFEST_NAME, VECTORS_NAME, mark_rebuild_owed, rebuild_owed
from codekin.index.lexical import DEFAULT_QUERY, QueryOptions
from codekin.index.lock import ReadOnlyIndex
from codekin.index.manifest import Manifest, read_manifest, write_manifest
from codekin.index.store import CorruptIndex, FileRow, IndexNotBuilt, PendingFile, Store
from codekin.index.vectors import VectorIndex
from codekin.parsers.model import Chunk

log = logging.getLogger(__name__)
UNKNOWN_MANIFEST = Manifest(-1, "?", "?", -1, "?")  # an index opened as built that records nothing

__all__ = [
    "DB_NAME",
    "MANIFEST_NAME",
    "VECTORS_NAME",
    "CodeIndex",
    "CorruptIndex",
    "FileRow",
    "IndexCounts",
    "IndexNotBuilt",
    "PendingFile",
    "prepare_dir",
    "recorded_manifest",
]
UPDATED_KEY = "last_updated"  # meta: when the last run over the files finished (epoch seconds)
REDACTION_KEY = "redact.fingerprint"  # meta: the redaction rules the stored text was masked under
UNUSED_VECTORS_KEY = "unused_vectors"  # meta: "1" while removed chunks may have left embeddings unused


class IndexCounts(NamedTuple):
    files: int
    chunks: int


def prepare_dir(index_dir: Path) -> None:
    index_dir.mkdir(parents=True, exist_ok=True)
    ignore = index_dir / ".gitignore"
    if not ignore.exists():
        ignore.write_text("*\n")


def recorded_manifest(data_dir: Path) -> Manifest | None:
    """What built the index in ``data_dir`` (read-only; see :meth:`CodeIndex.as_built`)."""
    index = CodeIndex.as_built(data_dir)
    try:
        return index.recorded
    finally:
        index.close()


class CodeIndex:
    """The only reader and writer of an index's :class:`~codekin.index.store.Store`: searches,
    editors, status, evaluation and benchmarks ask it, by what they need.

    ``readonly``: open without writing anything (a read-only or shared index); ``check``: run
    SQLite's quick check on open. A damaged database raises CorruptIndex (the caller, who holds
    the write lock or not, decides whether to quarantine it). ``mismatch`` says why the index
    cannot serve ``manifest`` (another model, chunker or format), or is None. ``manifest`` None:
    open read-only as built (:meth:`as_built`)."""

    def __init__(
        self, data_dir: Path, manifest: Manifest | None, *, readonly: bool = False, check: bool = False
    ) -> None:
        readonly = readonly or manifest is None
        self.dir = data_dir
        self.readonly = readonly
        self._lock = threading.RLock()
        self._vectors: VectorIndex | None = None
        self._saved_generation = -1  # generation of the vector file on disk, as far as we know
        self._saved_at = time.monotonic()
        self._coverage = (-1, 0, 0)  # (generation, embedded, chunks) of the last coverage() count
        self._catalog: ChunkCatalog | None = None
        if readonly and not (data_dir / DB_NAME).exists():
            raise ReadOnlyIndex(
                f"there is no index in {data_dir}, and it cannot be created there (read-only)"
            )
        if not readonly:
            prepare_dir(data_dir)
        self._store = Store(data_dir / DB_NAME, readonly=readonly, check=check)
        self.verified = check  # quick-checked since opened (a writer's next full run checks again)
        self.rebuilt_reason: str | None = None
        if manifest is None:  # as built: whatever built it, nothing checked against it
            on_file = read_manifest(data_dir / MANIFEST_NAME)
            self.recorded: Manifest | None = Manifest.from_meta(self._store.meta()) or on_file
            self.manifest = self.recorded or UNKNOWN_MANIFEST
            self.mismatch: str | None = None
            return
        self.manifest = manifest
        if self._store.created and not readonly and (data_dir / (VECTORS_NAME + ".json")).exists():
            # vectors saved for a database that is now gone or empty: it was lost, not new
            mark_rebuild_owed(data_dir, "the database was missing or empty beside saved vectors")
        owed = None if readonly else rebuild_owed(data_dir)
        self.rebuilt_reason = f"index rebuilt: {owed}" if owed else None
        self.recorded, self.mismatch = self._check_manifest()
        if self.mismatch is None and not readonly:
            self._record_manifest()

    @classmethod
    def as_built(cls, data_dir: Path, *, check: bool = False) -> CodeIndex:
        """The index in ``data_dir`` opened read-only as it was built, whatever the settings say:
        ``recorded`` is what built it (the store's record, else ``manifest.json``; None when
        neither says). For status, doctor and searches that never load the model."""
        return cls(data_dir, None, readonly=True, check=check)

    def _check_manifest(self) -> tuple[Manifest | None, str | None]:
        """(what built this index, why it cannot serve ``self.manifest``). The store's own record
        decides; ``manifest.json`` only speaks for an index made before the store kept one."""
        recorded = Manifest.from_meta(self._store.meta())
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
        if self._store.counts()[1] == 0:
            return None, None  # nothing indexed yet: anything can build it
        if on_file is None or on_file.format < 0:
            return (
                None,
                "the index does not record which model built it (manifest.json missing or unreadable)",
            )
        return on_file, on_file.mismatch(self.manifest)

    def _record_manifest(self) -> None:
        if Manifest.from_meta(self._store.meta()) != self.manifest:
            self._store.set_metas(self.manifest.to_meta())
        if read_manifest(self.dir / MANIFEST_NAME) != self.manifest:
            write_manifest(self.dir / MANIFEST_NAME, self.manifest)
        self.recorded = self.manifest

    @property
    def vectors_path(self) -> Path:
        return self.dir / VECTORS_NAME

    def clear(self) -> None:
        """Drop everything indexed (keeps the directory)."""
        with self._lock:
            self._store.close()
            for name in (DB_NAME, DB_NAME + "-wal", DB_NAME + "-shm", VECTORS_NAME, VECTORS_NAME + ".json"):
                (self.dir / name).unlink(missing_ok=True)
            self._store = Store(self.dir / DB_NAME)
            self._vectors = None
            self._record_manifest()

    def close(self) -> None:
        self._store.close()

    def __enter__(self) -> CodeIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def vectors(self) -> VectorIndex:
        """The vectors matching the store's current generation (loaded or rebuilt if stale)."""
        with self._lock:
            generation = self._store.generation()
            if self._vectors is not None and self._vectors.generation == generation:
                return self._vectors
            store_id = self._store.store_id
            loaded = VectorIndex.load(self.vectors_path, self.manifest.dim)
            if loaded is not None and (loaded.generation, loaded.store_id) == (generation, store_id):
                self._vectors = loaded
                self._saved_generation = generation
            else:
                self._vectors = self._rebuild_vectors(generation, store_id)
            return self._vectors

    def _rebuild_vectors(self, generation: int, store_id: str) -> VectorIndex:
        vectors = VectorIndex(self.manifest.dim, generation=generation, store_id=store_id)
        for ids, rows in self.iter_stored_vectors():
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
            removed, added = self._store.commit_files(files, new_vectors)
            ids, rows = self._store.vectors_for_ids([cid for cid, _ in added])
            self._mirror(vectors, removed, ids, rows)
            return removed, ids

    def add_vectors(self, new_vectors: dict[str, np.ndarray]) -> list[int]:
        """Store embeddings for chunks committed without one and mirror them into the vectors
        in one step; returns the ids of the chunks that gained a vector."""
        with self._lock:
            vectors = self.vectors()
            gained = self._store.add_vectors(new_vectors)
            ids, rows = self._store.vectors_for_ids(gained)
            self._mirror(vectors, [], ids, rows)
            return ids

    def coverage(self) -> tuple[int, int]:
        """(chunks with a vector, all chunks), counted once per store generation (from the
        vectors when they are loaded, else from the store: a lexical search never loads them)."""
        with self._lock:
            generation = self._store.generation()
            if self._coverage[0] != generation:
                total = self._store.counts()[1]
                if self._vectors is not None and self._vectors.generation == generation:
                    embedded = len(self._vectors)
                else:
                    embedded = total - self._store.count_missing_vectors()
                self._coverage = (generation, min(embedded, total), total)
            return self._coverage[1], self._coverage[2]

    def remove_files(self, paths: Sequence[str]) -> list[int]:
        with self._lock:
            vectors = self.vectors()
            removed = self._store.remove_files(paths)
            self._mirror(vectors, removed, [], np.zeros((0, self.manifest.dim), dtype=np.float32))
            return removed

    def _mirror(self, vectors: VectorIndex, removed: list[int], added: list[int], rows: Vectors) -> None:
        vectors.remove(removed)
        vectors.add(added, rows)
        vectors.generation = self._store.generation()

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

    # --- reads: what searches, editors, status and tools ask ---------------------------------
    def counts(self) -> IndexCounts:
        return IndexCounts(*self._store.counts())

    def generation(self) -> int:
        """Increments on every committed change (explanations and evaluations record it)."""
        return self._store.generation()

    @property
    def store_id(self) -> str:
        """Random per database file: vectors saved for another database never match it."""
        return self._store.store_id

    def quick_check(self) -> str | None:
        """What SQLite's quick check finds wrong (reads the whole database), or None."""
        return self._store.quick_check()

    def last_updated(self) -> float | None:
        """When the last run over the files finished (epoch seconds), or None."""
        value = self._store.get_meta(UPDATED_KEY)
        return float(value) if value else None

    def file_rows(self) -> dict[str, FileRow]:
        """Every indexed file's recorded state, by path key."""
        return self._store.file_rows()

    def files_changed_since(self, time_ns: int) -> int:
        """Indexed files modified after ``time_ns`` (or held as unsaved editor text)."""
        return self._store.files_changed_since(time_ns)

    def languages(self) -> dict[str, int]:
        """Indexed files by language, most first."""
        return self._store.languages()

    def redactions(self) -> tuple[int, int, dict[str, int]]:
        """(secrets masked, files they were in, count by kind) over the indexed files."""
        return self._store.redactions()

    def chunks(self, ids: Sequence[int]) -> dict[int, Chunk]:
        """The chunks of those ids that exist, with their text."""
        return self._store.chunks_by_ids(ids)

    def chunk_heads(self, ids: Sequence[int]) -> dict[int, Chunk]:
        """The chunks of ``ids`` without their text (``text`` is ""): what ranking reads."""
        return self._store.chunk_heads(ids)

    def chunks_of_file(self, path: str) -> list[tuple[int, Chunk]]:
        """A file's chunks (by path key) in source order."""
        return self._store.chunks_of_file(path)

    def chunks_named(self, symbols: Sequence[str]) -> list[tuple[int, Chunk]]:
        """Chunks whose own symbol (not the qualified name) is one of ``symbols``."""
        return self._store.chunks_named(symbols)

    def chunk_ids(self) -> list[int]:
        """Every chunk's id."""
        return self._store.chunk_ids()

    def chunk_paths(
        self, languages: Sequence[str] | None = None, exclude_languages: Sequence[str] | None = None
    ) -> list[tuple[int, str]]:
        """(chunk id, path) of the chunks a language filter lets through, read without texts."""
        return self._store.chunk_paths(languages, exclude_languages)

    def catalog(self) -> ChunkCatalog:
        """Every chunk's id, path and language, read once per store generation (filters)."""
        with self._lock:
            generation = self._store.generation()
            if self._catalog is None or self._catalog.generation != generation:
                self._catalog = ChunkCatalog(generation, self._store.chunk_catalog())
            return self._catalog

    def container_heads(self, chunks: dict[int, Chunk]) -> set[int]:
        """The ids among ``chunks`` that head a container whose members are chunks of their own
        (a class whose methods were indexed separately)."""
        containers = self._store.containers([c.path for c in chunks.values()])
        return {cid for cid, c in chunks.items() if c.symbol and (c.path, c.qualified_name) in containers}

    def stored_vectors(self, ids: Sequence[int]) -> tuple[list[int], Vectors]:
        """The stored embeddings of the chunks of ``ids`` that have one: (their ids, rows)."""
        return self._store.vectors_for_ids(ids)

    def iter_stored_vectors(self) -> Iterator[tuple[list[int], Vectors]]:
        """Every (chunk id, embedding) in batches, from the store (not the vector file)."""
        return self._store.iter_vectors()

    def unembedded_ids(self) -> list[int]:
        """Ids of chunks whose embedding is not stored (yet)."""
        return self._store.chunks_without_vector()

    def lexical_search(
        self,
        query: str,
        limit: int,
        languages: Sequence[str] | None = None,
        options: QueryOptions = DEFAULT_QUERY,
    ) -> list[tuple[int, float]]:
        """BM25 over the chunks' (symbol, path, body) tokens: (chunk id, score), best first."""
        return self._store.lexical_search(query, limit, languages, options)

    def file_lexical_search(
        self,
        query: str,
        limit: int,
        languages: Sequence[str] | None = None,
        options: QueryOptions = DEFAULT_QUERY,
    ) -> list[tuple[str, float]]:
        """BM25 over whole files: (path, score), best first ([] in an index that lacks them)."""
        return self._store.file_lexical_search(query, limit, languages, options)

    # --- the indexer's bookkeeping ------------------------------------------------------------
    def max_chunk_id(self) -> int:
        """The highest chunk id yet (-1 when empty): ids are never reused."""
        return self._store.max_chunk_id()

    def missing_vectors(self, after_id: int, limit: int) -> list[tuple[int, Chunk, str]]:
        """Chunks above ``after_id`` waiting for their embedding, in id order: (id, chunk, embed key)."""
        return self._store.missing_vectors(after_id, limit)

    def count_missing_vectors(self, after_id: int = -1) -> int:
        """How many chunks (with an id above ``after_id``) wait for their embedding."""
        return self._store.count_missing_vectors(after_id)

    def touch_file(self, path: str, size: int, mtime_ns: int) -> None:
        """Content unchanged but stat changed: remember the new stat only."""
        self._store.touch_file(path, size, mtime_ns)

    def mark_updated(self) -> None:
        """Record that a run over the files finished now (see :meth:`last_updated`)."""
        self._store.set_meta(UPDATED_KEY, str(time.time()))

    def redaction_fingerprint(self) -> str:
        """The redaction rules the stored text was masked under ("" when none are recorded)."""
        return self._store.get_meta(REDACTION_KEY)

    def record_redaction_fingerprint(self, fingerprint: str) -> None:
        """Record the rules the stored text is now masked under."""
        self._store.set_meta(REDACTION_KEY, fingerprint)

    def forget_file_stats(self) -> None:
        """Make the next run read every file again (its chunks are re-made, embeddings reused)."""
        self._store.forget_file_stats()

    def purge_deleted(self) -> None:
        """Leave no trace of deleted rows in the database file."""
        self._store.purge_deleted()

    def owe_vector_cleanup(self) -> None:
        """Chunks were removed: their embeddings may now be unused."""
        self._store.set_meta(UNUSED_VECTORS_KEY, "1")

    def drop_unused_vectors(self) -> None:
        """Delete the embeddings no chunk uses, unless nothing was removed since the last time."""
        if self._store.get_meta(UNUSED_VECTORS_KEY, "1") == "1":
            self._store.drop_unused_vectors()
            self._store.set_meta(UNUSED_VECTORS_KEY, "0")
