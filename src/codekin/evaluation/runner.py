"""Run a query set against a workspace and score every query."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from codekin.evaluation.dataset import EvalQuery
from codekin.evaluation.metrics import QueryScore, Span, Summary, score_query, summarise

if TYPE_CHECKING:
    from codekin.workspace import Workspace

WHOLE_FILE = 10**9  # a file result covers every line of its file

EvalProgress = Callable[[int, int], None]  # (queries done, total)


@dataclass(frozen=True)
class QueryResult:
    query: EvalQuery
    score: QueryScore
    results: tuple[Span, ...]  # what the search returned, best first


@dataclass(frozen=True)
class EvalReport:
    mode: str  # "chunks" or "files"
    summary: Summary
    results: tuple[QueryResult, ...]
    unknown_paths: tuple[str, ...]  # target paths the index does not hold (typos, ignored files)

    def worst(self, n: int) -> list[QueryResult]:
        """The n queries that scored lowest (missed ones first, then the lowest ranked)."""
        order = sorted(self.results, key=lambda r: (r.score.ndcg, r.score.reciprocal_rank))
        return [r for r in order if r.score.ndcg < 1.0][:n]


def evaluate(
    ws: Workspace,
    queries: list[EvalQuery],
    *,
    k: int = 10,
    files: bool = False,
    progress: EvalProgress | None = None,
) -> EvalReport:
    """Search every query (chunk results, or file results with ``files``) and score the top k."""
    indexed = set(ws.code_index.file_rows())
    unknown = sorted({t.path for q in queries for t in q.targets} - indexed)
    results: list[QueryResult] = []
    for done, q in enumerate(queries, 1):
        if files:
            spans: list[Span] = [(f.path, 1, WHOLE_FILE) for f in ws.files(q.query, k)]
        else:
            spans = [(h.path, h.start_line, h.end_line) for h in ws.search(q.query, k)]
        results.append(QueryResult(q, score_query(spans, q.targets, k), tuple(spans)))
        if progress:
            progress(done, len(queries))
    summary = summarise([r.score for r in results], k)
    return EvalReport("files" if files else "chunks", summary, tuple(results), tuple(unknown))
