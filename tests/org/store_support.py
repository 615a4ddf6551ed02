"""A shared store built in this process (no Ray): the same records and points as ``codekin org
index`` writes (codekin.org.records, codekin.org.pipeline.file_points), for the tests of the
readers of a shared store."""

from __future__ import annotations

import time
from pathlib import Path

from codekin.embeddings.fake import FakeEncoder
from codekin.org.pipeline import file_points
from codekin.org.qdrant_store import FileMarker, Manifest, QdrantStore, RepoSummary
from codekin.org.records import chunk_files, list_repository
from codekin.org.spec import parse_store
from codekin.parsers import CHUNKER_VERSION
from tests.org.org_support import FAKE_DIM


def build_store(where: Path, repos: dict[str, tuple[Path, str]]) -> str:
    """``repos``: name -> (directory, revision label); returns the store's address."""
    address = f"qdrant-local:{where}"
    encoder = FakeEncoder(FAKE_DIM)
    with QdrantStore(parse_store(address)) as store:
        store.ensure(Manifest(encoder.model_id, encoder.model_hash, encoder.dim, CHUNKER_VERSION))
        for name, (root, revision) in repos.items():
            results = [
                r for r in chunk_files(list_repository(str(root), 1_000_000).files, {}, 4000) if not r.skipped
            ]
            texts = {rec.embed_key: rec.text for r in results for rec in r.records}
            vectors = dict(zip(texts, encoder.embed_documents(list(texts.values())), strict=True))
            for r in results:
                points = file_points(name, revision, r, vectors.__getitem__)
                store.upsert(points, 256)
                store.put_markers(
                    [FileMarker(name, r.path, r.digest, tuple(int(p.id) for p in points), revision)]
                )
            store.put_repo(
                RepoSummary(name, revision, str(root), len(results), store.count(name), time.time())
            )
    return address
