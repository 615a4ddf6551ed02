"""Command line of the training pipeline. Heavy steps import torch lazily."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from training import BASE_MODEL, DEFAULT_CACHE, DEFAULT_MANIFEST


def _manifest_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--manifest", type=Path, default=DEFAULT_MANIFEST)
    p.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="corpus cache (never in git)")
    p.add_argument("--source", action="append", dest="sources", help="restrict to these sources (repeat)")


def _cmd_check_sources(args: argparse.Namespace) -> int:
    from training.sources import load_manifest, semble_conflicts

    manifest = load_manifest(args.manifest)
    problems = semble_conflicts(manifest.sources)
    langs: dict[str, list[str]] = {}
    for src in manifest.sources:
        for lang in src.languages:
            langs.setdefault(lang, []).append(src.name + ("*" if src.held_out else ""))
    for lang in sorted(langs):
        print(f"{lang:11s} {len(langs[lang]):3d}  {', '.join(langs[lang])}")
    print(f"{len(manifest.sources)} sources (* = held out)")
    for problem in problems:
        print("CONFLICT", problem)
    return 1 if problems else 0


def _cmd_fetch(args: argparse.Namespace) -> int:
    from training.fetch import fetch_all
    from training.sources import load_manifest, semble_conflicts

    sources = load_manifest(args.manifest).select(args.sources)
    problems = semble_conflicts(sources)
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 1
    failures = fetch_all(sources, args.cache, force=args.force)
    for failure in failures:
        print("FAILED", failure)
    print(f"fetched {len(sources) - len(failures)}/{len(sources)} sources into {args.cache / 'src'}")
    return 1 if failures else 0


def _cmd_mine(args: argparse.Namespace) -> int:
    from training.mine import MineConfig, mine_all
    from training.sources import load_manifest

    sources = load_manifest(args.manifest).select(args.sources)
    config = MineConfig(per_source_cap=args.cap, max_file_bytes=args.max_file_bytes, seed=args.seed)
    out = args.out or args.cache / "pairs"
    stats = mine_all(sources, args.cache, out, config, workers=args.workers)
    print(json.dumps(stats, indent=1, sort_keys=True))
    return 0


def _cmd_train(args: argparse.Namespace) -> int:
    from training.train import TrainConfig, train

    config = TrainConfig(
        data=args.data,
        out=args.out,
        base_model=args.model,
        batch_size=args.batch_size,
        lr=args.lr,
        warmup_steps=args.warmup,
        max_steps=args.max_steps,
        max_minutes=args.max_minutes,
        epochs=args.epochs,
        max_doc_tokens=args.max_doc_tokens,
        max_query_tokens=args.max_query_tokens,
        checkpoint_every=args.checkpoint_every,
        seed=args.seed,
        temperature=args.temperature,
        learn_temperature=not args.fixed_temperature,
        threads=args.threads,
        max_examples=args.max_examples,
        teacher=args.teacher,
        distill_weight=args.distill_weight,
        teacher_temperature=args.teacher_temperature,
    )
    train(config, resume=args.resume)
    return 0


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from training.evaluate import evaluate_models

    results = evaluate_models(
        args.models, args.data, limit_per_language=args.limit, styles=args.styles, bench=args.bench
    )
    print(json.dumps(results, indent=1, sort_keys=True))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, sort_keys=True) + "\n")
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from training.export import export_model

    export_model(
        args.checkpoint, args.out, dtype=args.dtype, metrics=args.metrics, benchmarks=args.benchmarks
    )
    print(f"exported to {args.out}")
    return 0


def _cmd_merge(args: argparse.Namespace) -> int:
    from training.merge import merge_weights

    merge_weights(args.base, args.tuned, args.alpha, args.out)
    print(f"merged (alpha {args.alpha}) into {args.out}")
    return 0


def _cmd_shrink(args: argparse.Namespace) -> int:
    from training.shrink import shrink_layers

    keep = [int(x) for x in args.keep.split(",")]
    shrink_layers(args.model, keep, args.out)
    print(f"kept layers {keep} of {args.model} in {args.out}")
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from training.report import build_report

    names = dict(n.split("=", 1) for n in args.name)
    semble = [(label, Path(path)) for label, path in (s.split("=", 1) for s in args.semble)]
    text = build_report(args.heldout, args.quality, semble, names)
    if args.out:
        args.out.write_text(text)
    print(text)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m training", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("check-sources", help="list sources per language; fail on semble conflicts")
    _manifest_args(p)
    p.set_defaults(func=_cmd_check_sources)

    p = sub.add_parser("fetch", help="download and unpack sources into the cache")
    _manifest_args(p)
    p.add_argument("--force", action="store_true")
    p.set_defaults(func=_cmd_fetch)

    p = sub.add_parser("mine", help="chunk sources with codekin's chunker and write query/definition pairs")
    _manifest_args(p)
    p.add_argument("--out", type=Path, default=None, help="pairs folder (default <cache>/pairs)")
    p.add_argument("--cap", type=int, default=8000, help="max definitions kept per source")
    p.add_argument("--max-file-bytes", type=int, default=400_000)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--seed", type=int, default=13)
    p.set_defaults(func=_cmd_mine)

    p = sub.add_parser("train", help="contrastive fine-tuning (in-batch negatives), resumable")
    p.add_argument("--data", type=Path, default=DEFAULT_CACHE / "pairs" / "train.jsonl")
    p.add_argument("--out", type=Path, default=DEFAULT_CACHE / "runs" / "run")
    p.add_argument("--model", default=BASE_MODEL, help="starting weights (model name, alias or directory)")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=3e-5)
    p.add_argument("--warmup", type=int, default=100)
    p.add_argument("--max-steps", type=int, default=0, help="0 = as many as epochs give")
    p.add_argument("--max-minutes", type=float, default=0.0, help="stop (with a checkpoint) after this long")
    p.add_argument("--epochs", type=float, default=1.0)
    p.add_argument("--max-doc-tokens", type=int, default=256)
    p.add_argument("--max-query-tokens", type=int, default=48)
    p.add_argument("--checkpoint-every", type=int, default=100)
    p.add_argument("--seed", type=int, default=13)
    p.add_argument("--temperature", type=float, default=0.05)
    p.add_argument("--fixed-temperature", action="store_true")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--max-examples", type=int, default=0, help="use only the first N shuffled examples")
    p.add_argument("--resume", action="store_true", help="continue from <out>/last")
    p.add_argument("--teacher", default="", help="distil from this larger encoder (name or directory)")
    p.add_argument("--distill-weight", type=float, default=1.0, help="weight of the KL term beside InfoNCE")
    p.add_argument("--teacher-temperature", type=float, default=0.05)
    p.set_defaults(func=_cmd_train)

    p = sub.add_parser("evaluate", help="MRR@10 / recall@10 on held-out pairs (and the bench/ scripts)")
    p.add_argument("models", nargs="+", help="model names or directories (checkpoints included)")
    p.add_argument("--data", type=Path, default=DEFAULT_CACHE / "pairs" / "valid.jsonl")
    p.add_argument("--limit", type=int, default=400, help="held-out definitions per language")
    p.add_argument("--styles", nargs="+", default=["doc", "ident"])
    p.add_argument("--bench", action="store_true", help="also run bench/quality.py and bench/semble_bench.py")
    p.add_argument("--json", type=Path, default=None)
    p.set_defaults(func=_cmd_evaluate)

    p = sub.add_parser("merge", help="interpolate fine-tuned weights toward the base model (WiSE-FT)")
    p.add_argument("tuned", type=Path, help="training run folder or model directory")
    p.add_argument("--base", default=BASE_MODEL, help="base weights (model name, alias or directory)")
    p.add_argument("--alpha", type=float, default=0.5, help="share of the fine-tuned weights")
    p.add_argument("--out", type=Path, required=True)
    p.set_defaults(func=_cmd_merge)

    p = sub.add_parser("shrink", help="a faster student: keep only some transformer layers")
    p.add_argument("model", help="packaged name, model directory or training run folder")
    p.add_argument("--keep", required=True, help="comma-separated 0-based layers to keep, e.g. 0,2,4")
    p.add_argument("--out", type=Path, required=True)
    p.set_defaults(func=_cmd_shrink)

    p = sub.add_parser("report", help="Markdown tables of measured figures (model card, README)")
    p.add_argument("--heldout", type=Path, help="evaluate --json output")
    p.add_argument("--quality", type=Path, help="bench/quality.py --json output")
    p.add_argument("--semble", action="append", default=[], metavar="LABEL=FILE", help="semble_bench --json")
    p.add_argument("--name", action="append", default=[], metavar="MODEL=LABEL", help="display names")
    p.add_argument("--out", type=Path, default=None)
    p.set_defaults(func=_cmd_report)

    p = sub.add_parser("export", help="fp16/fp32 safetensors + tokenizer + pooling config + model card")
    p.add_argument("checkpoint", type=Path)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--dtype", choices=["float16", "float32"], default="float16")
    p.add_argument("--metrics", type=Path, default=None, help="evaluate --json output for the model card")
    p.add_argument(
        "--benchmarks", type=Path, default=None, help="Markdown benchmark tables for the model card"
    )
    p.set_defaults(func=_cmd_export)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))
