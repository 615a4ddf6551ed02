"""Side-by-side Markdown tables of measured figures, for the model card and the training README.

Reads only what the measuring commands wrote: ``evaluate --json`` (held-out sources),
``bench/quality.py --json`` (CoSQA, stdlib) and ``bench/semble_bench.py --json`` (one file per
model). Nothing is typed in by hand, so the card always shows what was run.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def _f(x: Any) -> str:
    return f"{x:.3f}" if isinstance(x, int | float) else "–"


def heldout_tables(evaluation: dict[str, Any], names: dict[str, str]) -> str:
    models = evaluation["models"]
    rows = []
    for model, res in models.items():
        doc, ident = res.get("all:doc", {}), res.get("style:ident", {})
        figures = [doc.get("mrr@10"), doc.get("recall@1"), doc.get("recall@10")]
        figures += [ident.get("mrr@10"), ident.get("recall@10")]
        rows.append([names.get(model, model), *map(_f, figures)])
    overall = _table(["model", "doc MRR@10", "doc R@1", "doc R@10", "ident MRR@10", "ident R@10"], rows)
    langs = sorted(
        {k.split(":")[0] for r in models.values() for k in r if k.endswith(":doc")} - {"all", "style"}
    )
    per_lang = []
    for lang in langs:
        cells = [r.get(f"{lang}:doc", {}) for r in models.values()]
        per_lang.append(
            [lang, str(cells[0].get("n", ""))]
            + [f"{_f(c.get('mrr@10'))} / {_f(c.get('recall@10'))}" for c in cells]
        )
    by_lang = _table(["language", "queries"] + [names.get(m, m) for m in models], per_lang)
    return (
        f"Held-out sources ({evaluation.get('limit_per_language')} definitions per language at most, "
        f"dense):\n\n{overall}\n\nDoc-comment queries per language, MRR@10 / R@10:\n\n{by_lang}"
    )


def quality_table(quality: dict[str, Any], names: dict[str, str]) -> str:
    rows = []
    for r in quality["rows"]:
        if r["system"] == "bm25":
            continue
        label = names.get(r["model"], r["model"])
        rows.append([r["dataset"], r["system"], label, _f(r["mrr"]), _f(r["recall_1"]), _f(r["recall_10"])])
    return "`bench/quality.py` (CoSQA dev: web queries; stdlib: docstring → function):\n\n" + _table(
        ["dataset", "system", "model", "MRR@10", "R@1", "R@10"], rows
    )


def semble_tables(
    runs: list[tuple[str, dict[str, Any]]], systems: tuple[str, ...] = ("dense", "ranked", "files")
) -> str:
    header = ["", *(f"{name} {s}" for name, _ in runs for s in systems)]

    def row(label: str, pick: Any) -> list[str]:
        return [label, *(_f(pick(run["tables"]).get(s)) for _, run in runs for s in systems)]

    first = runs[0][1]["tables"]
    rows = [row("overall", lambda t: t["overall"])]
    rows += [row(c, lambda t, c=c: t["by_category"].get(c, {})) for c in first["by_category"]]
    rows += [row(lg, lambda t, lg=lg: t["by_language"].get(lg, {})) for lg in first["by_language"]]
    o = first["overall"]
    return f"semble benchmark NDCG@10 ({o['repos']} repositories, {o['queries']} queries):\n\n" + _table(
        header, rows
    )


def build_report(
    heldout: Path | None, quality: Path | None, semble: list[tuple[str, Path]], names: dict[str, str]
) -> str:
    parts = []
    if semble:
        parts.append(semble_tables([(n, json.loads(p.read_text())) for n, p in semble]))
    if quality:
        parts.append(quality_table(json.loads(quality.read_text()), names))
    if heldout:
        parts.append(heldout_tables(json.loads(heldout.read_text()), names))
    return "\n\n".join(parts) + "\n"
