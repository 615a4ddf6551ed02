"""Logging for ``codekin serve``: stderr, an optional file, and ``window/logMessage``.

stdout is the JSON-RPC transport, so it is taken over before anything else can write to it."""

from __future__ import annotations

import logging
import os
import sys
from typing import TYPE_CHECKING, BinaryIO

from lsprotocol import types

if TYPE_CHECKING:
    from codekin.server.core import CodekinServer

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_LSP_TYPES = {
    logging.ERROR: types.MessageType.Error,
    logging.WARNING: types.MessageType.Warning,
    logging.INFO: types.MessageType.Info,
}


def claim_stdout() -> BinaryIO:
    """A private handle on the real stdout for JSON-RPC; fd 1 and ``sys.stdout`` then point to
    stderr, so stray prints (ours, libraries', C extensions') cannot corrupt the stream."""
    sys.stdout.flush()
    transport = os.fdopen(os.dup(1), "wb", buffering=0)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return transport


def setup_logging(log_file: str | None) -> None:
    """Keep the handlers the CLI configured (``-v`` sets their level); else log to stderr.
    The optional log file records INFO and up."""
    root = logging.getLogger()
    level = root.level if root.handlers else logging.INFO
    if not root.handlers:
        stderr = logging.StreamHandler(sys.stderr)
        stderr.setFormatter(logging.Formatter(FORMAT))
        root.addHandler(stderr)
    for existing in root.handlers:
        if existing.level == logging.NOTSET:
            existing.setLevel(level)
    if log_file:
        file_handler = logging.FileHandler(log_file, encoding="utf-8")
        file_handler.setLevel(min(level, logging.INFO))
        file_handler.setFormatter(logging.Formatter(FORMAT))
        root.addHandler(file_handler)
        level = min(level, logging.INFO)
    root.setLevel(level)
    # pygls logs every message body at INFO: keep that for DEBUG only.
    logging.getLogger("pygls").setLevel(logging.DEBUG if level <= logging.DEBUG else logging.WARNING)
    for noisy in ("transformers", "torch", "urllib3", "filelock", "watchdog", "asyncio"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))


class LspLogHandler(logging.Handler):
    """Forwards codekin's own log records to the client as ``window/logMessage``."""

    def __init__(self, server: CodekinServer, level: int = logging.WARNING) -> None:
        super().__init__(level)
        self.server = server
        self.setFormatter(logging.Formatter("%(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        if not record.name.startswith("codekin"):
            return
        try:
            kind = _LSP_TYPES.get(
                record.levelno, types.MessageType.Error if record.levelno > 40 else types.MessageType.Log
            )
            params = types.LogMessageParams(type=kind, message=self.format(record))
            self.server.post(self.server.window_log_message, params)
        except Exception:
            self.handleError(record)
