"""A shared index opened for searching (``Workspace(store=...)``, ``search --store``): read-only,
checked against the workspace's encoder."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from codekin.embeddings.base import Encoder
from codekin.index.search import Filters
from codekin.org.qdrant_store import StoreProblem, open_existing
from codekin.org.search import OrgHit, StoreSearcher

NAMES_TTL = 60.0  # seconds the list of the store's repositories is reused


class SharedIndex:
    def __init__(
        self,
        address: str,
        load_encoder: Callable[[], Encoder],
        hybrid: bool = True,
        key_env: str = "QDRANT_API_KEY",
    ) -> None:
        """``key_env``: the environment variable holding a Qdrant server's API key."""
        self.store = open_existing(address, key_env)
        spec = self.store.spec
        self._names: tuple[float, list[str]] | None = None
        try:
            manifest = self.store.manifest()
            if manifest is None:
                raise StoreProblem(f"{spec.describe()} holds no codekin index (run: codekin org index)")
            encoder = load_encoder()
            if manifest.model_hash != encoder.model_hash:
                raise StoreProblem(
                    f"{spec.describe()} was built with {manifest.model_id}; search it with that model "
                    f"(--model {manifest.model_id}), not {encoder.model_id}"
                )
        except BaseException:
            self.store.close()
            raise
        self.searcher = StoreSearcher(self.store, encoder, hybrid=hybrid)

    def search(self, query: str, k: int, filters: Filters, repos: Sequence[str] = ()) -> list[OrgHit]:
        try:
            return self.searcher.search(query, k, filters, repos)
        except StoreProblem:
            raise
        except Exception as exc:  # the client's network and server errors have many types
            raise StoreProblem(f"searching {self.store.spec.describe()} failed: {exc}") from exc

    def repo_names(self) -> list[str]:
        """The store's repositories (read again after :data:`NAMES_TTL` seconds)."""
        now = time.monotonic()
        if self._names is None or now - self._names[0] > NAMES_TTL:
            try:
                self._names = (now, [r.name for r in self.store.repos()])
            except Exception as exc:  # the client's network and server errors have many types
                raise StoreProblem(f"listing {self.store.spec.describe()} failed: {exc}") from exc
        return self._names[1]

    def close(self) -> None:
        self.store.close()
