"""The chunk catalog answers filters as the store would, and follows every index change."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from codekin import Settings, Workspace
from codekin.embeddings.fake import FakeEncoder
from codekin.index.catalog import ChunkCatalog

ROWS = [(1, "a/x.py", "python"), (2, "a/x.py", "python"), (5, "b/y.go", "go"), (9, "README.md", "markdown")]


def ids(found: np.ndarray) -> list[int]:
    return [int(i) for i in found]


def test_language_and_path_filters() -> None:
    cat = ChunkCatalog(7, ROWS)
    assert ids(cat.allowed()) == [1, 2, 5, 9]
    assert ids(cat.allowed(languages=["go", "python"])) == [1, 2, 5]
    assert ids(cat.allowed(exclude_languages=["markdown"])) == [1, 2, 5]
    assert ids(cat.allowed(languages=["rust"])) == []
    calls: list[str] = []

    def under_a(path: str) -> bool:
        calls.append(path)
        return path.startswith("a/")

    assert ids(cat.allowed(path_filter=(("a/**",), under_a))) == [1, 2]
    assert calls == ["a/x.py", "b/y.go", "README.md"]  # each distinct path tested once
    assert ids(cat.allowed(languages=["go"], path_filter=(("a/**",), under_a))) == []
    assert len(calls) == 3  # remembered for the same filter


def test_the_catalog_follows_index_changes(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "a.py").write_text("def alpha():\n    return 1\n")
    (root / "b.go").write_text("package b\n\nfunc Beta() int { return 2 }\n")
    with Workspace(root, Settings(), encoder=FakeEncoder()) as ws:
        ws.index()
        first = ws.code_index.catalog()
        assert set(first.languages) == {"python", "go"}
        assert ws.code_index.catalog() is first  # nothing changed: not read again
        (root / "pkg" / "c.py").write_text("def gamma():\n    return 3\n")
        ws.index()
        hits = ws.search("gamma", k=5, languages=["python"], paths=["pkg/**"])
        assert [h.symbol for h in hits][:1] == ["gamma"]
        assert ws.code_index.catalog() is not first
        assert all(h.path.startswith("pkg/") and h.language == "python" for h in hits)
        assert {h.path for h in ws.search("gamma", k=5, languages=["go"])} == {"b.go"}
