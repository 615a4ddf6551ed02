"""Measuring codekin on a user's own code: query sets (JSONL or mined from doc comments),
ranking metrics, and the evaluation run behind ``codekin eval``."""

from codekin.evaluation.dataset import DatasetError, EvalQuery, Target, load_dataset, write_dataset
from codekin.evaluation.metrics import QueryScore, Summary, score_query, summarise
from codekin.evaluation.mine import MinedSet, mine_repository
from codekin.evaluation.runner import EvalReport, QueryResult, evaluate

__all__ = [
    "DatasetError",
    "EvalQuery",
    "EvalReport",
    "MinedSet",
    "QueryResult",
    "QueryScore",
    "Summary",
    "Target",
    "evaluate",
    "load_dataset",
    "mine_repository",
    "score_query",
    "summarise",
    "write_dataset",
]
