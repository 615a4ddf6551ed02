"""Server-side watching with watchdog, for clients that cannot watch files for us."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable
from pathlib import Path

from watchdog.events import (
    DirModifiedEvent,
    EventsLostEvent,
    FileClosedNoWriteEvent,
    FileOpenedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver, ObservedWatch

from codekin.files import DEFAULT_SKIP_DIRS
from codekin.paths import rel_path, within

log = logging.getLogger(__name__)

MAX_EXPANDED = 50_000  # files listed from one created or moved-in directory
_QUIET_EVENTS = (FileOpenedEvent, FileClosedNoWriteEvent, DirModifiedEvent)


def is_noise(path: str | Path, root: Path, index_dirs: Iterable[Path] = ()) -> bool:
    """Paths never worth an index update: VCS internals, caches and dependency folders below
    ``root`` (only the part below it counts), and index directories."""
    if any(within(str(d), str(path)) for d in index_dirs):
        return True
    if within(str(root), str(path)):
        rel = rel_path(root, path)
        return rel is not None and any(part in DEFAULT_SKIP_DIRS for part in rel.split("/"))
    return any(part in DEFAULT_SKIP_DIRS for part in Path(path).parts)


def expand_dir(path: str) -> list[str]:
    """Files under a directory that appeared (created or moved in): watchdog reports only the dir."""
    found: list[str] = []
    for dirpath, dirnames, filenames in os.walk(path):
        dirnames[:] = [d for d in dirnames if d not in DEFAULT_SKIP_DIRS]
        found += (os.path.join(dirpath, f) for f in filenames)
        if len(found) >= MAX_EXPANDED:
            break
    return found


class _Handler(FileSystemEventHandler):
    def __init__(self, sink: Callable[[list[str]], None], on_lost: Callable[[str], None] | None) -> None:
        self.sink = sink
        self.on_lost = on_lost

    def on_any_event(self, event: FileSystemEvent) -> None:
        if isinstance(event, _QUIET_EVENTS):
            return
        if isinstance(event, EventsLostEvent):  # inotify queue or ReadDirectoryChangesW buffer full
            log.warning("file events lost under %s", os.fsdecode(event.src_path))
            if self.on_lost is not None:
                self.on_lost(os.fsdecode(event.src_path))
            return
        # A move from outside the tree has no source on Windows ("").
        paths = [p for p in (os.fsdecode(event.src_path), os.fsdecode(event.dest_path)) if p]
        if paths and event.is_directory and event.event_type in ("created", "moved"):
            paths += expand_dir(paths[-1])
        if paths:
            self.sink(paths)


class TreeWatcher:
    """Watches folders recursively and hands every changed path (file or directory) to ``sink``;
    ``on_lost(root)`` when events under a watched root were dropped (it must be walked again)."""

    def __init__(
        self, sink: Callable[[list[str]], None], on_lost: Callable[[str], None] | None = None
    ) -> None:
        self._handler = _Handler(sink, on_lost)
        self._observer: BaseObserver = Observer()
        self._watches: dict[Path, ObservedWatch] = {}
        self._started = False

    def watch(self, root: Path) -> None:
        if root in self._watches:
            return
        self._watches[root] = self._observer.schedule(self._handler, str(root), recursive=True)
        if not self._started:
            self._observer.start()
            self._started = True
        log.info("watching %s for changes (server-side watcher)", root)

    def unwatch(self, root: Path) -> None:
        watch = self._watches.pop(root, None)
        if watch is not None:
            self._observer.unschedule(watch)

    def stop(self) -> None:
        if self._started:
            self._observer.stop()
            self._observer.join(timeout=5)
            self._started = False
