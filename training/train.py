"""Contrastive fine-tuning with in-batch negatives (symmetric InfoNCE), resumable, CPU-first.

Each step takes ``batch_size`` records, one query per record (style drawn per epoch with a
fixed seed), encodes queries and definitions with the same encoder (mean pooling, L2 norm) and
minimises the mean of the query->definition and definition->query cross-entropies over the
batch similarity matrix scaled by ``1 / temperature`` (learnable unless fixed). Batches are
built from length-sorted pools so that a CPU pads little. ``<out>/last`` is a loadable model
directory plus ``trainer_state.pt``; ``--resume`` continues from it exactly where it stopped.

Distillation (``teacher`` set): a larger frozen encoder embeds the same batch, and the student
also minimises the KL divergence from the teacher's in-batch similarity distributions (rows and
columns, temperature ``teacher_temperature``) to its own, weighted by ``distill_weight``. It
compares similarity matrices, so teacher and student may differ in width and tokenizer.
"""

from __future__ import annotations

import json
import math
import random
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from codekin.embeddings.hf import mean_pool
from training import BASE_MODEL
from training.encoder import load
from training.mine import Record
from training.progress import Progress

STYLE_WEIGHTS = {"doc": 0.5, "ident": 0.15, "template": 0.15, "keywords": 0.2}
POOL_BATCHES = 64  # length-sorting happens within pools of this many batches


@dataclass
class TrainConfig:
    data: Path
    out: Path
    base_model: str = BASE_MODEL
    batch_size: int = 32
    lr: float = 3e-5
    weight_decay: float = 0.01
    warmup_steps: int = 100
    max_steps: int = 0  # 0: epochs decide
    max_minutes: float = 0.0  # 0: no time limit; else stop (with a checkpoint) after this long
    epochs: float = 1.0
    max_doc_tokens: int = 256
    max_query_tokens: int = 48
    checkpoint_every: int = 100
    seed: int = 13
    temperature: float = 0.05
    learn_temperature: bool = True
    threads: int = 2
    max_examples: int = 0
    grad_clip: float = 1.0
    teacher: str = ""  # "" = no distillation; else a model name or directory
    distill_weight: float = 1.0
    teacher_temperature: float = 0.05


def load_records(path: Path, max_examples: int, seed: int) -> list[Record]:
    with open(path) as fh:
        records = [Record.from_json(line) for line in fh if line.strip()]
    records.sort(key=lambda r: r.hash)  # independent of file order
    random.Random(seed).shuffle(records)
    return records[:max_examples] if max_examples else records


def pick_query(record: Record, rng: random.Random) -> str:
    styles = [(s, t) for s, t in record.queries]
    weights = [STYLE_WEIGHTS.get(s, 0.1) for s, _ in styles]
    return rng.choices(styles, weights=weights, k=1)[0][1]


def epoch_batches(
    records: list[Record], batch_size: int, seed: int, epoch: int
) -> list[list[tuple[str, str]]]:
    """The epoch's batches of (query, positive): shuffled, length-sorted within pools, order shuffled."""
    rng = random.Random(seed * 1000 + epoch)
    order = list(range(len(records)))
    rng.shuffle(order)
    pairs = [(pick_query(records[i], rng), records[i].positive) for i in order]
    batches: list[list[tuple[str, str]]] = []
    pool = batch_size * POOL_BATCHES
    for start in range(0, len(pairs), pool):
        chunk = sorted(pairs[start : start + pool], key=lambda p: len(p[1]))
        for b in range(0, len(chunk), batch_size):
            batch = chunk[b : b + batch_size]
            if len(batch) >= 2:
                batches.append(batch)
    rng.shuffle(batches)
    return batches


def info_nce(q: Any, d: Any, scale: Any, same_query: Any = None) -> Any:
    """Symmetric InfoNCE over in-batch negatives; ``same_query`` masks duplicate queries (false negatives)."""
    import torch

    logits = scale * q @ d.T
    if same_query is not None:
        eye = torch.eye(len(q), dtype=torch.bool)
        logits = logits.masked_fill(same_query & ~eye, float("-inf"))
    labels = torch.arange(len(q))
    return (
        torch.nn.functional.cross_entropy(logits, labels)
        + torch.nn.functional.cross_entropy(logits.T, labels)
    ) / 2


