"""Org scale: many repositories indexed on Ray into one shared Qdrant index, searched with the
same ranking as a local index.

Ray and qdrant-client are the optional ``codekin[org]`` extra: nothing here imports them at module
level, and nothing outside this package imports this package except lazily (``codekin org``,
``search --store``, ``Workspace(store=...)``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from codekin.org.spec import RepoSpec, SpecError, StoreSpec, parse_repo_list, parse_store

if TYPE_CHECKING:
    from collections.abc import Callable

    from codekin.embeddings.base import Encoder
    from codekin.org.shared import SharedIndex

__all__ = [
    "MissingExtra",
    "RepoSpec",
    "SpecError",
    "StoreSpec",
    "open_shared",
    "parse_repo_list",
    "parse_store",
]


class MissingExtra(RuntimeError):
    """Ray or qdrant-client is not installed."""


def require_extra() -> None:
    try:
        import qdrant_client  # noqa: F401
        import ray  # noqa: F401
    except ImportError as exc:
        raise MissingExtra(
            f"org indexes need the optional extra ({exc.name} is missing): pip install 'codekin[org]'"
        ) from None


def open_shared(
    address: str, encoder: Callable[[], Encoder], hybrid: bool = True, key_env: str = "QDRANT_API_KEY"
) -> SharedIndex:
    """Open the shared index at ``address`` for searching (read-only); ``encoder`` is called
    once the store is found to hold an index; ``key_env`` names the environment variable with a
    Qdrant server's API key."""
    try:
        from codekin.org.shared import SharedIndex
    except ImportError as exc:
        raise MissingExtra(
            f"a shared store needs the optional extra ({exc.name} is missing): pip install 'codekin[org]'"
        ) from None
    return SharedIndex(address, encoder, hybrid, key_env)
