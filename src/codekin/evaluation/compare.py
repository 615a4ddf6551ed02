"""Two evaluation runs of the same queries side by side: per-metric means, a paired bootstrap
confidence interval of the difference, and the queries whose rank changed most."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from codekin.evaluation.runner import EvalReport, QueryResult

BOOTSTRAP_SAMPLES = 2000
CONFIDENCE = 0.95

# (name shown, the per-query value of that metric)
METRICS: tuple[tuple[str, str], ...] = (("MRR", "reciprocal_rank"), ("NDCG", "ndcg"), ("R", "recall_at_k"))


@dataclass(frozen=True)
class MetricDiff:
    name: str  # e.g. "MRR@10"
    a: float
    b: float
    low: float  # the confidence interval of b - a
    high: float

    @property
    def diff(self) -> float:
        return self.b - self.a

    @property
    def significant(self) -> bool:
        """The interval excludes 0: B is reliably better (or worse) on these queries."""
        return self.low > 0 or self.high < 0


@dataclass(frozen=True)
class Change:
    query: str
    rank_a: int | None  # 1-based rank of the first correct result (None: not in the top k)
    rank_b: int | None
    delta: float  # reciprocal rank b - a


@dataclass(frozen=True)
class Comparison:
    model_a: str
    model_b: str
    queries: int
    metrics: tuple[MetricDiff, ...]
    changed: tuple[Change, ...]  # largest |delta| first


def paired_interval(a: np.ndarray, b: np.ndarray, seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap interval of mean(b - a), resampling queries (pairs stay together)."""
    diff = b - a
    if len(diff) == 0:
        return 0.0, 0.0
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(diff), size=(BOOTSTRAP_SAMPLES, len(diff)))
    means = diff[picks].mean(axis=1)
    tail = (1 - CONFIDENCE) / 2 * 100
    low, high = np.percentile(means, [tail, 100 - tail])
    return float(low), float(high)


def compare(a: EvalReport, b: EvalReport, model_a: str, model_b: str, changes: int = 10) -> Comparison:
    """Compare two reports over the same query list (same order, as ``evaluate`` returns it)."""
    if [r.query.query for r in a.results] != [r.query.query for r in b.results]:
        raise ValueError("the two runs did not score the same queries")
    k = a.summary.k
    metrics = []
    for name, attr in METRICS:
        va, vb = _values(a.results, attr), _values(b.results, attr)
        low, high = paired_interval(va, vb)
        mean_a = float(va.mean()) if len(va) else 0.0
        mean_b = float(vb.mean()) if len(vb) else 0.0
        metrics.append(MetricDiff(f"{name}@{k}", mean_a, mean_b, low, high))
    moved = [
        Change(
            ra.query.query,
            ra.score.first_rank,
            rb.score.first_rank,
            rb.score.reciprocal_rank - ra.score.reciprocal_rank,
        )
        for ra, rb in zip(a.results, b.results, strict=True)
        if ra.score.first_rank != rb.score.first_rank
    ]
    moved.sort(key=lambda c: (-abs(c.delta), c.query))
    return Comparison(model_a, model_b, len(a.results), tuple(metrics), tuple(moved[:changes]))


def _values(results: tuple[QueryResult, ...], attr: str) -> np.ndarray:
    return np.array([getattr(r.score, attr) for r in results], dtype=np.float64)
