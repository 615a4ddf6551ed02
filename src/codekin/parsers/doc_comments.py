"""Doc comments: split a chunk's text into (doc, code without the doc) and turn a doc's first
sentence into a search query.

Pure functions (no tree-sitter, no model). ``codekin eval --mine`` and the training miner both
build their query -> definition pairs with them.
"""

from __future__ import annotations

import ast
import re
import textwrap
import warnings
from dataclasses import dataclass

# Line-comment markers per language family; block comments are /* ... */ (C family) or the
# language-specific pairs below.
_C_FAMILY = frozenset(
    {
        "javascript",
        "typescript",
        "tsx",
        "go",
        "rust",
        "java",
        "c",
        "cpp",
        "csharp",
        "kotlin",
        "scala",
        "swift",
        "zig",
    }
)
_LINE: dict[str, tuple[str, ...]] = {
    **{lang: ("//",) for lang in _C_FAMILY},
    "php": ("//", "#"),
    "python": ("#",),
    "ruby": ("#",),
    "bash": ("#",),
    "elixir": ("#",),
    "lua": ("--",),
    "haskell": ("--",),
}
_BLOCK: dict[str, tuple[str, str]] = {
    **{lang: ("/*", "*/") for lang in _C_FAMILY if lang != "zig"},
    "php": ("/*", "*/"),
    "lua": ("--[[", "]]"),
    "haskell": ("{-", "-}"),
}
# Lines that may sit among doc comments and belong to the definition (attributes, annotations).
_ATTRIBUTE = re.compile(r"^\s*(#\[|#!\[|@[A-Za-z_]|\[[A-Z][\w.]*(\(|\]))")
_SHEBANG = re.compile(r"^#!(?!\[)")


@dataclass(frozen=True)
class DocSplit:
    doc: str  # raw doc text, comment markers removed, lines joined with "\n"
    code: str  # the chunk text with the doc removed
    style: str  # "docstring" | "comment"


def _strip_markers(line: str, language: str) -> str:
    s = line.strip()
    for marker in (
        "/**",
        "/*!",
        "/*",
        "*/",
        "--[[",
        "]]",
        "{-",
        "-}",
        "///",
        "//!",
        "//",
        "---",
        "--",
        "##",
        "#",
    ):
        if s.startswith(marker) and (marker != "#" or language in _LINE and "#" in _LINE[language]):
            s = s[len(marker) :]
            break
    if s.endswith("*/"):
        s = s[:-2]
    if s.startswith("*") and not s.startswith("**"):
        s = s[1:]
    s = s.lstrip("|^ ").rstrip()  # Haskell "-- |", "-- ^"
    return s


def leading_comment(text: str, language: str) -> DocSplit | None:
    """The comment lines at the top of a chunk (its attached doc comment), and the rest."""
    line_markers = _LINE.get(language, ())
    block = _BLOCK.get(language)
    lines = text.split("\n")
    doc_lines: list[str] = []
    kept: list[str] = []
    in_block = False
    i = 0
    for i, line in enumerate(lines):  # noqa: B007 - i is used after the loop
        s = line.strip()
        if in_block:
            doc_lines.append(_strip_markers(line, language))
            if block and block[1] in s:
                in_block = False
            continue
        if not s:
            if doc_lines:
                doc_lines.append("")
            continue
        if block and s.startswith(block[0]):
            doc_lines.append(_strip_markers(line, language))
            in_block = block[1] not in s[len(block[0]) :]
            continue
        if line_markers and any(s.startswith(m) for m in line_markers) and not _ATTRIBUTE.match(s):
            if _SHEBANG.match(s):
                break
            doc_lines.append(_strip_markers(line, language))
            continue
        if _ATTRIBUTE.match(s) and language not in ("python",):
            kept.append(line)
            continue
        break
    else:
        return None  # nothing but comments
    if not any(d.strip() for d in doc_lines):
        return None
    code = "\n".join([*kept, *lines[i:]])
    return DocSplit("\n".join(doc_lines).strip(), code, "comment")


def python_source(text: str, start_col: int) -> str:
    """A chunk's Python text as a module: its first line re-indented to ``start_col``, dedented."""
    return textwrap.dedent(" " * start_col + text)


