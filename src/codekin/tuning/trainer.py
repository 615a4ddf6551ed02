"""Contrastive fine-tuning on CPU: symmetric InfoNCE with in-batch negatives, AdamW, linear
warm-up and decay, resumable from a checkpoint in the tune directory.

What is trained is what codekin runs: the model directory ``HFEncoder`` loads, the same pooling
(mean over the attention mask, or CLS when the model says so) and L2 normalisation. Batches are
a seeded shuffle per epoch, so a step number alone says where a resumed run continues.
"""

from __future__ import annotations

import json
import random
import shutil
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from codekin.embeddings.hf import mean_pool
from codekin.tuning.pairs import Pair

CHECKPOINT = "checkpoint"
STATE_FILE = "trainer_state.pt"
QUERY_TOKENS = 32  # queries are short; the definition side gets ``max_tokens``
SCALE = 20.0  # 1 / temperature of the similarity logits (0.05)
POOL_BATCHES = 16  # definitions are length-sorted within pools of this many batches (less padding)


@dataclass(frozen=True)
class TrainConfig:
    steps: int
    batch: int
    lr: float
    max_tokens: int
    warmup: int
    checkpoint_every: int
    seed: int = 0
    weight_decay: float = 0.01


@dataclass(frozen=True)
class StepInfo:
    step: int
    total: int
    loss: float
    elapsed: float  # seconds of training, resumed runs included
    resumed_from: int


StepCallback = Callable[[StepInfo], None]


@dataclass(frozen=True)
class TrainResult:
    step: int
    loss: float
    elapsed: float
    resumed_from: int  # 0: started from the base model


def batches_for(pairs: list[Pair], batch: int, seed: int, epoch: int) -> list[list[Pair]]:
    """One epoch's batches: a seeded shuffle, length-sorted within pools, in a shuffled order.

    A definition's doc pair and identifier pair would sort side by side (same length) and then
    only mask each other; so each pool is cut into rounds that hold a definition at most once."""
    rng = random.Random(seed * 100_003 + epoch)
    order = list(pairs)
    rng.shuffle(order)
    out: list[list[Pair]] = []
    pool = batch * POOL_BATCHES
    for start in range(0, len(order), pool):
        rounds: list[list[Pair]] = []
        seen: Counter[str] = Counter()
        for p in order[start : start + pool]:
            if seen[p.document] == len(rounds):
                rounds.append([])
            rounds[seen[p.document]].append(p)
            seen[p.document] += 1
        for chunk in (sorted(r, key=lambda p: len(p.document)) for r in rounds):
            out += [
                chunk[b : b + batch] for b in range(0, len(chunk), batch) if len(chunk[b : b + batch]) >= 2
            ]
    rng.shuffle(out)
    return out


def pooling_of(model_dir: Path) -> str:
    """ "cls" or "mean", as the model directory's sentence-transformers pooling config says."""
    cfg = model_dir / "1_Pooling" / "config.json"
    if cfg.is_file() and json.loads(cfg.read_text()).get("pooling_mode_cls_token"):
        return "cls"
    return "mean"


