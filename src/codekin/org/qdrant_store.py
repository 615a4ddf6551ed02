"""The shared index in Qdrant: one collection of chunk points (a dense vector, a sparse lexical
vector and the chunk as payload) and one of file markers (a file's digest and point ids,
written after its points, so a killed job redoes exactly the files it did not finish).

Point ids are 63-bit hashes of (repository, path, ordinal in the file); a chunk's vector is
found again by its embed key, whichever repository or branch stored it first."""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from qdrant_client import QdrantClient
from qdrant_client import models as qm

from codekin.embeddings.base import Vectors
from codekin.org.seam import Scope, StoredChunk
from codekin.org.sparse import query_vector
from codekin.org.spec import SpecError, StoreSpec, parse_store
from codekin.parsers.model import Chunk

log = logging.getLogger(__name__)

DENSE = "dense"
LEXICAL = "lexical"
FORMAT = "codekin-org-1"
MANIFEST_ID = 1  # the manifest point in the files collection
_KEYWORDS = ("repo", "language", "embed_key", "path")
_CHUNK_FIELDS = (
    "path",
    "language",
    "kind",
    "symbol",
    "container",
    "start_byte",
    "end_byte",
    "start_line",
    "end_line",
    "start_col",
    "end_col",
    "text",
    "content_hash",
)


class StoreProblem(RuntimeError):
    """The shared store cannot serve this request (missing, other model, unreachable)."""


def point_id(*parts: str | int) -> int:
    """A stable positive 63-bit id (never the manifest's)."""
    key = "\0".join(str(p) for p in parts).encode("utf-8", "surrogatepass")
    value = int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "little") & ((1 << 63) - 1)
    return value if value > MANIFEST_ID else value + 2


@dataclass(frozen=True)
class Manifest:
    model_id: str
    model_hash: str
    dim: int
    chunker: str

    def payload(self) -> dict[str, Any]:
        return {"kind": "manifest", "format": FORMAT, **self.__dict__}


@dataclass(frozen=True)
class FileMarker:
    repo: str
    path: str
    digest: str
    ids: tuple[int, ...]
    revision: str = ""


@dataclass(frozen=True)
class RepoSummary:
    """One repository in the store, as its last complete ``codekin org index`` left it."""

    name: str
    revision: str = ""  # the commit indexed ("" for a directory outside git)
    source: str = ""  # its path or URL (credentials masked)
    files: int = 0
    chunks: int = 0
    updated: float = 0.0  # UNIX time of that run's end


def api_key(env_name: str) -> str | None:
    """The API key of a Qdrant server, from the environment variable ``env_name`` (never from a
    setting or an address: it is not stored in any index, report or log)."""
    return (os.environ.get(env_name) or None) if env_name else None


def connect(spec: StoreSpec, key: str | None = None) -> QdrantClient:
    if spec.kind == "memory":
        return QdrantClient(location=":memory:")
    if spec.kind == "local":
        try:
            return QdrantClient(path=spec.path)
        except RuntimeError as exc:  # another process holds local mode's lock
            raise StoreProblem(f"cannot open {spec.describe()}: {exc}") from None
    return QdrantClient(host=spec.host, port=spec.port, https=spec.https, api_key=key)


def open_existing(address: str, key_env: str) -> QdrantStore:
    """The store at ``address``, which must exist already (opening a local one would create it);
    a server's API key comes from the environment variable ``key_env``."""
    try:
        spec = parse_store(address)
    except SpecError as exc:
        raise StoreProblem(str(exc)) from None
    if spec.kind == "local" and not Path(spec.path).is_dir():
        raise StoreProblem(f"{spec.describe()}: no such directory (run: codekin org index)")
    return QdrantStore(spec, key=api_key(key_env))


