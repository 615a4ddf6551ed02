"""Find similar as a user means it: cross-language unless asked, code for code, the rest of the
query's file after code elsewhere, selections and whole files from their stored vectors."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from pygls.exceptions import JsonRpcInvalidParams

from codekin import Settings, Workspace
from codekin.embeddings.fake import FakeEncoder
from codekin.server.core import json_converter
from codekin.server.wire import SIMILAR, SimilarParams, parse

FILES = {
    "geo/shapes.py": (
        "import math\n"
        "\n"
        "\n"
        "def circle_area(radius):\n"
        "    return math.pi * radius * radius\n"
        "\n"
        "\n"
        "def parse_header(line):\n"
        "    key, value = line.split(':', 1)\n"
        "    return key.strip(), value.strip()\n"
    ),
    "web/shapes.js": (
        "function circleArea(radius) {\n  return Math.PI * radius * radius;\n}\n"
        "\n"
        "function joinWords(words) {\n  return words.join(' ');\n}\n"
    ),
    "lock/write_lock.py": (
        "class WriteLock:\n"
        "    def acquire(self, path):\n"
        "        handle = open(path, 'w')\n"
        "        fcntl.flock(handle, fcntl.LOCK_EX)\n"
        "        self.handle = handle\n"
        "\n"
        "    def release(self, path):\n"
        "        fcntl.flock(self.handle, fcntl.LOCK_UN)\n"
        "        self.handle.close()\n"
    ),
    "other/file_lock.go": (
        "package other\n"
        "\n"
        "func AcquireLock(path string) *os.File {\n"
        "\thandle, _ := os.OpenFile(path, os.O_WRONLY, 0o644)\n"
        "\tsyscall.Flock(int(handle.Fd()), syscall.LOCK_EX)\n"
        "\treturn handle\n"
        "}\n"
    ),
    "docs/area.md": "# Circle area\n\nThe area of a circle is math pi times radius times radius.\n",
    "config/shapes.toml": "[circle]\nradius = 2\narea = 'math pi radius radius'\n",
}


@pytest.fixture
def ws(tree: Callable[[dict[str, str | bytes]], Path]) -> Workspace:
    workspace = Workspace(tree(dict(FILES)), Settings(), encoder=FakeEncoder())
    workspace.index()
    return workspace


CIRCLE = "def circle_area(radius):\n    return math.pi * radius * radius\n"


def test_a_python_function_finds_its_javascript_twin_with_no_language_given(ws: Workspace) -> None:
    hits = ws.similar(CIRCLE, k=3)
    assert hits[0].path == "web/shapes.js" and hits[0].symbol == "circleArea"
    # the language of the code splits it; it does not filter the results
    assert ws.similar(CIRCLE, language="python", k=3)[0].symbol == "circleArea"


def test_language_filters_only_when_asked(ws: Workspace) -> None:
    assert {h.language for h in ws.similar(CIRCLE, "python", 10, languages=["javascript"])} == {"javascript"}
    only_python = ws.similar(CIRCLE, "python", 10, languages=["python"])
    assert only_python and {h.language for h in only_python} == {"python"}
    assert all(h.symbol != "circle_area" for h in only_python)  # the very same text is left out
    assert {h.path for h in ws.similar(CIRCLE, "python", 10, paths=["web/*"])} == {"web/shapes.js"}


def test_non_code_is_left_out_unless_asked_or_the_query_is_prose(ws: Workspace) -> None:
    code_only = ws.similar(CIRCLE, "python", 20)
    assert code_only and all(h.language not in ("markdown", "toml") for h in code_only)
    everything = {h.language for h in ws.similar(CIRCLE, "python", 20, include_non_code=True)}
    assert {"markdown", "toml"} <= everything
    prose = ws.similar_to(ws.root / "docs/area.md", 1, 5)
    assert any(h.language == "toml" for h in prose)


def test_siblings_come_after_code_elsewhere(ws: Workspace) -> None:
    path = ws.root / "lock/write_lock.py"
    hits = ws.similar_to(path, 3, 10)  # WriteLock.acquire
    assert hits[0].symbol == "AcquireLock"
    assert all(h.symbol != "WriteLock.acquire" for h in hits)
    paths = [h.path for h in hits]
    first_sibling = paths.index("lock/write_lock.py")
    assert all(p != "lock/write_lock.py" for p in paths[:first_sibling])
    assert all(p == "lock/write_lock.py" for p in paths[first_sibling:])
    # on request they rank with the rest: release shares more with acquire than the Go twin does
    mixed = ws.similar_to(path, 3, 10, include_siblings=True)
    assert mixed[0].symbol == "WriteLock.release"


def test_a_selection_and_a_whole_file_use_their_stored_vectors(ws: Workspace) -> None:
    encoder = ws.encoder
    assert isinstance(encoder, FakeEncoder)
    embedded = encoder.documents_embedded
    path = ws.root / "geo/shapes.py"
    selection = ws.similar_to(path, 4, 5, end_line=10)  # circle_area and parse_header
    whole = ws.similar_to(path, None, 5)
    assert encoder.documents_embedded == embedded  # nothing re-embedded
    for hits in (selection, whole):
        assert hits[0].symbol == "circleArea"
        assert all(h.path != "geo/shapes.py" or h.symbol == "" for h in hits)  # the query's own chunks
    # a selection of one function is that function
    assert ws.similar_to(path, 5, 5, end_line=5)[0].symbol == "circleArea"
    # code given with its path reuses the stored vector and leaves the chunk itself out
    hits = ws.similar(CIRCLE, "python", 5, path=path)
    assert encoder.documents_embedded == embedded
    assert hits[0].symbol == "circleArea" and all(h.symbol != "circle_area" for h in hits)


def test_a_stale_index_falls_back_to_the_editor_text(ws: Workspace) -> None:
    path = ws.root / "geo/shapes.py"
    edited = FILES["geo/shapes.py"].replace("def circle_area(radius)", "def circle_surface(r, radius)")
    hits = ws.similar_to(path, 4, 5, end_line=5, text=edited)
    assert hits[0].symbol == "circleArea"
    assert ws.code_index.chunks_of_file("geo/shapes.py")  # the index is not modified


def test_errors_are_clear(ws: Workspace) -> None:
    with pytest.raises(LookupError, match="nope.py"):
        ws.similar_to(ws.root / "nope.py", 1)
    with pytest.raises(LookupError, match="shapes.py:2-2"):
        ws.similar_to(ws.root / "geo/shapes.py", 2, end_line=2)  # blank lines between definitions
    assert ws.similar("   \n") == []


def parse_similar(params: object) -> SimilarParams:
    return parse(json_converter(), params, SimilarParams, SIMILAR)


def test_the_lsp_similar_request_filters_only_when_asked() -> None:
    base = {"textDocument": {"uri": "file:///repo/a.py"}, "position": {"line": 3, "character": 0}}
    plain = parse_similar(base)
    assert (plain.languages, plain.paths, plain.include_non_code, plain.include_siblings) == (
        (),
        (),
        False,
        False,
    )
    asked = parse_similar(
        {**base, "languages": ["go"], "paths": ["src/**"], "includeNonCode": True, "includeSiblings": True}
    )
    assert (asked.languages, asked.paths, asked.include_non_code, asked.include_siblings) == (
        ("go",),
        ("src/**",),
        True,
        True,
    )
    with pytest.raises(JsonRpcInvalidParams, match="languages"):
        parse_similar({**base, "languages": "go"})
