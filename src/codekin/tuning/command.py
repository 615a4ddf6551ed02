"""The ``codekin tune`` subcommand's arguments (the command itself is ``cli.cmd_tune``)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any


def add_parser(sub: Any, add_common: Callable[[argparse.ArgumentParser], None]) -> None:
    p = sub.add_parser(
        "tune",
        help="fine-tune the encoder on this repository's own code, measured on held-out files",
        description="Mines (doc-comment sentence -> definition) and (identifier phrase -> definition) "
        "pairs as eval --mine does, holds out a fifth of the documented files, fine-tunes the configured "
        "encoder on CPU (resumable), writes the tuned model with a card under the index directory and "
        "compares it with the base model on the held-out queries. The live model is never switched.",
    )
    length = p.add_mutually_exclusive_group()
    length.add_argument(
        "--steps", type=int, default=None, help="training steps (default: 2 epochs, at most 200)"
    )
    length.add_argument("--epochs", type=float, default=None, help="passes over the training pairs")
    p.add_argument(
        "--batch", type=int, default=8, help="pairs per step; the others are negatives (default 8)"
    )
    p.add_argument("--lr", type=float, default=3e-5, help="AdamW learning rate (default 3e-5)")
    p.add_argument(
        "--max-tokens",
        type=int,
        default=128,
        help="definitions are truncated to this many tokens (default 128)",
    )
    p.add_argument("--checkpoint-every", type=int, default=25, help="steps between checkpoints (default 25)")
    p.add_argument(
        "--out", default=None, help="where to write the model (default <index dir>/tuned/<base>-<time>)"
    )
    p.add_argument(
        "--resume",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="continue a killed run from its checkpoint (default; --no-resume starts over)",
    )
    p.add_argument("--restart", dest="resume", action="store_false", help="start over (same as --no-resume)")
    p.add_argument(
        "--seed", type=int, default=0, help="seed of the held-out split and the batches (default 0)"
    )
    add_common(p)
