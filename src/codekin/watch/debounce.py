"""Coalesce path events: flush once no new event arrived for ``delay_ms`` (or ``max_delay_ms``
after the first one, so a steady stream of events cannot starve the index)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable

log = logging.getLogger(__name__)

FlushCallback = Callable[[set[str]], None]


class Debouncer:
    """Thread-safe path collector; ``flush`` runs on the debouncer's own thread, one call at a time."""

    def __init__(self, flush: FlushCallback, delay_ms: int = 300, max_delay_ms: int | None = None) -> None:
        self._flush = flush
        self._cond = threading.Condition()
        self._pending: set[str] = set()
        self._first = 0.0
        self._last = 0.0
        self._closed = False
        self._busy = False
        self.set_delay(delay_ms, max_delay_ms)
        self._thread = threading.Thread(target=self._run, name="codekin-debouncer", daemon=True)
        self._thread.start()

    def set_delay(self, delay_ms: int, max_delay_ms: int | None = None) -> None:
        with self._cond:
            self.delay = max(0, delay_ms) / 1000
            cap = max_delay_ms if max_delay_ms is not None else 10 * delay_ms
            self.max_delay = max(self.delay, cap / 1000)
            self._cond.notify_all()

    def add(self, paths: Iterable[str]) -> None:
        new = set(paths)
        if not new:
            return
        with self._cond:
            now = time.monotonic()
            if not self._pending:
                self._first = now
            self._pending |= new
            self._last = now
            self._cond.notify_all()

    @property
    def idle(self) -> bool:
        """Nothing pending and no flush running."""
        with self._cond:
            return not self._pending and not self._busy

    def flush_now(self) -> None:
        """Deliver what is pending without waiting for the quiet period."""
        with self._cond:
            self._first = self._last = float("-inf")
            self._cond.notify_all()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._closed:
                    if self._pending:
                        now = time.monotonic()
                        due = min(self._last + self.delay, self._first + self.max_delay)
                        if now >= due:
                            break
                        self._cond.wait(due - now)
                    else:
                        self._cond.wait()
                if self._closed:
                    return
                batch, self._pending = self._pending, set()
                self._busy = True
            try:
                self._flush(batch)
            except Exception:
                log.exception("debounced flush of %d paths failed", len(batch))
            finally:
                with self._cond:
                    self._busy = False
