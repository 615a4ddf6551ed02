"""The tuned model as a directory ``HFEncoder`` loads (``codekin index --model DIR``), with its card.

Weights are float16 safetensors (``config.json`` keeps float32 as the compute type, so
transformers upcasts on load); the tokenizer and the base model's pooling configuration come
along. ``card.json`` holds the facts (base model and hash, pairs, steps, held-out figures) and
``README.md`` says the same for people.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

CARD_JSON = "card.json"
POOLING_FILES = ("1_Pooling", "modules.json", "sentence_bert_config.json")
MEAN_POOLING = {
    "pooling_mode_cls_token": False,
    "pooling_mode_mean_tokens": True,
    "pooling_mode_max_tokens": False,
    "pooling_mode_mean_sqrt_len_tokens": False,
}


def write_model(tokenizer: Any, net: Any, base_dir: Path, out: Path) -> None:
    """Save ``net`` (converted to float16 in place: call it last) and ``tokenizer`` into ``out``."""
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    net.half().save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)
    config_path = out / "config.json"
    config = json.loads(config_path.read_text())
    config["dtype"] = "float32"  # stored half, computed in float32
    config.pop("torch_dtype", None)
    config_path.write_text(json.dumps(config, indent=2) + "\n")
    copied = False
    for name in POOLING_FILES:
        src = base_dir / name
        if src.is_dir():
            shutil.copytree(src, out / name)
            copied = True
        elif src.is_file():
            shutil.copy2(src, out / name)
    if not copied:  # codekin pools by the mean unless told otherwise
        (out / "1_Pooling").mkdir()
        pooling = {"word_embedding_dimension": int(net.config.hidden_size), **MEAN_POOLING}
        (out / "1_Pooling" / "config.json").write_text(json.dumps(pooling, indent=2) + "\n")


def write_card(out: Path, card: dict[str, Any]) -> None:
    (out / CARD_JSON).write_text(json.dumps(card, indent=2) + "\n")
    (out / "README.md").write_text(render_card(card))


def render_card(card: dict[str, Any]) -> str:
    pairs, files, train = card["pairs"], card["files"], card["training"]
    lines = [
        "---",
        "library_name: transformers",
        "pipeline_tag: sentence-similarity",
        "tags: [code-search, codekin, codekin-tune]",
        "---",
        "",
        f"# {out_name(card)}",
        "",
        f"`{card['base_model']}` (weights {card['base_hash']}) fine-tuned by `codekin tune` on the code of",
        f"`{card['repository']}` on {card['created']}.",
        "",
        "## Training",
        "",
        f"- Pairs: {pairs['doc']} (doc-comment sentence -> definition) and {pairs['ident']} (identifier "
        f"phrase -> definition) from {files['train']} files.",
        f"- Held out: {pairs['held_out']} doc-comment queries from {files['held_out']} other files, never "
        "trained on (`heldout.jsonl` in the tune directory).",
        f"- {train['steps']} steps, batch {train['batch']}, lr {train['lr']}, warm-up {train['warmup']}, "
        f"definitions truncated to {train['max_tokens']} tokens; symmetric InfoNCE with in-batch "
        f"negatives; {train['seconds'] / 60:.1f} min on CPU; final loss {train['loss']:.4f}.",
        "",
        "## Held-out evaluation",
        "",
    ]
    held = card.get("held_out")
    if not held:
        lines.append("Not measured (the evaluation did not finish).")
    else:
        lines += [
            f"{held['queries']} queries, {held['mode'][:-1]} results, top {held['k']}; the stripped copy "
            "of the repository indexed with each model.",
            "",
            "| metric | base | tuned | tuned - base | 95% interval |",
            "|---|---|---|---|---|",
        ]
        for m in held["metrics"]:
            lines.append(
                f"| {m['name']} | {m['a']:.3f} | {m['b']:.3f} | {m['b'] - m['a']:+.3f} | "
                f"[{m['low']:+.3f}, {m['high']:+.3f}] |"
            )
    lines += [
        "",
        "## Use",
        "",
        f"`codekin index --model {card['path']}` builds an index with it beside the live one and swaps it",
        "in when complete (`codekin index --rollback` undoes), or set",
        f'`model = "{card["path"]}"` in `.codekin.toml`.',
        "",
    ]
    return "\n".join(lines)


def out_name(card: dict[str, Any]) -> str:
    return Path(card["path"]).name
