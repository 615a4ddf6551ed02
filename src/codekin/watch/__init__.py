"""File watching: a watchdog observer and a debouncer that turn bursts of file events into one
set of changed paths (used by the language server's client-side and server-side watchers alike)."""

from codekin.watch.debounce import Debouncer
from codekin.watch.observer import TreeWatcher, is_noise

__all__ = ["Debouncer", "TreeWatcher", "is_noise"]
