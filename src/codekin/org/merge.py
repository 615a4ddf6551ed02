"""The ``org_store`` setting: a shared org index searched beside the local workspace indexes.

One :class:`StoreSearcher` ranks the candidates of every local index and of the shared store
together (one ranking order, hits labelled by repository). The local workspaces' own
repositories are answered from their local indexes, fresher than the shared copy: the store's
repositories of the same name (``NAME`` or ``NAME@REVISION``) are filtered out. Read-only: the
shared store is never written. When it cannot be opened (no extra, unreachable, another model)
the local indexes answer alone and :attr:`OrgSearch.problem` says why; it is tried again after
:data:`RETRY_AFTER` seconds.

Nothing here imports qdrant-client: the shared store is opened lazily (:func:`open_shared`)."""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from codekin.embeddings.base import Encoder, Vectors
from codekin.index.search import Filters
from codekin.org.seam import LocalStore, Scope, SearchStore, StoredChunk
from codekin.org.search import OrgHit, StoreSearcher

if TYPE_CHECKING:
    from codekin.org.shared import SharedIndex
    from codekin.workspace import Workspace

log = logging.getLogger(__name__)

RETRY_AFTER = 60.0  # seconds before a shared store that failed to open is tried again


class MergedStore:
    """The seam over several local indexes and one shared store. Ids stay apart: the shared
    store's are positive; local index ``i``'s chunk ``c`` is ``-(c * n + i) - 1``."""

    def __init__(
        self,
        local: Sequence[LocalStore],
        shared: SearchStore | None,
        exclude: Iterable[str] = (),
        dense_ok: Sequence[bool] | None = None,
    ) -> None:
        self.local = list(local)
        self.shared = shared
        self.exclude = tuple(exclude)  # the store's repositories the local indexes answer for
        self.dense_ok = list(dense_ok) if dense_ok is not None else [True] * len(self.local)
        self.failure = ""  # why the shared store dropped out of this search

    def encode(self, i: int, cid: int) -> int:
        return -(cid * len(self.local) + i) - 1

    def decode(self, mid: int) -> tuple[int, int]:
        """(local index, its chunk id); (-1, id) for the shared store's."""
        if mid > 0:
            return -1, mid
        cid, i = divmod(-mid - 1, len(self.local))
        return i, cid

    def _sources(self, scope: Scope) -> list[tuple[int, SearchStore, Scope]]:
        out: list[tuple[int, SearchStore, Scope]] = [
            (i, s, scope) for i, s in enumerate(self.local) if not scope.repos or s.repo in scope.repos
        ]
        if self.shared is not None:
            out.append((-1, self.shared, dataclasses.replace(scope, exclude_repos=self.exclude)))
        return out

    def _id(self, i: int, cid: int) -> int:
        return cid if i < 0 else self.encode(i, cid)

    def _ask(self, i: int, call: Callable[..., Any], *args: Any) -> Any:
        """A store's answer; a failing shared store is dropped for the rest of this search (the
        local indexes answer alone) and :attr:`failure` says why."""
        if i >= 0:
            return call(*args)
        try:
            return call(*args)
        except Exception as exc:  # the client's network and server errors have many types
            log.warning("the shared store failed (%s): answering from the local indexes", exc)
            self.failure, self.shared = str(exc), None
            return []

    def dense(self, vector: Vectors, k: int, scope: Scope) -> list[tuple[int, float]]:
        """Cosines of one encoder compare across stores: merged by value."""
        found: list[tuple[int, float]] = []
        for i, store, sc in self._sources(scope):
            if i < 0 or self.dense_ok[i]:
                part = self._ask(i, store.dense, vector, k, sc)
                found += [(self._id(i, cid), score) for cid, score in part]
        return sorted(found, key=lambda p: -p[1])[:k]

    def lexical(self, query: str, k: int, scope: Scope) -> list[tuple[int, float]]:
        """BM25 scores of different engines do not compare: each list is divided by its best
        score before they are merged."""
        found: list[tuple[int, float]] = []
        for i, store, sc in self._sources(scope):
            part = self._ask(i, store.lexical, query, k, sc)
            best = max((s for _, s in part), default=0.0)
            found += [(self._id(i, cid), s / best if best > 0 else 0.0) for cid, s in part]
        return sorted(found, key=lambda p: -p[1])[:k]

    def chunks(self, ids: Sequence[int]) -> dict[int, StoredChunk]:
        out: dict[int, StoredChunk] = {}
        for i, store, part in self._split(ids):
            found: dict[int, StoredChunk] = self._ask(i, store.chunks, part) or {}
            out.update({self._id(i, cid): c for cid, c in found.items()})
        return out

    def vectors(self, ids: Sequence[int]) -> dict[int, Vectors]:
        out: dict[int, Vectors] = {}
        for i, store, part in self._split(ids):
            found: dict[int, Vectors] = self._ask(i, store.vectors, part) or {}
            out.update({self._id(i, cid): v for cid, v in found.items()})
        return out

    def _split(self, ids: Sequence[int]) -> list[tuple[int, SearchStore, list[int]]]:
        by_source: dict[int, list[int]] = {}
        for mid in ids:
            i, cid = self.decode(mid)
            by_source.setdefault(i, []).append(cid)
        out: list[tuple[int, SearchStore, list[int]]] = []
        for i, part in by_source.items():
            store = self.shared if i < 0 else self.local[i]
            if store is not None:
                out.append((i, store, part))
        return out