class QdrantStore:
    def __init__(self, spec: StoreSpec, client: QdrantClient | None = None, key: str | None = None) -> None:
        """``key``: a Qdrant server's API key (see :func:`api_key`); kept by the client only."""
        self.spec = spec
        self.client = client or connect(spec, key)
        self.chunks_name = spec.collection
        self.files_name = f"{spec.collection}__files"

    # --- setup ----------------------------------------------------------------------------------
    def manifest(self) -> Manifest | None:
        try:
            if not self.client.collection_exists(self.files_name):
                return None
            found = self.client.retrieve(self.files_name, [MANIFEST_ID], with_payload=True)
        except Exception as exc:  # network and server errors come in many types
            hint = ""
            if any(code in str(exc) for code in ("401", "403", "Unauthorized", "Forbidden")):
                hint = " (check the API key: $QDRANT_API_KEY, or the variable store_api_key_env names)"
            raise StoreProblem(f"cannot read {self.spec.describe()}: {exc}{hint}") from exc
        if not found or not found[0].payload:
            return None
        p = found[0].payload
        return Manifest(str(p["model_id"]), str(p["model_hash"]), int(p["dim"]), str(p["chunker"]))

    def ensure(self, manifest: Manifest) -> None:
        """Create the collections for this encoder, or check they were made for it."""
        have = self.manifest()
        if have is not None:
            if (have.model_hash, have.dim, have.chunker) != (
                manifest.model_hash,
                manifest.dim,
                manifest.chunker,
            ):
                raise StoreProblem(
                    f"{self.spec.describe()} holds an index built with {have.model_id} "
                    f"({have.dim} dims, chunker {have.chunker}); this job uses {manifest.model_id} "
                    f"({manifest.dim} dims, chunker {manifest.chunker}): use that model or another collection"
                )
            return
        if not self.client.collection_exists(self.chunks_name):
            self.client.create_collection(
                self.chunks_name,
                vectors_config={DENSE: qm.VectorParams(size=manifest.dim, distance=qm.Distance.COSINE)},
                sparse_vectors_config={LEXICAL: qm.SparseVectorParams(modifier=qm.Modifier.IDF)},
            )
            if self.spec.kind == "server":  # local mode has no payload indexes (and warns)
                for key in _KEYWORDS:
                    self.client.create_payload_index(self.chunks_name, key, qm.PayloadSchemaType.KEYWORD)
        if not self.client.collection_exists(self.files_name):
            self.client.create_collection(self.files_name, vectors_config={})
            if self.spec.kind == "server":
                for key in ("repo", "kind"):
                    self.client.create_payload_index(self.files_name, key, qm.PayloadSchemaType.KEYWORD)
        self.client.upsert(
            self.files_name, [qm.PointStruct(id=MANIFEST_ID, vector={}, payload=manifest.payload())]
        )

    # --- writing --------------------------------------------------------------------------------
    def markers(self, repo: str) -> dict[str, FileMarker]:
        """The files of ``repo`` whose points are complete."""
        out: dict[str, FileMarker] = {}
        flt = qm.Filter(
            must=[
                qm.FieldCondition(key="repo", match=qm.MatchValue(value=repo)),
                qm.FieldCondition(key="kind", match=qm.MatchValue(value="file")),
            ]
        )
        for p in self._scroll(self.files_name, flt, vectors=False):
            pl = p.payload or {}
            out[pl["path"]] = FileMarker(
                repo, pl["path"], pl["digest"], tuple(pl["ids"]), pl.get("revision", "")
            )
        return out

    def vectors_for_keys(self, keys: Iterable[str]) -> dict[str, Vectors]:
        """Stored vectors by embed key (one per key, from whichever point holds it)."""
        wanted = list(dict.fromkeys(keys))
        out: dict[str, Vectors] = {}
        for start in range(0, len(wanted), 1000):
            part = wanted[start : start + 1000]
            for p in self._scroll(
                self.chunks_name, _match("embed_key", part), vectors=True, fields=["embed_key"]
            ):
                key = (p.payload or {}).get("embed_key")
                if key and key not in out and isinstance(p.vector, dict) and DENSE in p.vector:
                    out[key] = np.asarray(p.vector[DENSE], dtype=np.float32)
        return out

    def upsert(self, points: list[qm.PointStruct], batch: int) -> None:
        for start in range(0, len(points), batch):
            self.client.upsert(self.chunks_name, points[start : start + batch], wait=True)

    def delete(self, ids: Sequence[int]) -> None:
        if ids:
            points: list[qm.ExtendedPointId] = list(ids)
            self.client.delete(self.chunks_name, qm.PointIdsList(points=points), wait=True)

    def put_markers(self, markers: Sequence[FileMarker]) -> None:
        if markers:
            self.client.upsert(
                self.files_name,
                [
                    qm.PointStruct(
                        id=point_id("file", m.repo, m.path),
                        vector={},
                        payload={
                            "kind": "file",
                            "repo": m.repo,
                            "path": m.path,
                            "digest": m.digest,
                            "ids": list(m.ids),
                            "revision": m.revision,
                        },
                    )
                    for m in markers
                ],
                wait=True,
            )

    def drop_markers(self, repo: str, paths: Sequence[str]) -> None:
        if paths:
            ids: list[qm.ExtendedPointId] = [point_id("file", repo, p) for p in paths]
            self.client.delete(self.files_name, qm.PointIdsList(points=ids), wait=True)

    def count(self, repo: str = "") -> int:
        """Chunk points (of ``repo`` when given)."""
        if not self.client.collection_exists(self.chunks_name):
            return 0
        flt = _match("repo", [repo]) if repo else None
        return int(self.client.count(self.chunks_name, count_filter=flt, exact=True).count)

    # --- repositories ---------------------------------------------------------------------------
    def put_repo(self, summary: RepoSummary) -> None:
        """Record a repository's complete run (``org list`` reads these)."""
        self.client.upsert(
            self.files_name,
            [qm.PointStruct(id=point_id("repo", summary.name), vector={}, payload=_repo_payload(summary))],
            wait=True,
        )

    def begin_repo(self, summary: RepoSummary) -> None:
        """Record a repository before its first file is written (``updated`` 0: incomplete),
        unless an earlier run recorded it: every repository with points has a summary."""
        pid = point_id("repo", summary.name)
        if not self.client.retrieve(self.files_name, [pid], with_payload=False):
            self.put_repo(summary)

    def repos(self) -> list[RepoSummary]:
        """The repositories in the store, by name (from their summaries; a store written before
        summaries existed is listed from its file markers)."""
        if not self.client.collection_exists(self.files_name):
            return []
        found: dict[str, RepoSummary] = {}
        for p in self._scroll(self.files_name, _match("kind", ["repo"]), vectors=False):
            pl = p.payload or {}
            found[pl["repo"]] = RepoSummary(
                pl["repo"],
                pl.get("revision", ""),
                pl.get("source", ""),
                int(pl.get("files", 0)),
                int(pl.get("chunks", 0)),
                float(pl.get("updated", 0.0)),
            )
        if found:
            return sorted(found.values(), key=lambda r: r.name)
        files: dict[str, int] = {}
        revisions: dict[str, str] = {}
        for p in self._scroll(
            self.files_name, _match("kind", ["file"]), vectors=False, fields=["repo", "revision"]
        ):
            pl = p.payload or {}
            files[pl["repo"]] = files.get(pl["repo"], 0) + 1
            revisions[pl["repo"]] = pl.get("revision", "")
        return [RepoSummary(n, revisions[n], "", files[n], self.count(n)) for n in sorted(files)]

    def remove_repo(self, name: str) -> int:
        """Delete a repository's chunks, file markers and summary; returns the chunks deleted.
        Vectors it shared with other repositories stay with theirs."""
        chunks = self.count(name)
        if self.client.collection_exists(self.chunks_name):
            self.client.delete(self.chunks_name, qm.FilterSelector(filter=_match("repo", [name])), wait=True)
        if self.client.collection_exists(self.files_name):
            self.client.delete(self.files_name, qm.FilterSelector(filter=_match("repo", [name])), wait=True)
        return chunks

    # --- the search seam ------------------------------------------------------------------------
    def dense(self, vector: Vectors, k: int, scope: Scope) -> list[tuple[int, float]]:
        found = self.client.query_points(
            self.chunks_name, query=vector.tolist(), using=DENSE, limit=k, query_filter=_scope(scope)
        ).points
        return [(int(p.id), float(p.score)) for p in found]

    def lexical(self, query: str, k: int, scope: Scope) -> list[tuple[int, float]]:
        indices, values = query_vector(query)
        if not indices:
            return []
        found = self.client.query_points(
            self.chunks_name,
            query=qm.SparseVector(indices=indices, values=values),
            using=LEXICAL,
            limit=k,
            query_filter=_scope(scope),
        ).points
        return [(int(p.id), float(p.score)) for p in found]

    def chunks(self, ids: Sequence[int]) -> dict[int, StoredChunk]:
        if not ids:
            return {}
        out: dict[int, StoredChunk] = {}
        for p in self.client.retrieve(self.chunks_name, list(ids), with_payload=True):
            pl = p.payload or {}
            chunk = Chunk(**{f: pl[f] for f in _CHUNK_FIELDS})
            out[int(p.id)] = StoredChunk(chunk, pl["repo"], pl.get("revision", ""), bool(pl.get("is_header")))
        return out

    def vectors(self, ids: Sequence[int]) -> dict[int, Vectors]:
        if not ids:
            return {}
        found = self.client.retrieve(self.chunks_name, list(ids), with_payload=False, with_vectors=[DENSE])
        return {
            int(p.id): np.asarray(p.vector[DENSE], dtype=np.float32)
            for p in found
            if isinstance(p.vector, dict) and DENSE in p.vector
        }

    # --- pieces ---------------------------------------------------------------------------------
    def _scroll(
        self, collection: str, flt: qm.Filter, vectors: bool, fields: list[str] | None = None
    ) -> Iterable[qm.Record]:
        offset: Any = None
        while True:
            page, offset = self.client.scroll(
                collection,
                scroll_filter=flt,
                limit=1000,
                offset=offset,
                with_payload=fields if fields is not None else True,
                with_vectors=[DENSE] if vectors else False,
            )
            yield from page
            if offset is None:
                return

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> QdrantStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def chunk_payload(repo: str, revision: str, chunk: Chunk, embed_key: str, is_header: bool) -> dict[str, Any]:
    return {
        "repo": repo,
        "revision": revision,
        **{f: getattr(chunk, f) for f in _CHUNK_FIELDS},
        "embed_key": embed_key,
        "is_header": is_header,
    }


def _repo_payload(s: RepoSummary) -> dict[str, Any]:
    return {
        "kind": "repo",
        "repo": s.name,
        "revision": s.revision,
        "source": s.source,
        "files": s.files,
        "chunks": s.chunks,
        "updated": s.updated,
    }


def _match(key: str, values: Sequence[str]) -> qm.Filter:
    return qm.Filter(must=[qm.FieldCondition(key=key, match=qm.MatchAny(any=list(values)))])


def _scope(scope: Scope) -> qm.Filter | None:
    must: list[qm.Condition] = []
    must_not: list[qm.Condition] = []
    if scope.languages:
        must.append(qm.FieldCondition(key="language", match=qm.MatchAny(any=list(scope.languages))))
    if scope.repos:
        must.append(qm.FieldCondition(key="repo", match=qm.MatchAny(any=list(scope.repos))))
    if scope.exclude_languages:
        must_not.append(
            qm.FieldCondition(key="language", match=qm.MatchAny(any=list(scope.exclude_languages)))
        )
    if scope.exclude_repos:
        must_not.append(qm.FieldCondition(key="repo", match=qm.MatchAny(any=list(scope.exclude_repos))))
    return qm.Filter(must=must or None, must_not=must_not or None) if must or must_not else None
