"""Opened results as a local query set: with ``feedback = true`` the language server appends
which hit a user opened for which (redacted) query to ``<index dir>/feedback.jsonl``, and
``codekin eval --feedback`` turns that log into a dataset in the format ``codekin eval``
reads. Nothing leaves the machine."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

from codekin.evaluation import records
from codekin.evaluation.dataset import EvalQuery, Target

FEEDBACK_NAME = "feedback.jsonl"
MAX_QUERY_CHARS = 1000  # longer "queries" are pasted code, not a question worth keeping


@dataclass(frozen=True)
class Opened:
    """One result a user opened: the (redacted) query, the hit's chunk (root-relative path,
    1-based inclusive lines) and its 1-based rank in the list it was picked from."""

    query: str
    path: str
    start_line: int
    end_line: int
    rank: int
    time: float = 0.0  # seconds since the epoch

    @property
    def target(self) -> tuple[str, int, int]:
        return (self.path, self.start_line, self.end_line)


def append(index_dir: Path, opened: Opened) -> None:
    """Add ``opened`` to the log (stamped now when it has no time)."""
    if not opened.time:
        opened = Opened(**{**asdict(opened), "time": round(time.time(), 3)})
    records.append(index_dir / FEEDBACK_NAME, opened)


def read(index_dir: Path) -> list[Opened]:
    """The logged results, oldest first; unreadable lines are skipped with one log line."""
    return records.read(index_dir / FEEDBACK_NAME, Opened, _valid)


def _valid(o: Opened) -> bool:
    ints = (o.start_line, o.end_line, o.rank)
    return (
        isinstance(o.query, str)
        and bool(o.query.strip())
        and isinstance(o.path, str)
        and bool(o.path)
        and all(isinstance(v, int) and not isinstance(v, bool) for v in ints)
        and 1 <= o.start_line <= o.end_line
        and o.rank >= 1
    )


def to_dataset(records: list[Opened]) -> list[EvalQuery]:
    """One query per distinct query text (case and spacing aside, the latest spelling kept), whose
    answer is the chunk opened most often for it (the latest one on a tie); in first-seen order."""
    spelling: dict[str, str] = {}
    opened: dict[str, Counter[tuple[str, int, int]]] = {}
    latest: dict[tuple[str, tuple[str, int, int]], int] = {}
    for n, r in enumerate(records):
        text = " ".join(r.query.split())
        key = text.casefold()
        spelling[key] = text
        opened.setdefault(key, Counter())[r.target] += 1
        latest[(key, r.target)] = n
    out: list[EvalQuery] = []
    for key, counts in opened.items():
        path, start, end = max(counts, key=lambda t: (counts[t], latest[(key, t)]))
        out.append(EvalQuery(spelling[key], (Target(path, start, end),)))
    return out
