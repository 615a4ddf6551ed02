"""Mine (query, definition) pairs from fetched sources with codekin's own chunker.

For every definition chunk (function, method, class-like header) that carries a doc comment:

* the definition text is the chunk with its doc comment removed, and the positive is
  ``codekin.embeddings.inputs.encoder_input`` of that chunk, exactly what the index embeds;
* the queries are the doc's first sentence (cleaned), an identifier-derived phrase, a
  template question and a keyword phrase (styles ``doc``, ``ident``, ``template``, ``keywords``).

Records are deduplicated by the content hash of the stripped definition (and by a repeated
summary within a language), capped per source, and split by source: sources marked
``split = "valid"`` go to ``valid.jsonl`` whole, the rest to ``train.jsonl``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from training.docs import clean_query, identifier_query, keyword_query, split_doc, template_query
from training.fetch import is_fetched, source_dir
from training.progress import Progress
from training.sources import Source

DEFINITION_KINDS = frozenset({"function", "method", "class", "interface", "struct", "enum", "trait"})
SKIP_DIRS = frozenset(
    {
        "vendor",
        "vendored",
        "_vendor",
        "third_party",
        "thirdparty",
        "third-party",
        "extern",
        "externals",
        "node_modules",
        "__pycache__",
        ".git",
        "esm5",
        "esm2015",
        "umd",
        "bundles",
        "min",
        "testdata",
        "benchmarks",
        "site-packages",
    }
)
BUILD_DIRS = frozenset({"dist", "build", "esm", "cjs", "es", "es6"})
SKIP_SUFFIXES = (".min.js", ".bundle.js", ".map", "-min.js", ".pb.go", "_pb2.py")
# Registry install prefixes -> what a repository would call the same file.
_PREFIXES = [
    (re.compile(r"^usr/(?:lib|share)/go-[\d.]+/src/"), "src/"),
    (re.compile(r"^usr/share/gocode/src/[^/]+/[^/]+/[^/]+/"), ""),
    (re.compile(r"^usr/share/gocode/src/golang\.org/x/[^/]+/"), ""),
    (re.compile(r"^usr/share/cargo/registry/[^/]+/"), ""),
    (re.compile(r"^usr/lib/jvm/[^/]+/lib/src/(?:[^/]+/)?(?:share/classes/)?"), ""),
    (re.compile(r"^usr/lib/ruby/vendor_ruby/"), "lib/"),
    (re.compile(r"^usr/share/rubygems-integration/[^/]+/gems/[^/]+/"), ""),
    (re.compile(r"^usr/lib/[^/]+/rubygems-integration/[^/]+/gems/[^/]+/"), ""),
    (re.compile(r"^usr/share/doc/[^/]+/"), "doc/"),
    (re.compile(r"^usr/share/ruby-[^/]+/"), "lib/"),
    (re.compile(r"^usr/share/php/"), "src/"),
    (re.compile(r"^usr/share/lua/[\d.]+/"), ""),
    (re.compile(r"^usr/share/bash-completion/"), ""),
    (re.compile(r"^usr/(?:share/)?(?:lib/)?[^/]*/?(?=include/)"), ""),
    (re.compile(r"^usr/"), ""),
    (re.compile(r"^package/"), ""),
    (re.compile(r"^[A-Za-z0-9_.+-]+-\d[\w.+-]*/"), ""),  # sdist root "name-1.2.3/"
]


def repo_relative(path: str) -> str:
    for pattern, repl in _PREFIXES:
        new, n = pattern.subn(repl, path, count=1)
        if n:
            return new
    return path


@dataclass(frozen=True)
class MineConfig:
    per_source_cap: int = 8000
    max_file_bytes: int = 400_000
    max_chunk_bytes: int = 4000
    min_code_chars: int = 40
    seed: int = 13


@dataclass
class Record:
    """One documented definition and the queries that should find it."""

    source: str
    language: str
    path: str
    symbol: str
    kind: str
    positive: str  # encoder input of the chunk without its doc comment
    queries: list[list[str]] = field(default_factory=list)  # [style, text] pairs
    hash: str = ""

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @staticmethod
    def from_json(line: str) -> Record:
        return Record(**json.loads(line))


def _salt(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=4).digest(), "big")


def code_key(code: str) -> str:
    """Content hash of a definition, whitespace-insensitive."""
    return hashlib.blake2b(
        " ".join(code.split()).encode("utf-8", "surrogatepass"), digest_size=12
    ).hexdigest()


def mine_text(source: str, rel_path: str, data: bytes, config: MineConfig = MineConfig()) -> list[Record]:
    """Records of one file (pure apart from the chunker: the unit the tests pin down)."""
    from codekin.embeddings.inputs import encoder_input
    from codekin.parsers import chunk_file

    chunks = chunk_file(rel_path, data, max_chunk_bytes=config.max_chunk_bytes)
    names = Counter((c.kind, c.qualified_name) for c in chunks)
    records: list[Record] = []
    for chunk in chunks:
        if chunk.kind not in DEFINITION_KINDS or not chunk.symbol:
            continue
        if chunk.kind in ("function", "method") and names[(chunk.kind, chunk.qualified_name)] > 1:
            # split pieces of one long definition share a name; overloads too: skip both, cheaply
            pieces = [c for c in chunks if (c.kind, c.qualified_name) == (chunk.kind, chunk.qualified_name)]
            if any(a.end_line + 1 >= b.start_line for a, b in zip(pieces, pieces[1:], strict=False)):
                continue
        split = split_doc(chunk.text, chunk.language, chunk.start_col)
        if split is None:
            continue
        code = split.code.strip("\n").lstrip(" \t")  # starts where the definition starts
        if len(code.strip()) < config.min_code_chars:
            continue
        summary = clean_query(split.doc)
        if summary is None:
            continue
        queries: list[list[str]] = [["doc", summary]]
        salt = _salt(chunk.qualified_name + rel_path)
        for style, text in (
            ("ident", identifier_query(chunk.symbol, chunk.container)),
            ("template", template_query(summary, chunk.symbol, chunk.language, salt)),
            ("keywords", keyword_query(summary, chunk.symbol)),
        ):
            if text and text.lower() != summary.lower() and all(text != q for _, q in queries):
                queries.append([style, text])
        stripped = replace(chunk, text=code)
        records.append(
            Record(
                source=source,
                language=chunk.language,
                path=rel_path,
                symbol=chunk.qualified_name,
                kind=chunk.kind,
                positive=encoder_input(stripped),
                queries=queries,
                hash=code_key(code),
            )
        )
    return records


def iter_files(root: Path, max_bytes: int) -> Iterator[tuple[Path, str]]:
    """(absolute path, repo-relative path) of candidate source files under ``root``."""
    from codekin.parsers import detect_language

    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS and not d.startswith("."))
        if "src" in dirnames:  # npm packages: compiled copies of src/ in dist/ or build/
            dirnames[:] = [d for d in dirnames if d not in BUILD_DIRS]
        for name in sorted(filenames):
            if name.endswith(SKIP_SUFFIXES) or name.startswith("."):
                continue
            path = Path(dirpath) / name
            rel = path.relative_to(root).as_posix()
            if detect_language(name, b"") is None:
                continue
            try:
                size = path.stat().st_size
            except OSError:
                continue
            if 0 < size <= max_bytes:
                yield path, repo_relative(rel)


def _mine_file(args: tuple[str, str, str, MineConfig]) -> list[Record]:
    source, abs_path, rel, config = args
    try:
        data = Path(abs_path).read_bytes()
        return mine_text(source, rel, data, config)
    except Exception:  # one odd file must not stop a corpus
        return []


def mine_source(
    src: Source, cache: Path, config: MineConfig, pool: ProcessPoolExecutor | None
) -> list[Record]:
    root = source_dir(cache, src)
    jobs = [(src.name, str(p), rel, config) for p, rel in iter_files(root, config.max_file_bytes)]
    results: list[Record] = []
    if pool is None:
        for job in jobs:
            results.extend(_mine_file(job))
    else:
        for recs in pool.map(_mine_file, jobs, chunksize=16):
            results.extend(recs)
    return results


def dedupe_and_cap(
    records: list[Record], seen_hashes: set[str], seen_summaries: set[tuple[str, str]], cap: int, seed: int
) -> list[Record]:
    """Drop definitions already seen (by content) and repeated summaries; keep at most ``cap``."""
    kept: list[Record] = []
    for rec in records:
        summary_key = (rec.language, rec.queries[0][1].lower())
        if rec.hash in seen_hashes or summary_key in seen_summaries:
            continue
        seen_hashes.add(rec.hash)
        seen_summaries.add(summary_key)
        kept.append(rec)
    if len(kept) > cap:
        kept.sort(key=lambda r: hashlib.blake2b(f"{seed}:{r.hash}".encode(), digest_size=8).digest())
        kept = sorted(kept[:cap], key=lambda r: (r.path, r.symbol))
    return kept


def mine_all(
    sources: list[Source], cache: Path, out: Path, config: MineConfig, *, workers: int = 2
) -> dict[str, object]:
    """Mine every fetched source; write ``train.jsonl``, ``valid.jsonl`` and ``stats.json`` to ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    missing = [s.name for s in sources if not is_fetched(cache, s)]
    ready = [s for s in sources if is_fetched(cache, s)]
    # Held-out sources first: a definition that appears in both stays out of training.
    ordered = [s for s in ready if s.held_out] + [s for s in ready if not s.held_out]
    seen_hashes: set[str] = set()
    seen_summaries: set[tuple[str, str]] = set()
    per_source: dict[str, dict[str, int]] = {}
    per_language: dict[str, dict[str, int]] = {"train": {}, "valid": {}}
    files = {split: open(out / f"{split}.jsonl.part", "w") for split in ("train", "valid")}  # noqa: SIM115
    pool = ProcessPoolExecutor(workers) if workers > 1 else None
    try:
        with Progress("mine", len(ordered), every_s=0.0) as progress:
            for src in ordered:
                raw = mine_source(src, cache, config, pool)
                kept = dedupe_and_cap(raw, seen_hashes, seen_summaries, config.per_source_cap, config.seed)
                split = "valid" if src.held_out else "train"
                langs = Counter(r.language for r in kept)
                per_source[src.name] = {
                    "split_valid": int(src.held_out),
                    "raw": len(raw),
                    "kept": len(kept),
                    **langs,
                }
                for lang, n in langs.items():
                    per_language[split][lang] = per_language[split].get(lang, 0) + n
                for rec in kept:
                    files[split].write(rec.to_json() + "\n")
                progress.advance(1, f"{src.name}: {len(kept)}/{len(raw)}")
    finally:
        if pool is not None:
            pool.shutdown()
        for fh in files.values():
            fh.close()
    for split in files:
        (out / f"{split}.jsonl.part").replace(out / f"{split}.jsonl")
    styles: Counter[str] = Counter()
    for split in files:
        with open(out / f"{split}.jsonl") as fh:
            for line in fh:
                styles.update(f"{split}:{s}" for s, _ in json.loads(line)["queries"])
    stats: dict[str, object] = {
        "per_source": per_source,
        "per_language": per_language,
        "query_styles": dict(styles),
        "not_fetched": missing,
        "config": asdict(config),
    }
    (out / "stats.json").write_text(json.dumps(stats, indent=1, sort_keys=True) + "\n")
    return stats
