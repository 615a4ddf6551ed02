"""Evaluation sets as JSONL: one ``{"query": ..., "path": ...[, "start_line": n, "end_line": m]}``
object per line. ``path`` may also be a list of paths when several files answer the query."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class DatasetError(ValueError):
    """A dataset file that cannot be read; the message names the file and line."""


@dataclass(frozen=True)
class Target:
    """Where a query's answer lives: a file, or lines of it (1-based, inclusive)."""

    path: str
    start_line: int | None = None
    end_line: int | None = None

    def matches(self, path: str, start_line: int, end_line: int) -> bool:
        if path != self.path:
            return False
        if self.start_line is None or self.end_line is None:
            return True
        return start_line <= self.end_line and self.start_line <= end_line


@dataclass(frozen=True)
class EvalQuery:
    query: str
    targets: tuple[Target, ...]

    def to_json(self) -> dict[str, Any]:
        if len(self.targets) == 1:
            t = self.targets[0]
            out: dict[str, Any] = {"query": self.query, "path": t.path}
            if t.start_line is not None:
                out |= {"start_line": t.start_line, "end_line": t.end_line}
            return out
        return {"query": self.query, "path": [t.path for t in self.targets]}


def normalise_path(path: str) -> str:
    path = path.replace("\\", "/")
    while path.startswith("./"):
        path = path[2:]
    return path


def parse_line(obj: Any) -> EvalQuery:
    """One dataset entry; raises ValueError with what is wrong."""
    if not isinstance(obj, dict):
        raise ValueError("expected a JSON object")
    query = obj.get("query")
    if not isinstance(query, str) or not query.strip():
        raise ValueError('"query" must be a non-empty string')
    raw = obj.get("path")
    paths = [raw] if isinstance(raw, str) else raw
    if not isinstance(paths, list) or not paths or not all(isinstance(p, str) and p for p in paths):
        raise ValueError('"path" must be a non-empty string or a list of them')
    start, end = obj.get("start_line"), obj.get("end_line")
    if (start is None) != (end is None):
        raise ValueError('"start_line" and "end_line" go together')
    if start is not None:
        if len(paths) > 1:
            raise ValueError("line ranges need a single path")
        if not (isinstance(start, int) and isinstance(end, int)) or not 1 <= start <= end:
            raise ValueError('"start_line" and "end_line" must be integers with 1 <= start <= end')
    return EvalQuery(query.strip(), tuple(Target(normalise_path(p), start, end) for p in paths))


def load_dataset(path: str | Path) -> list[EvalQuery]:
    """Read a JSONL dataset (blank lines and lines starting with ``#`` are skipped)."""
    p = Path(path)
    try:
        lines = p.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetError(f"{p}: cannot read: {exc}") from exc
    queries: list[EvalQuery] = []
    for n, line in enumerate(lines, 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            queries.append(parse_line(json.loads(line)))
        except ValueError as exc:  # json.JSONDecodeError is a ValueError
            raise DatasetError(f"{p}:{n}: {exc}") from exc
    if not queries:
        raise DatasetError(f"{p}: no queries")
    return queries


def write_dataset(queries: list[EvalQuery], path: str | Path) -> None:
    with open(path, "w", encoding="utf-8") as f:
        for q in queries:
            f.write(json.dumps(q.to_json(), ensure_ascii=False) + "\n")
