"""JSON-lines record logs (eval history, feedback): what a line cannot become is skipped."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from codekin.evaluation import records


@dataclass(frozen=True)
class Run:
    name: str
    score: float


def test_records_round_trip_and_unreadable_lines_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "index" / "runs.jsonl"
    assert records.read(path, Run) == []  # no file yet
    records.append(path, Run("a", 0.5))
    records.append(path, Run("ü", 0.25))
    with open(path, "a", encoding="utf-8") as fh:
        bad = ['{"name": "b"', "3", '{"name": "c"}']  # broken JSON, no object, a field missing
        good = ['{"name": "d", "score": 1.0, "later": 1}', '{"name": "", "score": 2}']
        fh.write("\n".join(bad + good) + "\n")
    assert records.read(path, Run) == [Run("a", 0.5), Run("ü", 0.25), Run("d", 1.0), Run("", 2)]
    assert records.read(path, Run, lambda r: bool(r.name)) == [Run("a", 0.5), Run("ü", 0.25), Run("d", 1.0)]
