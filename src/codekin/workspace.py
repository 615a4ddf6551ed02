"""The Workspace facade shared by the CLI, the language server, agents and the Python API."""

from __future__ import annotations

import functools
import logging
import shutil
import threading
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from codekin.context import Context, build_context
from codekin.doctor import DoctorReport, diagnose
from codekin.embeddings import Encoder, build_encoder
from codekin.embeddings.deferred import encoder_ready, prefetch
from codekin.evaluation import history as eval_history
from codekin.files import IGNORE_FILES, FileFilter, path_key, rel_path
from codekin.hit import Coverage, FileHit, Hit, Results
from codekin.index import layout
from codekin.index.code_index import CodeIndex, CorruptIndex, IndexNotBuilt, prepare_dir, recorded_manifest
from codekin.index.indexer import Indexer, IndexStats, ProgressCallback
from codekin.index.layout import DB_NAME
from codekin.index.lock import IndexLocked, ReadOnlyIndex, WriteLock
from codekin.index.manifest import FORMAT_VERSION, Manifest
from codekin.index.query_cache import QueryVectors
from codekin.index.ranking import NON_CODE_LANGUAGES
from codekin.index.search import Filters, Searcher, to_hit
from codekin.index.similar import SimilarQuery, code_query, stored_query
from codekin.parsers import CHUNKER_VERSION
from codekin.parsers.model import Chunk
from codekin.redact import Redactor
from codekin.safetext import valid_text
from codekin.settings import Settings, project_sources, resolve

if TYPE_CHECKING:
    from codekin.org.merge import OrgSearches
    from codekin.org.shared import SharedIndex

log = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")


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
    read_only: bool = False
    rebuilding: bool = False  # a full rebuild is being built beside the live index (or was left)
    problem: str | None = None  # why the index cannot be trusted now (it is rebuilt on next index)
    quarantined: list[str] = field(default_factory=list)  # corrupt databases moved aside
    evaluation: dict[str, Any] | None = None  # the latest `codekin eval` figures and drift warnings
    redactions: int = 0  # secrets masked in the indexed files' text
    redacted_files: int = 0
    redaction_kinds: dict[str, int] = field(default_factory=dict)


