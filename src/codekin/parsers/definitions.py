"""Definitions found by a language's chunk query, with their full spans and nesting.

Query conventions (``queries/<language>.scm``):

* ``@definition.<kind>`` marks a definition node; ``<kind>`` is ``function``/``method`` or a
  container kind (``class``, ``interface``, ``struct``, ``enum``, ``trait``, ``impl``).
* ``@name`` is its name; ``@receiver`` (optional) names the type a free-standing method belongs to
  (Go receivers, Lua ``T:m``, C++ ``T::m``).
* ``@doc`` marks comments/attributes that document the definition directly below them.

When several patterns capture the same node, the earliest pattern wins.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from tree_sitter import Node, QueryCursor, Tree

from codekin.parsers.grammar import load_query
from codekin.parsers.languages import FUNCTION_KINDS, LanguageSpec
from codekin.parsers.spans import SourceText

_DEFINITION = "definition."
_MAX_NAME_BYTES = 200


@dataclass(eq=False)
class Definition:
    """A definition and the byte span it owns (doc comments, decorators and wrappers included)."""

    node: Node
    kind: str
    name: str
    receiver: str
    start: int
    end: int
    doc_starts: list[int] = field(default_factory=list)  # earlier starts offered by attached docs
    children: list[Definition] = field(default_factory=list)
    swallowed: bool = False  # inside a function: no chunk of its own

    @property
    def is_function(self) -> bool:
        return self.kind in FUNCTION_KINDS


def _name(src: SourceText, node: Node) -> str:
    """A captured name, whitespace collapsed (error-recovered trees can capture odd spans)."""
    text = src.data[node.start_byte : min(node.end_byte, node.start_byte + _MAX_NAME_BYTES)]
    return " ".join(text.decode("utf-8", "replace").split())


def _collect(src: SourceText, tree: Tree, spec: LanguageSpec) -> tuple[list[Definition], list[Node]]:
    matches = QueryCursor(load_query(spec.name)).matches(tree.root_node)
    best: dict[tuple[int, int, int], tuple[int, Definition]] = {}
    docs: list[Node] = []
    for pattern, captures in matches:
        if "doc" in captures:
            docs.extend(captures["doc"])
        for capture, nodes in captures.items():
            if not capture.startswith(_DEFINITION):
                continue
            node = nodes[0]
            key = (node.start_byte, node.end_byte, node.kind_id)
            if key in best and best[key][0] <= pattern:
                continue
            names = captures.get("name")
            receivers = captures.get("receiver")
            definition = Definition(
                node=node,
                kind=capture[len(_DEFINITION) :],
                name=_name(src, names[0]) if names else "",
                receiver=_name(src, receivers[0]) if receivers else "",
                start=node.start_byte,
                end=node.end_byte,
            )
            best[key] = (pattern, definition)
    definitions = sorted((d for _, d in best.values()), key=lambda d: (d.node.start_byte, -d.node.end_byte))
    docs = sorted({(n.start_byte, n.end_byte): n for n in docs}.values(), key=lambda n: n.start_byte)
    return definitions, docs


def _extend(
    src: SourceText, definition: Definition, spec: LanguageSpec, docs: list[Node], doc_ends: list[int]
) -> None:
    """Grow the span over wrappers, a trailing ``;`` and the docs/attributes directly above."""
    node = definition.node
    parent = node.parent
    # A wrapper (decorators, ``export``, ``typedef``) must end where the definition ends; error
    # recovery can produce wrappers spanning far beyond it, which are ignored.
    while parent is not None and parent.type in spec.wrappers and parent.end_point.row == node.end_point.row:
        node, parent = parent, parent.parent
    start, end = node.start_byte, node.end_byte
    after = node.next_sibling
    if after is not None and after.type == ";" and after.start_point.row == node.end_point.row:
        end = after.end_byte
    index = bisect.bisect_right(doc_ends, start) - 1
    while index >= 0:
        doc = docs[index]
        if (
            doc.start_byte >= start
            or src.row_of(start) - src.row_of(max(doc.end_byte - 1, doc.start_byte)) > 1
            or not src.is_blank(doc.end_byte, start)
            or not src.starts_line(doc.start_byte)
        ):
            break
        definition.doc_starts.append(start)
        start = doc.start_byte
        index -= 1
    definition.start, definition.end = start, end


def _nest(definitions: list[Definition]) -> list[Definition]:
    """Build the definition tree; definitions inside functions are dropped (they stay in the parent)."""
    roots: list[Definition] = []
    stack: list[Definition] = []
    for definition in definitions:
        node = definition.node
        while stack and stack[-1].node.end_byte < node.end_byte:
            stack.pop()
        if stack:  # sorted by start, so the top of the stack contains this node
            parent = stack[-1]
            if parent.is_function or parent.swallowed:
                definition.swallowed = True
            else:
                parent.children.append(definition)
        else:
            roots.append(definition)
        stack.append(definition)
    return roots


def _tidy(siblings: list[Definition], spec: LanguageSpec, src: SourceText) -> list[Definition]:
    """Keep sibling spans disjoint and merge clause runs (``f 0 = ..`` / ``f n = ..``)."""
    result: list[Definition] = []
    for definition in siblings:
        definition.children = _tidy(definition.children, spec, src)
        if result:
            previous = result[-1]
            if definition.start < previous.end:
                later = [s for s in definition.doc_starts if s >= previous.end]
                definition.start = min(later) if later else max(definition.node.start_byte, previous.end)
            if (
                spec.merge_clauses
                and definition.is_function
                and previous.kind == definition.kind
                and previous.name == definition.name
                and src.is_blank(previous.end, definition.start)
            ):
                previous.end = max(previous.end, definition.end)
                continue
        result.append(definition)
    return result


def find_definitions(src: SourceText, tree: Tree, spec: LanguageSpec) -> list[Definition]:
    """Top-level definitions (each with its nested children), in source order."""
    definitions, docs = _collect(src, tree, spec)
    doc_ends = [d.end_byte for d in docs]
    for definition in definitions:
        _extend(src, definition, spec, docs, doc_ends)
    return _tidy(_nest(definitions), spec, src)
