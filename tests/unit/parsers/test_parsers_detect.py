from __future__ import annotations

import pytest

from codekin.parsers import SUPPORTED_LANGUAGES, detect_language
from codekin.parsers.detect import text_language


@pytest.mark.parametrize(
    ("path", "language"),
    [
        ("a/b/mod.py", "python"),
        ("stubs/mod.pyi", "python"),
        ("x.js", "javascript"),
        ("x.mjs", "javascript"),
        ("x.cjs", "javascript"),
        ("App.jsx", "javascript"),
        ("x.ts", "typescript"),
        ("x.mts", "typescript"),
        ("x.cts", "typescript"),
        ("App.tsx", "tsx"),
        ("main.go", "go"),
        ("lib.rs", "rust"),
        ("Main.java", "java"),
        ("x.c", "c"),
        ("x.h", "c"),
        ("x.cc", "cpp"),
        ("x.cpp", "cpp"),
        ("x.cxx", "cpp"),
        ("x.hpp", "cpp"),
        ("x.hh", "cpp"),
        ("Program.cs", "csharp"),
        ("x.rb", "ruby"),
        ("Rakefile", "ruby"),
        ("sub/Gemfile", "ruby"),
        ("index.php", "php"),
        ("Main.kt", "kotlin"),
        ("build.gradle.kts", "kotlin"),
        ("x.scala", "scala"),
        ("x.sc", "scala"),
        ("x.swift", "swift"),
        ("init.lua", "lua"),
        ("run.sh", "bash"),
        ("run.bash", "bash"),
        ("rc.zsh", "bash"),
        ("lib.ex", "elixir"),
        ("test.exs", "elixir"),
        ("Main.hs", "haskell"),
        ("main.zig", "zig"),
        ("UPPER.PY", "python"),
        ("win\\path\\x.go", "go"),
    ],
)
def test_by_extension_or_name(path: str, language: str) -> None:
    assert detect_language(path) == language
    assert language in SUPPORTED_LANGUAGES


@pytest.mark.parametrize(
    ("head", "language"),
    [
        (b"#!/usr/bin/env python3\nprint(1)\n", "python"),
        (b"#!/usr/bin/python3.11 -u\n", "python"),
        (b"#!/usr/bin/env node\n", "javascript"),
        (b"#!/usr/bin/env -S node --experimental\n", "javascript"),
        (b"#!/bin/bash\nset -e\n", "bash"),
        (b"#!/bin/sh\n", "bash"),
        (b"#!/usr/bin/env ruby\n", "ruby"),
        (b"#!/usr/bin/env lua5.1\n", "lua"),
        (b"#!/usr/bin/env elixir\n", "elixir"),
        (b"#!/usr/bin/env perl\n", None),
        (b"no shebang here\n", None),
        (b"#!\n", None),
        (b"", None),
    ],
)
def test_by_shebang(head: bytes, language: str | None) -> None:
    assert detect_language("bin/tool", head) == language


def test_extension_wins_over_shebang() -> None:
    assert detect_language("x.rb", b"#!/usr/bin/env python\n") == "ruby"


def test_unknown_files_have_no_grammar() -> None:
    for path in ("README.md", "conf.yaml", "Cargo.toml", "data.json", "notes", "Makefile", ".gitignore"):
        assert detect_language(path, b"hello\n") is None


def test_header_with_cpp_is_cpp() -> None:
    assert detect_language("x.h", b"#pragma once\nnamespace foo {\n") == "cpp"
    assert detect_language("x.h", b"template <typename T>\nstruct A {};\n") == "cpp"
    assert detect_language("x.h", b"#pragma once\nstruct point { int x; };\n") == "c"


def test_text_language_names() -> None:
    assert text_language("docs/README.md") == "markdown"
    assert text_language("a.yml") == "yaml"
    assert text_language("a.yaml") == "yaml"
    assert text_language("pyproject.toml") == "toml"
    assert text_language("x.json") == "json"
    assert text_language("Dockerfile") == "dockerfile"
    assert text_language("LICENSE") == "text"
    assert text_language("notes.txt") == "text"
