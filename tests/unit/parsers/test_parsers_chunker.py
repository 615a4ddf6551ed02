"""Chunker behaviour beyond the per-language fixtures: budgets, fallbacks, bad input, spans."""

from __future__ import annotations

from pathlib import Path

import pytest

from codekin.parsers import CHUNK_KINDS, CHUNKER_VERSION, Chunk, chunk_file

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "parsers"


def _check_spans(data: bytes, chunks: list[Chunk]) -> None:
    lines = data.split(b"\n")
    for c in chunks:
        assert data[c.start_byte : c.end_byte].decode("utf-8", "replace") == c.text
        assert c.kind in CHUNK_KINDS
        assert c.start_line <= c.end_line
        start_of_line = sum(len(line) + 1 for line in lines[: c.start_line])
        assert c.start_byte == start_of_line + c.start_col
        end_of_line = sum(len(line) + 1 for line in lines[: c.end_line])
        assert c.end_byte == end_of_line + c.end_col


def test_version_is_a_string() -> None:
    assert isinstance(CHUNKER_VERSION, str) and CHUNKER_VERSION


@pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.iterdir()))
def test_spans_round_trip(name: str) -> None:
    data = (FIXTURES / name).read_bytes()
    chunks = chunk_file(name, data)
    assert chunks
    _check_spans(data, chunks)


def test_columns_are_byte_offsets() -> None:
    data = b"class A:\n    x = '\xc3\xa9'\n    def m(self):\n        return 1\n"
    chunks = chunk_file("a.py", data)
    method = chunks[1]
    assert (method.kind, method.qualified_name) == ("method", "A.m")
    assert (method.start_line, method.start_col, method.end_line, method.end_col) == (2, 4, 3, 16)
    header = chunks[0]
    assert (header.end_line, header.end_col) == (1, 12)  # 4 + len("x = 'é'") in bytes
    _check_spans(data, chunks)


def _big_function(statements: int) -> bytes:
    body = "".join(
        f"    value_{i} = compute({i}, 'some fairly long argument text')\n" for i in range(statements)
    )
    return ('import os\n\n\ndef big(a, b):\n    """Doc."""\n' + body + "    return a\n\n\nX = 1\n").encode()


def test_oversized_function_is_split_along_statements() -> None:
    data = _big_function(120)
    chunks = chunk_file("big.py", data, max_chunk_bytes=1000)
    pieces = [c for c in chunks if c.symbol == "big"]
    assert len(pieces) > 5
    assert {(c.kind, c.container) for c in pieces} == {("function", "")}
    assert all(len(c.text.encode()) <= 1000 for c in pieces)
    assert pieces[0].text.startswith("def big(a, b):")
    assert pieces[-1].text.endswith("return a")
    for previous, piece in zip(pieces, pieces[1:], strict=False):
        assert piece.start_line == previous.end_line + 1  # contiguous, no statement cut in half
        assert piece.text.startswith("value_") or piece.text.startswith("return")
    assert [c.kind for c in chunks] == ["module"] + ["function"] * len(pieces) + ["module"]
    _check_spans(data, chunks)


def test_oversized_statement_is_split_by_lines() -> None:
    items = "".join(f"        'key_{i}': {i},\n" for i in range(200))
    data = f"def table():\n    return {{\n{items}    }}\n".encode()
    chunks = chunk_file("t.py", data, max_chunk_bytes=500)
    assert len(chunks) > 3
    assert all(c.symbol == "table" and len(c.text.encode()) <= 500 for c in chunks)
    for previous, piece in zip(chunks, chunks[1:], strict=False):
        assert piece.start_line == previous.end_line + 1
    _check_spans(data, chunks)


def test_overlong_line_is_split_at_character_boundaries() -> None:
    data = ("x = '" + "é" * 3000 + "'\n").encode()
    chunks = chunk_file("long.py", data, max_chunk_bytes=1000)
    assert len(chunks) >= 6
    assert all(len(c.text.encode()) <= 1000 and "\ufffd" not in c.text for c in chunks)
    assert "".join(c.text for c in chunks) == data.decode().strip()
    _check_spans(data, chunks)


def test_oversized_class_header_is_split() -> None:
    fields = "".join(f"    field_{i}: int = {i}\n" for i in range(300))
    data = f"class Config:\n{fields}\n    def m(self):\n        return 1\n".encode()
    chunks = chunk_file("c.py", data, max_chunk_bytes=800)
    headers = [c for c in chunks if c.kind == "class"]
    assert len(headers) > 3 and all(c.symbol == "Config" for c in headers)
    assert all(len(c.text.encode()) <= 800 for c in headers)
    assert chunks[-1].qualified_name == "Config.m"


def test_module_code_is_grouped_under_budget() -> None:
    data = "".join(f"CONSTANT_{i} = {i}\n" for i in range(400)).encode()
    chunks = chunk_file("consts.py", data, max_chunk_bytes=1000)
    assert len(chunks) > 3
    assert all(c.kind == "module" and len(c.text.encode()) <= 1000 for c in chunks)
    assert chunks[0].start_line == 0 and chunks[-1].end_line == 399
    for previous, piece in zip(chunks, chunks[1:], strict=False):
        assert piece.start_line == previous.end_line + 1


