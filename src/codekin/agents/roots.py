"""The MCP server's indexes: one per root, built in the background on first use and kept fresh by
the language server's machinery (``ServerState``: one writer thread, the watchdog watcher and its
debouncer). Another process (an editor's language server, the CLI) may share an index: when it
holds the write lock, this one searches the index as it is and says so."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codekin.embeddings import Encoder
from codekin.embeddings.deferred import wait_until_loaded
from codekin.files import rel_path
from codekin.index.indexer import IndexProgress, IndexStats
from codekin.server.state import FolderIndex, ServerState
from codekin.settings import Source, project_sources, resolve
from codekin.watch import TreeWatcher
from codekin.workspace import Workspace

log = logging.getLogger(__name__)

SYNC_WAIT_S = 5.0  # a tool call waits this long for debounced file changes to be applied
SETTLE_WAIT_S = 2.0  # once every file is searchable by keywords, how long a call waits for the vectors


SEARCHABLE_PHASES = frozenset({"embedding", "saving", "done"})  # every file committed by then


@dataclass
class RootProgress:
    future: Future[IndexStats | None] | None = None
    latest: IndexProgress | None = None
    # set once the run's lexical phase ended (or the run ended): the index answers every file
    searchable: threading.Event = field(default_factory=threading.Event)


class AgentRoots:
    """The roots an MCP session searches, their indexes and their freshness."""

    def __init__(
        self,
        overrides: dict[str, Any] | None = None,
        *,
        encoder: Encoder | None = None,
        watch: bool = True,
    ) -> None:
        self.state = ServerState(encoder=encoder)
        self.overrides = {k: v for k, v in (overrides or {}).items() if v is not None}
        self.watch = watch
        self.progress: dict[Path, RootProgress] = {}
        self._lock = threading.Lock()
        self.resolved = False

    # --- roots ------------------------------------------------------------------------------
    def open(self, roots: Sequence[Path]) -> list[str]:
        """Start serving these roots (index in the background, watch for changes); returns
        problems worth telling the client (a root that is not a directory, bad settings)."""
        problems: list[str] = []
        with self._lock:
            self.resolved = True
            for raw in roots:
                root = raw.expanduser().resolve()
                if root in self.state.folders:
                    continue
                if not root.is_dir():
                    problems.append(f"root {root} is not a directory; skipped")
                    continue
                settings, found = resolve(*project_sources(root), Source("command line", self.overrides))
                problems += found
                folder = self.state.add_folder(root, settings)
                self._start_index(folder)
                if self.watch:
                    self._watch(folder)
        for problem in problems:
            log.warning("%s", problem)
        return problems

    def _start_index(self, folder: FolderIndex, *, full: bool = False) -> Future[IndexStats | None]:
        progress = self.progress.setdefault(folder.root, RootProgress())
        progress.searchable.clear()
        progress.latest = None

        def on_progress(p: IndexProgress) -> None:
            progress.latest = p
            if p.phase in SEARCHABLE_PHASES:
                progress.searchable.set()

        progress.future = self.state.schedule_index(folder, full=full, progress=on_progress)
        progress.future.add_done_callback(lambda _: progress.searchable.set())
        return progress.future

    def _watch(self, folder: FolderIndex) -> None:
        state = self.state
        if state.tree_watcher is None:
            state.tree_watcher = TreeWatcher(state.debouncer.add, state.rescan)
            state.watcher = "server"
        try:
            state.tree_watcher.watch(folder.root)
        except OSError as exc:  # e.g. the inotify watch limit
            folder.add_error(f"cannot watch files for changes: {exc}; call reindex after edits")

    @property
    def folders(self) -> list[FolderIndex]:
        return list(self.state.folders.values())

    def workspaces(self) -> list[Workspace]:
        """Workspaces that can answer: opened, even when a full run failed (say another process
        holds the write lock: its index is still readable)."""
        return [f.workspace for f in self.folders if f.workspace is not None]

    def locate(self, path: str) -> tuple[Workspace, str]:
        """The workspace holding ``path`` (absolute, or relative to one of the roots) and the
        path relative to its root; LookupError when no root has it."""
        candidates: list[tuple[Workspace, str]] = []
        for ws in self.workspaces():
            absolute = Path(path) if Path(path).is_absolute() else ws.root / path
            rel = rel_path(ws.root, absolute)
            if rel is not None and absolute.exists():
                candidates.append((ws, rel))
        if not candidates:
            roots = ", ".join(str(f.root) for f in self.folders) or "none"
            raise LookupError(f"{path}: no such file under the served roots ({roots})")
        return max(candidates, key=lambda c: len(c[0].root.parts))

    # --- waiting ----------------------------------------------------------------------------
    def wait_ready(self, timeout: float, settle: float = SETTLE_WAIT_S) -> bool:
        """Wait (up to ``timeout`` seconds in all) until every root's background run has
        committed all its files and its model is loaded, then up to ``settle`` seconds more for
        its embedding phase (a small repository answers complete; a large one answers at once,
        the chunks not embedded yet found by keywords); True when every file is searchable."""
        deadline = time.monotonic() + timeout
        runs = [p for p in self.progress.values() if p.future is not None]
        for progress in runs:
            if not progress.searchable.wait(max(0.0, deadline - time.monotonic())):
                return False
        for ws in self.workspaces():  # an agent's answers use the model; its load is not settle time
            wait_until_loaded(ws.encoder, max(0.0, deadline - time.monotonic()))
        settled = min(deadline, time.monotonic() + settle)
        for progress in runs:
            assert progress.future is not None
            with suppress(TimeoutError):
                progress.future.result(timeout=max(0.0, settled - time.monotonic()))
        return True

    def sync(self, timeout: float = SYNC_WAIT_S) -> None:
        """Apply file changes the watcher has seen, so the next answer reflects them."""
        self.state.debouncer.flush_now()
        deadline = time.monotonic() + timeout
        while not self.state.idle() and time.monotonic() < deadline:
            time.sleep(0.02)

    def reindex(self, full: bool, paths: Sequence[str]) -> list[IndexStats]:
        """Re-check ``paths`` (or every file) now, on the writer; waits for the result."""
        stats: list[IndexStats] = []
        if paths:
            groups: dict[Path, list[str]] = {}
            for p in paths:
                try:
                    ws, rel = self.locate(p)
                except LookupError:  # deleted: drop it from the index of the root it was under
                    ws, rel = self._owner(p)
                groups.setdefault(ws.root, []).append(rel)
            for root, rels in groups.items():
                owner = self.state.folders[root].workspace
                assert owner is not None
                stats.append(self.state.write(owner.update, rels).result())
            return stats
        for folder in self.folders:
            result = self._start_index(folder, full=full).result()
            if result is not None:
                stats.append(result)
            elif folder.errors:
                raise RuntimeError(folder.errors[-1])
        return stats

    def _owner(self, path: str) -> tuple[Workspace, str]:
        """For a deleted file: the root it was under (relative paths: the first root)."""
        for ws in self.workspaces():
            absolute = Path(path) if Path(path).is_absolute() else ws.root / path
            rel = rel_path(ws.root, absolute)
            if rel is not None:
                return ws, rel
        raise LookupError(f"{path} is not under any served root")

    def close(self) -> None:
        self.state.close()
