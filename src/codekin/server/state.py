"""Per-folder indexes and their state machine, the single writer, the reader pool, unsaved-buffer
overlays and the debounced path queue. Transport-agnostic: the LSP layer listens through
``on_change`` (called from worker threads)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, Literal, TypeVar

import attrs

from codekin.embeddings import Encoder, build_encoder
from codekin.evaluation import history as eval_history
from codekin.index.indexer import IndexStats, ProgressCallback
from codekin.live_settings import LiveSettings
from codekin.org.merge import OrgSearches
from codekin.paths import path_to_uri, within
from codekin.settings import ENCODER_KEYS, Settings, keys
from codekin.watch import Debouncer, TreeWatcher, is_noise
from codekin.workspace import Workspace

log = logging.getLogger(__name__)

T = TypeVar("T")
MAX_ERRORS = 20
IndexStateName = Literal["indexing", "ready", "error"]


@attrs.frozen
class EvaluationStatus:
    """The latest ``codekin eval`` run on a folder's index and the drift warnings it gives."""

    model: str
    k: int
    mrr: float
    best_mrr: float  # the best comparable run
    queries: int
    dataset: str
    time: float
    warnings: list[str]  # as `codekin status` shows them


@attrs.frozen
class FolderStatus:
    uri: str
    state: IndexStateName
    files: int
    chunks: int
    last_updated: float | None
    errors: list[str]
    partial: bool
    evaluation: EvaluationStatus | None


@attrs.frozen
class IndexStatus:
    """Where every folder's index stands (``codekin/indexStatus``, in server/wire.py's spelling)."""

    state: IndexStateName
    files: int
    chunks: int
    model: str
    last_updated: float | None
    errors: list[str]
    partial: bool
    watcher: str
    folders: list[FolderStatus]
    drift: list[str]  # every folder's evaluation warnings


class FolderIndex:
    """One workspace folder: its Workspace and where its index stands.

    state: "indexing" while a full run is queued or running, "ready" after it, "error" when the
    index cannot be opened or built. ``complete`` is true once a full run finished uncancelled;
    a full reindex builds beside the live index, so answers stay complete while it runs."""

    def __init__(self, uri: str, root: Path, settings: Settings) -> None:
        self.uri = uri
        self.root = root
        self.live = LiveSettings(settings)  # features subscribe to the settings they use
        self.live.subscribe(keys(group="search"), self._search_changed)
        self.workspace: Workspace | None = None
        self.state: IndexStateName = "indexing"
        self.complete = False
        self.errors: list[str] = []
        self.files = 0
        self.chunks = 0
        self.last_updated: float | None = None
        self.evaluation: EvaluationStatus | None = None
        self._history_stamp: tuple[int, int] | None = None  # of the eval history last read

    @property
    def settings(self) -> Settings:
        return self.live.current

    def _search_changed(self, old: Settings, new: Settings) -> None:
        if self.workspace is not None:
            self.workspace.apply_live(new)

    @property
    def partial(self) -> bool:
        return self.state == "error" or not self.complete

    def add_error(self, message: str) -> None:
        self.errors = [*self.errors, message][-MAX_ERRORS:]

    def refresh_counts(self) -> None:
        if self.workspace is None:
            return
        stamp = self._history()  # before the read: a run recorded meanwhile is read next time
        try:
            status = self.workspace.status()  # no quick check: this runs after every update
        except Exception as exc:  # a status read must never take the server down
            log.warning("cannot read the status of %s: %s", self.root, exc)
            return
        self.files, self.chunks, self.last_updated = status.files, status.chunks, status.last_updated
        self.evaluation = _evaluation(status.evaluation)
        self._history_stamp = stamp

    def evaluated_since(self) -> bool:
        """Whether `codekin eval` recorded a run since the status was last read (a stat)."""
        return self.workspace is not None and self._history() != self._history_stamp

    def _history(self) -> tuple[int, int] | None:
        assert self.workspace is not None
        try:
            st = (self.workspace.index_dir / eval_history.HISTORY_NAME).stat()
        except OSError:
            return None
        return st.st_mtime_ns, st.st_size

    def status(self) -> FolderStatus:
        return FolderStatus(
            self.uri,
            self.state,
            self.files,
            self.chunks,
            self.last_updated,
            list(self.errors),
            self.partial,
            self.evaluation,
        )


def _evaluation(found: dict[str, Any] | None) -> EvaluationStatus | None:
    """The status's view of Workspace.status().evaluation (codekin.evaluation.history)."""
    if found is None:
        return None
    latest = found["latest"]
    return EvaluationStatus(
        model=latest["model"],
        k=latest["k"],
        mrr=latest["mrr"],
        best_mrr=found["best_mrr"],
        queries=latest["queries"],
        dataset=latest["dataset"],
        time=latest["time"],
        warnings=list(found["warnings"]),
    )


