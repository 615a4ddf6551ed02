"""Brings an index up to date with the files on disk (or given texts), re-embedding only chunks
whose encoder input is new.

A run has two phases. *Indexing* walks, chunks and commits every changed file's chunks with
their lexical (BM25) rows, without calling the encoder: from its first commit a search finds
those chunks by keywords and the code-aware ranking. *Embedding* then embeds the chunks whose
encoder input has no stored vector (``embed_key``), a batch per transaction; each batch joins
the dense retrieval as it commits. Both phases commit in batches, so an interrupted run keeps
what it finished: the next one skips unchanged files and embeds only what still lacks a vector."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from codekin.embeddings.base import Encoder
from codekin.embeddings.deferred import prefetch
from codekin.embeddings.inputs import encoder_input
from codekin.files import FileEntry, FileFilter, SkipFile, path_key, read_source
from codekin.index import redaction
from codekin.index.code_index import CodeIndex, FileRow, PendingFile
from codekin.parsers import chunk_source
from codekin.parsers.model import bytes_hash, content_hash
from codekin.redact import Redactor

log = logging.getLogger(__name__)

BATCH_CHUNKS = 128  # chunks embedded and committed together
# chunks read at a time and sorted by length before their batches: the encoder pads each batch
# to its longest text, so batches of similar lengths waste less (on 1,344 chunks of real code,
# padding went from 18% of the real tokens with 128-chunk windows to 8%)
EMBED_WINDOW = 1024
SAVE_EVERY_S = 30.0  # vector file checkpoint interval during long runs
MAX_SKIPS_KEPT = 200


@dataclass
class IndexProgress:
    # scanning | indexing (chunks and lexical rows) | embedding | saving | done
    phase: str
    files_total: int = 0
    files_done: int = 0
    chunks_done: int = 0
    embedded: int = 0  # chunks given a vector by this run
    to_embed: int = 0  # chunks the embedding phase started with (known once it starts)
    skipped: int = 0
    elapsed: float = 0.0
    lexical_elapsed: float | None = None  # when the indexing phase ended (searchable by keywords)


@dataclass
class IndexStats:
    files_total: int = 0
    chunks_total: int = 0
    files_indexed: int = 0
    files_unchanged: int = 0
    files_removed: int = 0
    files_skipped: int = 0
    chunks_added: int = 0
    chunks_removed: int = 0
    embedded: int = 0
    elapsed: float = 0.0
    lexical_elapsed: float = 0.0  # seconds until every file was committed (searchable by keywords)
    cancelled: bool = False
    rebuilt_reason: str | None = None
    skipped: dict[str, str] = field(default_factory=dict)  # path -> reason (first MAX_SKIPS_KEPT)


ProgressCallback = Callable[[IndexProgress], None]


class Indexer:
    def __init__(
        self,
        index: CodeIndex,
        file_filter: FileFilter,
        encoder: Encoder,
        *,
        max_chunk_bytes: int = 4000,
        redactor: Redactor | None = None,
    ) -> None:
        self.index = index
        self.filter = file_filter
        self.encoder = encoder
        self.max_chunk_bytes = max_chunk_bytes
        self.redactor = redactor  # masks secrets in file text before it is chunked

    # --- public -----------------------------------------------------------------------------
    def update_all(
        self, progress: ProgressCallback | None = None, cancel: threading.Event | None = None
    ) -> IndexStats:
        """Walk the whole tree: index new/changed files, drop deleted ones."""
        run = _Run(self, progress, cancel, full=True)
        resync = self.redactor is not None and redaction.begin(self.index, self.redactor)
        run.report("scanning")
        entries = list(self.filter.walk(on_skip=run.skip))
        known = self.index.file_rows()
        present = {e.rel for e in entries}
        run.remove([p for p in known if p not in present])
        run.process(entries, known)
        run.embed_missing()
        stats = run.finish()
        if resync and self.redactor is not None and not stats.cancelled:
            redaction.finish(self.index, self.redactor)
        return stats

    def update_paths(
        self,
        rels: Iterable[str],
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
        overlays: dict[str, str] | None = None,
    ) -> IndexStats:
        """Re-check just these paths (created, changed, deleted or renamed; path keys or names
        on disk); ``overlays`` maps a path to unsaved editor text that replaces the file's content."""
        run = _Run(self, progress, cancel)
        overlays = {path_key(rel): text for rel, text in (overlays or {}).items()}
        known = self.index.file_rows()
        entries: list[FileEntry] = []
        gone: list[str] = []
        for rel in dict.fromkeys(rels):
            key = path_key(rel)
            if key in overlays:
                continue
            try:
                ignored = self.filter.is_ignored(self.filter.disk_rel(rel))
                entry = None if ignored else self.filter.stat_file(rel)
            except SkipFile as why:
                run.skip(key, str(why))
                entry = None
            except OSError:
                entry = None
            if entry is None:
                gone.append(key)
            else:
                entries.append(entry)
        run.remove([p for p in gone if p in known] + _children_of_dirs(gone, known))
        run.process(entries, known)
        for rel, text in overlays.items():
            run.add_text(rel, text.encode("utf-8", "surrogatepass"))
        run.flush()
        run.embed_missing(after_id=run.first_id - 1)  # this run's chunks (a full run owes the rest)
        return run.finish()


