"""Query sets for bench/quality.py.

- CoSQA dev: real web queries paired with Python functions (the pairs labelled relevant);
  the corpus is every distinct function of the split, one file each.
- stdlib: docstring -> function pairs mined with ``ast`` from a seeded sample of the Python
  standard library; the query is the docstring's first sentence and the indexed copy of each
  module has every docstring removed, so the answer cannot be found by matching the query text.
"""

from __future__ import annotations

import ast
import io
import json
import random
import re
import sysconfig
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from codekin.files import FileFilter


@dataclass(frozen=True)
class Target:
    path: str  # workspace-relative, "/" separators
    start_line: int = 0  # 1-based inclusive; 0 means any chunk of the file counts
    end_line: int = 0


@dataclass(frozen=True)
class Query:
    text: str
    target: Target


@dataclass
class Dataset:
    name: str
    files: dict[str, str]  # relative path -> text
    queries: list[Query]
    notes: list[str] = field(default_factory=list)

    def write(self, root: Path) -> None:
        for rel, text in self.files.items():
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")


# --- CoSQA --------------------------------------------------------------------------------------
def load_cosqa(path: Path, *, max_queries: int = 0, max_files: int = 0, seed: int = 0) -> Dataset:
    """Relevant (label 1) pairs as query -> file; every distinct ``code`` is one file.

    ``max_queries``/``max_files`` (0 = all) take seeded samples; the sampled queries' targets are
    always kept in the corpus."""
    rows = json.loads(path.read_text(encoding="utf-8"))
    file_of: dict[str, str] = {}
    for row in rows:
        code = row["code"]
        if code not in file_of:
            file_of[code] = f"cosqa/fn_{len(file_of):04d}.py"
    queries = [Query(r["doc"].strip(), Target(file_of[r["code"]])) for r in rows if int(r["label"]) == 1]
    rng = random.Random(seed)
    if 0 < max_queries < len(queries):
        keep = set(rng.sample(range(len(queries)), max_queries))
        queries = [q for i, q in enumerate(queries) if i in keep]
    files = {rel: code if code.endswith("\n") else code + "\n" for code, rel in file_of.items()}
    if 0 < max_files < len(files):
        needed = {q.target.path for q in queries}
        others = sorted(set(files) - needed)
        extra = set(rng.sample(others, max(0, max_files - len(needed))))
        files = {rel: text for rel, text in files.items() if rel in needed or rel in extra}
    notes = [f"{len(rows)} pairs, {len(file_of)} distinct functions, {len(queries)} relevant queries used"]
    return Dataset("cosqa", files, queries, notes)


# --- docstring stripping ------------------------------------------------------------------------
@dataclass(frozen=True)
class FunctionInfo:
    qualname: str
    start_line: int  # 1-based inclusive, in the stripped text (first decorator or ``def``)
    end_line: int
    docstring: str | None  # from the original source, cleaned (``ast.get_docstring``)
    only_docstring: bool  # the body was just the docstring (now ``pass``)


@dataclass(frozen=True)
class StrippedModule:
    text: str
    functions: list[FunctionInfo]  # functions and methods, not nested ones, in source order


_DOC_OWNERS = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
_FUNCS = (ast.FunctionDef, ast.AsyncFunctionDef)


def _docstring_expr(node: ast.AST) -> ast.Expr | None:
    body = getattr(node, "body", None)
    if isinstance(node, _DOC_OWNERS) and body:
        first = body[0]
        if (
            isinstance(first, ast.Expr)
            and isinstance(first.value, ast.Constant)
            and isinstance(first.value.value, str)
        ):
            return first
    return None


def _functions(tree: ast.Module) -> list[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]]:
    """Module-level functions and methods (of classes at any depth outside functions)."""
    found: list[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]] = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, _FUNCS):
                found.append((prefix + child.name, child))
            elif isinstance(child, ast.ClassDef):
                visit(child, f"{prefix}{child.name}.")
            else:
                visit(child, prefix)

    visit(tree, "")
    return found


def _lines(source: str) -> list[bytes]:
    # Split like the tokenizer (\n, \r\n, \r only; not \f or \x1c) and work in UTF-8 bytes,
    # because ast column offsets are byte offsets.
    return [line.encode("utf-8") for line in io.StringIO(source, newline="").readlines()]


