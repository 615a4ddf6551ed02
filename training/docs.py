"""Query styles derived from a definition: identifier phrases, question-like templates, keywords.

Splitting doc comments off a chunk and cleaning them into queries lives in the runtime package
(:mod:`codekin.parsers.doc_comments`), shared with ``codekin eval --mine``.
"""

from __future__ import annotations

import re

from codekin.parsers.doc_comments import DocSplit, clean_query, first_sentence, split_doc

__all__ = [
    "DocSplit",
    "clean_query",
    "first_sentence",
    "identifier_query",
    "identifier_words",
    "keyword_query",
    "split_doc",
    "template_query",
]

# ---------------------------------------------------------------- identifier and template queries

_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")


def identifier_words(name: str) -> list[str]:
    """``parseHTTPDate`` / ``parse_http_date`` -> ["parse", "http", "date"]."""
    words: list[str] = []
    for part in re.split(r"[^A-Za-z0-9]+", name):
        words.extend(w.lower() for w in _CAMEL.findall(part))
    return words


def identifier_query(symbol: str, container: str) -> str | None:
    words = identifier_words(symbol)
    if len(words) < 2 and container:
        words = identifier_words(container.split(".")[-1]) + words
    if len(words) < 2 or words[0] in ("test", "tests"):
        return None
    return " ".join(words[:8])


_VERBS = {
    "return": "get",
    "get": "get",
    "create": "create",
    "make": "create",
    "build": "build",
    "compute": "compute",
    "calculate": "calculate",
    "check": "check",
    "test": "check",
    "convert": "convert",
    "parse": "parse",
    "read": "read",
    "write": "write",
    "add": "add",
    "remove": "remove",
    "delete": "delete",
    "set": "set",
    "find": "find",
    "load": "load",
    "save": "save",
    "generate": "generate",
    "format": "format",
    "validate": "validate",
    "determine": "determine",
    "open": "open",
    "close": "close",
    "send": "send",
    "register": "register",
    "initialize": "initialize",
    "initialise": "initialise",
    "update": "update",
    "apply": "apply",
    "sort": "sort",
    "merge": "merge",
    "split": "split",
    "encode": "encode",
    "decode": "decode",
    "copy": "copy",
    "resolve": "resolve",
    "render": "render",
    "handle": "handle",
    "wait": "wait",
    "start": "start",
    "stop": "stop",
    "count": "count",
    "compare": "compare",
    "insert": "insert",
    "append": "append",
    "extract": "extract",
    "normalize": "normalize",
    "normalise": "normalise",
    "serialize": "serialize",
    "print": "print",
    "emit": "emit",
    "fetch": "fetch",
    "reset": "reset",
    "clear": "clear",
    "filter": "filter",
    "map": "map",
    "replace": "replace",
    "escape": "escape",
}
_TEMPLATES = ("how to {v} {r}", "how do i {v} {r}", "{v} {r}", "{v} {r} in {lang}", "function to {v} {r}")
_STOP = frozenset(
    [
        "a",
        "an",
        "the",
        "of",
        "to",
        "in",
        "for",
        "on",
        "and",
        "or",
        "is",
        "are",
        "be",
        "by",
        "with",
        "this",
        "that",
        "from",
        "as",
        "it",
        "its",
        "if",
        "at",
        "which",
        "when",
    ]
)
_LANG_NAMES = {"cpp": "c++", "csharp": "c#", "tsx": "typescript"}


def _base_verb(word: str) -> str | None:
    w = word.lower()
    for candidate in (w, w[:-1] if w.endswith("s") else "", w[:-2] if w.endswith("es") else ""):
        if candidate in _VERBS:
            return _VERBS[candidate]
    return None


def template_query(summary: str, symbol: str, language: str, salt: int) -> str | None:
    """A question-like rewrite of a summary: "Returns the size of x" -> "how to get the size of x"."""
    words = summary.split()
    if words and symbol and words[0] in (symbol, symbol.split(".")[-1]):
        words = words[1:]  # Go / Java style "Foo returns ..."
    if len(words) < 3:
        return None
    if words[0].lower() in ("whether", "true") or summary.lower().startswith("returns true if"):
        rest = words[1:] if words[0].lower() == "whether" else words[3:]
        rest_text = " ".join(rest[:12]).lower()
        return f"check if {rest_text}" if rest else None
    verb = _base_verb(words[0])
    if verb is None:
        return None
    rest_text = " ".join(words[1:13]).lower().rstrip(".,;:")
    template = _TEMPLATES[salt % len(_TEMPLATES)]
    return template.format(v=verb, r=rest_text, lang=_LANG_NAMES.get(language, language))


def keyword_query(summary: str, symbol: str) -> str | None:
    """What people type into a search box: the summary's content words, at most six."""
    words = [w.strip(".,;:()'\"").lower() for w in summary.split()]
    if words and symbol and words[0] == symbol.lower():
        words = words[1:]
    content = [w for w in words if w and w not in _STOP and re.fullmatch(r"[a-z][a-z0-9_+#-]*", w)]
    if len(content) < 2:
        return None
    return " ".join(content[:6])
