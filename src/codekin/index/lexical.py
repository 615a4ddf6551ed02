"""Code-aware tokenisation for the lexical (BM25) index: identifiers are kept whole and also
split into their camelCase / snake_case parts."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|\d+")
_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")
_MAX_TOKEN = 40


def split_identifier(word: str) -> list[str]:
    """``parseHTTPConfig_file`` -> ["parse", "http", "config", "file"]."""
    parts: list[str] = []
    for piece in word.split("_"):
        parts += [p.lower() for p in _CAMEL.findall(piece)]
    return parts


def code_tokens(text: str) -> list[str]:
    """Tokens of source or query text: each identifier whole (lower-cased) plus its parts."""
    out: list[str] = []
    known: dict[str, list[str]] = {}  # source repeats its words: split each once
    for word in _WORD.findall(text):
        tokens = known.get(word)
        if tokens is None:
            tokens = known[word] = _word_tokens(word)
        out += tokens
    return out


def _word_tokens(word: str) -> list[str]:
    if len(word) > _MAX_TOKEN:
        return []
    whole = word.lower().strip("_")
    parts = split_identifier(word)
    if whole and (len(parts) != 1 or parts[0] != whole):
        return [whole.replace("_", ""), *parts]
    return parts


@dataclass(frozen=True)
class QueryOptions:
    """How a search query becomes a BM25 query (switches measured by ablation)."""

    drop_stopwords: bool = False  # measured: -0.003 NDCG@10 with the full ranking, so off
    stem_prefixes: bool = True  # each word also matches identifiers starting with its stem
    # ... but from this many chunks on, sentence queries drop function words: there their
    # postings are most of BM25's work (100k chunks of real code: 36 ms of a 45 ms search, 10 ms
    # without them) while their weight is slight (measured on smaller indexes, where it stays
    # off: function panel +0.004 MRR@10, stdlib +0.007, CoSQA -0.006, semble files -0.004)
    stopwords_from: int | None = 50_000

    def for_index(self, chunks: int) -> QueryOptions:
        """The options a search over an index of ``chunks`` chunks uses."""
        if self.stopwords_from is not None and chunks >= self.stopwords_from and not self.drop_stopwords:
            return replace(self, drop_stopwords=True)
        return self


DEFAULT_QUERY = QueryOptions()  # what searches use unless given others (benchmarks compare others)


def fts_query(text: str, options: QueryOptions = DEFAULT_QUERY) -> str:
    """An FTS5 MATCH expression: any of the query's tokens (BM25 ranks by how many and how rare)."""
    tokens = [t for t in code_tokens(text) if len(t) > 1 or t.isdigit()]
    if options.drop_stopwords and len(text.split()) > 1:
        content = [t for t in tokens if t not in STOPWORDS]
        tokens = content or tokens
    seen = dict.fromkeys(tokens)
    terms = [f'"{t}"' for t in seen]
    if options.stem_prefixes:  # inflected words only: "routes" also matches "router", "routing"
        stems = dict.fromkeys(s for t in seen if not t.isdigit() and (s := stem(t)) != _base(t))
        terms += [f'"{s}"*' for s in stems if len(s) >= 4 and s not in seen]
    return " OR ".join(terms)


# --- query side -----------------------------------------------------------------------------
# Function words dropped from sentence queries before BM25 (an identifier query keeps all).
STOPWORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "of",
        "to",
        "in",
        "on",
        "for",
        "from",
        "by",
        "with",
        "without",
        "into",
        "onto",
        "over",
        "under",
        "at",
        "as",
        "is",
        "are",
        "be",
        "been",
        "being",
        "was",
        "were",
        "do",
        "does",
        "did",
        "doing",
        "how",
        "what",
        "when",
        "where",
        "which",
        "who",
        "whom",
        "why",
        "that",
        "this",
        "these",
        "those",
        "it",
        "its",
        "there",
        "their",
        "they",
        "them",
        "we",
        "our",
        "you",
        "your",
        "i",
        "me",
        "my",
        "can",
        "could",
        "should",
        "would",
        "will",
        "shall",
        "may",
        "might",
        "must",
        "not",
        "no",
        "if",
        "then",
        "else",
        "than",
        "so",
        "such",
        "all",
        "any",
        "each",
        "every",
        "some",
        "via",
        "per",
        "about",
        "between",
        "through",
        "during",
        "after",
        "before",
        "while",
        "also",
        "just",
        "only",
        "both",
        "either",
        "whether",
    ]
)
_SUFFIXES = (
    ("ies", "y"),
    ("ied", "y"),
    ("sses", "ss"),
    ("ings", ""),
    ("ing", ""),
    ("ers", ""),
    ("er", ""),
    ("ed", ""),
    ("es", ""),
    ("s", ""),
)


def _base(word: str) -> str:
    """``word`` with only the stemmer's spelling clean-ups (final e, doubled consonant): equal
    to ``stem(word)`` exactly when the word carries no inflection."""
    w = word.lower()
    if len(w) > 3 and w.endswith("e"):
        w = w[:-1]
    if len(w) > 3 and w[-1] == w[-2] and w[-1] not in "lsz":
        w = w[:-1]
    return w


def stem(word: str) -> str:
    """A light English stemmer for matching query words to identifier parts: ``handler``,
    ``handles``, ``handling`` and ``handle`` all give ``handl``; ``routes`` gives ``rout``."""
    w = word.lower()
    if len(w) > 3:
        for suffix, repl in _SUFFIXES:
            if w.endswith(suffix) and len(w) - len(suffix) >= 3:
                if suffix == "s" and w[-2] in "sui":  # class, status, analysis
                    break
                w = w[: -len(suffix)] + repl
                break
        if w.endswith("er") and len(w) >= 6:  # registered -> register -> regist
            w = w[:-2]
    if len(w) > 3 and w.endswith("e"):
        w = w[:-1]
    if len(w) > 3 and w[-1] == w[-2] and w[-1] not in "lsz":
        w = w[:-1]
    return w
