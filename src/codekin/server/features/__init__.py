"""One module per LSP feature, each with ``register(server)``."""

from __future__ import annotations

from types import ModuleType

from codekin.server.features import (
    code_lens,
    commands,
    configuration,
    documents,
    feedback,
    indexing,
    lifecycle,
    search,
    status,
    symbols,
    watching,
)

ALL: tuple[ModuleType, ...] = (
    lifecycle,
    configuration,
    indexing,
    watching,
    documents,
    search,
    feedback,
    status,
    symbols,
    code_lens,
    commands,
)
