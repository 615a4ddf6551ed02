"""Document text for range conversion and selections: open buffers first, else the file on disk."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote

from codekin.paths import path_to_uri, uri_to_os_path

if TYPE_CHECKING:
    from pygls.workspace import TextDocument

    from codekin.server.core import CodekinServer


def document_text(ls: CodekinServer, path: Path) -> str | None:
    """The open buffer's text, else the file's (None when unreadable)."""
    doc = _open_document(ls, path)
    if doc is not None:
        return str(doc.source)
    try:
        return path.read_bytes().decode("utf-8", "replace")
    except OSError:
        return None


def _open_document(ls: CodekinServer, path: Path) -> TextDocument | None:
    """The open buffer of ``path``. Buffers are keyed by the URI the client sent, which need not
    be the one codekin writes (``file:///c%3A/...`` from VS Code, ``file:///C:/...`` from Neovim):
    the exact key first, else the buffer whose URI names the same path."""
    try:
        docs = ls.workspace.text_documents
    except RuntimeError:  # not initialised yet
        return None
    doc: TextDocument | None = docs.get(unquote(path_to_uri(path)))
    if doc is None:
        doc = next((d for d in list(docs.values()) if _names(d.uri, path)), None)
    return doc


def _names(uri: str, path: Path) -> bool:
    raw = uri_to_os_path(uri)
    return raw is not None and Path(raw) == path  # without case on Windows


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