def test_markdown_falls_back_to_overlapping_windows() -> None:
    data = "".join(f"line {i} of the readme\n" for i in range(100)).encode()
    chunks = chunk_file("docs/README.md", data)
    assert [(c.start_line, c.end_line) for c in chunks] == [(0, 39), (30, 69), (60, 99)]
    assert {(c.kind, c.symbol, c.container, c.language) for c in chunks} == {("window", "", "", "markdown")}
    _check_spans(data, chunks)


def test_window_parameters_and_languages() -> None:
    data = "".join(f"key{i}: {i}\n" for i in range(25)).encode()
    chunks = chunk_file("a.yaml", data, window_lines=10, window_overlap=3)
    assert [(c.start_line, c.end_line) for c in chunks] == [(0, 9), (7, 16), (14, 23), (21, 24)]
    assert chunks[0].language == "yaml"
    assert chunk_file("notes", b"hello\nworld\n")[0].language == "text"
    assert chunk_file("x.toml", b"a = 1\n")[0].language == "toml"
    assert chunk_file("x.json", b'{"a": 1}')[0].language == "json"


def test_windows_skip_blank_stretches_and_trim() -> None:
    data = b"title\n" + b"\n" * 60 + b"   tail  \n\n"
    chunks = chunk_file("x.md", data, window_lines=20, window_overlap=5)
    assert [(c.start_line, c.end_line, c.text) for c in chunks] == [(0, 0, "title"), (61, 61, "tail")]
    assert chunks[1].start_col == 3


def test_explicit_language_overrides_detection() -> None:
    chunks = chunk_file("script", b"def f():\n    return 1\n", language="python")
    assert [(c.kind, c.symbol, c.language) for c in chunks] == [("function", "f", "python")]
    chunks = chunk_file("x.py", b"def f():\n    return 1\n", language="markdown")
    assert [(c.kind, c.language) for c in chunks] == [("window", "markdown")]


def test_shebang_script_without_extension() -> None:
    data = b"#!/usr/bin/env python3\nimport sys\n\ndef main():\n    return 0\n"
    chunks = chunk_file("bin/tool", data)
    assert [(c.kind, c.symbol, c.start_line, c.end_line) for c in chunks] == [
        ("module", "", 0, 1),
        ("function", "main", 3, 4),
    ]
    assert chunks[0].language == "python"


@pytest.mark.parametrize("data", [b"", b"   \n\n\t  \r\n"])
@pytest.mark.parametrize("path", ["x.py", "x.md", "x.go", "unknown"])
def test_empty_and_whitespace_files(path: str, data: bytes) -> None:
    assert chunk_file(path, data) == []


def test_invalid_utf8_keeps_exact_byte_spans() -> None:
    data = b"# caf\xe9\nNAME = '\xff\xfe'\n\n\ndef f():\n    return '\xc3\xa9\x80'\n"
    chunks = chunk_file("bad.py", data)
    assert [(c.kind, c.symbol, c.start_line, c.end_line) for c in chunks] == [
        ("module", "", 0, 1),
        ("function", "f", 4, 5),
    ]
    assert "\ufffd" in chunks[0].text
    assert chunks[1].end_byte == len(data) - 1
    _check_spans(data, chunks)
    md = chunk_file("bad.md", b"ok\n\xff\xfe\xfd\n")
    assert [(c.start_byte, c.end_byte) for c in md] == [(0, 6)]


def test_syntax_errors_still_yield_chunks() -> None:
    data = (
        b"def ok():\n    return 1\n\ndef broken(:\n    pass\n\nclass K:\n    def m(self):\n        return 2\n"
    )
    chunks = chunk_file("err.py", data)
    got = [(c.kind, c.qualified_name, c.start_line, c.end_line) for c in chunks]
    assert ("function", "ok", 0, 1) in got
    assert ("method", "K.m", 7, 8) in got
    assert chunks[-1].end_byte == len(data) - 1
    _check_spans(data, chunks)


def test_unusable_tree_falls_back_to_windows() -> None:
    data = b")))(((\n}}}}\n" * 30
    chunks = chunk_file("junk.py", data)
    assert chunks and {(c.kind, c.language) for c in chunks} == {("window", "python")}
    _check_spans(data, chunks)


def test_binary_like_garbage_never_raises() -> None:
    data = bytes(range(256)) * 20
    for path in ("x.py", "x.c", "x.rs", "x.hs", "x.bin"):
        chunks = chunk_file(path, data)
        _check_spans(data, chunks)


