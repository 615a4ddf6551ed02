"""Why a hit is where it is: every signal that placed it, by name, as plain JSON-ready dicts.

For the code-aware ranking (:func:`codekin.index.ranking.rank`) the parts compose as

    fused  = dense_share x dense.normalised + (1 - dense_share) x lexical.normalised
    final  = (fused x product(factors) + sum(bonuses)) x diversity
    score  = min(final, the score of the hit above)      (a list's scores never rise)

where ``dense.normalised`` is the cosine over the best cosine of the candidates (the lowest
cosine for a candidate the dense list did not return) and ``lexical.normalised`` the BM25 score
over the best one (0 when BM25 did not find it).
"""

from __future__ import annotations

from typing import Any

from codekin.index.ranking import FACTOR_PREFIX, Candidate, RankConfig

BONUSES = ("coherence", "file_lexical")  # additive signals, in the order rank() applies them


def provenance(model: str, weights_hash: str, generation: int) -> dict[str, Any]:
    """What produced the hit: the encoder and the index state it was searched in."""
    return {"model": model, "weights_hash": weights_hash, "index_generation": generation}


def _rank(r: int | None) -> int | None:
    return None if r is None else r + 1  # 1-based for people


def ranked(c: Candidate, score: float, config: RankConfig, source: dict[str, Any]) -> dict[str, Any]:
    """The explanation of a candidate placed by the code-aware ranking with ``score`` (the
    order's score, see :func:`codekin.index.search.order_scores`)."""
    n = c.notes
    dense: dict[str, Any] = {"cosine": c.dense_score, "rank": _rank(c.dense_rank)}
    lexical: dict[str, Any] = {"bm25": c.lexical_score, "rank": _rank(c.lexical_rank)}
    if config.use_score_fusion:
        dense |= {"best": n.get("dense_best", 0.0), "normalised": n.get("dense_part", 0.0)}
        lexical |= {"best": n.get("lexical_best", 0.0), "normalised": n.get("lexical_part", 0.0)}
        fusion = {"method": "score", "dense_share": config.dense_share, "fused": n.get("fused", 0.0)}
    else:
        dense["rrf"], lexical["rrf"] = n.get("dense_part", 0.0), n.get("lexical_part", 0.0)
        fusion = {"method": "rrf", "k": config.rrf_k, "fused": n.get("fused", 0.0)}
    factors = {k.removeprefix(FACTOR_PREFIX): v for k, v in n.items() if k.startswith(FACTOR_PREFIX)}
    bonuses = {k: n[k] for k in BONUSES if k in n}
    diversity = n.get("diversity", 1.0)
    final = c.score * diversity
    return {
        "dense": dense,
        "lexical": lexical,
        "fusion": fusion,
        "factors": factors,
        "bonuses": bonuses,
        "diversity": diversity,
        "final": final,
        "score": score,
        "capped": score < final,
        **source,
    }


def dense_only(cosine: float, rank: int, score: float, source: dict[str, Any]) -> dict[str, Any]:
    """A hit ordered by the dense list alone (``hybrid = false``): its score is its cosine."""
    return {
        "dense": {"cosine": cosine, "rank": rank + 1},
        "lexical": None,
        "fusion": {"method": "dense"},
        "factors": {},
        "bonuses": {},
        "diversity": 1.0,
        "final": cosine,
        "score": score,
        "capped": score < cosine,
        **source,
    }


def rrf_only(
    dense_rank: int | None, lexical_rank: int | None, score: float, source: dict[str, Any]
) -> dict[str, Any]:
    """A hit of plain reciprocal-rank fusion (no code-aware ranking)."""
    return {
        "dense": {"rank": _rank(dense_rank)},
        "lexical": {"rank": _rank(lexical_rank)},
        "fusion": {"method": "rrf", "fused": score},
        "factors": {},
        "bonuses": {},
        "diversity": 1.0,
        "final": score,
        "score": score,
        "capped": False,
        **source,
    }


def compact(explain: dict[str, Any]) -> str:
    """One line for people: dense and lexical parts, the adjustments that moved it, the result."""
    parts: list[str] = []
    d, lx = explain.get("dense") or {}, explain.get("lexical") or {}
    if "cosine" in d:
        parts.append(f"dense cos {d['cosine']:.3f} #{d['rank'] or '-'}")
    if lx and "bm25" in lx:
        parts.append(f"bm25 {lx['bm25']:.2f} #{lx['rank'] or '-'}" if lx["rank"] else "bm25 -")
    fusion = explain.get("fusion") or {}
    if "fused" in fusion:
        parts.append(f"fused {fusion['fused']:.3f}")
    parts += [f"{name} x{v:.2f}" for name, v in explain.get("factors", {}).items() if v != 1.0]
    parts += [f"{name} +{v:.3f}" for name, v in explain.get("bonuses", {}).items() if v]
    if explain.get("diversity", 1.0) != 1.0:
        parts.append(f"diversity x{explain['diversity']:.2f}")
    parts.append(
        f"= {explain['final']:.3f}" + (f" (capped {explain['score']:.3f})" if explain["capped"] else "")
    )
    return "  ".join(parts)
