"""Ranking configurations to compare in the benchmarks: ablations of every signal and named
variants given on the command line (shared by ``semble_bench.py`` and ``quality.py``)."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

from codekin.index import lexical
from codekin.index.ranking import DEFAULT_RANKING, FILE_RANKING, PLAIN_RRF, RankConfig


@dataclass(frozen=True)
class Variant:
    """A ranking configuration to compare: BM25 alone (``lexical_only``) or hybrid + ranking;
    ``query`` is given to the searcher (``Searcher(query_options=...)``, ``lexical_search``)."""

    ranking: RankConfig | None
    query: lexical.QueryOptions
    lexical_only: bool = False
    files: bool = False  # rank with ``ranking`` as the file ranking and list files


def ablation_variants() -> dict[str, Variant]:
    """``-x`` = the default ranking without signal x; ``+x`` = plain RRF (default lexical query
    options) with only x switched on. Lexical query options are signals too."""
    q0 = lexical.DEFAULT_QUERY
    plain_q = lexical.QueryOptions(**{f.name: False for f in fields(lexical.QueryOptions)})
    out: dict[str, Variant] = {}
    for f in fields(RankConfig):
        if f.name.startswith("use_"):
            sig = f.name.removeprefix("use_")
            if getattr(DEFAULT_RANKING, f.name):
                out[f"-{sig}"] = Variant(DEFAULT_RANKING.but(**{f.name: False}), q0)
            out[f"+{sig}"] = Variant(PLAIN_RRF.but(**{f.name: True}), plain_q)
    for f in fields(lexical.QueryOptions):
        if getattr(q0, f.name):
            out[f"-{f.name}"] = Variant(DEFAULT_RANKING, replace(q0, **{f.name: False}))
        out[f"+{f.name}"] = Variant(PLAIN_RRF, replace(plain_q, **{f.name: True}))
    return out


def parse_variants(spec: str) -> dict[str, Variant]:
    """``name=key:value,key:value;name2=...``: keys are RankConfig or QueryOptions fields,
    ``base:plain`` (start from plain RRF), ``base:files`` (start from FILE_RANKING),
    ``files:1`` (list files, ranked with this configuration) or ``bm25:1`` (BM25 alone with
    those query options)."""
    out: dict[str, Variant] = {}
    rank_fields = {f.name: f for f in fields(RankConfig)}
    query_fields = {f.name for f in fields(lexical.QueryOptions)}
    for part in filter(None, (p.strip() for p in spec.split(";"))):
        name, _, body = part.partition("=")
        items = dict(kv.split(":", 1) for kv in filter(None, body.split(",")))
        ranking = {"plain": PLAIN_RRF, "files": FILE_RANKING}.get(items.pop("base", ""), DEFAULT_RANKING)
        only = items.pop("bm25", "0") == "1"
        files = items.pop("files", "0") == "1"
        rank_changes: dict[str, Any] = {}
        query_changes: dict[str, Any] = {}
        for key, raw in items.items():
            value: Any = (
                raw.lower() in ("1", "true", "on")
                if raw.lower() in ("0", "1", "true", "false", "on", "off")
                else float(raw)
            )
            if key in rank_fields:
                if rank_fields[key].type in ("int", int):
                    value = int(value)
                rank_changes[key] = value
            elif key in query_fields:
                query_changes[key] = bool(value)
            else:
                raise SystemExit(f"unknown variant key {key!r}")
        out[name] = Variant(
            ranking.but(**rank_changes), replace(lexical.DEFAULT_QUERY, **query_changes), only, files
        )
    return out