def parse_python(source: str) -> ast.Module | None:
    """The module's tree, or None when it does not parse (warnings silenced)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ast.parse(source)
    except (SyntaxError, ValueError):
        return None


def python_docstring(text: str, start_col: int) -> DocSplit | None:
    """A Python definition's docstring (must occupy whole lines) and the text without it."""
    source = python_source(text, start_col)
    tree = parse_python(source)
    if tree is None:
        return None
    defs = [n for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)]
    if len(defs) != 1:
        return None
    node = defs[0]
    doc = ast.get_docstring(node, clean=True)
    if not doc or not node.body:
        return None
    first = node.body[0]
    end = first.end_lineno
    if end is None or first.lineno <= node.body[0].lineno - 1:
        return None
    lines = text.split("\n")
    src_lines = source.split("\n")
    # Whole lines only: nothing but the string on its first and last line.
    if src_lines[first.lineno - 1][: first.col_offset].strip():
        return None
    if src_lines[end - 1][first.end_col_offset or 0 :].strip():
        return None
    code = "\n".join(lines[: first.lineno - 1] + lines[end:])
    return DocSplit(doc, code, "docstring")


def split_doc(text: str, language: str, start_col: int = 0) -> DocSplit | None:
    """The definition's documentation and its text without it; None when it has none."""
    if language == "python":
        lead = leading_comment(text, language)
        body = lead.code if lead else text
        found = python_docstring(body, start_col)
        if found is not None:
            return found
        return lead
    return leading_comment(text, language)


# ---------------------------------------------------------------- doc -> query text

_BOILERPLATE = re.compile(
    r"copyright|licen[cs]e|spdx|all rights reserved|permission is hereby|generated by|do not edit|"
    r"eslint|prettier-ignore|istanbul|noinspection|pylint|type:\s*ignore|@ts-|nolint|todo|fixme|xxx|"
    r"inheritdoc|^see\b|^deprecated|^internal\b|^private\b|^override|^(c|d)tor\b|^constructor\.?$",
    re.I,
)
_INLINE = [
    (
        re.compile(r"\{@(?:link|linkplain|code|literal)\s+([^}\s]+)(?:\s+([^}]*))?\}"),
        lambda m: m.group(2) or m.group(1),
    ),
    (
        re.compile(r":[a-z]+:`~?([^`]+)`"),
        lambda m: m.group(1).split(".")[-1] if "." in m.group(1) else m.group(1),
    ),
    (re.compile(r"\[([^\]]+)\]\([^)]*\)"), lambda m: m.group(1)),
    (re.compile(r"\[`([^`\]]+)`\]"), lambda m: m.group(1)),
    (re.compile(r"`+([^`]+)`+"), lambda m: m.group(1)),
    (re.compile(r"</?[a-zA-Z][^>]*>"), lambda m: ""),
    (re.compile(r"\*\*([^*]+)\*\*"), lambda m: m.group(1)),
    (
        re.compile(r"&(lt|gt|amp|quot);"),
        lambda m: {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}[m.group(1)],
    ),
]
_SECTION = re.compile(
    r"^\s*(@\w+|:\w+|Args?:|Arguments:|Parameters|Returns?:|Raises:|Yields:|Examples?:|Notes?:|"
    r"Params:|Throws:|See also|\.\. |>>>|```|-{3,}|={3,}|#\s*(Examples?|Panics|Errors|Safety))",
    re.I,
)
_SENTENCE_END = re.compile(r"(?<!\be\.g)(?<!\bi\.e)(?<!\betc)(?<!\bvs)\.(?=\s|$)|[!?](?=\s|$)|:\s*$")


def first_sentence(doc: str) -> str:
    """The summary: first paragraph up to its first sentence end, markup removed, one line."""
    para: list[str] = []
    for line in doc.split("\n"):
        if not line.strip():
            if para:
                break
            continue
        if _SECTION.match(line):
            break
        para.append(line.strip())
    text = " ".join(para)
    for pattern, repl in _INLINE:
        text = pattern.sub(repl, text)
    text = " ".join(text.split())
    m = _SENTENCE_END.search(text)
    if m:
        text = text[: m.start()]
    return text.strip(" .:;,-")


def clean_query(doc: str, *, min_words: int = 3, max_words: int = 40) -> str | None:
    """A doc comment's first sentence as a query, or None when it is not a usable description."""
    text = first_sentence(doc)
    words = text.split()
    if not (min_words <= len(words) <= max_words):
        return None
    if _BOILERPLATE.search(text) or not re.search(r"[A-Za-z]{3}", text):
        return None
    letters = sum(c.isalpha() or c == " " for c in text)
    if letters < 0.7 * len(text):
        return None  # mostly code, paths or symbols
    return text
