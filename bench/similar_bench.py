"""Find-similar (code -> code) quality: GPTCloneBench's semantic clone pairs, or the same algorithm
in other languages (``--set algorithms``).

    flock /tmp/codekin-heavy.lock .venv/bin/python bench/similar_bench.py [--models codekin,minilm,mpnet]
        [--languages py,java] [--limit N] [--mask-names] [--json OUT]
    flock /tmp/codekin-heavy.lock .venv/bin/python bench/similar_bench.py --set algorithms [--limit 300]
        [--systems bm25,dense,similar,similar_file]

Data: the MIT-licensed GPTCloneBench repository (``fetch github:srlabUsask/GPTCloneBench`` puts a
bare mirror under ``/work/.mirror``) carries ``py_validate_clone.txt`` and ``java_validate_clone.txt``:
functions from SemanticCloneBench (Stack Overflow answers), each with one or more GPT-3 rewrites
that do the same thing with different code (moderate type-3 and type-4 clones). Evaluation only:
nothing here is used for training.

Corpus: every distinct function, one file each (``orig/<id>.py``, ``clone/<id>_<n>.py``), indexed
by the real pipeline. Query: each rewrite's chunk through ``Workspace.similar_to`` (what "find
similar" at the cursor runs); relevant: the other files of the same function (its original and
its other rewrites). Baseline side by side: BM25 with the rewrite's text as the query
(``CodeIndex.lexical_search``). MRR@10, recall@1 and recall@10 over files, overall and per language.
``--mask-names`` renames each function (and its recursive calls) to ``f``, so a shared name
cannot carry the match.

``--set algorithms`` (see ``_algorithms.py``): TheAlgorithms' implementations of one algorithm
in up to 9 languages, one file each; every file is a query and a hit counts when it is the same
algorithm in ANY other language. Systems: ``bm25`` (the file's text as the query), ``dense``
(the file embedded as one text, plain nearest neighbours), ``similar`` (the shipped
``Workspace.similar(text, language=...)``) and ``similar_file`` (``Workspace.similar_to(path)``,
the whole file from its stored vectors).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import _algorithms
from _models import DEFAULT_CACHE, resolve, short_name
from quality import Scores, score

from codekin import Settings, Workspace

MIRROR = Path(os.environ.get("SEMBLE_MIRRORS", "/work/.mirror")) / "srlabUsask+GPTCloneBench" / "repo"
SOURCES = {"py": "py_validate_clone.txt", "java": "java_validate_clone.txt"}
K = 10
_RECORD = "$" * 40
_PART = "-" * 40
log = logging.getLogger("bench.similar")


@dataclass(frozen=True)
class ClonePair:
    language: str  # file extension: py, java
    function: str  # SemanticCloneBench id: every rewrite of one function shares it
    original: str
    rewrite: str


def parse_pairs(text: str, language: str) -> list[ClonePair]:
    """Records of ``$``×40, the id, the rewrite number, two location lines, then the original and
    the rewrite, each after a ``-``×40 line."""
    out: list[ClonePair] = []
    for record in text.split(_RECORD):
        head, *parts = record.split(_PART)
        fields = head.split()
        snippets = [p.strip("\n") for p in parts if p.strip()]
        if len(fields) >= 2 and len(snippets) == 2:
            out.append(ClonePair(language, fields[0], snippets[0] + "\n", snippets[1] + "\n"))
    return out


def load_pairs(mirror: Path, language: str) -> list[ClonePair]:
    blob = subprocess.run(
        ["git", f"--git-dir={mirror}", "show", f"HEAD:{SOURCES[language]}"],
        check=True,
        capture_output=True,
    ).stdout.decode("utf-8", errors="replace")
    return parse_pairs(blob, language)


_PY_NAME = re.compile(r"^\s*def\s+(\w+)", re.MULTILINE)
_CALL_NAME = re.compile(r"(\w+)\s*\(")


def mask_name(code: str, language: str) -> str:
    """The function's own name (the first one defined) replaced by ``f`` wherever it is not
    called on another object (``items.size()`` stays)."""
    if language == "py":
        found = _PY_NAME.search(code)
    else:  # Java: the first identifier before "(" on the signature line
        signature = next((line for line in code.splitlines() if "(" in line), "")
        found = _CALL_NAME.search(signature)
    if not found or found.group(1) in ("if", "for", "while", "switch", "catch"):
        return code
    return re.sub(rf"(?<![\w.]){re.escape(found.group(1))}\b", "f", code)  # not other objects' methods


@dataclass
class Corpus:
    files: dict[str, str]  # relative path -> text
    function_of: dict[str, str]  # relative path -> "<language>:<id>"
    queries: list[str]  # rewrite files, each a query


def build_corpus(pairs: Sequence[ClonePair], mask: bool) -> Corpus:
    files: dict[str, str] = {}
    function_of: dict[str, str] = {}
    queries: list[str] = []
    seen: dict[str, str] = {}  # text -> path (identical snippets are one file)

    def add(path: str, text: str, function: str) -> str | None:
        if text in seen:
            return None
        seen[text] = path
        files[path], function_of[path] = text, function
        return path

    counts: dict[str, int] = defaultdict(int)
    for p in pairs:
        fn = f"{p.language}:{p.function}"
        original = mask_name(p.original, p.language) if mask else p.original
        rewrite = mask_name(p.rewrite, p.language) if mask else p.rewrite
        add(f"{p.language}/orig/{p.function}.{p.language}", original, fn)
        counts[fn] += 1
        path = add(f"{p.language}/clone/{p.function}_{counts[fn]}.{p.language}", rewrite, fn)
        if path:
            queries.append(path)
    return Corpus(files, function_of, queries)


def ranked_files(paths: Sequence[str], own: str, k: int = K) -> list[str]:
    """Hit paths collapsed to files, best first, the query's own file left out."""
    return [p for p in dict.fromkeys(paths) if p != own][:k]


