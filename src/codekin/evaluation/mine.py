"""``codekin eval --mine``: a query set built from a repository's own doc comments.

Every documented definition whose doc comment has a usable first sentence yields the query
"that sentence" -> "that definition". So that the answer cannot be found by matching the
comment itself, the repository is copied into a separate tree with those doc comments removed;
the copy is what gets indexed and searched, and the targets' lines refer to it. The copy is
written redacted (codekin.redact), as the index stores it: no secret of the repository lands
there in clear.
"""

from __future__ import annotations

import logging
import random
import shutil
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from codekin.evaluation.dataset import EvalQuery, Target
from codekin.files import FileFilter, SkipFile, read_source
from codekin.parsers import chunk_file
from codekin.parsers.doc_comments import clean_query, parse_python, python_source, split_doc
from codekin.redact import Redactor

log = logging.getLogger(__name__)

DEFINITION_KINDS = frozenset({"function", "method", "class", "interface", "struct", "enum", "trait"})
MIN_CODE_CHARS = 40  # a definition shorter than this without its doc is too trivial to look for
TREE_STAMP = ".stamp"  # "<tree>.stamp" beside a tree marks it as one this module may empty and rewrite

MineProgress = Callable[[int, int], None]  # (files done, files total)


@dataclass(frozen=True)
class MinedSet:
    queries: list[EvalQuery]
    files: int  # files copied into the stripped tree
    documented: int  # definitions that gave a usable query, before sampling


@dataclass(frozen=True)
class StrippedDefinition:
    kind: str
    qualified_name: str
    query: str


def strip_doc_comments(
    rel: str, data: bytes, max_chunk_bytes: int = 4000
) -> tuple[bytes, list[StrippedDefinition]]:
    """The file with the doc comments of its documented definitions removed, and those
    definitions with the query each doc comment gave."""
    chunks = chunk_file(rel, data, max_chunk_bytes=max_chunk_bytes)
    names = Counter((c.kind, c.qualified_name) for c in chunks)
    edits: list[tuple[int, int, bytes]] = []
    found: list[StrippedDefinition] = []
    for c in chunks:
        if c.kind not in DEFINITION_KINDS or not c.symbol or names[(c.kind, c.qualified_name)] > 1:
            continue  # pieces of one long definition, or overloads: the answer would be ambiguous
        if data[c.start_byte : c.end_byte].decode("utf-8", "replace") != c.text:
            continue  # undecodable bytes: the edit could not be mapped back
        split = split_doc(c.text, c.language, c.start_col)
        if split is None:
            continue
        code = split.code.lstrip(" \t")  # the file already indents the definition's first line
        query = clean_query(split.doc)
        if query is None or len(code.strip()) < MIN_CODE_CHARS:
            continue
        if c.language == "python" and parse_python(python_source(code, c.start_col)) is None:
            continue  # the docstring was the whole body: removing it would break the file
        edits.append((c.start_byte, c.end_byte, code.encode("utf-8")))
        found.append(StrippedDefinition(c.kind, c.qualified_name, query))
    for start, end, new in reversed(edits):  # chunks are disjoint and in file order
        data = data[:start] + new + data[end:]
    return data, found


def mine_repository(
    file_filter: FileFilter,
    out_tree: Path,
    *,
    limit: int = 200,
    seed: int = 0,
    max_chunk_bytes: int = 4000,
    progress: MineProgress | None = None,
    redactor: Redactor | None = None,
) -> MinedSet:
    """Copy the indexable files under ``file_filter.root`` into ``out_tree`` with doc comments
    stripped and secrets masked by ``redactor`` (the built-in rules when None), and return up to
    ``limit`` queries (a seeded sample) whose targets are in the copy."""
    redactor = redactor or Redactor()
    _reset_tree(out_tree)
    entries = list(file_filter.walk())
    candidates: list[EvalQuery] = []
    copied = 0
    for done, entry in enumerate(entries, 1):
        try:
            data = read_source(entry)
        except (SkipFile, OSError) as exc:
            log.info("eval: skipped %s: %s", entry.rel, exc)
            continue
        data = redactor.redact(data, entry.rel).data  # same length and lines: spans stay exact
        stripped, defs = strip_doc_comments(entry.rel, data, max_chunk_bytes)
        dest = out_tree / entry.rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(stripped)
        copied += 1
        if defs:
            candidates += _locate(entry.rel, stripped, defs, max_chunk_bytes)
        if progress:
            progress(done, len(entries))
    counts = Counter(q.query.lower() for q in candidates)
    unique = [q for q in candidates if counts[q.query.lower()] == 1]  # a repeated sentence is ambiguous
    chosen = unique if len(unique) <= limit else random.Random(seed).sample(unique, limit)
    chosen.sort(key=lambda q: (q.targets[0].path, q.targets[0].start_line or 0))
    return MinedSet(chosen, copied, len(unique))


def _locate(
    rel: str, stripped: bytes, defs: list[StrippedDefinition], max_chunk_bytes: int
) -> list[EvalQuery]:
    """Queries whose target is the definition's chunk in the stripped file."""
    spans: dict[tuple[str, str], list[tuple[int, int]]] = {}
    for c in chunk_file(rel, stripped, max_chunk_bytes=max_chunk_bytes):
        spans.setdefault((c.kind, c.qualified_name), []).append((c.start_line + 1, c.end_line + 1))
    out: list[EvalQuery] = []
    for d in defs:
        found = spans.get((d.kind, d.qualified_name), [])
        if len(found) == 1:
            start, end = found[0]
            out.append(EvalQuery(d.query, (Target(rel, start, end),)))
    return out


def _reset_tree(tree: Path) -> None:
    stamp = tree.with_name(tree.name + TREE_STAMP)
    if tree.exists() and any(tree.iterdir()):
        if not stamp.exists():
            raise FileExistsError(f"{tree} exists and was not made by codekin eval; refusing to empty it")
        shutil.rmtree(tree)
    tree.mkdir(parents=True, exist_ok=True)
    stamp.write_text(f"{tree.name}/ is a stripped copy made by `codekin eval --mine`; safe to delete\n")