class OrgSearch:
    """Search over local workspaces and the shared store at ``address`` (opened once, read-only)."""

    def __init__(self, address: str, key_env: str, hybrid: bool = True) -> None:
        self.address = address
        self.key_env = key_env
        self.hybrid = hybrid
        self.problem = ""  # why the shared store is not searched ("" while it is)
        self._shared: SharedIndex | None = None
        self._failed_at = 0.0
        self._lock = threading.Lock()
        self._local_mode = threading.Lock()

    def shared(self, encoder: Encoder) -> SharedIndex | None:
        with self._lock:
            if self._shared is None and (
                not self.problem or time.monotonic() - self._failed_at > RETRY_AFTER
            ):
                from codekin.org import MissingExtra, open_shared
                from codekin.org.qdrant_store import StoreProblem

                try:
                    self._shared = open_shared(self.address, lambda: encoder, self.hybrid, self.key_env)
                    self.problem = ""
                except (MissingExtra, StoreProblem, OSError) as exc:
                    self.problem, self._failed_at = str(exc), time.monotonic()
                    log.warning("org_store %s not searched: %s", self.address, exc)
            return self._shared

    def search(
        self, workspaces: Sequence[Workspace], query: str, k: int, filters: Filters, repos: Sequence[str] = ()
    ) -> list[tuple[Workspace | None, OrgHit]]:
        """The k best chunks of the workspaces' local indexes and the shared store, in one
        ranking; each pair names the workspace a local hit is from (None: the shared store)."""
        if not workspaces:
            return []
        encoder = workspaces[0].encoder
        local, dense_ok = [], []
        for ws in workspaces:
            index = ws.code_index
            local.append(LocalStore(index, ws.root.name))
            # an index of another model (or a rebuild not swapped in) takes part by keywords only
            dense_ok.append(not index.mismatch and ws.encoder.model_hash == encoder.model_hash)
        shared = self.shared(encoder)
        mine = {s.repo for s in local}
        exclude = set(mine)  # the store's copies of the local repositories, at any revision
        if shared is not None:
            try:
                exclude |= {n for n in shared.repo_names() if n.split("@")[0] in mine}
            except Exception as exc:  # the client's network and server errors have many types
                log.warning("org_store %s not searched: %s", self.address, exc)
                shared = None
        merged = MergedStore(local, shared.store if shared is not None else None, sorted(exclude), dense_ok)
        searcher = StoreSearcher(merged, encoder, hybrid=self.hybrid)
        if shared is not None and shared.store.spec.kind != "server":
            with self._local_mode:  # qdrant-client's local mode is not made for concurrent readers
                hits = searcher.search(query, k, filters, repos)
        else:
            hits = searcher.search(query, k, filters, repos)
        if merged.failure:
            self.problem = f"searching {self.address} failed: {merged.failure}"
        out: list[tuple[Workspace | None, OrgHit]] = []
        for hit in hits:
            i, cid = merged.decode(hit.chunk_id)
            if i < 0:
                out.append((None, hit))
            else:
                out.append((workspaces[i], dataclasses.replace(hit, chunk_id=cid)))
        return out

    def close(self) -> None:
        with self._lock:
            if self._shared is not None:
                self._shared.close()
                self._shared = None


class OrgSearches:
    """The shared stores one process searches beside its workspaces, each opened once
    (qdrant-client's local mode admits one client per directory and process): the language
    server and the MCP server hold one of these."""

    def __init__(self) -> None:
        self._open: dict[tuple[str, str, bool], OrgSearch] = {}
        self._lock = threading.Lock()

    def search(
        self, workspaces: Sequence[Workspace], query: str, k: int, filters: Filters, repos: Sequence[str] = ()
    ) -> list[tuple[Workspace | None, OrgHit]]:
        """Workspaces with an ``org_store`` setting, searched with their shared store (several
        stores: the lists interleave by score)."""
        groups: dict[tuple[str, str, bool], list[Workspace]] = {}
        for ws in workspaces:
            s = ws.settings
            groups.setdefault((s.org_store, s.store_api_key_env, s.hybrid), []).append(ws)
        found: list[tuple[Workspace | None, OrgHit]] = []
        for key, group in groups.items():
            found += self._get(key).search(group, query, k, filters, repos)
        if len(groups) > 1:
            found.sort(key=lambda wh: -wh[1].score)
        return found[:k]

    def problems(self) -> list[str]:
        """Why a configured shared store is not searched (one line each)."""
        with self._lock:
            return [f"org_store {s.address}: {s.problem}" for s in self._open.values() if s.problem]

    def _get(self, key: tuple[str, str, bool]) -> OrgSearch:
        with self._lock:
            if key not in self._open:
                self._open[key] = OrgSearch(*key)
            return self._open[key]

    def close(self) -> None:
        with self._lock:
            for s in self._open.values():
                s.close()
            self._open.clear()


def org_uri(repo: str, path: str, revision: str = "") -> str:
    """Where a hit of the shared store lives when no local checkout holds it:
    ``codekin-org:/REPO/PATH?rev=COMMIT``."""
    from urllib.parse import quote

    return f"codekin-org:/{quote(repo, safe='')}/{quote(path)}" + (f"?rev={revision}" if revision else "")
