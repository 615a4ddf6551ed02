"""The layering of docs/architecture.md, read from the source with ``ast`` so it cannot drift:
which package may import which, and ``CodeIndex`` as the only reader and writer of ``Store``."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SRC = REPO / "src" / "codekin"
PYTHON_DIRS = (REPO / "src", REPO / "bench", REPO / "training")

# The modules allowed to hold a Store: the index owner, the store itself and its migrations.
STORE_OWNERS = {"codekin.index.code_index", "codekin.index.store", "codekin.index.migrations"}

# Each layer, and the codekin packages it must never import (anywhere in the module, deferred
# imports included; ``if TYPE_CHECKING`` imports for annotations only are allowed).
FOUNDATION = {"paths", "safetext", "hit", "settings", "redact"}  # leaf modules anyone may use
BOTTOM = {"parsers", "files", "embeddings", "watch"}
ABOVE_INDEX = {"workspace", "cli", "server", "agents", "org", "context", "doctor", "evaluation", "tuning"}
FORBIDDEN: dict[str, set[str]] = {
    # the bottom: parsers, files and embeddings know nothing of the index or anything above it
    "parsers": {"index", "files", "embeddings", "watch"} | ABOVE_INDEX,
    "files": {"index", "parsers", "embeddings", "watch"} | ABOVE_INDEX,
    "embeddings": {"index", "files", "watch"} | ABOVE_INDEX,
    "watch": {"index", "parsers", "embeddings"} | ABOVE_INDEX,
    # the index: parsers, files and embeddings below it, never the workspace or a front end
    "index": {"watch"} | ABOVE_INDEX,
    # the org index sits beside the workspace: it uses the index, no front end uses it directly
    "org": {"watch", "workspace", "cli", "server", "agents", "context", "doctor", "evaluation", "tuning"},
    # the workspace: everything below it, never a front end
    "workspace": {"cli", "server", "agents", "watch", "tuning"},
    # the front ends translate to the workspace: not to one another (cli starts the others)
    "server": {"cli", "agents"},
    "agents": {"cli"},
    # the foundation imports no other layer (settings may name what the bottom layers offer)
    **{name: BOTTOM | ABOVE_INDEX | {"index"} for name in FOUNDATION - {"settings"}},
    "settings": {"index", "watch"} | ABOVE_INDEX,
}


def modules() -> Iterator[tuple[str, Path]]:
    """(dotted name, path) of every Python module in src, bench and training."""
    for top in PYTHON_DIRS:
        for path in sorted(top.rglob("*.py")):
            rel = path.relative_to(top).with_suffix("")
            name = ".".join(rel.parts if top.name == "src" else (top.name, *rel.parts))
            yield name.removesuffix(".__init__"), path


def layer(name: str) -> str | None:
    """The layer a ``codekin.X...`` module belongs to (its package or top-level module)."""
    parts = name.split(".")
    return parts[1] if parts[0] == "codekin" and len(parts) > 1 else None


def imports(tree: ast.Module) -> Iterator[tuple[str, set[str], int]]:
    """(module, names taken from it, line) of every absolute import, except those under
    ``if TYPE_CHECKING:`` (annotations only, never run)."""
    skip = {
        id(n)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and ast.unparse(node.test).endswith("TYPE_CHECKING")
        for stmt in node.body
        for n in ast.walk(stmt)
    }
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, set(), node.lineno
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module, {a.name for a in node.names}, node.lineno


def layering_problems(name: str, source: str) -> list[str]:
    own = layer(name)
    if own not in FORBIDDEN:
        return []
    out = []
    for module, _, line in imports(ast.parse(source)):
        target = layer(module)
        if target in FORBIDDEN[own] and target != own:
            out.append(f"{name}:{line}: {own} must not import {module}")
    return out


def store_problems(name: str, source: str) -> list[str]:
    """Imports of the store (or its migrations) and reads of a CodeIndex's ``_store`` outside
    the modules that own it."""
    if name in STORE_OWNERS:
        return []
    out = []
    tree = ast.parse(source)
    for module, taken, line in imports(tree):
        if module in STORE_OWNERS - {"codekin.index.code_index"} or (
            module == "codekin.index" and taken & {"store", "migrations"}
        ):
            out.append(f"{name}:{line}: imports {module} (ask CodeIndex instead)")
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr == "_store":
            out.append(f"{name}:{node.lineno}: reaches into CodeIndex._store")
    return out


def test_codekin_index_is_the_only_reader_and_writer_of_the_store() -> None:
    found = [p for name, path in modules() for p in store_problems(name, path.read_text())]
    assert not found, "\n".join(found)


def test_every_package_imports_only_the_layers_below_it() -> None:
    found = [p for name, path in modules() for p in layering_problems(name, path.read_text())]
    assert not found, "\n".join(found)


@pytest.mark.parametrize(
    ("name", "source"),
    [
        ("codekin.index.search", "from codekin.index.store import Store\n"),
        ("codekin.workspace", "from codekin.index import store\n"),
        ("bench.quality", "def f(ws):\n    return ws.code_index._store.counts()\n"),
        ("codekin.doctor", "def f():\n    from codekin.index.migrations import ensure_file_docs\n"),
    ],
)
def test_the_store_check_catches_a_reader_around_codeindex(name: str, source: str) -> None:
    assert store_problems(name, source)


@pytest.mark.parametrize(
    ("name", "source"),
    [
        ("codekin.index.search", "from codekin.workspace import Workspace\n"),
        ("codekin.parsers.chunker", "def f():\n    from codekin.index.indexer import encoder_input\n"),
        ("codekin.embeddings.parity", "import codekin.index.indexer\n"),
        ("codekin.workspace", "from codekin.server.state import ServerState\n"),
    ],
)
def test_the_layering_check_catches_an_import_upwards(name: str, source: str) -> None:
    assert layering_problems(name, source)


def test_annotation_only_imports_are_allowed() -> None:
    source = (
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from codekin.workspace import Workspace\n"
    )
    assert layering_problems("codekin.doctor", source) == []
    assert layering_problems("codekin.index.search", source) == []
