"""SQLite metadata store: files, chunks (row id = vector key), embeddings by input hash, and
FTS5 tables for lexical search over chunks and over whole files. SQLite is the source of truth:
every file's new chunks and their embeddings commit in one transaction, so a killed run loses
nothing already committed."""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from codekin.embeddings.base import Vectors
from codekin.index import migrations
from codekin.index.lexical import DEFAULT_QUERY, QueryOptions, code_tokens, fts_query
from codekin.parsers.model import Chunk

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, hash TEXT NOT NULL,
    language TEXT NOT NULL, chunks INTEGER NOT NULL, indexed_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY AUTOINCREMENT, path TEXT NOT NULL, language TEXT NOT NULL,
    kind TEXT NOT NULL, symbol TEXT NOT NULL, container TEXT NOT NULL,
    start_byte INTEGER NOT NULL, end_byte INTEGER NOT NULL, start_line INTEGER NOT NULL,
    end_line INTEGER NOT NULL, start_col INTEGER NOT NULL, end_col INTEGER NOT NULL,
    text TEXT NOT NULL, content_hash TEXT NOT NULL, embed_key TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_path ON chunks(path);
CREATE INDEX IF NOT EXISTS chunks_embed_key ON chunks(embed_key);
CREATE INDEX IF NOT EXISTS chunks_container ON chunks(path, container);
CREATE TABLE IF NOT EXISTS vectors (embed_key TEXT PRIMARY KEY, vector BLOB NOT NULL);
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5(symbol, path, body);
CREATE TABLE IF NOT EXISTS redactions (path TEXT PRIMARY KEY, count INTEGER NOT NULL, kinds TEXT NOT NULL);
"""
# BM25 column weights for (symbol, path, body), in both tables.
FTS_WEIGHTS = (4.0, 2.0, 1.0)
log = logging.getLogger(__name__)
_CHUNK_COLUMNS = (
    "id, path, language, kind, symbol, container, start_byte, end_byte, start_line, end_line, "
    "start_col, end_col, text, content_hash"
)


@dataclass(frozen=True)
class FileRow:
    path: str
    size: int
    mtime_ns: int
    hash: str
    language: str
    chunks: int


@dataclass(frozen=True)
class PendingFile:
    """A file's new state, ready to replace its old chunks in one transaction."""

    row: FileRow
    chunks: list[tuple[Chunk, str]]  # (chunk, embed_key)
    redacted: dict[str, int] = field(default_factory=dict)  # secrets masked in it, by kind


class CorruptIndex(Exception):
    """The SQLite database cannot be read. ``reported``: the message already says what was done
    about it (moved aside, who rebuilds it), for the user as it is."""

    def __init__(self, message: str, *, reported: bool = False) -> None:
        super().__init__(message)
        self.reported = reported


class IndexNotBuilt(LookupError):
    """A database file with no tables yet (its writer is creating them): no index to read."""


# SQLite primary result codes that mean the file itself is damaged.
_CORRUPTION_CODES = (11, 26)  # SQLITE_CORRUPT, SQLITE_NOTADB


def is_corruption(exc: sqlite3.Error) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(code, int):
        return code & 0xFF in _CORRUPTION_CODES
    text = str(exc)
    return "malformed" in text or "not a database" in text


def _connect(path: Path, readonly: bool) -> sqlite3.Connection:
    """A connection to an existing (readonly) or possibly new database."""
    if not readonly:
        return sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=30)
    uri = path.resolve().as_uri()
    db = sqlite3.connect(
        f"{uri}?mode=ro", uri=True, check_same_thread=False, isolation_level=None, timeout=30
    )
    try:  # mode=ro still sees a concurrent writer's commits
        db.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return db
    except sqlite3.OperationalError as exc:  # a WAL file with no -shm in a read-only directory
        log.info("%s: read-only open failed (%s); opening it as immutable", path, exc)
        db.close()
    return sqlite3.connect(f"{uri}?immutable=1", uri=True, check_same_thread=False, isolation_level=None)


def _chunk_from_row(row: tuple[Any, ...]) -> tuple[int, Chunk]:
    """A ``SELECT {_CHUNK_COLUMNS}`` row -> (chunk id, Chunk); column order matches Chunk's fields."""
    return int(row[0]), Chunk(*row[1:])


