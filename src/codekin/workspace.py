"""The Workspace facade shared by the CLI, the language server, agents and the Python API."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from codekin.context import Context, build_context
from codekin.embeddings import Encoder, load_encoder
from codekin.files import FileFilter, rel_path
from codekin.hit import FileHit, Hit
from codekin.index.code_index import DB_NAME, MANIFEST_NAME, CodeIndex, prepare_dir
from codekin.index.indexer import Indexer, IndexStats, ProgressCallback
from codekin.index.lock import IndexLocked, WriteLock
from codekin.index.manifest import FORMAT_VERSION, Manifest, read_manifest
from codekin.index.search import Filters, Searcher, to_hit
from codekin.index.store import Store
from codekin.parsers import CHUNKER_VERSION
from codekin.parsers.model import Chunk, content_hash
from codekin.settings import Settings, load_file_settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IndexStatus:
    root: str
    index_dir: str
    exists: bool
    files: int = 0
    chunks: int = 0
    model: str = ""
    dim: int = 0
    last_updated: float | None = None
    size_bytes: int = 0
    languages: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Freshness:
    """How far the index is behind the files on disk."""

    stale: tuple[str, ...]  # new, changed or deleted files not yet indexed (first ``limit``)
    stale_count: int
    chunks: int
    embedded: int  # chunks with a vector


class Workspace:
    """An indexed repository.

    >>> ws = Workspace("path/to/repo")
    >>> ws.index()
    >>> ws.search("parse a config file", k=5)
    """

    def __init__(
        self,
        root: str | Path,
        settings: Settings | None = None,
        *,
        encoder: Encoder | None = None,
    ) -> None:
        self.root = Path(root).resolve()
        if not self.root.is_dir():
            raise NotADirectoryError(f"workspace root {self.root} is not a directory")
        self.settings_problems: list[str] = []
        if settings is None:
            settings, self.settings_problems = load_file_settings(self.root)
            for problem in self.settings_problems:
                log.warning("%s", problem)
        self.settings = settings
        self.index_dir = (
            Path(settings.index_dir).expanduser().resolve() if settings.index_dir else self.root / ".codekin"
        )
        self._encoder = encoder
        self._index: CodeIndex | None = None
        self._open_lock = threading.Lock()
        self._write_mutex = threading.Lock()  # one writer thread in this process
        self.file_filter = FileFilter(
            self.root,
            include=settings.include,
            exclude=settings.exclude,
            secret_patterns=settings.secret_patterns,
            max_file_bytes=settings.max_file_bytes,
        )

    # --- lazily opened parts ----------------------------------------------------------------
    @property
    def encoder(self) -> Encoder:
        with self._open_lock:
            if self._encoder is None:
                s = self.settings
                self._encoder = load_encoder(
                    s.model, device=s.device, batch_size=s.batch_size, max_tokens=s.max_tokens
                )
            return self._encoder

    @property
    def code_index(self) -> CodeIndex:
        encoder = self.encoder
        with self._open_lock:
            if self._index is None:
                manifest = Manifest(
                    FORMAT_VERSION, encoder.model_id, encoder.model_hash, encoder.dim, CHUNKER_VERSION
                )
                self._index = CodeIndex(self.index_dir, manifest)
            return self._index

    def _searcher(self) -> Searcher:
        return Searcher(self.code_index, self.encoder, hybrid=self.settings.hybrid)

    # --- writing ----------------------------------------------------------------------------
    def index(
        self,
        progress: ProgressCallback | None = None,
        *,
        full: bool = False,
        cancel: threading.Event | None = None,
    ) -> IndexStats:
        """Bring the index up to date with the files on disk (``full`` re-embeds everything)."""
        with self._writing():
            if full:
                self.code_index.clear()
            self.file_filter.forget_ignore_files()
            stats = self._indexer().update_all(progress, cancel)
            self.code_index.store.set_meta("last_updated", str(time.time()))
            return stats

    def update(
        self,
        paths: Iterable[str | Path],
        *,
        overlays: dict[str, str] | None = None,
        progress: ProgressCallback | None = None,
    ) -> IndexStats:
        """Re-check the given paths (absolute or root-relative); ``overlays`` maps a path to the
        unsaved text of an editor buffer, searched instead of the file on disk."""
        rels = [r for r in (rel_path(self.root, p) for p in paths) if r is not None]
        overlay_rels = {
            r: t for p, t in (overlays or {}).items() if (r := rel_path(self.root, p)) is not None
        }
        if any(r.rsplit("/", 1)[-1] in (".gitignore", ".ignore", ".codekinignore") for r in rels):
            self.file_filter.forget_ignore_files()
        with self._writing():
            stats = self._indexer().update_paths(rels, progress, overlays=overlay_rels)
            self.code_index.store.set_meta("last_updated", str(time.time()))
            return stats

    def clear(self) -> None:
        """Remove everything indexed."""
        with self._writing():
            self.code_index.clear()

    def _indexer(self) -> Indexer:
        return Indexer(
            self.code_index, self.file_filter, self.encoder, max_chunk_bytes=self.settings.max_chunk_bytes
        )

    def _writing(self) -> _WriteGuard:
        prepare_dir(self.index_dir)
        return _WriteGuard(self._write_mutex, self._lock_file())

    def _lock_file(self) -> WriteLock:
        return WriteLock(self.index_dir / "write.lock")

    # --- reading ----------------------------------------------------------------------------
    def search(
        self,
        query: str,
        k: int = 10,
        *,
        languages: Iterable[str] | None = None,
        paths: Iterable[str] | None = None,
    ) -> list[Hit]:
        """Natural-language (or identifier) query -> the k best chunks."""
        if not query.strip():
            return []
        return self._searcher().search(query, k, _filters(languages, paths))

    def files(
        self,
        query: str,
        k: int = 10,
        *,
        languages: Iterable[str] | None = None,
        paths: Iterable[str] | None = None,
    ) -> list[FileHit]:
        """A "which files" query -> the k best files, each with its best chunks."""
        if not query.strip():
            return []
        return self._searcher().search_files(query, k, _filters(languages, paths))

    def similar(
        self,
        code: str,
        language: str | None = None,
        k: int = 10,
        *,
        paths: Iterable[str] | None = None,
    ) -> list[Hit]:
        """Chunks most similar to a piece of code (a chunk with the very same text is excluded)."""
        if not code.strip():
            return []
        header = "function" if language is None else f"{language} function"
        qvec = self.encoder.embed_documents([f"{header}\n{code}"])[0]
        filters = _filters([language] if language else None, paths)
        return self._searcher().similar_to_vector(qvec, k, filters, exclude_hash=content_hash(code))

    def similar_to(self, path: str | Path, line: int, k: int = 10) -> list[Hit]:
        """Chunks most similar to the chunk at ``path``:``line`` (1-based), which is excluded."""
        found = self.chunk_at(path, line)
        if found is None:
            raise LookupError(f"no indexed chunk at {path}:{line} (is the file indexed?)")
        cid, _ = found
        ids, rows = self.code_index.store.vectors_for_ids([cid])
        return self._searcher().similar_to_vector(rows[0], k, Filters(), exclude={cid})

    def chunk_at(self, path: str | Path, line: int) -> tuple[int, Chunk] | None:
        """The innermost indexed chunk covering ``line`` (1-based) of ``path``."""
        rel = rel_path(self.root, path)
        if rel is None:
            return None
        row = line - 1
        covering = [
            (cid, c)
            for cid, c in self.code_index.store.chunks_of_file(rel)
            if c.start_line <= row <= c.end_line
        ]
        if not covering:
            return None
        return min(covering, key=lambda item: item[1].end_byte - item[1].start_byte)

    def hit_at(self, path: str | Path, line: int) -> Hit | None:
        """The innermost indexed chunk covering ``line`` (1-based) of ``path``, as a Hit."""
        found = self.chunk_at(path, line)
        return to_hit(found[0], found[1], 1.0) if found is not None else None

    def hits_named(self, symbols: Iterable[str]) -> list[Hit]:
        """Indexed definitions whose own name is one of ``symbols``."""
        return [to_hit(cid, c, 0.0) for cid, c in self.code_index.store.chunks_named(list(symbols))]

    def context(
        self,
        *,
        query: str | None = None,
        path: str | Path | None = None,
        line: int | None = None,
        token_budget: int = 2000,
        k: int = 10,
    ) -> Context:
        """Context for an assistant's prompt: the question's best chunks and/or, around
        ``path``:``line``, the enclosing definition, what it calls and code like it; de-duplicated
        and packed into ``token_budget`` tokens (see ``codekin.context``)."""
        return build_context([self], query=query, path=path, line=line, token_budget=token_budget, k=k)

    def freshness(self, limit: int = 20) -> Freshness:
        """Files changed on disk since they were indexed, and the share of chunks embedded."""
        store = self.code_index.store
        known = store.file_rows()
        since_ns = int(float(store.get_meta("last_updated") or 0) * 1e9)
        stale: list[str] = []
        seen: set[str] = set()
        for entry in self.file_filter.walk(on_skip=lambda rel, why: None):
            seen.add(entry.rel)
            row = known.get(entry.rel)
            if row is None:  # new since the last run (older unknown files were skipped as unreadable)
                if entry.mtime_ns > since_ns:
                    stale.append(entry.rel)
            elif (row.size, row.mtime_ns) != (entry.size, entry.mtime_ns):
                stale.append(entry.rel)
        stale += sorted(p for p in known if p not in seen)
        _, chunks = store.counts()
        embedded = min(chunks, len(self.code_index.vectors()))
        return Freshness(tuple(stale[:limit]), len(stale), chunks, embedded)

    def status(self) -> IndexStatus:
        """Index facts, read without loading the encoder."""
        if not (self.index_dir / DB_NAME).exists():
            return IndexStatus(str(self.root), str(self.index_dir), exists=False)
        manifest = read_manifest(self.index_dir / MANIFEST_NAME)
        store = self._index.store if self._index is not None else Store(self.index_dir / DB_NAME)
        try:
            files, chunks = store.counts()
            updated = store.get_meta("last_updated")
            languages = store.languages()
        finally:
            if self._index is None:
                store.close()
        return IndexStatus(
            str(self.root),
            str(self.index_dir),
            exists=True,
            files=files,
            chunks=chunks,
            model=manifest.model if manifest else "",
            dim=manifest.dim if manifest else 0,
            last_updated=float(updated) if updated else None,
            size_bytes=sum(p.stat().st_size for p in self.index_dir.iterdir() if p.is_file()),
            languages=languages,
        )

    def close(self) -> None:
        """Save vectors not yet on disk (if no other process is writing), then close."""
        if self._index is None:
            return
        if self._index.unsaved:
            lock = self._lock_file()
            try:
                lock.acquire()
                self._index.save_if_due()
            except IndexLocked:
                log.info("vectors not saved: another process is writing; the next open rebuilds them")
            finally:
                lock.release()
        self._index.close()
        self._index = None

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _WriteGuard:
    """Holds the in-process writer mutex and the cross-process lock file together."""

    def __init__(self, mutex: threading.Lock, lock: WriteLock) -> None:
        self.mutex = mutex
        self.lock = lock

    def __enter__(self) -> None:
        self.mutex.acquire()
        try:
            self.lock.acquire()
        except BaseException:
            self.mutex.release()
            raise

    def __exit__(self, *exc: object) -> None:
        self.lock.release()
        self.mutex.release()


def _filters(languages: Iterable[str] | None, paths: Iterable[str] | None) -> Filters:
    return Filters(tuple(languages or ()), tuple(paths or ()))