def _children_of_dirs(gone: list[str], known: dict[str, FileRow]) -> list[str]:
    """Files under vanished directories (a deleted or renamed folder arrives as one event)."""
    prefixes = tuple(g.rstrip("/") + "/" for g in gone)
    return [p for p in known if prefixes and p.startswith(prefixes)]


class _Run:
    """State of one indexing run (progress, pending batch, statistics)."""

    def __init__(
        self,
        indexer: Indexer,
        progress: ProgressCallback | None,
        cancel: threading.Event | None,
        *,
        full: bool = False,
    ) -> None:
        self.ix = indexer
        self.index = indexer.index
        self.progress_cb = progress
        self.cancel = cancel
        self.stats = IndexStats(rebuilt_reason=indexer.index.rebuilt_reason)
        self.progress = IndexProgress("scanning")
        self.started = time.monotonic()
        self.full = full  # a whole-tree run (vs a few paths from an editor or watcher)
        self.pending: list[PendingFile] = []
        self.pending_chunks = 0
        self.index.vectors()  # sync vectors with the store before changing either
        self.first_id = self.index.max_chunk_id() + 1  # ids are never reused (AUTOINCREMENT)

    def report(self, phase: str | None = None) -> None:
        if phase:
            self.progress.phase = phase
        self.progress.elapsed = time.monotonic() - self.started
        if self.progress_cb:
            self.progress_cb(self.progress)

    def skip(self, rel: str, reason: str) -> None:
        log.info("skip %s: %s", rel, reason)
        self.stats.files_skipped += 1
        self.progress.skipped += 1
        if len(self.stats.skipped) < MAX_SKIPS_KEPT:
            self.stats.skipped[rel] = reason

    def cancelled(self) -> bool:
        return self.cancel is not None and self.cancel.is_set()

    def remove(self, paths: list[str]) -> None:
        if not paths:
            return
        removed = self.index.remove_files(paths)
        self.stats.files_removed += len(paths)
        self.stats.chunks_removed += len(removed)

    def process(self, entries: list[FileEntry], known: dict[str, FileRow]) -> None:
        self.progress.files_total += len(entries)
        self.report("indexing")
        for entry in entries:
            if self.cancelled():
                self.stats.cancelled = True
                break
            self.progress.files_done += 1
            row = known.get(entry.rel)
            if row is not None and row.size == entry.size and row.mtime_ns == entry.mtime_ns:
                self.stats.files_unchanged += 1
                continue
            try:
                data = read_source(entry)
            except SkipFile as why:
                self.skip(entry.rel, str(why))
                if row is not None:  # it was indexed before; it is not indexable any more
                    self.remove([entry.rel])
                continue
            digest = bytes_hash(data)
            if row is not None and row.hash == digest:
                self.index.touch_file(entry.rel, entry.size, entry.mtime_ns)
                self.stats.files_unchanged += 1
                continue
            self.add_bytes(entry.rel, data, entry.size, entry.mtime_ns, digest)
            if self.progress.files_done % 50 == 0:
                self.report()
        self.flush()

    def add_text(self, rel: str, data: bytes) -> None:
        """Index in-editor text for ``rel``; stat -1 makes the next disk check re-read the file."""
        self.add_bytes(rel, data, -1, -1, bytes_hash(data))

    def add_bytes(self, rel: str, data: bytes, size: int, mtime_ns: int, digest: str) -> None:
        redacted = self.ix.redactor.redact(data, rel) if self.ix.redactor else None
        data = redacted.data if redacted else data  # the single point where file text enters
        try:
            lang, chunks = chunk_source(rel, data, max_chunk_bytes=self.ix.max_chunk_bytes)
        except Exception as exc:  # a parser bug must not stop the run: fall back to skipping
            log.debug("chunking %s failed", rel, exc_info=True)  # the skip below logs the reason
            self.skip(rel, f"chunking failed: {exc}")
            return
        if chunks:
            prefetch(self.ix.encoder)  # the model loads while the lexical phase goes on
        # an embedding is stored and reused under the hash of its encoder input (its embed_key)
        keyed = [(c, content_hash(encoder_input(c))) for c in chunks]
        found = dict(redacted.found) if redacted else {}
        self.pending.append(
            PendingFile(FileRow(rel, size, mtime_ns, digest, lang, len(chunks)), keyed, found)
        )
        self.pending_chunks += len(chunks)
        self.stats.files_indexed += 1
        if self.pending_chunks >= BATCH_CHUNKS:
            self.flush()

    def flush(self) -> None:
        """Commit the pending files' chunks and lexical rows (chunks whose encoder input was
        embedded before get that vector at once; the rest wait for :meth:`embed_missing`)."""
        if not self.pending:
            return
        batch, self.pending, self.pending_chunks = self.pending, [], 0
        removed, _ = self.index.commit_files(batch, {})
        added = sum(len(pf.chunks) for pf in batch)
        self.stats.chunks_added += added
        self.stats.chunks_removed += len(removed)
        self.progress.chunks_done += added
        self.report()

    def embed_missing(self, after_id: int = -1) -> None:
        """The embedding phase: embed the chunks (with an id above ``after_id``) that have no
        stored vector, read ``EMBED_WINDOW`` at a time and sorted by length, each batch of
        ``BATCH_CHUNKS`` committed as it is done."""
        self.flush()
        self.stats.lexical_elapsed = self.progress.lexical_elapsed = time.monotonic() - self.started
        embedded, total = self.index.coverage()  # from the loaded vectors: a no-op run skips the scan
        self.progress.to_embed = self.index.count_missing_vectors(after_id) if embedded < total else 0
        self.report("embedding")
        while self.progress.to_embed and not self.cancelled():
            rows = self.index.missing_vectors(after_id, EMBED_WINDOW)
            if not rows:
                break
            after_id = rows[-1][0]
            texts = sorted(
                {key: encoder_input(chunk) for _, chunk, key in rows}.items(), key=lambda kv: len(kv[1])
            )
            for start in range(0, len(texts), BATCH_CHUNKS):
                if self.cancelled():
                    break
                self._embed(dict(texts[start : start + BATCH_CHUNKS]))
        if self.cancelled():
            self.stats.cancelled = True

    def _embed(self, texts: dict[str, str]) -> None:
        """Embed one batch (embed key -> encoder input) and commit its vectors."""
        vectors = self.ix.encoder.embed_documents(list(texts.values()))
        gained = self.index.add_vectors(dict(zip(texts, vectors, strict=True)))
        self.stats.embedded += len(texts)
        self.progress.embedded += len(gained)
        self.report()
        self.index.save_if_due(SAVE_EVERY_S)

    def finish(self) -> IndexStats:
        self.flush()
        if self.stats.chunks_removed:  # only removed chunks can leave vectors unused
            self.index.owe_vector_cleanup()
        if self.full:  # (no scan when no chunk was removed since the last one)
            self.index.drop_unused_vectors()
        self.report("saving")
        self.index.save_if_due(0.0 if self.full else SAVE_EVERY_S)
        self.stats.files_total, self.stats.chunks_total = self.index.counts()
        self.stats.elapsed = time.monotonic() - self.started
        self.report("done")
        return self.stats
