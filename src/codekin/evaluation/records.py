"""Append-only JSON-lines logs of dataclass records under an index directory (the evaluation
history, the opened-results feedback): one record a line, read back skipping what is unreadable."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any, TypeVar

log = logging.getLogger(__name__)

R = TypeVar("R")


def append(path: Path, record: Any) -> None:
    """Add the dataclass ``record`` as the last line of ``path`` (created with its folder)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(asdict(record), ensure_ascii=False) + "\n")


def read(path: Path, kind: type[R], valid: Callable[[R], bool] = lambda _: True) -> list[R]:
    """The records of ``path``, oldest first (none when it cannot be read): each line's known
    fields make one ``kind``; lines that do not parse, or that ``valid`` rejects, are skipped
    with one log line."""
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []
    names = {f.name for f in fields(kind)}  # type: ignore[arg-type]
    out: list[R] = []
    bad = 0
    for line in lines:
        try:
            data = json.loads(line)
            record = kind(**{k: v for k, v in data.items() if k in names})
        except (ValueError, TypeError, AttributeError):  # AttributeError: a line that is no object
            bad += 1
            continue
        if valid(record):
            out.append(record)
        else:
            bad += 1
    if bad:
        log.info("%s: %d unreadable lines skipped", path, bad)
    return out
