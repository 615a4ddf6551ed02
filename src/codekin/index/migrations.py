"""Schema changes since the first release, applied when a store is opened for writing.

An index written by an older codekin keeps its chunks and embeddings; what a newer release
added is built from them (no re-parsing, no re-embedding). A read-only open changes nothing:
the store then works without what is missing."""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)

# The file-level lexical tables: one BM25 document per file with chunks.
FILE_DOCS_SCHEMA = """
CREATE TABLE IF NOT EXISTS file_docs (id INTEGER PRIMARY KEY AUTOINCREMENT, path TEXT NOT NULL UNIQUE);
CREATE VIRTUAL TABLE IF NOT EXISTS files_fts USING fts5(symbol, path, body);
"""
FILE_DOCS_FLAG = "file_docs"  # meta key: "1" once every file has its document
BACKFILL_WAIT_MS = 1000  # another process writing: build the file documents on a later open
BUSY_TIMEOUT_MS = 30000  # the store's usual wait for a writer


def ensure_file_docs(
    db: sqlite3.Connection, where: Path, *, readonly: bool, write_doc: Callable[[str], None]
) -> bool:
    """The file-level lexical tables. An index made before them gains them from its stored
    chunks (``write_doc(path)`` writes one file's document from them); the ``file_docs`` meta
    flag says they are complete. When that cannot happen now (another process is writing, a
    read-only database), files rank without them and the next open tries again. Returns whether
    both tables exist (then every write keeps them current)."""
    if readonly:
        return has_file_docs(db)
    try:
        db.execute(f"PRAGMA busy_timeout = {BACKFILL_WAIT_MS}")
        db.executescript(FILE_DOCS_SCHEMA)
        if not file_docs_complete(db):
            _backfill_file_docs(db, write_doc)
    except sqlite3.OperationalError as exc:
        log.warning("%s: file-level lexical index not built now (%s); retried on next open", where, exc)
    finally:
        db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    return has_file_docs(db)


def has_file_docs(db: sqlite3.Connection) -> bool:
    found = db.execute("SELECT count(*) FROM sqlite_master WHERE name IN ('file_docs', 'files_fts')")
    return int(found.fetchone()[0]) == 2


def file_docs_complete(db: sqlite3.Connection) -> bool:
    row = db.execute("SELECT value FROM meta WHERE key=?", (FILE_DOCS_FLAG,)).fetchone()
    return bool(row) and str(row[0]) == "1"


def _backfill_file_docs(db: sqlite3.Connection, write_doc: Callable[[str], None]) -> None:
    started = time.monotonic()
    db.execute("BEGIN IMMEDIATE")
    try:
        if not file_docs_complete(db):  # not done by another process meanwhile
            db.execute("DELETE FROM files_fts")
            db.execute("DELETE FROM file_docs")
            paths = [r[0] for r in db.execute("SELECT DISTINCT path FROM chunks")]
            for p in paths:
                write_doc(p)
            db.execute("INSERT OR REPLACE INTO meta VALUES (?, '1')", (FILE_DOCS_FLAG,))
            if paths:
                took = time.monotonic() - started
                log.info("file-level lexical index built for %d files in %.1f s", len(paths), took)
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