def distill_kl(student_logits: Any, teacher_logits: Any) -> Any:
    """KL(teacher || student) of the softmaxed similarity rows and of the columns, averaged."""
    import torch.nn.functional as F

    def kl(s: Any, t: Any) -> Any:
        student, target = F.log_softmax(s, dim=-1), F.log_softmax(t, dim=-1)
        return F.kl_div(student, target, reduction="batchmean", log_target=True)

    return (kl(student_logits, teacher_logits) + kl(student_logits.T, teacher_logits.T)) / 2


MASKED = -1e4  # similarity logit of a masked pair: softmax weight 0 without the NaN of -inf in a KL


def _lr_lambda(warmup: int, total: int) -> Any:
    def f(step: int) -> float:
        if step < warmup:
            return (step + 1) / max(1, warmup)
        return max(0.0, (total - step) / max(1, total - warmup))

    return f


def _save(out: Path, net: Any, tokenizer: Any, state: dict[str, Any]) -> None:
    """Atomic checkpoint: write ``last.tmp`` then swap it in for ``last``."""
    import torch

    tmp = out / "last.tmp"
    if tmp.exists():
        shutil.rmtree(tmp)
    net.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    torch.save(state, tmp / "trainer_state.pt")
    last = out / "last"
    old = out / "last.old"
    if last.exists():
        last.replace(old)
    tmp.replace(last)
    if old.exists():
        shutil.rmtree(old)


def run_summary(model_dir: Path) -> dict[str, Any]:
    """Step, elapsed seconds and hyperparameters of a checkpoint ``_save`` wrote; {} for other models."""
    state_path = model_dir / "trainer_state.pt"
    if not state_path.is_file():
        return {}
    import torch

    state = torch.load(state_path, weights_only=False)
    return {
        "step": state.get("step"),
        "elapsed_s": round(state.get("elapsed", 0.0), 1),
        "config": state.get("config", {}),
    }


