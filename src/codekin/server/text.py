"""Document text for range conversion and selections: open buffers first, else the file on disk."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote

from pygls.uris import from_fs_path

if TYPE_CHECKING:
    from codekin.server.core import CodekinServer


def document_text(ls: CodekinServer, path: Path) -> str | None:
    """The open buffer's text, else the file's (None when unreadable)."""
    uri = unquote(from_fs_path(str(path)) or path.as_uri())
    try:
        doc = ls.workspace.text_documents.get(uri)
    except RuntimeError:  # not initialised yet
        doc = None
    if doc is not None:
        return str(doc.source)
    try:
        return path.read_bytes().decode("utf-8", "replace")
    except OSError:
        return None


class Lines:
    """``(root-relative path, 0-based row) -> line text`` with one read per file (per request)."""

    def __init__(self, ls: CodekinServer, root: Path) -> None:
        self.ls = ls
        self.root = root
        self._cache: dict[str, list[str] | None] = {}

    def __call__(self, rel: str, row: int) -> str | None:
        if rel not in self._cache:
            text = document_text(self.ls, self.root / rel)
            self._cache[rel] = text.splitlines() if text is not None else None
        lines = self._cache[rel]
        if lines is None or row >= len(lines):
            return None
        return lines[row]