def test_header_file_with_cpp_is_parsed_as_cpp() -> None:
    data = (
        b"#pragma once\n\nnamespace ns {\n\n"
        b"class Box {\n public:\n  int size() const { return n_; }\n\n private:\n  int n_;\n};\n\n}\n"
    )
    chunks = chunk_file("box.h", data)
    assert {c.language for c in chunks} == {"cpp"}
    assert [(c.kind, c.qualified_name) for c in chunks] == [
        ("module", ""),
        ("class", "Box"),
        ("method", "Box.size"),
        ("class", "Box"),
    ]
    c_chunks = chunk_file("point.h", b"struct point {\n  int x;\n};\n\nint norm(struct point p);\n")
    assert [(c.kind, c.symbol, c.language) for c in c_chunks] == [
        ("struct", "point", "c"),
        ("module", "", "c"),
    ]


def test_decorators_and_comments_belong_to_the_definition() -> None:
    data = (
        b"x = 1  # trailing\ndef a():\n    pass\n\n"
        b"# about b\n\n# directly above b\n@decorate\ndef b():\n    pass\n"
    )
    chunks = chunk_file("d.py", data)
    got = [(c.kind, c.symbol, c.start_line, c.end_line) for c in chunks]
    # A trailing comment on a code line is not a doc comment; a blank line detaches a comment.
    assert got == [
        ("module", "", 0, 0),
        ("function", "a", 1, 2),
        ("module", "", 4, 4),
        ("function", "b", 6, 9),
    ]


def test_out_of_line_cpp_method_uses_its_class_as_container() -> None:
    data = b"int Box::size() const {\n  return n_;\n}\n"
    chunks = chunk_file("box.cpp", data)
    assert [(c.kind, c.container, c.symbol) for c in chunks] == [("method", "Box", "size")]


def test_nested_classes_qualify_their_methods() -> None:
    data = b"class Outer:\n    class Inner:\n        def m(self):\n            pass\n"
    chunks = chunk_file("n.py", data)
    assert [(c.kind, c.symbol, c.container) for c in chunks] == [
        ("class", "Outer", ""),
        ("class", "Inner", "Outer"),
        ("method", "m", "Outer.Inner"),
    ]


@pytest.mark.parametrize(
    ("path", "source", "expected"),
    [
        (
            "a.kt",
            'interface Shape {\n    fun area(): Double\n    fun name(): String { return "s" }\n}\n\n'
            "enum class Color { RED, GREEN }\n",
            [("interface", "Shape"), ("method", "Shape.name"), ("enum", "Color")],
        ),
        (
            "a.ts",
            "abstract class Base {\n  abstract run(): void;\n  go() { return 1; }\n}\n\nenum Mode { A, B }\n",
            [("class", "Base"), ("method", "Base.go"), ("enum", "Mode")],
        ),
        (
            "a.swift",
            "protocol Shape {\n    func area() -> Double\n}\n\n"
            "extension Greeter: Shape {\n    func area() -> Double { return 1 }\n}\n",
            [("interface", "Shape"), ("impl", "Greeter"), ("method", "Greeter.area")],
        ),
        (
            "a.rs",
            "pub trait Shape {\n    fn area(&self) -> f64;\n"
            "    fn twice(&self) -> f64 {\n        2.0\n    }\n}\n\n"
            "impl<T: Clone> Shape for Wrapper<T> {\n    fn area(&self) -> f64 { 1.0 }\n}\n",
            [("trait", "Shape"), ("method", "Shape.twice"), ("impl", "Wrapper"), ("method", "Wrapper.area")],
        ),
        (
            "a.php",
            "<?php\ninterface Shape {\n    public function area(): float;\n}\n"
            "trait Named {\n    public function name() { return 1; }\n}\n",
            [("module", ""), ("interface", "Shape"), ("trait", "Named"), ("method", "Named.name")],
        ),
        (
            "a.c",
            "typedef struct {\n    int x;\n} point_t;\n\nenum color { RED, GREEN };\n\n"
            "static char *dup(const char *s) {\n    return 0;\n}\n",
            [("struct", "point_t"), ("enum", "color"), ("function", "dup")],
        ),
        (
            "a.go",
            "package a\n\n// Shape is a shape.\ntype Shape interface {\n\tArea() float64\n}\n\n"
            "func (b *Box[T]) Get() T {\n\treturn b.v\n}\n",
            [("module", ""), ("interface", "Shape"), ("method", "Box.Get")],
        ),
        (
            "a.java",
            "enum Color {\n  RED, GREEN;\n  int code() { return 1; }\n}\n",
            [("enum", "Color"), ("method", "Color.code")],
        ),
        ("a.zig", 'test "adds" {\n    try expect(1 == 1);\n}\n', [("function", "adds")]),
        ("a.lua", "local M = {}\nfunction M.util:run() end\n", [("module", ""), ("method", "M.util.run")]),
    ],
)
def test_other_definition_kinds(path: str, source: str, expected: list[tuple[str, str]]) -> None:
    data = source.encode()
    chunks = chunk_file(path, data)
    assert [(c.kind, c.qualified_name) for c in chunks] == expected
    _check_spans(data, chunks)