def strip_docstrings(source: str) -> StrippedModule:
    """Remove every module, class and function docstring.

    A docstring on lines of its own is deleted with its lines; one that is the whole body becomes
    ``pass``; one sharing a line with other code is replaced by ``pass`` in place. The result
    parses, and the spans of functions are those of the stripped text."""
    tree = ast.parse(source)
    lines = _lines(source)
    exprs = [(e, len(getattr(n, "body", ())) == 1) for n in ast.walk(tree) if (e := _docstring_expr(n))]
    for expr, sole in sorted(exprs, key=lambda item: -item[0].lineno):
        first, last = expr.lineno - 1, (expr.end_lineno or expr.lineno) - 1
        prefix = lines[first][: expr.col_offset]
        suffix = lines[last][expr.end_col_offset or 0 :]
        own_lines = not prefix.strip() and (not suffix.strip() or suffix.lstrip().startswith(b"#"))
        if own_lines and not sole:
            replacement: list[bytes] = []
        else:
            replacement = [prefix + b"pass" + suffix]
        lines[first : last + 1] = replacement
    text = b"".join(lines).decode("utf-8")
    stripped_tree = ast.parse(text)
    before, after = _functions(tree), _functions(stripped_tree)
    if [q for q, _ in before] != [q for q, _ in after]:  # cannot happen: structure is unchanged
        raise AssertionError("docstring stripping changed the function structure")
    functions = []
    for (qualname, old), (_, new) in zip(before, after, strict=True):
        start = min([new.lineno, *(d.lineno for d in new.decorator_list)])
        only = len(old.body) == 1 and _docstring_expr(old) is not None
        functions.append(
            FunctionInfo(qualname, start, new.end_lineno or new.lineno, ast.get_docstring(old), only)
        )
    return StrippedModule(text, functions)


# --- stdlib docstring -> function ---------------------------------------------------------------
SKIP_DIRS = frozenset(
    {"test", "tests", "idle_test", "turtledemo", "site-packages", "__pycache__", "pydoc_data", "encodings"}
)
MIN_MODULE_BYTES = 2_000
MAX_MODULE_BYTES = 150_000
MIN_WORDS, MAX_WORDS = 4, 30
MIN_CHARS, MAX_CHARS = 20, 200
_BAD_STARTS = ("see ", "same as", "alias", "deprecated", "xxx", "todo", "override", "internal use")
_SENTENCE_END = re.compile(r"(.+?[.!?])(?=\s+[A-Z]|$)")  # not "e.g. 20", "i.e. x"
_SIGNATURE = re.compile(r"^[\w.]+\(.*\)")


def first_sentence(docstring: str) -> str:
    """The first sentence of the first paragraph, on one line."""
    paragraph = " ".join(docstring.strip().split("\n\n", 1)[0].split())
    m = _SENTENCE_END.match(paragraph)
    return m.group(1) if m else paragraph


def usable_query(sentence: str) -> bool:
    """Length filters plus a few shapes that are not queries (signatures, doctests, cross-refs)."""
    words = sentence.split()
    if not (MIN_WORDS <= len(words) <= MAX_WORDS and MIN_CHARS <= len(sentence) <= MAX_CHARS):
        return False
    lower = sentence.lower()
    return not (lower.startswith(_BAD_STARTS) or ">>>" in sentence or _SIGNATURE.match(sentence))


def stdlib_root() -> Path:
    return Path(sysconfig.get_paths()["stdlib"])


def stdlib_candidates(root: Path) -> list[str]:
    """Module paths worth sampling: not tests/demos/data, size-limited, parseable, indexable."""
    file_filter = FileFilter(root)
    found = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        parts = rel.split("/")
        if any(p in SKIP_DIRS or p.startswith("config-") for p in parts[:-1]) or file_filter.is_ignored(rel):
            continue
        if not MIN_MODULE_BYTES <= path.stat().st_size <= MAX_MODULE_BYTES:
            continue
        try:
            ast.parse(path.read_text(encoding="utf-8"))
        except (SyntaxError, UnicodeDecodeError, ValueError):
            continue
        found.append(rel)
    return found


def load_stdlib(
    root: Path | None = None, *, modules: int = 40, max_queries: int = 500, seed: int = 0
) -> Dataset:
    """A seeded sample of ``modules`` stdlib modules, docstrings stripped, and up to
    ``max_queries`` first-sentence queries whose target is the documented function's span."""
    root = root or stdlib_root()
    candidates = stdlib_candidates(root)
    chosen = sorted(random.Random(seed).sample(candidates, min(modules, len(candidates))))
    files: dict[str, str] = {}
    pool: list[Query] = []
    documented = 0
    for rel in chosen:
        stripped = strip_docstrings((root / rel).read_text(encoding="utf-8"))
        files[rel] = stripped.text
        for fn in stripped.functions:
            if fn.docstring is None:
                continue
            documented += 1
            name = fn.qualname.rsplit(".", 1)[-1]
            sentence = first_sentence(fn.docstring)
            if fn.only_docstring or name.startswith("test") or not usable_query(sentence):
                continue
            pool.append(Query(sentence, Target(rel, fn.start_line, fn.end_line)))
    counts = Counter(q.text.lower() for q in pool)
    unique = [q for q in pool if counts[q.text.lower()] == 1]  # an ambiguous query has no one answer
    queries = unique
    if 0 < max_queries < len(unique):
        keep = set(random.Random(seed + 1).sample(range(len(unique)), max_queries))
        queries = [q for i, q in enumerate(unique) if i in keep]
    notes = [
        f"root {root}, {len(candidates)} candidate modules, {len(chosen)} sampled (seed {seed})",
        f"{documented} documented functions, {len(pool)} usable first sentences, "
        f"{len(unique)} unambiguous, {len(queries)} used",
    ]
    return Dataset("stdlib", files, queries, notes)
