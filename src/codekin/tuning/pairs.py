"""Training pairs mined from a repository's own code, split by file into train and held-out.

The miner is ``codekin eval --mine``'s: the repository is copied with the doc comments of its
documented definitions removed, and every usable first sentence becomes a query whose answer is
that definition in the copy. Two kinds of pair come out of the copy:

- doc: (doc-comment sentence -> the definition without its doc comment);
- ident: (identifier phrase of the name, ``parse_http_header`` -> "parse http header" -> the
  definition), for every definition of a training file.

The definition side is exactly what the indexer embeds for that chunk (``encoder_input``). The
split is by file: no query, doc or identifier, of a held-out file is ever trained on.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from codekin.embeddings.inputs import encoder_input
from codekin.evaluation.dataset import EvalQuery
from codekin.evaluation.mine import DEFINITION_KINDS, mine_repository
from codekin.files import FileFilter, SkipFile, read_source
from codekin.parsers import chunk_file
from codekin.parsers.model import Chunk
from codekin.redact import Redactor

HELD_OUT_SHARE = 0.2  # of the documented definitions, by whole files
MIN_DOCUMENTED = 20  # fewer documented definitions cannot give both a training set and a held-out set

_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")


class TooFewPairs(LookupError):
    """The repository has too few documented definitions to tune on and measure."""


@dataclass(frozen=True)
class Pair:
    kind: str  # "doc" or "ident"
    query: str
    document: str  # encoder_input of the definition's chunk in the stripped copy
    path: str


@dataclass(frozen=True)
class PairSet:
    train: list[Pair]
    held_out: list[EvalQuery]  # doc queries of the held-out files, targets in the stripped copy
    train_files: list[str]
    held_out_files: list[str]
    files: int  # files in the stripped copy
    documented: int

    def count(self, kind: str) -> int:
        return sum(p.kind == kind for p in self.train)

    def fingerprint(self) -> str:
        """Identity of the training data: a checkpoint resumes only onto the same pairs."""
        h = hashlib.blake2b(digest_size=12)
        for p in self.train:
            h.update(json.dumps([p.kind, p.query, p.document]).encode())
        return h.hexdigest()


def identifier_phrase(symbol: str, container: str) -> str | None:
    """``parseHTTPDate`` / ``parse_http_date`` -> "parse http date"; a one-word name borrows its
    container's last word (``Config.load`` -> "config load"); tests and one-word names give None."""
    words = _words(symbol)
    if len(words) < 2 and container:
        words = _words(container.split(".")[-1]) + words
    if len(words) < 2 or words[0] in ("test", "tests"):
        return None
    return " ".join(words[:8])


def _words(name: str) -> list[str]:
    out: list[str] = []
    for part in re.split(r"[^A-Za-z0-9]+", name):
        out.extend(w.lower() for w in _CAMEL.findall(part))
    return out


def mine_pairs(
    file_filter: FileFilter,
    tree: Path,
    *,
    seed: int = 0,
    max_chunk_bytes: int = 4000,
    progress: Callable[[int, int], None] | None = None,
    redactor: Redactor | None = None,
) -> PairSet:
    """Mine ``file_filter.root`` into the stripped, redacted copy ``tree`` and split its pairs
    by file."""
    mined = mine_repository(
        file_filter,
        tree,
        limit=10**9,
        seed=seed,
        max_chunk_bytes=max_chunk_bytes,
        progress=progress,
        redactor=redactor,
    )
    if mined.documented < MIN_DOCUMENTED:
        raise TooFewPairs(
            f"only {mined.documented} documented definitions with a usable doc comment in {mined.files} "
            f"files; tuning needs at least {MIN_DOCUMENTED} (some to train on, some held out to measure)"
        )
    by_file: dict[str, list[EvalQuery]] = {}
    for q in mined.queries:
        by_file.setdefault(q.targets[0].path, []).append(q)
    held = _held_out_files(by_file, seed)
    if not held or len(held) == len(by_file):
        raise TooFewPairs(
            f"the {mined.documented} documented definitions are all in one file; tuning needs them in "
            "at least two files so that some can be held out"
        )
    chunks = _definitions(FileFilter(tree, max_file_bytes=file_filter.max_file_bytes), max_chunk_bytes)
    train: list[Pair] = []
    train_files = sorted(set(chunks) - held)
    for rel in train_files:
        spans = {(c.start_line + 1, c.end_line + 1): c for c in chunks[rel]}
        for q in by_file.get(rel, []):
            t = q.targets[0]
            chunk = spans.get((t.start_line or 0, t.end_line or 0))
            if chunk is not None:
                train.append(Pair("doc", q.query, encoder_input(chunk), rel))
        for c in chunks[rel]:
            phrase = identifier_phrase(c.symbol, c.container)
            if phrase is not None:
                train.append(Pair("ident", phrase, encoder_input(c), rel))
    held_out = [q for rel in sorted(held) for q in by_file[rel]]
    return PairSet(train, held_out, train_files, sorted(held), mined.files, mined.documented)


def _held_out_files(by_file: dict[str, list[EvalQuery]], seed: int) -> set[str]:
    """Whole files, in a seeded order, until they hold about ``HELD_OUT_SHARE`` of the queries."""
    files = sorted(by_file)
    random.Random(seed).shuffle(files)
    want = max(1, round(HELD_OUT_SHARE * sum(len(v) for v in by_file.values())))
    held: set[str] = set()
    count = 0
    for rel in files:
        if count >= want:
            break
        held.add(rel)
        count += len(by_file[rel])
    return held


def _definitions(tree_filter: FileFilter, max_chunk_bytes: int) -> dict[str, list[Chunk]]:
    """Each file's definitions with a name unique in their file (as the miner requires)."""
    out: dict[str, list[Chunk]] = {}
    for entry in tree_filter.walk():
        try:
            data = read_source(entry)
        except (SkipFile, OSError):
            continue
        chunks = chunk_file(entry.rel, data, max_chunk_bytes=max_chunk_bytes)
        names = Counter((c.kind, c.qualified_name) for c in chunks)
        out[entry.rel] = [
            c
            for c in chunks
            if c.kind in DEFINITION_KINDS and c.symbol and names[(c.kind, c.qualified_name)] == 1
        ]
    return out