def train(config: TrainConfig, *, resume: bool = False) -> dict[str, Any]:
    import torch

    torch.set_num_threads(config.threads)
    torch.manual_seed(config.seed)
    random.seed(config.seed)
    out = config.out
    out.mkdir(parents=True, exist_ok=True)
    last = out / "last"
    resuming = resume and (last / "trainer_state.pt").is_file()
    tokenizer, net = load(last if resuming else config.base_model)
    net.train()
    teacher = load(config.teacher) if config.teacher else None
    if teacher is not None:
        teacher[1].eval()
    records = load_records(config.data, config.max_examples, config.seed)
    if len(records) < 2:
        raise SystemExit(f"need at least 2 training records in {config.data}")
    steps_per_epoch = len(epoch_batches(records, config.batch_size, config.seed, 0))
    total = config.max_steps or max(1, math.ceil(steps_per_epoch * config.epochs))

    log_scale = torch.nn.Parameter(torch.tensor(math.log(1.0 / config.temperature)))
    log_scale.requires_grad_(config.learn_temperature)
    params = [
        {
            "params": [p for n, p in net.named_parameters() if not n.endswith(("bias", "LayerNorm.weight"))],
            "weight_decay": config.weight_decay,
        },
        {
            "params": [p for n, p in net.named_parameters() if n.endswith(("bias", "LayerNorm.weight"))],
            "weight_decay": 0.0,
        },
    ]
    if config.learn_temperature:
        params.append({"params": [log_scale], "weight_decay": 0.0, "lr": config.lr * 100})
    optimizer = torch.optim.AdamW(params, lr=config.lr)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, _lr_lambda(config.warmup_steps, total))
    step, epoch, position, elapsed_before = 0, 0, 0, 0.0
    if resuming:
        state = torch.load(last / "trainer_state.pt", weights_only=False)
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        log_scale.data.fill_(state["log_scale"])
        step, epoch, position = state["step"], state["epoch"], state["position"]
        elapsed_before = state.get("elapsed", 0.0)
        torch.set_rng_state(state["torch_rng"])
    (out / "config.json").write_text(
        json.dumps(
            {
                **asdict(config),
                "data": str(config.data),
                "out": str(out),
                "records": len(records),
                "total_steps": total,
            },
            indent=1,
        )
    )
    start = time.monotonic()
    log = open(out / "log.jsonl", "a")  # noqa: SIM115 - closed after the loop

    def checkpoint() -> None:
        _save(
            out,
            net,
            tokenizer,
            {
                "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(),
                "log_scale": float(log_scale.detach()),
                "step": step,
                "epoch": epoch,
                "position": position,
                "elapsed": elapsed_before + time.monotonic() - start,
                "torch_rng": torch.get_rng_state(),
                "config": {**asdict(config), "data": str(config.data), "out": str(out)},
            },
        )

    def encode(texts: list[str], max_tokens: int, model: tuple[Any, Any] = (tokenizer, net)) -> Any:
        tok, module = model
        batch = tok(texts, padding=True, truncation=True, max_length=max_tokens, return_tensors="pt")
        hidden = module(**batch).last_hidden_state
        return torch.nn.functional.normalize(mean_pool(hidden, batch["attention_mask"]), dim=-1)

    def teacher_logits(queries: list[str], docs: list[str], masked: Any) -> Any:
        assert teacher is not None
        with torch.no_grad():
            tq = encode(queries, config.max_query_tokens, teacher)
            td = encode(docs, config.max_doc_tokens, teacher)
        logits = (tq @ td.T) / config.teacher_temperature
        return logits.masked_fill(masked, MASKED)

    last_loss = float("nan")
    stopped_by_time = False
    with Progress("train", total, every_s=10.0) as progress:
        progress.set(step)
        while step < total:
            batches = epoch_batches(records, config.batch_size, config.seed, epoch)
            while position < len(batches) and step < total:
                batch = batches[position]
                queries = [q for q, _ in batch]
                docs = [d for _, d in batch]
                same = torch.tensor([[a == b for b in queries] for a in queries])
                q = encode(queries, config.max_query_tokens)
                d = encode(docs, config.max_doc_tokens)
                scale = log_scale.exp().clamp(max=100.0)
                loss = info_nce(q, d, scale, same)
                distill = None
                if teacher is not None:
                    masked = same & ~torch.eye(len(q), dtype=torch.bool)
                    student = (scale * q @ d.T).masked_fill(masked, MASKED)
                    distill = distill_kl(student, teacher_logits(queries, docs, masked))
                    loss = loss + config.distill_weight * distill
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(net.parameters(), config.grad_clip)
                optimizer.step()
                scheduler.step()
                step += 1
                position += 1
                last_loss = float(loss.detach())
                log.write(
                    json.dumps(
                        {
                            "step": step,
                            "epoch": epoch,
                            "loss": round(last_loss, 5),
                            **({"distill": round(float(distill.detach()), 5)} if distill is not None else {}),
                            "scale": round(float(scale.detach()), 3),
                            "lr": scheduler.get_last_lr()[0],
                            "elapsed": round(elapsed_before + time.monotonic() - start, 1),
                        }
                    )
                    + "\n"
                )
                log.flush()
                progress.set(step, f"loss {last_loss:.4f} scale {float(scale.detach()):.1f} epoch {epoch}")
                if step % config.checkpoint_every == 0:
                    checkpoint()
                if config.max_minutes and time.monotonic() - start > config.max_minutes * 60:
                    stopped_by_time = True
                    break
            if stopped_by_time:
                break
            if position >= len(batches):
                epoch += 1
                position = 0
    checkpoint()
    log.close()
    summary = {
        "step": step,
        "total_steps": total,
        "loss": last_loss,
        "stopped_by_time": stopped_by_time,
        "elapsed_s": round(elapsed_before + time.monotonic() - start, 1),
        "checkpoint": str(last),
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    return summary
