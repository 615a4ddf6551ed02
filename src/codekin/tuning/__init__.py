"""``codekin tune``: fine-tune the encoder on a repository's own code, measured on held-out files."""

from codekin.tuning.pairs import MIN_DOCUMENTED, Pair, PairSet, TooFewPairs, mine_pairs
from codekin.tuning.run import TuneHooks, TuneOptions, TuneResult, tune

__all__ = [
    "MIN_DOCUMENTED",
    "Pair",
    "PairSet",
    "TooFewPairs",
    "TuneHooks",
    "TuneOptions",
    "TuneResult",
    "mine_pairs",
    "tune",
]