class Store:
    """``readonly``: open without writing anything (``mode=ro``, or ``immutable`` where SQLite
    cannot even create its shared-memory file); ``check``: run ``PRAGMA quick_check`` first.
    Any query that finds the file corrupt raises :class:`CorruptIndex`."""

    def __init__(self, path: Path, *, readonly: bool = False, check: bool = False) -> None:
        self.path = path
        self.readonly = readonly
        self._lock = threading.RLock()
        try:
            self._db = _connect(path, readonly)
            # a brand-new (or emptied) database file: no tables at all before the schema
            self.created = self._db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 0
            if readonly and self.created:  # a writer has just created the file: nothing to read yet
                raise IndexNotBuilt(f"the index in {path.parent} is being created: try again in a moment")
            if not readonly:
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute("PRAGMA synchronous=NORMAL")
                self._db.executescript(SCHEMA)
            if check and (problem := self.quick_check()):
                raise CorruptIndex(f"{path}: {problem}")
            self._db.execute("SELECT count(*) FROM chunks").fetchone()
            if not readonly and not self.get_meta("store_id"):
                self.set_meta("store_id", uuid.uuid4().hex)
            self._doc_tables = migrations.ensure_file_docs(
                self._db, path, readonly=readonly, write_doc=self._write_file_doc
            )
        except sqlite3.DatabaseError as exc:
            self._close_quietly()
            raise CorruptIndex(f"{path}: {exc}") from exc
        except (CorruptIndex, IndexNotBuilt):
            self._close_quietly()
            raise

    def _close_quietly(self) -> None:
        with suppress(AttributeError, sqlite3.Error):
            self._db.close()

    @contextmanager
    def _using(self) -> Iterator[None]:
        """Hold the connection; a corrupt file surfaces as CorruptIndex, not a raw DatabaseError."""
        with self._lock:
            try:
                yield
            except sqlite3.DatabaseError as exc:
                if is_corruption(exc):
                    raise CorruptIndex(f"{self.path}: {exc}") from exc
                raise

    @property
    def store_id(self) -> str:
        """Random per database file: vectors saved for another database never match it."""
        return self.get_meta("store_id")

    def close(self) -> None:
        with self._using():
            self._db.close()

    # --- meta -------------------------------------------------------------------------------
    def get_meta(self, key: str, default: str = "") -> str:
        with self._using():
            row = self._db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return str(row[0]) if row else default

    def set_meta(self, key: str, value: str) -> None:
        with self._using():
            self._db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def meta(self) -> dict[str, str]:
        with self._using():
            return {str(k): str(v) for k, v in self._db.execute("SELECT key, value FROM meta")}

    def set_metas(self, values: dict[str, str]) -> None:
        with self._using():
            self._db.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", values.items())

    def quick_check(self) -> str | None:
        """What ``PRAGMA quick_check`` finds wrong (O(database size)), or None."""
        try:
            with self._using():
                problems = [str(r[0]) for r in self._db.execute("PRAGMA quick_check(3)")]
        except CorruptIndex as exc:
            return str(exc.__cause__ or exc)
        return None if problems == ["ok"] else "; ".join(problems)

    def generation(self) -> int:
        """Increments on every committed change; the vector file records which one it matches."""
        return int(self.get_meta("generation", "0"))

    # --- reads ------------------------------------------------------------------------------
    def file_rows(self) -> dict[str, FileRow]:
        with self._using():
            rows = self._db.execute("SELECT path, size, mtime_ns, hash, language, chunks FROM files")
            return {r[0]: FileRow(*r) for r in rows}

    def chunks_by_ids(self, ids: Sequence[int]) -> dict[int, Chunk]:
        out: dict[int, Chunk] = {}
        with self._using():
            for start in range(0, len(ids), 500):
                part = list(ids[start : start + 500])
                marks = ",".join("?" * len(part))
                for row in self._db.execute(
                    f"SELECT {_CHUNK_COLUMNS} FROM chunks WHERE id IN ({marks})", part
                ):
                    cid, chunk = _chunk_from_row(row)
                    out[cid] = chunk
        return out

    def chunk_heads(self, ids: Sequence[int]) -> dict[int, Chunk]:
        """The chunks of ``ids`` without their text (``text`` is ""): what ranking reads."""
        out: dict[int, Chunk] = {}
        columns = _CHUNK_COLUMNS.replace(" text,", " '',")
        with self._using():
            for start in range(0, len(ids), 500):
                part = list(ids[start : start + 500])
                marks = ",".join("?" * len(part))
                for row in self._db.execute(f"SELECT {columns} FROM chunks WHERE id IN ({marks})", part):
                    cid, chunk = _chunk_from_row(row)
                    out[cid] = chunk
        return out

    def containers(self, paths: Sequence[str]) -> set[tuple[str, str]]:
        """(path, container) for every container that holds a member chunk in those files."""
        out: set[tuple[str, str]] = set()
        unique = list(dict.fromkeys(paths))
        with self._lock:
            for start in range(0, len(unique), 500):
                part = unique[start : start + 500]
                marks = ",".join("?" * len(part))
                out.update(
                    self._db.execute(
                        "SELECT DISTINCT path, container FROM chunks"
                        f" WHERE path IN ({marks}) AND container != ''",
                        part,
                    )
                )
        return out

    def chunks_of_file(self, path: str) -> list[tuple[int, Chunk]]:
        with self._using():
            rows = self._db.execute(
                f"SELECT {_CHUNK_COLUMNS} FROM chunks WHERE path=? ORDER BY start_byte", (path,)
            ).fetchall()
        return [_chunk_from_row(r) for r in rows]

    def chunks_named(self, symbols: Sequence[str], limit: int = 1000) -> list[tuple[int, Chunk]]:
        """Chunks whose own symbol (not the qualified name) is one of ``symbols``."""
        names = list(dict.fromkeys(symbols))[:500]
        if not names:
            return []
        with self._lock:
            rows = self._db.execute(
                f"SELECT {_CHUNK_COLUMNS} FROM chunks WHERE symbol IN ({','.join('?' * len(names))}) "
                "ORDER BY id LIMIT ?",
                [*names, limit],
            ).fetchall()
        return [_chunk_from_row(r) for r in rows]

    def vectors_for_ids(self, ids: Sequence[int]) -> tuple[list[int], Vectors]:
        """Stored embeddings of the given chunk ids (ids without one are dropped)."""
        found: list[int] = []
        rows: list[bytes] = []
        with self._using():
            for start in range(0, len(ids), 500):
                part = list(ids[start : start + 500])
                marks = ",".join("?" * len(part))
                for cid, blob in self._db.execute(
                    f"SELECT c.id, v.vector FROM chunks c JOIN vectors v ON v.embed_key = c.embed_key "
                    f"WHERE c.id IN ({marks})",
                    part,
                ):
                    found.append(int(cid))
                    rows.append(blob)
        return found, _stack(rows)

    def iter_vectors(self, batch: int = 4096) -> Iterator[tuple[list[int], Vectors]]:
        """All (chunk id, vector) pairs, in batches: rebuilds the vector index without re-embedding."""
        last = -1
        while True:
            with self._using():
                rows = self._db.execute(
                    "SELECT c.id, v.vector FROM chunks c JOIN vectors v ON v.embed_key = c.embed_key "
                    "WHERE c.id > ? ORDER BY c.id LIMIT ?",
                    (last, batch),
                ).fetchall()
            if not rows:
                return
            last = int(rows[-1][0])
            yield [int(r[0]) for r in rows], _stack([r[1] for r in rows])

    def chunk_ids(self, languages: Sequence[str] | None = None) -> list[int]:
        sql, args = "SELECT id FROM chunks", list(languages or [])
        if languages:
            sql += f" WHERE language IN ({','.join('?' * len(languages))})"
        with self._using():
            return [int(r[0]) for r in self._db.execute(sql, args)]

    def chunks_without_vector(self) -> list[int]:
        """Ids of chunks whose embedding is not stored (they can have no vector)."""
        with self._using():
            rows = self._db.execute(
                "SELECT c.id FROM chunks c LEFT JOIN vectors v ON v.embed_key = c.embed_key "
                "WHERE v.embed_key IS NULL ORDER BY c.id"
            )
            return [int(r[0]) for r in rows]

    def chunk_paths(
        self, languages: Sequence[str] | None = None, exclude_languages: Sequence[str] | None = None
    ) -> list[tuple[int, str]]:
        """(chunk id, path) of the chunks in ``languages`` (all when None) and not in
        ``exclude_languages``: what a filtered search may return, read without the chunk texts."""
        clauses, args = [], []
        for op, names in (("IN", languages), ("NOT IN", exclude_languages)):
            if names:
                clauses.append(f"language {op} ({','.join('?' * len(names))})")
                args += list(names)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        with self._lock:
            return [
                (int(r[0]), str(r[1])) for r in self._db.execute(f"SELECT id, path FROM chunks{where}", args)
            ]

    def chunk_catalog(self) -> list[tuple[int, str, str]]:
        """(id, path, language) of every chunk, read without the texts."""
        with self._lock:
            rows = self._db.execute("SELECT id, path, language FROM chunks ORDER BY id")
            return [(int(r[0]), str(r[1]), str(r[2])) for r in rows]

    def missing_vectors(self, after_id: int, limit: int) -> list[tuple[int, Chunk, str]]:
        """Chunks with an id above ``after_id`` whose embedding is not stored yet, in id order:
        (chunk id, chunk, embed_key). Several may share a key (copied code)."""
        with self._using():
            rows = self._db.execute(
                f"SELECT {_CHUNK_COLUMNS}, embed_key FROM chunks c WHERE c.id > ? AND NOT EXISTS "
                "(SELECT 1 FROM vectors v WHERE v.embed_key = c.embed_key) ORDER BY c.id LIMIT ?",
                (after_id, limit),
            ).fetchall()
        return [(*_chunk_from_row(r[:-1]), str(r[-1])) for r in rows]

    def count_missing_vectors(self, after_id: int = -1) -> int:
        """How many chunks (with an id above ``after_id``) wait for their embedding."""
        with self._using():
            row = self._db.execute(
                "SELECT count(*) FROM chunks c WHERE c.id > ? AND NOT EXISTS "
                "(SELECT 1 FROM vectors v WHERE v.embed_key = c.embed_key)",
                (after_id,),
            ).fetchone()
        return int(row[0])

    def max_chunk_id(self) -> int:
        with self._using():
            row = self._db.execute("SELECT max(id) FROM chunks").fetchone()
        return int(row[0]) if row and row[0] is not None else -1

    def counts(self) -> tuple[int, int]:
        with self._using():
            files = self._db.execute("SELECT count(*) FROM files").fetchone()[0]
            chunks = self._db.execute("SELECT count(*) FROM chunks").fetchone()[0]
        return int(files), int(chunks)

    def files_changed_since(self, time_ns: int) -> int:
        """Indexed files modified after ``time_ns`` (or held as unsaved editor text)."""
        with self._using():
            sql = "SELECT count(*) FROM files WHERE mtime_ns > ? OR mtime_ns < 0"
            return int(self._db.execute(sql, (time_ns,)).fetchone()[0])

    def languages(self) -> dict[str, int]:
        with self._using():
            rows = self._db.execute("SELECT language, count(*) FROM files GROUP BY language ORDER BY 2 DESC")
            return {str(r[0]): int(r[1]) for r in rows}

    def lexical_search(
        self,
        query: str,
        limit: int,
        languages: Sequence[str] | None = None,
        options: QueryOptions = DEFAULT_QUERY,
    ) -> list[tuple[int, float]]:
        """BM25 over (symbol, path, body) tokens; returns (chunk id, score) best first."""
        rows = self._bm25(
            "SELECT f.rowid, bm25(chunks_fts, ?, ?, ?) AS rank FROM chunks_fts f ",
            "JOIN chunks c ON c.id = f.rowid ",
            "c.language",
            "chunks_fts",
            query,
            limit,
            languages,
            options,
        )
        return [(int(r[0]), -float(r[1])) for r in rows]

    def file_lexical_search(
        self,
        query: str,
        limit: int,
        languages: Sequence[str] | None = None,
        options: QueryOptions = DEFAULT_QUERY,
    ) -> list[tuple[str, float]]:
        """BM25 over whole files (all their chunks' symbol, path and body tokens as one
        document); returns (path, score) best first."""
        if not self._doc_tables or self.get_meta(migrations.FILE_DOCS_FLAG) != "1":
            return []
        rows = self._bm25(
            "SELECT d.path, bm25(files_fts, ?, ?, ?) AS rank FROM files_fts f "
            "JOIN file_docs d ON d.id = f.rowid ",
            "JOIN files x ON x.path = d.path ",
            "x.language",
            "files_fts",
            query,
            limit,
            languages,
            options,
        )
        return [(str(r[0]), -float(r[1])) for r in rows]

    def _bm25(
        self,
        select: str,
        language_join: str,
        language_column: str,
        table: str,
        query: str,
        limit: int,
        languages: Sequence[str] | None,
        options: QueryOptions,
    ) -> list[tuple[Any, ...]]:
        """Rows of ``select`` (which binds the FTS_WEIGHTS) matching the query in ``table``,
        best first; ``language_join`` brings ``language_column`` in when languages filter."""
        expr = fts_query(query, options)
        if not expr:
            return []
        sql = select + (language_join if languages else "") + f"WHERE {table} MATCH ? "
        args: list[object] = [*FTS_WEIGHTS, expr]
        if languages:
            sql += f"AND {language_column} IN ({','.join('?' * len(languages))}) "
            args += list(languages)
        sql += "ORDER BY rank LIMIT ?"
        args.append(limit)
        with self._using():
            return self._db.execute(sql, args).fetchall()

    # --- writes -----------------------------------------------------------------------------
    def commit_files(
        self, files: Sequence[PendingFile], vectors: dict[str, np.ndarray]
    ) -> tuple[list[int], list[tuple[int, str]]]:
        """Replace each file's chunks and store new embeddings, all in one transaction.

        Returns (removed chunk ids, [(added chunk id, embed_key)])."""
        removed: list[int] = []
        added: list[tuple[int, str]] = []
        with self._using():
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                db.executemany(
                    "INSERT OR IGNORE INTO vectors VALUES (?, ?)",
                    ((k, np.asarray(v, dtype=np.float32).tobytes()) for k, v in vectors.items()),
                )
                for pending in files:
                    removed += self._delete_file_chunks(pending.row.path)
                    symbols: list[str] = []
                    bodies: list[str] = []
                    path_tokens = " ".join(code_tokens(pending.row.path))
                    for chunk, key in pending.chunks:
                        cur = db.execute(
                            "INSERT INTO chunks (path, language, kind, symbol, container, start_byte, "
                            "end_byte, "
                            "start_line, end_line, start_col, end_col, text, content_hash, embed_key) "
                            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                            (
                                chunk.path,
                                chunk.language,
                                chunk.kind,
                                chunk.symbol,
                                chunk.container,
                                chunk.start_byte,
                                chunk.end_byte,
                                chunk.start_line,
                                chunk.end_line,
                                chunk.start_col,
                                chunk.end_col,
                                chunk.text,
                                chunk.content_hash,
                                key,
                            ),
                        )
                        cid = int(cur.lastrowid or 0)
                        symbol, body = _chunk_tokens(chunk)
                        db.execute(
                            "INSERT INTO chunks_fts (rowid, symbol, path, body) VALUES (?,?,?,?)",
                            (cid, symbol, path_tokens, body),
                        )
                        symbols.append(symbol)
                        bodies.append(body)
                        added.append((cid, key))
                    if self._doc_tables:
                        self._delete_file_doc(pending.row.path)
                        self._insert_file_doc(pending.row.path, symbols, bodies)
                    r = pending.row
                    db.execute(
                        "INSERT OR REPLACE INTO files VALUES (?,?,?,?,?,?,?)",
                        (r.path, r.size, r.mtime_ns, r.hash, r.language, r.chunks, time.time()),
                    )
                    self._record_redactions(r.path, pending.redacted)
                self._bump_generation()
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return removed, added

    def touch_file(self, path: str, size: int, mtime_ns: int) -> None:
        """Content unchanged but stat changed: remember the new stat only."""
        with self._using():
            self._db.execute("UPDATE files SET size=?, mtime_ns=? WHERE path=?", (size, mtime_ns, path))

    def remove_files(self, paths: Sequence[str]) -> list[int]:
        removed: list[int] = []
        with self._using():
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for path in paths:
                    removed += self._delete_file_chunks(path)
                    if self._doc_tables:
                        self._delete_file_doc(path)
                    self._db.execute("DELETE FROM files WHERE path=?", (path,))
                    self._record_redactions(path, {})
                self._bump_generation()
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return removed

    def _record_redactions(self, path: str, kinds: dict[str, int]) -> None:
        self._db.execute("DELETE FROM redactions WHERE path=?", (path,))
        if kinds:
            self._db.execute(
                "INSERT INTO redactions VALUES (?,?,?)", (path, sum(kinds.values()), json.dumps(kinds))
            )

    def redactions(self) -> tuple[int, int, dict[str, int]]:
        """(secrets masked, files they were in, count by kind) over the indexed files."""
        total: Counter[str] = Counter()
        files = 0
        with self._using():
            try:
                rows = self._db.execute("SELECT kinds FROM redactions").fetchall()
            except sqlite3.OperationalError:  # an index made before redaction, opened read-only
                return 0, 0, {}
        for (kinds,) in rows:
            files += 1
            total.update(json.loads(kinds))
        return sum(total.values()), files, dict(total.most_common())

    def forget_file_stats(self) -> None:
        """Make the next run read every file again (its chunks are re-made, embeddings reused)."""
        with self._using():
            self._db.execute("UPDATE files SET size=-1, mtime_ns=-1, hash=''")

    def purge_deleted(self) -> None:
        """Leave no trace of deleted rows in the file: merge the FTS indexes (deleted tokens
        stay in their segments until then) and rewrite the database without its free pages."""
        with self._using():
            for table in ("chunks_fts", "files_fts") if self._doc_tables else ("chunks_fts",):
                self._db.execute(f"INSERT INTO {table}({table}) VALUES('optimize')")
            self._db.execute("VACUUM")
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def add_vectors(self, vectors: dict[str, np.ndarray]) -> list[int]:
        """Store embeddings the chunks committed without one were waiting for, in one
        transaction; returns the ids of the chunks that gained a vector (keys already stored
        are left as they are)."""
        added: list[int] = []
        with self._using():
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                new = [k for k in vectors if k not in self._stored_keys(list(vectors))]
                db.executemany(
                    "INSERT INTO vectors VALUES (?, ?)",
                    ((k, np.asarray(vectors[k], dtype=np.float32).tobytes()) for k in new),
                )
                for start in range(0, len(new), 500):
                    part = new[start : start + 500]
                    marks = ",".join("?" * len(part))
                    added += [
                        int(r[0])
                        for r in db.execute(f"SELECT id FROM chunks WHERE embed_key IN ({marks})", part)
                    ]
                self._bump_generation()
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return sorted(added)

    def _stored_keys(self, keys: list[str]) -> set[str]:
        found: set[str] = set()
        for start in range(0, len(keys), 500):
            part = keys[start : start + 500]
            marks = ",".join("?" * len(part))
            found.update(
                r[0]
                for r in self._db.execute(f"SELECT embed_key FROM vectors WHERE embed_key IN ({marks})", part)
            )
        return found

    def drop_unused_vectors(self) -> int:
        with self._using():
            cur = self._db.execute(
                "DELETE FROM vectors WHERE embed_key NOT IN (SELECT embed_key FROM chunks)"
            )
            return int(cur.rowcount)

    def _delete_file_chunks(self, path: str) -> list[int]:
        ids = [int(r[0]) for r in self._db.execute("SELECT id FROM chunks WHERE path=?", (path,))]
        if ids:
            self._db.execute("DELETE FROM chunks WHERE path=?", (path,))
            self._db.executemany("DELETE FROM chunks_fts WHERE rowid=?", ((i,) for i in ids))
        return ids

    def _write_file_doc(self, path: str) -> None:
        """The file's lexical document from its stored chunks (an index built before it existed)."""
        tokens = [_chunk_tokens(chunk) for _, chunk in self.chunks_of_file(path)]
        self._insert_file_doc(path, [t[0] for t in tokens], [t[1] for t in tokens])

    def _insert_file_doc(self, path: str, symbols: list[str], bodies: list[str]) -> None:
        """One document per file with chunks: all their symbol, path and body tokens."""
        if not bodies:
            return
        cur = self._db.execute("INSERT INTO file_docs (path) VALUES (?)", (path,))
        self._db.execute(
            "INSERT INTO files_fts (rowid, symbol, path, body) VALUES (?,?,?,?)",
            (cur.lastrowid, " ".join(symbols), " ".join(code_tokens(path)), " ".join(bodies)),
        )

    def _delete_file_doc(self, path: str) -> None:
        row = self._db.execute("SELECT id FROM file_docs WHERE path=?", (path,)).fetchone()
        if row:
            self._db.execute("DELETE FROM files_fts WHERE rowid=?", (row[0],))
            self._db.execute("DELETE FROM file_docs WHERE id=?", (row[0],))

    def _bump_generation(self) -> None:
        self._db.execute(
            "INSERT INTO meta VALUES ('generation', '1') "
            "ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1"
        )


def _chunk_tokens(chunk: Chunk) -> tuple[str, str]:
    """A chunk's lexical (symbol, body) columns: its qualified name's tokens and its text's."""
    return " ".join(code_tokens(chunk.qualified_name)), " ".join(code_tokens(chunk.text))


def _stack(blobs: list[bytes]) -> Vectors:
    if not blobs:
        return np.zeros((0, 0), dtype=np.float32)
    return np.stack([np.frombuffer(b, dtype=np.float32) for b in blobs])
