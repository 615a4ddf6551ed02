"""``codekin tune``: mine pairs, fine-tune the configured encoder, export it with a card, and
measure base against tuned on the held-out queries. The live index and model are never touched.

Everything lives in ``<index dir>/tune/``: the stripped copy (``tree/``), the held-out queries
(``heldout.jsonl``), the checkpoint a killed run resumes from, the training log, and one index
of the stripped copy per model for the comparison. The tuned model goes to
``<index dir>/tuned/<base>-<time>/`` unless told otherwise.
"""

from __future__ import annotations

import math
import re
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from codekin.embeddings.hf import weights_hash
from codekin.embeddings.registry import model_path
from codekin.evaluation import EvalQuery, EvalReport, evaluate, write_dataset
from codekin.evaluation.compare import Comparison, compare
from codekin.index.lock import IndexLocked, WriteLock
from codekin.tuning.export import CARD_JSON, write_card, write_model
from codekin.tuning.pairs import PairSet, mine_pairs
from codekin.tuning.trainer import StepCallback, TrainConfig, Trainer, TrainResult, batches_for
from codekin.workspace import Workspace

TUNE_DIR = "tune"
TUNED_DIR = "tuned"
HELD_OUT_FILE = "heldout.jsonl"
DEFAULT_EPOCHS = 2.0
MAX_DEFAULT_STEPS = 200  # a few minutes on 2 CPU cores with the default batch and max_tokens
WARMUP_SHARE = 0.1


@dataclass(frozen=True)
class TuneOptions:
    steps: int | None = None  # None: from epochs, else DEFAULT_EPOCHS capped at MAX_DEFAULT_STEPS
    epochs: float | None = None
    batch: int = 8
    lr: float = 3e-5
    max_tokens: int = 128
    out: Path | None = None
    resume: bool = True
    checkpoint_every: int = 25
    seed: int = 0
    k: int = 10

    def check(self) -> None:
        if self.steps is not None and self.epochs is not None:
            raise ValueError("give --steps or --epochs, not both")
        if (self.steps is not None and self.steps < 1) or (self.epochs is not None and self.epochs <= 0):
            raise ValueError("--steps and --epochs must be positive")
        if self.batch < 2:
            raise ValueError("--batch must be at least 2 (the other pairs of a batch are the negatives)")
        if not 0 < self.lr < 1:
            raise ValueError("--lr must be between 0 and 1")
        if self.max_tokens < 8 or self.checkpoint_every < 1:
            raise ValueError("--max-tokens must be at least 8 and --checkpoint-every at least 1")


@dataclass
class TuneHooks:
    """How the caller follows a run; every hook is optional."""

    note: Callable[[str], None] = field(default=lambda text: None)
    mining: Callable[[int, int], None] | None = None  # (files done, total)
    step: StepCallback | None = None
    index: Callable[[Workspace], object] = field(default=lambda ws: ws.index())


@dataclass(frozen=True)
class TuneResult:
    model_dir: Path
    tune_dir: Path
    card: dict[str, Any]
    comparison: Comparison
    base: EvalReport
    tuned: EvalReport


def tune(ws: Workspace, options: TuneOptions, hooks: TuneHooks | None = None) -> TuneResult:
    options.check()
    hooks = hooks or TuneHooks()
    base_model = ws.settings.model
    base_dir = Path(model_path(base_model))
    if not (base_dir / "config.json").is_file():
        raise LookupError(
            f"codekin tune fine-tunes a local model directory or a packaged model; {base_model!r} is neither"
        )
    work = ws.index_dir / TUNE_DIR
    work.mkdir(parents=True, exist_ok=True)
    lock = WriteLock(work / "tune.lock")
    try:
        lock.acquire()
    except IndexLocked:
        raise IndexLocked(f"another codekin tune is running in {work}; wait for it or stop it") from None
    try:
        return _tune(ws, options, hooks, base_model, base_dir, work)
    finally:
        lock.release()


