"""Settings that change while codekin runs (the language server's editor settings): whoever
uses a part of the tree subscribes to its keys and is called with the old and the new settings
when one of them changes (esbonio's ``Configuration.subscribe`` is the model)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable

from codekin.settings import Settings, keys

log = logging.getLogger(__name__)

Listener = Callable[[Settings, Settings], None]
_ALL = keys()


class LiveSettings:
    """One folder's current settings and who listens to which of them."""

    def __init__(self, settings: Settings) -> None:
        self._current = settings
        self._listeners: list[tuple[frozenset[str], Listener]] = []
        self._lock = threading.Lock()

    @property
    def current(self) -> Settings:
        return self._current

    def subscribe(self, names: Iterable[str], listener: Listener) -> Callable[[], None]:
        """Call ``listener(old, new)`` after an update that changes any of ``names``; returns
        the function that unsubscribes it."""
        wanted = frozenset(names)
        unknown = wanted - _ALL
        if unknown:
            raise ValueError(f"unknown settings {', '.join(sorted(unknown))}")
        entry = (wanted, listener)
        with self._lock:
            self._listeners.append(entry)

        def unsubscribe() -> None:
            with self._lock:
                if entry in self._listeners:
                    self._listeners.remove(entry)

        return unsubscribe

    def update(self, new: Settings) -> frozenset[str]:
        """Make ``new`` current, tell the listeners whose settings changed, and return the names
        of the settings that changed. A listener that raises is logged; the others still run."""
        with self._lock:
            old, self._current = self._current, new
            listeners = list(self._listeners)
        changed = old.changed(new)
        for wanted, listener in listeners:
            if wanted & changed:
                try:
                    listener(old, new)
                except Exception:
                    log.exception("a listener for the settings %s failed", ", ".join(sorted(wanted)))
        return changed
