"""The CPU side of org indexing, as plain functions (Ray runs them as tasks): list a
repository's indexable files with codekin's walker and ignore rules, and turn a batch of files
into chunk records (chunks, embed keys, sparse lexical vectors)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from codekin.embeddings.inputs import encoder_input
from codekin.files import FileEntry, FileFilter, SkipFile, read_source
from codekin.org.sparse import SparseVector, document_vector
from codekin.parsers import chunk_source
from codekin.parsers.model import Chunk, bytes_hash, content_hash
from codekin.settings import project_sources, resolve

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Listing:
    files: list[FileEntry]
    skipped: list[tuple[str, str]]  # (path, reason)


@dataclass(frozen=True)
class ChunkRecord:
    chunk: Chunk
    ordinal: int  # its place in the file (the point id derives from repository, path, ordinal)
    embed_key: str  # of the encoder input: equal keys share one vector, across repositories
    text: str  # the encoder input
    sparse: SparseVector
    is_header: bool  # a container header whose members are chunks of their own


@dataclass
class FileResult:
    path: str
    digest: str = ""
    language: str = ""
    unchanged: bool = False
    skipped: str = ""  # why it cannot be indexed ("" when it was)
    records: list[ChunkRecord] = field(default_factory=list)


def list_repository(root: str, max_file_bytes: int) -> Listing:
    """The files codekin would index in ``root`` (its own ``.codekin.toml`` / pyproject
    include, exclude and secret patterns apply)."""
    base = Path(root)
    settings, problems = resolve(*project_sources(base))
    for problem in problems:
        log.warning("%s", problem)
    walker = FileFilter(
        base,
        include=settings.include,
        exclude=settings.exclude,
        secret_patterns=settings.secret_patterns,
        max_file_bytes=min(max_file_bytes, settings.max_file_bytes),
    )
    skipped: list[tuple[str, str]] = []
    files = list(walker.walk(on_skip=lambda rel, why: skipped.append((rel, why))))
    return Listing(files, skipped)


def chunk_files(entries: list[FileEntry], known: dict[str, str], max_chunk_bytes: int) -> list[FileResult]:
    """Read and chunk each file; a file whose digest is ``known[path]`` is reported unchanged
    (not chunked); a file that cannot be indexed is reported with the reason."""
    out: list[FileResult] = []
    for entry in entries:
        try:
            data = read_source(entry)
        except SkipFile as why:
            out.append(FileResult(entry.rel, skipped=str(why)))
            continue
        digest = bytes_hash(data)
        if known.get(entry.rel) == digest:
            out.append(FileResult(entry.rel, digest, unchanged=True))
            continue
        try:
            lang, chunks = chunk_source(entry.rel, data, max_chunk_bytes=max_chunk_bytes)
        except Exception as exc:  # a parser bug must not stop the job: the file is skipped
            log.debug("chunking %s failed", entry.rel, exc_info=True)
            out.append(FileResult(entry.rel, digest, skipped=f"chunking failed: {exc}"))
            continue
        containers = {c.container for c in chunks if c.container}
        records = []
        for i, c in enumerate(chunks):
            text = encoder_input(c)
            header = bool(c.symbol) and c.qualified_name in containers
            records.append(ChunkRecord(c, i, content_hash(text), text, document_vector(c), header))
        out.append(FileResult(entry.rel, digest, lang, records=records))
    return out