def _read_guard(method: Callable[P, R]) -> Callable[P, R]:
    """A read that finds the database corrupt moves it aside (when no one is writing) and says
    so in one error; the next index run rebuilds it."""

    @functools.wraps(method)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(*args, **kwargs)
        except CorruptIndex as exc:
            if exc.reported:
                raise
            ws = args[0]
            if not isinstance(ws, Workspace):
                raise
            raise ws._corrupt_while_reading(exc) from None

    return guarded


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
        store: str | None = None,
        wait_for_model: bool = True,
    ) -> None:
        """``store``: search a shared org index (``qdrant-local:DIR``, ``qdrant://HOST:PORT/C``)
        instead of the local one, as the ``store`` setting does. ``wait_for_model=False``: while
        the encoder is still loading, searches answer by keywords and the ranking (marked
        ``lexical_only``) instead of waiting for it (an editor's first searches)."""
        self.root = Path(root).resolve()
        if not self.root.is_dir():
            raise NotADirectoryError(f"workspace root {self.root} is not a directory")
        self.settings_problems: list[str] = []
        if settings is None:
            settings, self.settings_problems = resolve(*project_sources(self.root))
            for problem in self.settings_problems:
                log.warning("%s", problem)
        self.settings = settings.replace(store=store) if store else settings
        self._shared: SharedIndex | None = None  # the org index named by settings.store, once opened
        # the shared indexes searched beside this one (settings.org_store); a server shares one
        # between its workspaces (local-mode Qdrant admits one client per process)
        self.org: OrgSearches | None = None
        self._own_org: OrgSearches | None = None  # made here when none was given; closed here
        self.index_dir = (
            Path(settings.index_dir).expanduser().resolve() if settings.index_dir else self.root / ".codekin"
        )
        self._encoder = encoder
        self.wait_for_model = wait_for_model
        self._index: CodeIndex | None = None
        self._identity: tuple[str, int, int] | None = None  # of the live index we have open
        self._open_lock = threading.RLock()
        self._write_mutex = threading.Lock()  # one writer thread in this process
        self._writer: int | None = None  # the thread holding the write lock
        self._lexical: tuple[CodeIndex, tuple[str, int, int] | None] | None = None  # opened without the model
        self.query_vectors = QueryVectors()
        self.file_filter = FileFilter(
            self.root,
            include=settings.include,
            exclude=settings.exclude,
            secret_patterns=settings.secret_patterns,
            max_file_bytes=settings.max_file_bytes,
        )
        self.redactor = Redactor(settings.redact_extra_patterns, enabled=settings.redact_enabled)
        for problem in self.redactor.problems:
            log.warning("%s", problem)
        self.settings_problems += self.redactor.problems

    def apply_live(self, settings: Settings) -> None:
        """Take the live part of ``settings`` (search); what shapes the index stays as opened."""
        self.settings = self.settings.with_live(settings)

    # --- lazily opened parts ----------------------------------------------------------------
    @property
    def encoder(self) -> Encoder:
        with self._open_lock:
            if self._encoder is None:
                # the index opens with the model's identity while its weights load behind
                self._encoder = build_encoder(self.settings.model, self.settings, defer=True)
            return self._encoder

    @property
    def code_index(self) -> CodeIndex:
        """The live index, reopened when another process replaced it (a published rebuild, a
        quarantined database)."""
        encoder = self.encoder
        with self._open_lock:
            if self._index is not None and layout.identity(self.index_dir) != self._identity:
                log.info("the index in %s was replaced; reopening it", self.index_dir)
                self._index = None  # not closed: another thread may be mid-query on it
            if self._index is None:
                self._index = self._open_live(self._manifest(encoder))
            return self._index

    def _manifest(self, encoder: Encoder) -> Manifest:
        return Manifest(FORMAT_VERSION, encoder.model_id, encoder.model_hash, encoder.dim, CHUNKER_VERSION)

    def _open_live(self, manifest: Manifest) -> CodeIndex:
        data = layout.live_dir(self.index_dir)
        readonly = not layout.writable(data)
        try:
            index = CodeIndex(data, manifest, readonly=readonly, check=True)  # 26 ms on 10k chunks
        except CorruptIndex as exc:
            if layout.live_dir(self.index_dir) != data:  # replaced while opening: open the new one
                return self._open_live(manifest)
            if readonly:
                raise CorruptIndex(
                    f"the index database is corrupt ({exc}) and read-only here, so it cannot be "
                    "rebuilt: run `codekin index` where the index is writable",
                    reported=True,
                ) from None
            self._quarantine(data, exc)
            index = CodeIndex(data, manifest)
        self._identity = layout.identity(self.index_dir)
        return index

    @property
    def writable(self) -> bool:
        """Whether this index can be updated here (not a read-only directory or mount)."""
        return layout.writable(self.index_dir) and layout.writable(layout.live_dir(self.index_dir))

    def _searcher(self) -> Searcher:
        index = self.code_index
        if index.rebuilt_reason and index.counts().files == 0:
            why = index.rebuilt_reason.removeprefix("index rebuilt: ")
            raise CorruptIndex(f"{why}; `codekin index` rebuilds it", reported=True)
        if index.mismatch:  # e.g. a model change whose rebuild beside has not been swapped in yet
            log.info(
                "the index in %s was built for other settings (%s): answering with keywords and the "
                "ranking until `codekin index` has rebuilt it",
                index.dir,
                index.mismatch,
            )
            return Searcher(index, None, hybrid=True)  # its vectors are another model's
        if not self.wait_for_model and not encoder_ready(self.encoder):
            prefetch(self.encoder, documents=False)
            return Searcher(index, None, hybrid=True)  # keywords now; full fusion once loaded
        return Searcher(index, self.encoder, hybrid=self.settings.hybrid, queries=self.query_vectors)

    def _lexical_searcher(self) -> Searcher:
        """A searcher that never loads the model: BM25 and the code-aware ranking over the index
        as it was built (whatever model built it)."""
        return Searcher(self._model_free_index(), None, hybrid=True)

    def _model_free_index(self) -> CodeIndex:
        """The live index, opened with the manifest it records instead of the configured
        encoder's (reusing the index already open when the encoder is loaded)."""
        with self._open_lock:
            if self._encoder is not None:
                return self.code_index
            identity = layout.identity(self.index_dir)
            if self._lexical is not None and self._lexical[1] == identity:
                return self._lexical[0]
            data = layout.live_dir(self.index_dir)
            if not (data / DB_NAME).exists():
                raise LookupError(
                    f"there is no index in {self.index_dir} yet: run `codekin index` first "
                    "(a lexical search never loads the model, so it cannot build one)"
                )
            recorded = recorded_manifest(data)
            if recorded is None or recorded.format < 0:
                raise LookupError(
                    f"the index in {data} does not record how it was built: run `codekin index`"
                )
            index = CodeIndex(data, recorded, readonly=True, check=True)
            self._lexical = (index, identity)
            return index

    # --- writing ----------------------------------------------------------------------------
    def index(
        self,
        progress: ProgressCallback | None = None,
        *,
        full: bool = False,
        cancel: threading.Event | None = None,
    ) -> IndexStats:
        """Bring the index up to date with the files on disk. ``full`` re-embeds everything:
        like a model change, it builds a new index beside the live one, which keeps answering
        searches until the new one is complete and swapped in."""
        with self._writing():
            self.file_filter.forget_ignore_files()
            return self._index_locked(progress, full, cancel)

    def _index_locked(
        self, progress: ProgressCallback | None, full: bool, cancel: threading.Event | None
    ) -> IndexStats:
        layout.repair_pointer(self.index_dir)
        live = self.code_index
        if (full or live.mismatch) and self._nothing_to_serve(live):
            # nothing to keep answering meanwhile: build in place, searchable after phase one
            live.clear()
            live.mismatch = None
        elif full or live.mismatch:
            return self._rebuild_beside(live.mismatch, progress, cancel)
        try:
            if not live.verified and (problem := live.quick_check()):
                raise CorruptIndex(problem)
            live.verified = False  # checked again by the next full run
            return self._run_all(live, progress, cancel)
        except CorruptIndex as exc:
            self._quarantine(live.dir, exc)
            return self._run_all(self.code_index, progress, cancel)

    def _run_all(
        self, index: CodeIndex, progress: ProgressCallback | None, cancel: threading.Event | None
    ) -> IndexStats:
        stats = self._indexer(index).update_all(progress, cancel)
        index.mark_updated()
        if not stats.cancelled:
            layout.rebuild_done(index.dir)
            index.rebuilt_reason = None
        return stats

    def _nothing_to_serve(self, live: CodeIndex) -> bool:
        """The live index holds no chunks and no rebuild waits beside it to be resumed."""
        return live.counts().chunks == 0 and not layout.next_dir(self.index_dir).is_dir()

    def _rebuild_beside(
        self, mismatch: str | None, progress: ProgressCallback | None, cancel: threading.Event | None
    ) -> IndexStats:
        """Build a complete index in ``next/`` (resuming one a killed run left for the same
        model), then publish it; the live index serves until then. Both phases run before
        publishing (the live index answers with all its vectors meanwhile, which beats a new
        one answering by keywords); a fresh index with nothing live is built in place instead
        (:meth:`_index_locked`), so it answers from its first commit."""
        nxt = layout.next_dir(self.index_dir)
        manifest = self._manifest(self.encoder)
        building = self._open_next(nxt, manifest)
        try:
            try:
                stats = self._run_all(building, progress, cancel)
            except CorruptIndex as exc:  # the half-built index is damaged: start it again
                log.warning("the index being rebuilt in %s is corrupt (%s); starting it again", nxt, exc)
                building.close()
                shutil.rmtree(nxt, ignore_errors=True)
                building = self._open_next(nxt, manifest)
                stats = self._run_all(building, progress, cancel)
            building.save_if_due(0.0)
        finally:
            building.close()
        if stats.cancelled:
            log.info("rebuild cancelled; the live index keeps serving and the next full run resumes it")
            return stats
        data = layout.publish(self.index_dir, nxt)
        with self._open_lock:
            self._index = CodeIndex(data, manifest)  # the old one is left to readers still on it
            self._identity = layout.identity(self.index_dir)
        if mismatch:
            stats.rebuilt_reason = f"index rebuilt: {mismatch}"
        return stats

    def _open_next(self, nxt: Path, manifest: Manifest) -> CodeIndex:
        try:
            building = CodeIndex(nxt, manifest)
        except CorruptIndex as exc:
            log.warning("the index left in %s is corrupt (%s); starting it again", nxt, exc)
            shutil.rmtree(nxt, ignore_errors=True)
            building = CodeIndex(nxt, manifest)
        if building.mismatch:
            log.info(
                "the rebuild left in %s was for other settings (%s); starting it again",
                nxt,
                building.mismatch,
            )
            building.clear()
        elif (done := building.counts().files) > 0:
            log.info("resuming the rebuild in %s (%d files already done)", nxt, done)
        return building

    def _quarantine(self, data: Path, exc: Exception) -> Path:
        """Move a corrupt database aside (taking the write lock unless this thread holds it)."""
        with self._open_lock:
            if self._index is not None and self._index.dir == data:
                self._index = None  # the damaged one is dropped, not closed (readers may hold it)
        if self._writer == threading.get_ident():
            return layout.quarantine(data, str(exc))
        lock = self._lock_file()
        try:
            lock.acquire()
        except IndexLocked:
            raise CorruptIndex(
                f"the index database is corrupt ({exc}); the codekin process updating it now will rebuild it",
                reported=True,
            ) from None
        try:
            return layout.quarantine(data, str(exc))
        finally:
            lock.release()

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
        if any(r.rsplit("/", 1)[-1] in IGNORE_FILES for r in rels):
            self.file_filter.forget_ignore_files()
        with self._writing():
            live = self.code_index
            if live.mismatch or layout.rebuild_owed(live.dir):  # a whole tree is owed, not a few paths
                self._index_locked(None, False, None)
            try:
                stats = self._update_paths(rels, overlay_rels, progress)
            except CorruptIndex as exc:
                self._quarantine(self.code_index.dir, exc)
                self._index_locked(None, False, None)
                stats = self._update_paths(rels, overlay_rels, progress)
            return stats

    def _update_paths(
        self, rels: list[str], overlays: dict[str, str], progress: ProgressCallback | None
    ) -> IndexStats:
        index = self.code_index
        stats = self._indexer(index).update_paths(rels, progress, overlays=overlays)
        index.mark_updated()
        return stats

    def rollback(self) -> Manifest | None:
        """Put the index that was live before the last full rebuild (a model change, ``index
        --full``) back in service, atomically; the replaced one is kept, so a second rollback
        undoes the first. Returns the restored index's manifest. Readers switch on their next
        query. The configured model must match it, or the next update rebuilds it again."""
        with self._writing():
            data = layout.rollback(self.index_dir)
            with self._open_lock:
                self._index = None  # not closed: another thread may be mid-query on it
                self._identity = None
        return recorded_manifest(data)

    def clear(self) -> None:
        """Remove everything indexed."""
        with self._writing():
            self.code_index.clear()

    def _indexer(self, index: CodeIndex) -> Indexer:
        return Indexer(
            index,
            self.file_filter,
            self.encoder,
            max_chunk_bytes=self.settings.max_chunk_bytes,
            redactor=self.redactor,
        )

    def _writing(self) -> _WriteGuard:
        if not self.writable:
            raise ReadOnlyIndex(
                f"the index in {self.index_dir} is read-only; it can be searched as it is "
                "(search --no-update) but not updated"
            )
        prepare_dir(self.index_dir)
        return _WriteGuard(self)

    def _lock_file(self) -> WriteLock:
        return WriteLock(self.index_dir / "write.lock")

    # --- reading ----------------------------------------------------------------------------
    @_read_guard
    def search(
        self,
        query: str,
        k: int = 10,
        *,
        languages: Iterable[str] | None = None,
        paths: Iterable[str] | None = None,
        repos: Iterable[str] | None = None,
        explain: bool = False,
        lexical: bool = False,
    ) -> Results[Hit]:
        """Natural-language (or identifier) query -> the k best chunks. The list's
        ``coverage`` says how much of the index was embedded (``partial`` while an embedding
        phase is still running: the rest competes through BM25 and the ranking). ``lexical``:
        BM25 and the ranking only, without loading the model. ``explain``: each hit carries
        every signal that placed it (``Hit.explain``, see codekin.index.explain). ``repos``
        narrows a shared org index (the ``store`` or ``org_store`` setting) to those
        repositories; with ``org_store`` the hits are ranked together with the shared index's
        and name their repository (this one's: its directory name)."""
        query = valid_text(query)
        if not query.strip():
            return Results()
        if self.settings.store:  # a shared org index: its hits name their repository
            found = self.shared_index().search(query, k, _filters(languages, paths), tuple(repos or ()))
            return Results(found)
        if self.settings.org_store and not (lexical or explain):  # ranked with a shared org index
            with self._open_lock:
                org = self.org or self._own_org
                if org is None:
                    from codekin.org.merge import OrgSearches

                    org = self._own_org = OrgSearches()
            pairs = org.search([self], query, k, _filters(languages, paths), tuple(repos or ()))
            return Results([hit for _, hit in pairs], self.coverage())
        searcher = self._lexical_searcher() if lexical else self._searcher()
        return searcher.search(query, k, _filters(languages, paths), explain=explain)

    def shared_index(self) -> SharedIndex:
        """The shared org index named by the ``store`` setting (opened read-only, once)."""
        with self._open_lock:
            if self._shared is None:
                from codekin.org import open_shared

                s = self.settings
                self._shared = open_shared(s.store, lambda: self.encoder, s.hybrid, s.store_api_key_env)
            return self._shared

    @_read_guard
    def files(
        self,
        query: str,
        k: int = 10,
        *,
        languages: Iterable[str] | None = None,
        paths: Iterable[str] | None = None,
        explain: bool = False,
        lexical: bool = False,
    ) -> Results[FileHit]:
        """A "which files" query -> the k best files, each with its best chunks (``coverage``,
        ``lexical`` and ``explain`` as in :meth:`search`)."""
        query = valid_text(query)
        if not query.strip():
            return Results()
        if self.settings.store:
            raise LookupError("file results are not available over a shared store (store setting) yet")
        searcher = self._lexical_searcher() if lexical else self._searcher()
        return searcher.search_files(query, k, _filters(languages, paths), explain=explain)

    @_read_guard
    def coverage(self) -> Coverage:
        """How many chunks have a vector, out of all (cheap: read once per index change)."""
        return Coverage(*self.code_index.coverage())

    @_read_guard
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
        query = code_query(self.code_index, self.encoder, code, language, rel, self.settings.max_chunk_bytes)
        return self._similar(query, k, languages, paths, include_non_code, include_siblings)

    @_read_guard
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
        chunks = self.code_index.chunks_of_file(rel) if rel is not None else []
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
        index = self.code_index  # chunks still waiting for a vector are embedded (same model only)
        query = stored_query(index, rel, chosen, None if index.mismatch else self.encoder)
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

    @_read_guard
    def chunk_at(self, path: str | Path, line: int) -> tuple[int, Chunk] | None:
        """The innermost indexed chunk covering ``line`` (1-based) of ``path``."""
        rel = rel_path(self.root, path)
        if rel is None:
            return None
        row = line - 1
        covering = [
            (cid, c)
            for cid, c in self.code_index.chunks_of_file(path_key(rel))
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
        return [to_hit(cid, c, 0.0) for cid, c in self.code_index.chunks_named(list(symbols))]

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
        index = self.code_index
        known = index.file_rows()
        since_ns = int((index.last_updated() or 0) * 1e9)
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
        chunks = index.counts().chunks
        embedded = min(chunks, len(index.vectors()))
        return Freshness(tuple(stale[:limit]), len(stale), chunks, embedded)

    def _corrupt_while_reading(self, exc: CorruptIndex) -> CorruptIndex:
        data = self._index.dir if self._index is not None else layout.live_dir(self.index_dir)
        if not self.writable:
            error = CorruptIndex(
                f"the index database is corrupt ({exc}) and read-only here, so it cannot be "
                "rebuilt: run `codekin index` where the index is writable"
            )
        else:
            try:
                aside = self._quarantine(data, exc)
                error = CorruptIndex(
                    f"the index database was corrupt ({exc}): moved aside to {aside.name}; "
                    "the next `codekin index` rebuilds it"
                )
            except CorruptIndex as busy:
                error = busy
        error.reported = True
        return error

    def status(self, *, check: bool = False) -> IndexStatus:
        """Index facts, read without loading the encoder and without writing anything.
        ``check`` also runs SQLite's quick check (reads the whole database)."""
        data = layout.live_dir(self.index_dir)
        common = {
            "read_only": not self.writable,
            "rebuilding": layout.next_dir(self.index_dir).is_dir(),
            "quarantined": [p.name for p in layout.quarantined(data)],
            "problem": layout.rebuild_owed(data),
        }
        db = data / DB_NAME
        if not db.exists():
            return IndexStatus(str(self.root), str(self.index_dir), exists=False, **common)  # type: ignore[arg-type]
        try:
            with CodeIndex.as_built(data) as index:
                if check and (problem := index.quick_check()):
                    raise CorruptIndex(problem)
                files, chunks = index.counts()
                manifest, updated = index.recorded, index.last_updated()
                languages = index.languages()
                evaluation = self._evaluation(index, files)
                redactions, redacted_files, kinds = index.redactions()
        except IndexNotBuilt:  # a first run has just created the file
            return IndexStatus(str(self.root), str(self.index_dir), exists=False, **common)  # type: ignore[arg-type]
        except CorruptIndex as exc:
            common["problem"] = (
                f"the database is corrupt ({exc}); the next `codekin index` moves it aside and rebuilds it"
            )
            return IndexStatus(str(self.root), str(self.index_dir), exists=True, **common)  # type: ignore[arg-type]
        return IndexStatus(
            str(self.root),
            str(self.index_dir),
            exists=True,
            files=files,
            chunks=chunks,
            model=manifest.model if manifest else "",
            dim=manifest.dim if manifest else 0,
            last_updated=updated,
            size_bytes=sum(p.stat().st_size for p in data.iterdir() if p.is_file()),
            languages=languages,
            evaluation=evaluation,
            redactions=redactions,
            redacted_files=redacted_files,
            redaction_kinds=kinds,
            **common,  # type: ignore[arg-type]
        )

    def _evaluation(self, index: CodeIndex, files: int) -> dict[str, Any] | None:
        records = eval_history.read(self.index_dir)
        if not records:
            return None
        changed = index.files_changed_since(int(records[-1].time * 1e9))
        found = eval_history.drift(records, changed, files)
        assert found is not None  # there are records
        return {
            "latest": asdict(found.latest),
            "best_mrr": found.best.mrr,
            "changed_files": found.changed_files,
            "warnings": list(found.warnings),
        }

    def doctor(self, *, sample: int = 200, k: int = 10) -> DoctorReport:
        """Check the index end to end without changing it (see codekin.doctor): manifest,
        database, vectors against chunks, stale files, write lock, and the ANN graph's
        recall@``k`` over ``sample`` stored vectors."""
        return diagnose(self, sample=sample, k=k)

    def close(self) -> None:
        """Save vectors not yet on disk (if no other process is writing), then close."""
        if self._shared is not None:
            self._shared.close()
            self._shared = None
        if self._own_org is not None:  # not one shared with this workspace: its owner closes that
            self._own_org.close()
            self._own_org = None
        if self._lexical is not None:
            self._lexical[0].close()
            self._lexical = None
        if self._index is None:
            return
        replaced = layout.identity(self.index_dir) != self._identity
        if self._index.unsaved and not self._index.readonly and not replaced:
            lock = self._lock_file()
            try:
                lock.acquire()
                self._index.save_if_due()
            except (IndexLocked, ReadOnlyIndex, OSError) as exc:
                log.info("vectors not saved (%s); the next open rebuilds them from the store", exc)
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

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        self.lock = ws._lock_file()

    def __enter__(self) -> None:
        self.ws._write_mutex.acquire()
        try:
            self.lock.acquire()
        except BaseException:
            self.ws._write_mutex.release()
            raise
        self.ws._writer = threading.get_ident()

    def __exit__(self, *exc: object) -> None:
        self.ws._writer = None
        self.lock.release()
        self.ws._write_mutex.release()


def _filters(languages: Iterable[str] | None, paths: Iterable[str] | None) -> Filters:
    return Filters(tuple(map(valid_text, languages or ())), tuple(map(valid_text, paths or ())))


def _hold(text: str, chunks: list[Chunk]) -> bool:
    """Whether ``text`` still holds each chunk's text at its byte span."""
    data = text.encode("utf-8", "surrogatepass")
    return all(data[c.start_byte : c.end_byte] == c.text.encode("utf-8", "surrogatepass") for c in chunks)
