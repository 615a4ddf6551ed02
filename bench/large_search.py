"""Search latency at 100k chunks of real code, by part, beside a 10k-chunk slice of the same code.

Corpus: the Python sources of installed packages (``transformers`` then ``sympy``, as pip put
them in this environment), copied once under ``.bench-cache/large-search``; the first
``--files`` files form the large index (about 100,000 chunks) and the first tenth of them the
reference. Both are indexed with the fake encoder at 384 dimensions: the vectors mean little, but
the work per query (an HNSW search over that many vectors, BM25 over real code's vocabulary, the
ranking of the candidates) is the product's. Query encoding is not timed (about 3 ms a query on
ONNX Runtime here, independent of the index size).

For each index: ``Workspace.search`` (k=10) and its two retrievals alone (the BM25 query and
the dense search; and the BM25 query without function words, ``drop_stopwords``) over 40
sentences and 40 identifiers sampled from the index, 3 rounds, p50 / p95 in ms, and how many
chunks the BM25 query matched (median).

    flock /tmp/codekin-heavy.lock python bench/large_search.py [--files 4300]
"""

from __future__ import annotations

import argparse
import importlib.util
import random
import shutil
import sqlite3
import statistics
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from codekin import Settings, Workspace
from codekin.embeddings.base import Vectors
from codekin.embeddings.fake import FakeEncoder
from codekin.index.code_index import CodeIndex
from codekin.index.lexical import QueryOptions, fts_query

HERE = Path(__file__).resolve().parent
CACHE = HERE.parent / ".bench-cache" / "large-search"
PACKAGES = ("transformers", "sympy")
FUNCTION_WORDS_DROPPED = QueryOptions(drop_stopwords=True)
SENTENCES = [
    "load a pretrained model from a checkpoint",
    "convert the tensor to a numpy array",
    "compute the attention mask for padding tokens",
    "parse the configuration file",
    "save the tokenizer vocabulary to a directory",
    "resize the token embeddings",
    "apply rotary position embeddings",
    "split the text into words",
    "raise an error when the input shape is wrong",
    "download the file and cache it",
    "simplify a symbolic expression",
    "solve a system of linear equations",
    "compute the derivative of a function",
    "factor a polynomial over the integers",
    "print the expression as latex",
    "integrate a rational function",
    "check if the number is prime",
    "evaluate the expression numerically",
    "expand the product of sums",
    "substitute a value for a symbol",
]


def python_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.py") if "__pycache__" not in p.parts)


def corpus(files: int) -> tuple[Path, Path]:
    """(large, reference) folders of ``files`` and ``files // 10`` source files."""
    sources: list[Path] = []
    for name in PACKAGES:
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            raise SystemExit(f"{name} is not installed (pip install {name})")
        sources += python_files(Path(spec.origin).parent)
    out = []
    for label, count in (("large", files), ("reference", files // 10)):
        root = CACHE / f"{label}-{count}"
        if not (root / ".complete").is_file():
            shutil.rmtree(root, ignore_errors=True)
            for i, src in enumerate(sources[:count]):
                target = root / f"{i:05d}_{src.parent.name}_{src.name}"
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(src, target)
            (root / ".complete").write_text("copied\n")
        out.append(root)
    return out[0], out[1]


def percentiles(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    return statistics.median(ordered), ordered[max(0, int(len(ordered) * 0.95) - 1)]


def timed(call: Callable[[str], object], queries: list[str], rounds: int) -> tuple[float, float]:
    took = []
    for _ in range(rounds):
        for q in queries:
            start = time.perf_counter()
            call(q)
            took.append((time.perf_counter() - start) * 1000)
    return percentiles(took)


def dense(index: CodeIndex, vectors: dict[str, Vectors], query: str) -> object:
    return index.vectors().search(vectors[query], 100)


def measure(root: Path, rounds: int) -> dict[str, Any]:
    encoder = FakeEncoder(dim=384)
    ws = Workspace(root, Settings(index_dir=str(root.parent / f"index-{root.name}")), encoder=encoder)
    start = time.perf_counter()
    stats = ws.index()
    built = time.perf_counter() - start
    index = ws.code_index
    db = sqlite3.connect(str(root.parent / f"index-{root.name}" / "index.sqlite"))
    names = [
        r[0]
        for r in db.execute(
            "SELECT DISTINCT symbol FROM chunks WHERE kind IN ('function', 'method') ORDER BY symbol"
        )
    ]
    identifiers = random.Random(17).sample(names, min(40, len(names)))
    out: dict[str, Any] = {"chunks": stats.chunks_total, "built_s": built}
    for kind, queries in (("sentences", SENTENCES * 2), ("identifiers", identifiers)):
        ws.search(queries[0], 10)  # warm
        out[f"{kind} search"] = timed(lambda q: ws.search(q, 10), queries, rounds)
        out[f"{kind} bm25"] = timed(lambda q: index.lexical_search(q, 200), queries, rounds)
        out[f"{kind} bm25, no stopwords"] = timed(
            lambda q: index.lexical_search(q, 200, None, FUNCTION_WORDS_DROPPED), queries, rounds
        )
        vectors = {q: encoder.embed_queries([q])[0] for q in queries}
        out[f"{kind} dense"] = timed(partial(dense, index, vectors), queries, rounds)
        expressions = [e for e in map(fts_query, queries) if e]  # a one-letter name has none
        matched = [
            db.execute("SELECT count(*) FROM chunks_fts WHERE chunks_fts MATCH ?", (e,)).fetchone()[0]
            for e in expressions
        ]
        out[f"{kind} matched"] = statistics.median(matched)
    ws.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--files", type=int, default=4300, help="source files of the large index")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    large, reference = corpus(args.files)
    results = {"reference": measure(reference, args.rounds), "large": measure(large, args.rounds)}
    ref, big = results["reference"], results["large"]
    print(f"chunks: reference {ref['chunks']}, large {big['chunks']} (indexed in {big['built_s']:.0f} s)")
    print(f"{'p50 / p95 ms':<26}{'reference':>16}{'large':>16}{'x (p50)':>9}")
    for key in [k for k in ref if k.endswith(("search", "bm25", "dense", "stopwords"))]:
        (r50, r95), (b50, b95) = ref[key], big[key]
        print(f"{key:<26}{f'{r50:.1f} / {r95:.1f}':>16}{f'{b50:.1f} / {b95:.1f}':>16}{b50 / r50:>8.1f}x")
    for kind in ("sentences", "identifiers"):
        key = f"{kind} matched"
        print(f"{'BM25 matches, ' + kind:<26}{ref[key]:>16.0f}{big[key]:>16.0f}")


if __name__ == "__main__":
    main()