def evaluate(
    corpus: Corpus,
    search: Callable[[str], list[str]],
    language: str | None = None,
    other_language: bool = False,
) -> Scores:
    """MRR/recall of the first file of the same function; with ``other_language`` only a file
    under another top folder (another language) counts."""
    ranks: list[int | None] = []
    for q in corpus.queries:
        if language and not q.startswith(f"{language}/"):
            continue
        fn, own = corpus.function_of[q], q.split("/", 1)[0]
        found = ranked_files(search(q), q)
        ranks.append(
            next(
                (
                    i
                    for i, p in enumerate(found, 1)
                    if corpus.function_of.get(p) == fn and not (other_language and p.split("/", 1)[0] == own)
                ),
                None,
            )
        )
    return score(ranks, K)


def algorithms_corpus(impls: Sequence[_algorithms.Implementation]) -> Corpus:
    return Corpus({i.path: i.text for i in impls}, {i.path: i.key for i in impls}, [i.path for i in impls])


def similar_search(ws: Workspace) -> Callable[[str], list[str]]:
    index = ws.code_index

    def search(path: str) -> list[str]:
        chunks = index.chunks_of_file(path)
        if not chunks:
            return []
        hits = ws.similar_to(ws.root / path, chunks[0][1].start_line + 1, k=3 * K)
        return [h.path for h in hits]

    return search


def shipped_similar(ws: Workspace, texts: dict[str, str]) -> Callable[[str], list[str]]:
    """``Workspace.similar(text, language=...)``: a pasted file, its language given."""

    def search(path: str) -> list[str]:
        return [h.path for h in ws.similar(texts[path], language=path.split("/", 1)[0], k=3 * K)]

    return search


def file_similar(ws: Workspace) -> Callable[[str], list[str]]:
    """``Workspace.similar_to(path)``: the whole file, from its stored chunk vectors."""

    def search(path: str) -> list[str]:
        return [h.path for h in ws.similar_to(ws.root / path, None, k=3 * K)]

    return search


def dense_search(ws: Workspace, texts: dict[str, str]) -> Callable[[str], list[str]]:
    """Plain dense retrieval: the file embedded as one text, its nearest chunks."""
    index, vectors = ws.code_index, ws.code_index.vectors()

    def search(path: str) -> list[str]:
        found = vectors.search(ws.encoder.embed_documents([texts[path]])[0], 3 * K + 20)
        chunks = index.chunks([cid for cid, _ in found])
        return [chunks[cid].path for cid, _ in found if cid in chunks]

    return search


def lexical_search(ws: Workspace, texts: dict[str, str]) -> Callable[[str], list[str]]:
    index = ws.code_index

    def search(path: str) -> list[str]:
        ids = [cid for cid, _ in index.lexical_search(texts[path], 3 * K)]
        chunks = index.chunks(ids)
        return [chunks[c].path for c in ids if c in chunks]

    return search


ALGORITHM_SYSTEMS = "bm25,dense,similar,similar_file"


