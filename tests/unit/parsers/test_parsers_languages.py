"""Exact chunks for one realistic fixture per grammar language (rows are 0-based, inclusive)."""

from __future__ import annotations

from pathlib import Path

import pytest

from codekin.parsers import SUPPORTED_LANGUAGES, chunk_file, content_hash, detect_language

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "parsers"

# file -> (language, [(kind, qualified symbol, start_line, end_line), ...])
EXPECTED: dict[str, tuple[str, list[tuple[str, str, int, int]]]] = {
    "sample.py": (
        "python",
        [
            ("module", "", 0, 5),  # docstring, imports, constant
            ("class", "Greeter", 8, 13),  # comment + decorator + class line + docstring + attribute
            ("method", "Greeter.__init__", 15, 16),
            ("method", "Greeter.message", 18, 24),  # comment + @property; nested inner() stays inside
            ("function", "main", 27, 30),
            ("module", "", 33, 34),
        ],
    ),
    "sample.js": (
        "javascript",
        [
            ("module", "", 0, 2),
            ("class", "Greeter", 4, 8),  # JSDoc + export class + field
            ("method", "Greeter.constructor", 10, 12),
            ("method", "Greeter.message", 14, 17),
            ("function", "main", 20, 24),
            ("function", "shout", 26, 28),  # const arrow function
            ("module", "", 30, 30),
        ],
    ),
    "sample.ts": (
        "typescript",
        [
            ("module", "", 0, 2),
            ("interface", "Speaker", 4, 7),  # method signatures stay in the header
            ("class", "Greeter", 9, 13),
            ("method", "Greeter.constructor", 15, 15),
            ("method", "Greeter.message", 17, 20),
            ("function", "main", 23, 27),
            ("module", "", 29, 29),
        ],
    ),
    "sample.tsx": (
        "tsx",
        [
            ("module", "", 0, 2),
            ("class", "Card", 4, 6),
            ("method", "Card.render", 8, 10),
            ("method", "Card.onClick", 12, 15),
            ("function", "Hello", 18, 21),
            ("module", "", 23, 23),
        ],
    ),
    "sample.go": (
        "go",
        [
            ("module", "", 0, 7),  # package, imports, const
            ("struct", "Greeter", 9, 13),
            ("function", "NewGreeter", 15, 18),
            ("method", "Greeter.Message", 20, 23),  # pointer receiver
            ("method", "Greeter.Shout", 25, 27),  # value receiver, no doc
            ("module", "", 29, 29),
        ],
    ),
    "sample.rs": (
        "rust",
        [
            ("module", "", 0, 2),
            ("struct", "Greeter", 4, 8),  # /// doc + #[derive]
            ("impl", "Greeter", 10, 10),
            ("method", "Greeter.new", 11, 14),
            ("method", "Greeter.message", 16, 18),
            ("impl", "Greeter", 21, 21),  # impl fmt::Display for Greeter -> the type
            ("method", "Greeter.fmt", 22, 24),
            ("function", "main", 27, 31),  # /// doc + #[inline]
        ],
    ),
    "Sample.java": (
        "java",
        [
            ("module", "", 0, 2),
            ("class", "Greeter", 4, 9),  # Javadoc + annotation + field
            ("method", "Greeter.Greeter", 11, 14),  # constructor
            ("method", "Greeter.toString", 16, 20),
            ("interface", "Greeter.Speaker", 22, 24),  # nested; abstract speak() in the header
            ("method", "Greeter.Speaker.twice", 26, 28),
        ],
    ),
    "sample.c": (
        "c",
        [
            ("module", "", 0, 3),  # includes + #define
            ("struct", "greeter", 5, 9),
            ("module", "", 11, 11),
            ("function", "greeter_say", 13, 19),
            ("function", "main", 21, 27),
        ],
    ),
    "sample.cpp": (
        "cpp",
        [
            ("module", "", 0, 3),  # includes + "namespace demo {"
            ("class", "Greeter", 5, 7),
            ("method", "Greeter.Greeter", 8, 8),
            ("method", "Greeter.message", 10, 13),
            ("class", "Greeter", 15, 17),  # the private section below the methods
            ("module", "", 19, 19),  # "}  // namespace demo"
            ("function", "demo_count", 21, 24),
            ("function", "main", 26, 30),
        ],
    ),
    "sample.cs": (
        "csharp",
        [
            ("module", "", 0, 4),  # usings + "namespace Demo {"
            ("class", "Greeter", 5, 9),  # doc + [Serializable] + field
            ("method", "Greeter.Greeter", 11, 14),
            ("method", "Greeter.Message", 16, 20),
            ("enum", "Mood", 23, 27),
        ],
    ),
    "sample.rb": (
        "ruby",
        [
            ("module", "", 0, 2),
            ("class", "Greeting", 4, 5),  # a Ruby module is a "class" container
            ("class", "Greeting.Greeter", 6, 8),
            ("method", "Greeting.Greeter.initialize", 10, 12),
            ("method", "Greeting.Greeter.message", 14, 17),
            ("function", "main", 21, 24),
            ("module", "", 26, 26),
        ],
    ),
    "sample.php": (
        "php",
        [
            ("module", "", 0, 6),
            ("class", "Greeter", 8, 13),
            ("method", "Greeter.__construct", 15, 18),
            ("method", "Greeter.message", 20, 24),
            ("function", "main", 27, 32),
            ("module", "", 34, 34),
        ],
    ),
    "sample.kt": (
        "kotlin",
        [
            ("module", "", 0, 4),
            ("class", "Greeter", 6, 10),
            ("method", "Greeter.message", 12, 15),
            ("method", "Greeter.shout", 17, 18),  # annotation + expression body
            ("function", "main", 21, 24),
        ],
    ),
    "sample.scala": (
        "scala",
        [
            ("module", "", 0, 2),
            ("class", "Greeter", 4, 6),
            ("method", "Greeter.message", 8, 11),
            ("method", "Greeter.shout", 13, 14),  # indented body without braces
            ("class", "Main", 17, 19),  # object
            ("method", "Main.main", 21, 23),
        ],
    ),
    "sample.swift": (
        "swift",
        [
            ("module", "", 0, 2),
            ("struct", "Greeter", 4, 7),
            ("method", "Greeter.message", 9, 12),
            ("method", "Greeter.rename", 14, 18),  # attribute line included
            ("function", "main", 21, 24),
            ("module", "", 26, 26),
        ],
    ),
    "sample.lua": (
        "lua",
        [
            ("module", "", 0, 4),  # the class table is plain module code in Lua
            ("method", "Greeter.new", 6, 9),  # Greeter.new -> receiver Greeter
            ("method", "Greeter.message", 11, 14),  # Greeter:message
            ("function", "main", 16, 19),
            ("module", "", 21, 21),
        ],
    ),
    "sample.sh": (
        "bash",
        [
            ("module", "", 0, 3),  # shebang, set, variable
            ("function", "greet", 5, 9),
            ("function", "main", 11, 14),
            ("module", "", 16, 16),
        ],
    ),
    "sample.ex": (
        "elixir",
        [
            ("class", "Demo.Greeter", 0, 5),  # defmodule header: @moduledoc + defstruct
            ("method", "Demo.Greeter.new", 7, 10),  # @doc attribute included
            ("method", "Demo.Greeter.message", 12, 15),
            ("method", "Demo.Greeter.helper", 17, 18),  # two clauses, one chunk
            ("module", "", 21, 21),
        ],
    ),
    "sample.hs": (
        "haskell",
        [
            ("module", "", 0, 2),
            ("struct", "Greeter", 4, 8),  # data
            ("interface", "Describable", 10, 11),  # class
            ("method", "Describable.describe", 12, 12),  # signature only
            ("method", "Describable.label", 13, 14),  # signature + default equation
            ("impl", "Greeter", 16, 16),  # instance Describable Greeter
            ("method", "Greeter.describe", 17, 17),
            ("method", "Greeter.label", 18, 18),
            ("function", "message", 20, 22),  # haddock + signature + equation
            ("function", "repeatWord", 24, 27),  # two equations merged
            ("function", "main", 29, 30),
        ],
    ),
    "sample.zig": (
        "zig",
        [
            ("module", "", 0, 2),
            ("struct", "Greeter", 4, 6),
            ("method", "Greeter.init", 8, 11),
            ("method", "Greeter.message", 13, 15),
            ("function", "main", 18, 22),
        ],
    ),
}


def test_every_language_has_a_fixture() -> None:
    assert sorted(lang for lang, _ in EXPECTED.values()) == sorted(SUPPORTED_LANGUAGES)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_chunks(name: str) -> None:
    language, expected = EXPECTED[name]
    data = (FIXTURES / name).read_bytes()
    assert detect_language(name, data[:256]) == language
    chunks = chunk_file(f"fixtures/{name}", data)
    got = [(c.kind, c.qualified_name, c.start_line, c.end_line) for c in chunks]
    assert got == expected
    for c in chunks:
        assert c.language == language
        assert c.path == f"fixtures/{name}"
        assert data[c.start_byte : c.end_byte].decode("utf-8") == c.text
        assert c.content_hash == content_hash(c.text)
        assert c.text == c.text.strip()
    starts = [c.start_byte for c in chunks]
    assert starts == sorted(starts)
    assert all(a.end_byte <= b.start_byte for a, b in zip(chunks, chunks[1:], strict=False))
