"""Ranking metrics for one query and their means: MRR, NDCG, recall.

A result list is a list of ``(path, start_line, end_line)`` spans, best first. NDCG follows the
semble benchmark: each target gains 1 at the position of the first result inside it, and the
ideal list has every target in the first places.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from codekin.evaluation.dataset import Target

Span = tuple[str, int, int]


@dataclass(frozen=True)
class QueryScore:
    first_rank: int | None  # 1-based position of the first correct result (None: not in the list)
    reciprocal_rank: float
    ndcg: float
    recall_at_1: float  # share of targets found in the first result
    recall_at_k: float  # share of targets found in the whole list


@dataclass(frozen=True)
class Summary:
    queries: int
    k: int
    mrr: float
    ndcg: float
    recall_at_1: float
    recall_at_k: float


def score_query(results: Sequence[Span], targets: Sequence[Target], k: int = 10) -> QueryScore:
    found_at: dict[int, int] = {}  # target index -> 0-based position of its first result
    for pos, (path, start, end) in enumerate(results[:k]):
        for i, t in enumerate(targets):
            if i not in found_at and t.matches(path, start, end):
                found_at[i] = pos
    first = min(found_at.values()) if found_at else None
    dcg = sum(1.0 / math.log2(pos + 2) for pos in found_at.values())
    ideal = sum(1.0 / math.log2(i + 2) for i in range(min(len(targets), k)))
    n = len(targets)
    return QueryScore(
        first_rank=None if first is None else first + 1,
        reciprocal_rank=0.0 if first is None else 1.0 / (first + 1),
        ndcg=dcg / ideal if ideal else 0.0,
        recall_at_1=sum(1 for pos in found_at.values() if pos == 0) / n if n else 0.0,
        recall_at_k=len(found_at) / n if n else 0.0,
    )


def summarise(scores: Sequence[QueryScore], k: int = 10) -> Summary:
    n = len(scores)

    def mean(values: list[float]) -> float:
        return sum(values) / n if n else 0.0

    return Summary(
        queries=n,
        k=k,
        mrr=mean([s.reciprocal_rank for s in scores]),
        ndcg=mean([s.ndcg for s in scores]),
        recall_at_1=mean([s.recall_at_1 for s in scores]),
        recall_at_k=mean([s.recall_at_k for s in scores]),
    )