def main(argv: Sequence[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("--set", choices=["clones", "algorithms"], default="clones")
    ap.add_argument(
        "--models", default="codekin,minilm", help="codekin, minilm, mpnet, or a model id / directory"
    )
    ap.add_argument("--languages", default=None, help="clones: py,java; algorithms: all nine")
    ap.add_argument(
        "--limit",
        type=int,
        default=0,
        help="a seeded sample of this many functions per language (clones) or algorithms (algorithms)",
    )
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--queries", type=int, default=0, help="algorithms: a seeded sample of the files as queries"
    )
    ap.add_argument("--mask-names", action="store_true", help="rename every function to f (clones)")
    ap.add_argument("--systems", default=ALGORITHM_SYSTEMS, help="algorithms: which systems to score")
    ap.add_argument("--mirror", type=Path, default=MIRROR)
    ap.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE)
    ap.add_argument("--work-dir", type=Path, help="keep the corpus and indexes here (reused by later runs)")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    if args.set == "algorithms":
        languages = (args.languages or ",".join(_algorithms.REPOS)).split(",")
        impls = _algorithms.load(args.mirror.parent.parent, languages, args.limit, args.seed)
        corpus = algorithms_corpus(impls)
        if args.queries:
            corpus.queries = sorted(
                random.Random(args.seed).sample(corpus.queries, min(args.queries, len(corpus.queries)))
            )
        log.info("%d algorithms -> %d files", len({i.key for i in impls}), len(corpus.files))
    else:
        if not args.mirror.exists():
            print(f"no mirror at {args.mirror}: fetch github:srlabUsask/GPTCloneBench first", file=sys.stderr)
            return 2
        languages = (args.languages or "py,java").split(",")
        pairs: list[ClonePair] = []
        for lang in languages:
            got = load_pairs(args.mirror, lang)
            if args.limit:
                ids = sorted({p.function for p in got})
                keep = set(random.Random(args.seed).sample(ids, min(args.limit, len(ids))))
                got = [p for p in got if p.function in keep]
            pairs += got
        corpus = build_corpus(pairs, args.mask_names)
        log.info("%d clone pairs -> %d files, %d queries", len(pairs), len(corpus.files), len(corpus.queries))
    results: dict[str, dict[str, Scores]] = {}
    facts: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="codekin-similar-") as tmp:
        work = args.work_dir or Path(tmp)
        root = work / "corpus"
        for rel, text in corpus.files.items():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_text(text, encoding="utf-8")
        models = [m.strip() for m in args.models.split(",") if m.strip()]
        for i, candidate in enumerate(models):
            model = resolve(candidate, args.cache_dir)
            name = short_name(candidate)
            settings = Settings(model=model, index_dir=str(work / f"index-{name}"))
            with Workspace(root, settings) as ws:
                started = time.perf_counter()
                stats = ws.index()
                took = time.perf_counter() - started
                unchunked = sum(1 for rel in corpus.files if not ws.code_index.chunks_of_file(rel))
                log.info(
                    "%s: %d chunks in %.1f s (%d files without a chunk)",
                    name,
                    stats.chunks_total,
                    took,
                    unchunked,
                )
                facts[name] = {
                    "chunks": stats.chunks_total,
                    "index_s": round(took, 1),
                    "unchunked": unchunked,
                }
                if args.set == "algorithms":
                    systems = algorithm_systems(ws, corpus, args.systems.split(","), i == 0)
                    if len(models) > 1:
                        systems = {s if s == "bm25" else f"{name}:{s}": f for s, f in systems.items()}
                else:
                    systems = {name: similar_search(ws)}
                    if i == 0:
                        systems = {"bm25": lexical_search(ws, corpus.files), **systems}
                cross = args.set == "algorithms"
                for system, search in systems.items():
                    started = time.perf_counter()
                    results[system] = {"all": evaluate(corpus, search, other_language=cross)}
                    log.info(
                        "%s: %.1f ms a query",
                        system,
                        1000 * (time.perf_counter() - started) / len(corpus.queries),
                    )
                    for lang in languages:
                        results[system][lang] = evaluate(corpus, search, lang, other_language=cross)
    print_table(results, languages)
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "set": args.set,
                    "mask_names": args.mask_names,
                    "files": len(corpus.files),
                    "models": facts,
                    "results": {s: {g: vars(v) for g, v in by.items()} for s, by in results.items()},
                },
                indent=2,
            )
        )
    return 0


def algorithm_systems(
    ws: Workspace, corpus: Corpus, names: Sequence[str], with_bm25: bool
) -> dict[str, Callable[[str], list[str]]]:
    makers: dict[str, Callable[[], Callable[[str], list[str]]]] = {
        "bm25": lambda: lexical_search(ws, corpus.files),
        "dense": lambda: dense_search(ws, corpus.files),
        "similar": lambda: shipped_similar(ws, corpus.files),
        "similar_file": lambda: file_similar(ws),
        "similar_first": lambda: similar_search(ws),  # the file's first chunk at the cursor
    }
    return {n: makers[n]() for n in names if n in makers and (with_bm25 or n != "bm25")}


def print_table(results: dict[str, dict[str, Scores]], languages: Sequence[str]) -> None:
    groups = ["all", *languages]
    print(f"{'system':<12}" + "".join(f"{g + ' MRR@10':>13}{'R@1':>7}{'R@10':>7}{'n':>6}" for g in groups))
    for system, by in results.items():
        cells = "".join(
            f"{by[g].mrr:>13.3f}{by[g].recall_1:>7.3f}{by[g].recall_k:>7.3f}{by[g].queries:>6}"
            for g in groups
        )
        print(f"{system:<12}{cells}")


if __name__ == "__main__":
    raise SystemExit(main())
