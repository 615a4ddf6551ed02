"""Turning a file into Chunks: definitions from the syntax tree, loose code by rows, else windows."""

from __future__ import annotations

import re
from collections.abc import Sequence

from tree_sitter import Node

from codekin.parsers.definitions import Definition, find_definitions
from codekin.parsers.detect import HEAD_BYTES, detect_language, text_language
from codekin.parsers.grammar import new_parser
from codekin.parsers.languages import LANGUAGE_SPECS, LanguageSpec
from codekin.parsers.model import Chunk
from codekin.parsers.spans import SourceText
from codekin.parsers.splitting import split_span
from codekin.parsers.windows import window_chunks

_WORDS = re.compile(rb"[\w\x80-\xff]+")
_BLOCK_TERMINATORS = frozenset({b"end"})


def _body_cuts(node: Node) -> list[int]:
    """Start offsets of the statements of a definition's body (preferred split points)."""
    current = node
    for _ in range(4):
        body = current.child_by_field_name("body")
        if body is None:
            named = current.named_children
            if not named:
                break
            body = max(named, key=lambda n: n.end_byte - n.start_byte)
        if body.named_child_count > 1:
            return [child.start_byte for child in body.named_children]
        current = body
    return []


class _Builder:
    """Collects the chunks of one parsed file."""

    def __init__(self, src: SourceText, budget: int) -> None:
        self.src = src
        self.budget = budget
        self.chunks: list[Chunk] = []

    def add(self, kind: str, symbol: str, container: str, start: int, end: int, node: Node | None) -> None:
        """One chunk for [start, end) or, over budget, consecutive pieces split along ``node``'s body."""
        start, end = self.src.trim(start, end)
        if end <= start:
            return
        if end - start <= self.budget:
            self.chunks.append(self.src.chunk(kind, symbol, container, start, end))
            return
        cuts = _body_cuts(node) if node is not None else []
        for s, e in split_span(self.src, start, end, cuts, self.budget):
            self.chunks.append(self.src.chunk(kind, symbol, container, s, e))

    def definition(self, definition: Definition, path: tuple[str, ...]) -> None:
        container = ".".join(p for p in path if p) or definition.receiver
        if definition.is_function:
            kind = "method" if container else "function"
            self.add(kind, definition.name, container, definition.start, definition.end, definition.node)
            return
        children = definition.children
        header_end = children[0].start if children else definition.end
        self.add(definition.kind, definition.name, container, definition.start, header_end, definition.node)
        if not children:
            return
        inner = (*path, definition.name)
        for child in children:
            self.definition(child, inner)
        # Members after the first child that are not definitions (fields below methods, C++ sections).
        first_row = self.src.row_of(children[0].start)
        last_row = self.src.row_of(definition.end - 1)
        self.loose(first_row, last_row + 1, children, definition.kind, definition.name, container)

    def loose(
        self,
        first_row: int,
        stop_row: int,
        occupied: Sequence[Definition],
        kind: str,
        symbol: str,
        container: str,
    ) -> None:
        """Group the non-blank rows of [first_row, stop_row) outside ``occupied`` into chunks."""
        src = self.src
        row = first_row
        for definition in (*occupied, None):
            gap_stop = stop_row if definition is None else min(src.row_of(definition.start), stop_row)
            group: tuple[int, int] | None = None
            for r in range(row, gap_stop):
                s, e = src.trim(src.line_starts[r], src.row_end(r))
                if e <= s:
                    continue
                if group is not None and e - group[0] <= self.budget:
                    group = (group[0], e)
                    continue
                if group is not None:
                    self.group(kind, symbol, container, *group)
                group = (s, e)
            if group is not None:
                self.group(kind, symbol, container, *group)
            if definition is not None:
                row = max(row, src.row_of(max(definition.end - 1, definition.start)) + 1)

    def group(self, kind: str, symbol: str, container: str, start: int, end: int) -> None:
        words = _WORDS.findall(self.src.data[start:end])
        if all(word in _BLOCK_TERMINATORS for word in words):
            return  # only braces / ``end``: nothing worth indexing
        self.add(kind, symbol, container, start, end, None)


def _tree_chunks(src: SourceText, spec: LanguageSpec, budget: int) -> list[Chunk] | None:
    """Chunks from the syntax tree, or None when the tree is unusable."""
    tree = new_parser(spec.name).parse(src.data)
    roots = find_definitions(src, tree, spec)
    if not roots and tree.root_node.has_error:
        return None
    builder = _Builder(src, budget)
    for definition in roots:
        builder.definition(definition, ())
    builder.loose(0, src.row_count, roots, "module", "", "")
    return _disjoint(src, sorted(builder.chunks, key=lambda c: (c.start_byte, c.end_byte)))


def _disjoint(src: SourceText, chunks: list[Chunk]) -> list[Chunk]:
    """Guarantee non-overlapping chunks (only error-recovered trees need it): cut the earlier one short."""
    result: list[Chunk] = []
    for chunk in chunks:
        while result and result[-1].end_byte > chunk.start_byte:
            previous = result.pop()
            start, end = src.trim(previous.start_byte, chunk.start_byte)
            if end > start:
                result.append(src.chunk(previous.kind, previous.symbol, previous.container, start, end))
                break
        result.append(chunk)
    return result


def chunk_source(path: str, data: bytes, *, max_chunk_bytes: int = 4000) -> tuple[str, list[Chunk]]:
    """A file's language and its chunks, as an index records them: the language of its chunks
    (a grammar's, else a text kind such as "markdown"), or for a file without any, the grammar
    its name or shebang names, else "text". May raise on a parser bug (the caller skips the file)."""
    language = detect_language(path, data[:HEAD_BYTES])
    chunks = chunk_file(path, data, language, max_chunk_bytes=max_chunk_bytes)
    return (chunks[0].language if chunks else language or "text"), chunks


def chunk_file(
    path: str,
    data: bytes,
    language: str | None = None,
    *,
    max_chunk_bytes: int = 4000,
    window_lines: int = 40,
    window_overlap: int = 10,
) -> list[Chunk]:
    """Split one file into chunks (see the package docstring for the rules). Never raises on bad input."""
    if not data.strip():
        return []
    if language is None:
        language = detect_language(path, data[:HEAD_BYTES])
    spec = LANGUAGE_SPECS.get(language) if language else None
    if spec is not None:
        src = SourceText(path, spec.name, data)
        try:
            chunks = _tree_chunks(src, spec, max_chunk_bytes)
        except Exception:  # a grammar or query failure must not stop indexing: fall back to windows
            chunks = None
        if chunks is not None:
            return chunks
    else:
        src = SourceText(path, language or text_language(path), data)
    return window_chunks(src, window_lines, window_overlap, max_chunk_bytes)
