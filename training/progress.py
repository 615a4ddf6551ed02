"""A tiny progress reporter with an ETA, written to stderr (stdout stays for results)."""

from __future__ import annotations

import sys
import time
from typing import TextIO


def format_seconds(seconds: float) -> str:
    seconds = max(0, int(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


class Progress:
    """``with Progress("mine", total) as p: p.advance(1, note)`` prints done/total, rate and ETA."""

    def __init__(
        self, label: str, total: float, *, every_s: float = 2.0, stream: TextIO | None = None
    ) -> None:
        self.label = label
        self.total = total
        self.done = 0.0
        self.every_s = every_s
        self.stream = stream if stream is not None else sys.stderr
        self.start = time.monotonic()
        self._last = 0.0
        self.note = ""

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.report(force=True)
        self.stream.write("\n")
        self.stream.flush()

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.start

    def eta(self) -> float | None:
        if self.done <= 0 or self.total <= 0:
            return None
        return self.elapsed * (self.total - self.done) / self.done

    def advance(self, n: float = 1, note: str = "") -> None:
        self.done += n
        if note:
            self.note = note
        self.report()

    def set(self, done: float, note: str = "") -> None:
        self.done = done
        if note:
            self.note = note
        self.report()

    def report(self, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last < self.every_s:
            return
        self._last = now
        eta = self.eta()
        pct = 100.0 * self.done / self.total if self.total else 0.0
        eta_text = format_seconds(eta) if eta is not None else "--:--"
        line = (
            f"[{self.label}] {self.done:.0f}/{self.total:.0f} ({pct:5.1f}%) "
            f"elapsed {format_seconds(self.elapsed)} eta {eta_text} {self.note}"
        )
        self.stream.write("\r" + line[:160].ljust(120) if self.stream.isatty() else line[:200] + "\n")
        self.stream.flush()
