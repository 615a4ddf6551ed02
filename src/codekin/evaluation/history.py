"""Every ``codekin eval`` run, appended to ``<index dir>/eval-history.jsonl``, and the drift
checks ``codekin status`` makes from it: the latest figure against the best one on the same
query set, and how much of the code changed since the last evaluation."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from codekin.evaluation import records
from codekin.evaluation.runner import EvalReport

HISTORY_NAME = "eval-history.jsonl"
DRIFT_MARGIN = 0.03  # MRR below the best run on the same query set that is worth a warning
CHANGED_SHARE = 0.25  # share of indexed files changed since the last evaluation


@dataclass(frozen=True)
class EvalRecord:
    time: float  # seconds since the epoch
    model: str
    model_hash: str
    generation: int  # of the evaluated index
    files: int  # corpus the queries ran over
    chunks: int
    mode: str  # chunks | files
    dataset: str  # the query set: a file path, or "mined (seed S, limit L)"
    k: int
    queries: int
    mrr: float
    ndcg: float
    recall_at_k: float

    @classmethod
    def of(
        cls, report: EvalReport, dataset: str, model: str, model_hash: str, corpus: tuple[int, int, int]
    ) -> EvalRecord:
        """A record of ``report``; ``corpus`` is the evaluated index's (generation, files, chunks)."""
        s = report.summary
        generation, files, chunks = corpus
        return cls(
            time.time(), model, model_hash, generation, files, chunks, report.mode, dataset, s.k,
            s.queries, round(s.mrr, 4), round(s.ndcg, 4), round(s.recall_at_k, 4),
        )  # fmt: skip

    def comparable(self, other: EvalRecord) -> bool:
        """Runs of the same query set, result mode and depth (any model)."""
        return (self.dataset, self.mode, self.k) == (other.dataset, other.mode, other.k)


def append(index_dir: Path, record: EvalRecord) -> None:
    records.append(index_dir / HISTORY_NAME, record)


def read(index_dir: Path) -> list[EvalRecord]:
    """The recorded runs, oldest first; unreadable lines are skipped with one log line."""
    return records.read(index_dir / HISTORY_NAME, EvalRecord)


@dataclass(frozen=True)
class Drift:
    latest: EvalRecord
    best: EvalRecord  # the best comparable run, of any model (may be the latest)
    changed_files: int  # indexed files changed since the latest run
    total_files: int
    warnings: tuple[str, ...]


def drift(records: list[EvalRecord], changed_files: int, total_files: int) -> Drift | None:
    """The latest run against the best comparable one (the same model before the code or the
    index changed, or another model), and the code changed since; None when nothing was
    evaluated yet."""
    if not records:
        return None
    latest = records[-1]
    best = max((r for r in records if r.comparable(latest)), key=lambda r: r.mrr)
    warnings = []
    if best.mrr - latest.mrr > DRIFT_MARGIN:
        warnings.append(
            f"search quality fell: MRR@{latest.k} {latest.mrr:.3f} with {latest.model}, against "
            f"{best.mrr:.3f} with {best.model} on {_day(best.time)} ({latest.dataset})"
        )
    if total_files and changed_files / total_files > CHANGED_SHARE:
        warnings.append(
            f"{changed_files} of {total_files} files changed since the last evaluation "
            f"({_day(latest.time)}); run codekin eval again"
        )
    return Drift(latest, best, changed_files, total_files, tuple(warnings))


def _day(t: float) -> str:
    return time.strftime("%Y-%m-%d", time.localtime(t))
