"""The Workspace facade shared by the CLI, the language server, agents and the Python API."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from codekin.embeddings import Encoder, load_encoder
from codekin.files import FileFilter, path_key, rel_path
from codekin.hit import FileHit, Hit
from codekin.index.code_index import DB_NAME, MANIFEST_NAME, CodeIndex, prepare_dir
from codekin.index.indexer import Indexer, IndexStats, ProgressCallback
from codekin.index.lock import IndexLocked, WriteLock
from codekin.index.manifest import FORMAT_VERSION, Manifest, read_manifest
from codekin.index.ranking import NON_CODE_LANGUAGES
from codekin.index.search import Filters, Searcher
from codekin.index.similar import SimilarQuery, code_query, stored_query
from codekin.index.store import Store
from codekin.parsers import CHUNKER_VERSION
from codekin.parsers.model import Chunk
from codekin.safetext import valid_text
from codekin.settings import Settings, load_file_settings

log = logging.getLogger(__name__)

CHARS_PER_TOKEN = 4  # rough budget conversion for context retrieval


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
        query = valid_text(query)
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
        query = valid_text(query)
        if not query.strip():
            return []
        return self._searcher().search_files(query, k, _filters(languages, paths))

    def similar(
        self,
        code: str,
        language: str | None = None,
        k: int = 10,
        *,
        path: str | Path | None = None,
        languages: Iterable[str] | None = None,
        paths: Iterable[str] | None = None,
        include_non_code: bool = False,
        include_siblings: bool = False,
    ) -> list[Hit]:
        """Chunks most similar to a piece of code, in any language.

        ``language`` is the language of ``code`` (or taken from ``path``): it splits the code
        into its definitions, each searched and their neighbours combined; it never filters the
        results. ``path``: the file the code comes from (its indexed chunks with the same text
        are reused, not embedded, and never returned; the rest of the file comes after code
        elsewhere). ``languages`` and ``paths`` filter the results; prose, data and config come
        back only with ``include_non_code`` or for such a query. Without ``path``, chunks with the
        very same text as the query are left out."""
        code, language = valid_text(code), valid_text(language) if language else None
        if not code.strip():
            return []
        rel = rel_path(self.root, path) if path is not None else None
        query = code_query(
            self.code_index.store, self.encoder, code, language, rel, self.settings.max_chunk_bytes
        )
        return self._similar(query, k, languages, paths, include_non_code, include_siblings)

    def similar_to(
        self,
        path: str | Path,
        line: int | None = None,
        k: int = 10,
        *,
        end_line: int | None = None,
        text: str | None = None,
        languages: Iterable[str] | None = None,
        paths: Iterable[str] | None = None,
        include_non_code: bool = False,
        include_siblings: bool = False,
    ) -> list[Hit]:
        """Chunks most similar to indexed code of ``path``, from their stored vectors: the chunk
        at ``line`` (1-based), the chunks overlapping ``line``..``end_line`` (a selection), or
        with no line every chunk of the file. Those chunks are never returned; the file's other
        chunks come after code elsewhere unless ``include_siblings`` ranks them with the rest.
        ``text``: the file as the editor has it; when the index does not hold it yet, those
        lines of it are the query (as :meth:`similar` with ``path``). Filters as in :meth:`similar`."""
        rel = rel_path(self.root, path)
        chunks = self.code_index.store.chunks_of_file(rel) if rel is not None else []
        if line is None:
            chosen = chunks
        elif end_line is None:
            found = self.chunk_at(path, line)
            chosen = [found] if found is not None else []
        else:
            lo, hi = sorted((line - 1, end_line - 1))
            chosen = [(cid, c) for cid, c in chunks if c.start_line <= hi and lo <= c.end_line]
        if text is not None and not (chosen and _hold(text, [c for _, c in chosen])):
            first, last = sorted((line, end_line or line)) if line else (1, len(text))
            code = "".join(text.splitlines(keepends=True)[first - 1 : last])
            return self.similar(
                code,
                None,
                k,
                path=path,
                languages=languages,
                paths=paths,
                include_non_code=include_non_code,
                include_siblings=include_siblings,
            )
        if rel is None or not chosen:
            where = f"{path}:{line}" + (f"-{end_line}" if end_line is not None else "") if line else f"{path}"
            raise LookupError(f"no indexed chunk at {where} (is the file indexed?)")
        query = stored_query(self.code_index.store, rel, chosen)
        return self._similar(query, k, languages, paths, include_non_code, include_siblings)

    def _similar(
        self,
        query: SimilarQuery,
        k: int,
        languages: Iterable[str] | None,
        paths: Iterable[str] | None,
        include_non_code: bool,
        include_siblings: bool,
    ) -> list[Hit]:
        wanted = tuple(languages or ())
        skip = (
            () if include_non_code or query.is_non_code else tuple(sorted(NON_CODE_LANGUAGES - set(wanted)))
        )
        filters = Filters(wanted, tuple(paths or ()), skip)
        return self._searcher().similar(query, k, filters, siblings_last=not include_siblings)

    def chunk_at(self, path: str | Path, line: int) -> tuple[int, Chunk] | None:
        """The innermost indexed chunk covering ``line`` (1-based) of ``path``."""
        rel = rel_path(self.root, path)
        if rel is None:
            return None
        row = line - 1
        covering = [
            (cid, c)
            for cid, c in self.code_index.store.chunks_of_file(path_key(rel))
            if c.start_line <= row <= c.end_line
        ]
        if not covering:
            return None
        return min(covering, key=lambda item: item[1].end_byte - item[1].start_byte)

    def context(
        self,
        *,
        query: str | None = None,
        path: str | Path | None = None,
        line: int | None = None,
        token_budget: int = 2000,
        k: int = 20,
    ) -> list[Hit]:
        """Ranked, de-duplicated chunks that fit ``token_budget``, for an assistant's prompt.
        Chunks similar to the one at ``path``:``line`` and chunks answering ``query`` are merged
        by cosine, the one measure both share, so each chunk's ``score`` here is its cosine."""
        candidates: list[Hit] = []
        if path is not None and line is not None:
            found = self.chunk_at(path, line)
            if found is not None:  # its neighbourhood: the rest of its file ranks with code elsewhere
                candidates += self.similar_to(path, line, k, include_siblings=True)
        if query:
            candidates += self.search(query, k)
        chosen: list[Hit] = []
        budget = token_budget * CHARS_PER_TOKEN
        for hit in sorted(candidates, key=lambda h: -h.cosine):
            if any(_overlaps(hit, c) for c in chosen) or len(hit.text) > budget:
                continue
            chosen.append(replace(hit, score=hit.cosine))
            budget -= len(hit.text)
        return chosen

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
    return Filters(tuple(map(valid_text, languages or ())), tuple(map(valid_text, paths or ())))


def _hold(text: str, chunks: list[Chunk]) -> bool:
    """Whether ``text`` still holds each chunk's text at its byte span."""
    data = text.encode("utf-8", "surrogatepass")
    return all(data[c.start_byte : c.end_byte] == c.text.encode("utf-8", "surrogatepass") for c in chunks)


def _overlaps(a: Hit, b: Hit) -> bool:
    return a.path == b.path and a.start_line <= b.end_line and b.start_line <= a.end_line