def _tune(
    ws: Workspace, options: TuneOptions, hooks: TuneHooks, base_model: str, base_dir: Path, work: Path
) -> TuneResult:
    out = options.out or ws.index_dir / TUNED_DIR / f"{_slug(base_model)}-{time.strftime('%Y%m%d-%H%M%S')}"
    out = out.resolve()
    if out.exists() and any(out.iterdir()) and not (out / CARD_JSON).is_file():
        raise FileExistsError(f"{out} exists and is not a model codekin tune wrote; refusing to replace it")
    tree = work / "tree"
    hooks.note(f"mining doc comments and definition names of {ws.root} into a stripped copy at {tree} …")
    pairs = mine_pairs(
        ws.file_filter,
        tree,
        seed=options.seed,
        max_chunk_bytes=ws.settings.max_chunk_bytes,
        progress=hooks.mining,
        redactor=ws.redactor,
    )
    write_dataset(pairs.held_out, work / HELD_OUT_FILE)
    steps = _steps(options, len(batches_for(pairs.train, options.batch, options.seed, 0)))
    config = TrainConfig(
        steps=steps,
        batch=options.batch,
        lr=options.lr,
        max_tokens=options.max_tokens,
        warmup=max(1, round(WARMUP_SHARE * steps)),
        checkpoint_every=options.checkpoint_every,
        seed=options.seed,
    )
    hooks.note(
        f"{len(pairs.train)} training pairs ({pairs.count('doc')} doc comment, {pairs.count('ident')} "
        f"identifier) from {len(pairs.train_files)} files; {len(pairs.held_out)} held-out queries from "
        f"{len(pairs.held_out_files)} other files; {steps} steps of {options.batch}"
    )
    trainer = Trainer(base_dir, pairs.train, config, work, pairs.fingerprint())
    if options.resume and (at := trainer.checkpoint_step()) is not None:
        hooks.note(f"resuming from the checkpoint at step {at} of {steps} ({trainer.checkpoint})")
    elif (work / "checkpoint").exists():
        why = "--restart" if not options.resume else "it was made with other pairs or settings"
        hooks.note(f"starting from {base_model}: the checkpoint in {work} is discarded ({why})")
    tokenizer, net, trained = trainer.train(resume=options.resume, on_step=hooks.step)

    write_model(tokenizer, net, base_dir, out)
    card = _card(ws, base_model, base_dir, out, pairs, config, trained)
    write_card(out, card)  # without figures until they are measured

    hooks.note(f"measuring {base_model} and the tuned model on the {len(pairs.held_out)} held-out queries …")
    base = _evaluate(ws, tree, pairs.held_out, base_model, work / "index-base", hooks, options.k, base=True)
    tuned_index = work / "index-tuned"
    if tuned_index.exists():
        shutil.rmtree(tuned_index)  # an earlier run's model: nothing to reuse
    tuned = _evaluate(ws, tree, pairs.held_out, str(out), tuned_index, hooks, options.k, base=False)
    comparison = compare(base, tuned, base_model, out.name)
    card["held_out"] = {
        "queries": comparison.queries,
        "mode": base.mode,
        "k": options.k,
        "metrics": [{**asdict(m), "diff": m.diff, "significant": m.significant} for m in comparison.metrics],
    }
    write_card(out, card)
    trainer.discard_checkpoint()  # done: the next run starts afresh
    return TuneResult(out, work, card, comparison, base, tuned)


def _steps(options: TuneOptions, per_epoch: int) -> int:
    if options.steps is not None:
        return options.steps
    if options.epochs is not None:
        return max(1, math.ceil(options.epochs * per_epoch))
    return max(1, min(MAX_DEFAULT_STEPS, math.ceil(DEFAULT_EPOCHS * per_epoch)))


def _evaluate(
    ws: Workspace,
    tree: Path,
    queries: list[EvalQuery],
    model: str,
    index_dir: Path,
    hooks: TuneHooks,
    k: int,
    *,
    base: bool,
) -> EvalReport:
    settings = replace(ws.settings, model=model, index_dir=str(index_dir))
    with Workspace(tree, settings, encoder=ws.encoder if base else None) as target:
        hooks.index(target)
        return evaluate(target, queries, k=k)


def _card(
    ws: Workspace,
    base_model: str,
    base_dir: Path,
    out: Path,
    pairs: PairSet,
    config: TrainConfig,
    trained: TrainResult,
) -> dict[str, Any]:
    return {
        "path": str(out),
        "base_model": base_model,
        "base_hash": weights_hash(base_dir),
        "repository": str(ws.root),
        "created": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "pairs": {"doc": pairs.count("doc"), "ident": pairs.count("ident"), "held_out": len(pairs.held_out)},
        "files": {
            "train": len(pairs.train_files),
            "held_out": len(pairs.held_out_files),
            "copied": pairs.files,
        },
        "training": {
            "steps": trained.step,
            "batch": config.batch,
            "lr": config.lr,
            "warmup": config.warmup,
            "max_tokens": config.max_tokens,
            "seed": config.seed,
            "seconds": round(trained.elapsed, 1),
            "loss": trained.loss,
            "resumed_from": trained.resumed_from,
        },
        "held_out_dataset": str(ws.index_dir / TUNE_DIR / HELD_OUT_FILE),
        "held_out_files": pairs.held_out_files,
        "held_out": None,
    }


def _slug(model: str) -> str:
    name = Path(model).name if "/" in model or Path(model).is_dir() else model
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-")[-48:] or "model"
