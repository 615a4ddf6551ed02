"""The training progress shown on stderr: a rich bar with loss and time left on a terminal,
a line every few seconds otherwise, nothing when quiet."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

from codekin.tuning.trainer import StepCallback, StepInfo

PLAIN_EVERY_S = 10.0


@contextmanager
def step_bar(quiet: bool = False) -> Iterator[StepCallback | None]:
    if quiet:
        yield None
        return
    if not sys.stderr.isatty():
        yield _plain()
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    with Progress(
        TextColumn("[bold]training "),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("steps  loss {task.fields[loss]}"),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task("train", total=None, loss="-")

        def on_step(s: StepInfo) -> None:
            if bar.tasks[task].total is None:  # the first step: a resumed run starts part-way
                bar.reset(task, total=s.total, completed=s.step - 1)
            bar.update(task, completed=s.step, loss=f"{s.loss:.4f}")

        yield on_step


def _plain() -> StepCallback:
    last = [0.0]
    began = time.monotonic()

    def on_step(s: StepInfo) -> None:
        now = time.monotonic()
        if s.step == s.total or now - last[0] >= PLAIN_EVERY_S:
            last[0] = now
            done = s.step - s.resumed_from
            left = (now - began) / done * (s.total - s.step) if done else 0.0
            print(
                f"codekin: training: step {s.step}/{s.total}, loss {s.loss:.4f}, "
                f"{s.elapsed:.0f}s, about {left:.0f}s left",
                file=sys.stderr,
            )

    return on_step