class ServerState:
    def __init__(
        self, on_change: Callable[[FolderIndex | None], None] | None = None, encoder: Encoder | None = None
    ) -> None:
        self.fixed_encoder = encoder  # used for every folder when given (tests, embedding callers)
        self.folders: dict[Path, FolderIndex] = {}
        self.on_change = on_change or (lambda folder: None)
        self.writer = ThreadPoolExecutor(1, thread_name_prefix="codekin-writer")
        self.readers = ThreadPoolExecutor(2, thread_name_prefix="codekin-reader")
        self.watcher = "none"  # "client" | "server" | "none": who reports file changes
        self.tree_watcher: TreeWatcher | None = None  # the server-side watcher, when used
        self.overlays: dict[str, str] = {}  # absolute path -> unsaved buffer text
        self._encoders: dict[tuple[Any, ...], Encoder] = {}
        self._lock = threading.Lock()
        self._pending: dict[Path, set[str]] = {}
        self.cancels: set[threading.Event] = set()  # of runs queued or running
        self.debouncer = Debouncer(self.queue_paths, Settings().debounce_ms)
        self.org = OrgSearches()  # shared org indexes searched beside the folders (org_store)

    # --- folders ----------------------------------------------------------------------------
    def add_folder(self, root: Path, settings: Settings) -> FolderIndex:
        folder = FolderIndex(path_to_uri(root), root, settings)
        folder.live.subscribe({"debounce_ms"}, lambda old, new: self._debounce_changed())
        self.folders[root] = folder
        return folder

    def remove_folder(self, root: Path) -> FolderIndex | None:
        folder = self.folders.pop(root, None)
        self._debounce_changed()
        return folder

    def _debounce_changed(self) -> None:
        """One debouncer serves every folder: it waits as long as the shortest of their delays."""
        if self.folders:
            self.debouncer.set_delay(min(f.settings.debounce_ms for f in self.folders.values()))

    def folder_of(self, path: Path) -> FolderIndex | None:
        """The innermost folder containing ``path``."""
        best: FolderIndex | None = None
        for root, folder in self.folders.items():
            if within(str(root), str(path)) and (best is None or len(root.parts) > len(best.root.parts)):
                best = folder
        return best

    def index_dirs(self) -> list[Path]:
        return [f.workspace.index_dir for f in self.folders.values() if f.workspace is not None]

    def status(self) -> IndexStatus:
        folders = list(self.folders.values())
        states = {f.state for f in folders}
        state: IndexStateName = (
            "error" if "error" in states else "indexing" if "indexing" in states else "ready"
        )
        updated = [f.last_updated for f in folders if f.last_updated is not None]
        return IndexStatus(
            state=state,
            files=sum(f.files for f in folders),
            chunks=sum(f.chunks for f in folders),
            model=", ".join(dict.fromkeys(f.settings.model for f in folders)),
            last_updated=max(updated) if updated else None,
            errors=[e for f in folders for e in f.errors],
            partial=any(f.partial for f in folders),
            watcher=self.watcher,
            folders=[f.status() for f in folders],
            drift=[
                w if len(folders) == 1 else f"{f.root.name}: {w}"
                for f in folders
                if f.evaluation
                for w in f.evaluation.warnings
            ],
        )

    def refresh_evaluations(self) -> None:
        """Re-read the status of folders that `codekin eval` evaluated since (another process)."""
        for folder in self.folders.values():
            if folder.evaluated_since():
                folder.refresh_counts()

    @property
    def partial(self) -> bool:
        return any(f.partial for f in self.folders.values())

    # --- workers ----------------------------------------------------------------------------
    def read(self, fn: Callable[..., T], *args: Any) -> Future[T]:
        return self.readers.submit(fn, *args)

    def write(self, fn: Callable[..., T], *args: Any) -> Future[T]:
        """All index mutations go through this one thread, in order."""
        return self.writer.submit(fn, *args)

    def encoder_for(self, settings: Settings) -> Encoder:
        """One loaded encoder per model configuration, shared by folders (writer thread)."""
        if self.fixed_encoder is not None:
            return self.fixed_encoder
        key = tuple(settings.part(ENCODER_KEYS).values())
        if key not in self._encoders:
            log.info("loading encoder %s", settings.model)
            # searches answer by keywords while its weights load
            self._encoders[key] = build_encoder(settings.model, settings, defer=True)
        return self._encoders[key]

    # --- indexing ---------------------------------------------------------------------------
    def schedule_index(
        self,
        folder: FolderIndex,
        *,
        full: bool = False,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> Future[IndexStats | None]:
        """Mark the folder as indexing now (so requests answered meanwhile say partial) and queue
        a full run on the writer."""
        folder.state = "indexing"
        self.on_change(folder)
        cancel = cancel or threading.Event()
        self.cancels.add(cancel)
        future = self.write(self._index, folder, full, progress, cancel)
        future.add_done_callback(lambda _: self.cancels.discard(cancel))
        return future

    def _index(
        self, folder: FolderIndex, full: bool, progress: ProgressCallback | None, cancel: threading.Event
    ) -> IndexStats | None:
        folder.state = "indexing"
        stats: IndexStats | None = None
        try:
            ws = self._open(folder)
            if cancel.is_set():
                log.info("indexing %s cancelled before it started", folder.root)
            else:
                stats = ws.index(progress, full=full, cancel=cancel)
                if stats.rebuilt_reason:
                    log.warning("%s: %s", folder.root, stats.rebuilt_reason)
            folder.complete = stats is not None and not stats.cancelled
            folder.errors = []
            folder.state = "ready"
        except Exception as exc:
            log.exception("indexing %s failed", folder.root)
            folder.add_error(f"indexing failed: {exc}")
            folder.state = "error"
        finally:
            folder.refresh_counts()
            self.on_change(folder)
        return stats

    def _open(self, folder: FolderIndex) -> Workspace:
        """The folder's Workspace, (re)opened when settings that shape the index changed."""
        ws = folder.workspace
        if ws is not None and ws.settings.same_index(folder.settings):
            return ws  # its live settings follow the folder's (FolderIndex._search_changed)
        encoder = self.encoder_for(folder.settings)
        if ws is not None:
            folder.workspace = None
            folder.complete = False  # another model or chunker: the old answers do not apply
            ws.close()
        folder.workspace = Workspace(folder.root, folder.settings, encoder=encoder, wait_for_model=False)
        folder.workspace.org = self.org
        return folder.workspace

    def needs_reindex(self, folder: FolderIndex, settings: Settings) -> bool:
        ws = folder.workspace
        return ws is None or folder.state == "error" or not ws.settings.same_index(settings)

    def clear(self, folder: FolderIndex) -> None:
        try:
            if folder.workspace is not None:
                folder.workspace.clear()
            folder.complete = False
            folder.state = "ready" if folder.workspace is not None else folder.state
        finally:
            folder.refresh_counts()
            self.on_change(folder)

    # --- incremental updates ----------------------------------------------------------------
    def set_overlay(self, path: Path, text: str) -> None:
        with self._lock:
            self.overlays[str(path)] = text
        self.debouncer.add([str(path)])

    def drop_overlay(self, path: Path, *, recheck: bool = True) -> None:
        with self._lock:
            had = self.overlays.pop(str(path), None) is not None
        if had or recheck:
            self.debouncer.add([str(path)])

    def queue_paths(self, paths: Iterable[str]) -> None:
        """Debounced changed paths -> one writer job per folder (coalesced while the writer is busy)."""
        index_dirs = self.index_dirs()
        todo: list[FolderIndex] = []
        with self._lock:
            for raw in paths:
                path = Path(raw)
                folder = self.folder_of(path)
                if folder is None or is_noise(path, folder.root, index_dirs):
                    continue
                pending = self._pending.setdefault(folder.root, set())
                if not pending:
                    todo.append(folder)
                pending.add(str(path))
        for folder in todo:
            self.write(self._apply_pending, folder)

    def rescan(self, root: str) -> None:
        """The watcher lost events under ``root`` (a full event buffer): walk its folder again."""
        folder = self.folder_of(Path(root))
        if folder is not None:
            log.warning("file events under %s were lost; walking the whole folder again", folder.root)
            self.schedule_index(folder)

    def _apply_pending(self, folder: FolderIndex) -> None:
        with self._lock:
            paths = self._pending.pop(folder.root, set())
            overlays = {p: t for p, t in self.overlays.items() if p in paths}
        ws = folder.workspace
        if not paths or ws is None or folder.state == "error":
            return  # a full run is still to come (or the index is broken): it will see these files
        try:
            stats = ws.update(sorted(paths), overlays=overlays)
            log.info(
                "updated %d paths in %s: %d indexed, %d removed, %d embedded",
                len(paths),
                folder.root,
                stats.files_indexed,
                stats.files_removed,
                stats.embedded,
            )
        except Exception as exc:
            log.exception("updating %s failed", folder.root)
            folder.add_error(f"update failed: {exc}")
        finally:
            folder.refresh_counts()
            self.on_change(folder)

    def idle(self) -> bool:
        """No debounced paths waiting and nothing pending for the writer."""
        with self._lock:
            pending = any(self._pending.values())
        return self.debouncer.idle and not pending

    def close(self) -> None:
        for cancel in list(self.cancels):
            cancel.set()
        if self.tree_watcher is not None:
            self.tree_watcher.stop()
        self.debouncer.close()
        self.readers.shutdown(wait=False, cancel_futures=True)
        self.writer.shutdown(wait=True, cancel_futures=True)
        for folder in self.folders.values():
            if folder.workspace is not None:
                folder.workspace.close()
        self.org.close()
