"""Open buffers: unsaved text is indexed as an overlay (searchable before it is saved);
``didSave`` and ``didClose`` go back to the file on disk."""

from __future__ import annotations

import logging
from pathlib import Path

from lsprotocol import types

from codekin.paths import uri_to_path
from codekin.server.core import CodekinServer

log = logging.getLogger(__name__)


def register(server: CodekinServer) -> None:
    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: CodekinServer, params: types.DidOpenTextDocumentParams) -> None:
        path = _indexed_path(ls, params.text_document.uri)
        if path is not None and params.text_document.text != _disk_text(path):
            ls.state.set_overlay(path, params.text_document.text)  # a restored unsaved buffer

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: CodekinServer, params: types.DidChangeTextDocumentParams) -> None:
        path = _indexed_path(ls, params.text_document.uri)
        if path is not None:
            doc = ls.workspace.get_text_document(params.text_document.uri)
            ls.state.set_overlay(path, doc.source)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: CodekinServer, params: types.DidSaveTextDocumentParams) -> None:
        path = _indexed_path(ls, params.text_document.uri)
        if path is not None:
            ls.state.drop_overlay(path)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: CodekinServer, params: types.DidCloseTextDocumentParams) -> None:
        path = _indexed_path(ls, params.text_document.uri)
        if path is not None:
            ls.state.drop_overlay(path, recheck=False)


def _indexed_path(ls: CodekinServer, uri: str) -> Path | None:
    path = uri_to_path(uri)
    if path is None or ls.state.folder_of(path) is None:
        return None
    return path


def _disk_text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