class Trainer:
    """Fine-tunes the model in ``base_dir`` on ``pairs``; checkpoints under ``work``."""

    def __init__(
        self, base_dir: Path, pairs: list[Pair], config: TrainConfig, work: Path, fingerprint: str
    ) -> None:
        if len(pairs) < 2:
            raise ValueError("need at least 2 training pairs")
        self.base_dir = base_dir
        self.pairs = pairs
        self.config = config
        self.work = work
        self.identity = {"config": asdict(config), "pairs": fingerprint, "base": str(base_dir)}
        self.pooling = pooling_of(base_dir)

    @property
    def checkpoint(self) -> Path:
        return self.work / CHECKPOINT

    def checkpoint_step(self) -> int | None:
        """The step of a checkpoint made with these pairs and settings; None if there is none."""
        old = self.work / (CHECKPOINT + ".old")
        if not self.checkpoint.exists() and old.is_dir():
            old.replace(self.checkpoint)  # killed between the two renames of ``_save``
        meta = self.checkpoint / "tune.json"
        if not (self.checkpoint / STATE_FILE).is_file() or not meta.is_file():
            return None
        data = json.loads(meta.read_text())
        if data.get("identity") != self.identity:
            return None
        return int(data["step"])

    def discard_checkpoint(self) -> None:
        for name in (CHECKPOINT, CHECKPOINT + ".tmp", CHECKPOINT + ".old"):
            if (self.work / name).exists():
                shutil.rmtree(self.work / name)

    def train(
        self, *, resume: bool = True, on_step: StepCallback | None = None
    ) -> tuple[Any, Any, TrainResult]:
        """Train to ``config.steps``; return (tokenizer, model, result). A usable checkpoint is
        continued when ``resume``; any other is discarded."""
        import torch
        from transformers import AutoModel, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]  # ours is on stderr
        cfg = self.config
        start_step = self.checkpoint_step() if resume else None
        if start_step is None:
            self.discard_checkpoint()
        source = self.checkpoint if start_step is not None else self.base_dir
        tokenizer = AutoTokenizer.from_pretrained(source)
        net = AutoModel.from_pretrained(source, dtype=torch.float32)
        net.train()
        torch.manual_seed(cfg.seed)
        for name, param in net.named_parameters():
            if name.startswith("embeddings."):
                param.requires_grad_(False)  # the vocabulary stays: faster steps, less overfitting
        trained = [(n, p) for n, p in net.named_parameters() if p.requires_grad]
        decay = [p for n, p in trained if not n.endswith(("bias", "LayerNorm.weight"))]
        no_decay = [p for n, p in trained if n.endswith(("bias", "LayerNorm.weight"))]
        optimizer = torch.optim.AdamW(
            [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
            lr=cfg.lr,
        )
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, _schedule(cfg.warmup, cfg.steps))
        step, elapsed_before = 0, 0.0
        if start_step is not None:
            state = torch.load(self.checkpoint / STATE_FILE, weights_only=False)
            optimizer.load_state_dict(state["optimizer"])
            scheduler.load_state_dict(state["scheduler"])
            torch.set_rng_state(state["torch_rng"])
            step, elapsed_before = int(state["step"]), float(state["elapsed"])
            loss_value = float(state["loss"])
        else:
            loss_value = 0.0  # no step taken yet
        resumed_from = step
        began = time.monotonic()
        log = open(self.work / "log.jsonl", "a", encoding="utf-8")  # noqa: SIM115 - closed below
        try:
            epoch, epoch_start = 0, 0  # epochs may differ in length by a batch: count them out
            epoch_batches = batches_for(self.pairs, cfg.batch, cfg.seed, epoch)
            while step < cfg.steps:
                while step - epoch_start >= len(epoch_batches):
                    epoch, epoch_start = epoch + 1, epoch_start + len(epoch_batches)
                    epoch_batches = batches_for(self.pairs, cfg.batch, cfg.seed, epoch)
                batch = epoch_batches[step - epoch_start]
                loss = self._loss(tokenizer, net, batch)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_([p for _, p in trained], 1.0)
                optimizer.step()
                scheduler.step()
                step += 1
                loss_value = float(loss.detach())
                elapsed = elapsed_before + time.monotonic() - began
                log.write(
                    json.dumps({"step": step, "loss": round(loss_value, 5), "elapsed": round(elapsed, 2)})
                )
                log.write("\n")
                log.flush()
                if step % cfg.checkpoint_every == 0 or step == cfg.steps:
                    self._save(tokenizer, net, optimizer, scheduler, step, elapsed, loss_value)
                if on_step:
                    on_step(StepInfo(step, cfg.steps, loss_value, elapsed, resumed_from))
        finally:
            log.close()
        net.eval()
        elapsed = elapsed_before + time.monotonic() - began
        return tokenizer, net, TrainResult(step, loss_value, elapsed, resumed_from)

    def _loss(self, tokenizer: Any, net: Any, batch: list[Pair]) -> Any:
        import torch
        import torch.nn.functional as F

        q = self._embed(tokenizer, net, [p.query for p in batch], QUERY_TOKENS)
        d = self._embed(tokenizer, net, [p.document for p in batch], self.config.max_tokens)
        logits = SCALE * q @ d.T
        # the same query or the same definition twice in a batch is not a negative
        same = torch.tensor(
            [[a.query == b.query or a.document == b.document for b in batch] for a in batch], dtype=torch.bool
        )
        logits = logits.masked_fill(same & ~torch.eye(len(batch), dtype=torch.bool), float("-inf"))
        labels = torch.arange(len(batch))
        return (F.cross_entropy(logits, labels) + F.cross_entropy(logits.T, labels)) / 2

    def _embed(self, tokenizer: Any, net: Any, texts: list[str], max_tokens: int) -> Any:
        import torch

        enc = tokenizer(texts, padding=True, truncation=True, max_length=max_tokens, return_tensors="pt")
        hidden = net(**enc).last_hidden_state
        pooled = hidden[:, 0] if self.pooling == "cls" else mean_pool(hidden, enc["attention_mask"])
        return torch.nn.functional.normalize(pooled, dim=-1)

    def _save(
        self, tokenizer: Any, net: Any, optimizer: Any, scheduler: Any, step: int, elapsed: float, loss: float
    ) -> None:
        """Atomically: write ``checkpoint.tmp``, then swap it in for ``checkpoint``."""
        import torch

        tmp, old = self.work / (CHECKPOINT + ".tmp"), self.work / (CHECKPOINT + ".old")
        if tmp.exists():
            shutil.rmtree(tmp)
        net.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        state = {
            "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict(),
            "torch_rng": torch.get_rng_state(),
            "step": step,
            "elapsed": elapsed,
            "loss": loss,
        }
        torch.save(state, tmp / STATE_FILE)
        (tmp / "tune.json").write_text(json.dumps({"identity": self.identity, "step": step}, indent=1))
        if self.checkpoint.exists():
            self.checkpoint.replace(old)
        tmp.replace(self.checkpoint)
        if old.exists():
            shutil.rmtree(old)


def _schedule(warmup: int, total: int) -> Callable[[int], float]:
    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / max(1, warmup)
        return max(0.0, (total - step) / max(1, total - warmup))

    return factor
