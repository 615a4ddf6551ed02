"""Where an index's files live inside its directory, and the file moves that keep it whole.

An index directory holds one *live* data directory: the index directory itself (the first
build) or a ``data-<n>`` subdirectory named by the ``CURRENT`` pointer file. A full rebuild is
built beside it in ``next/`` and published by renaming ``next/`` and replacing ``CURRENT``
atomically, so readers see the old complete index or the new complete one, never a mix. A
corrupt database is renamed aside (``index.sqlite.corrupt-<time>``) and a marker asks the next
writer for a full run."""

from __future__ import annotations

import logging
import os
import shutil
import time
from pathlib import Path

log = logging.getLogger(__name__)

DB_NAME = "index.sqlite"
VECTORS_NAME = "vectors.usearch"
MANIFEST_NAME = "manifest.json"
CURRENT_NAME = "CURRENT"
PREVIOUS_NAME = "PREVIOUS"  # the generation that was live before the last publish (rollback)
ROOT_GENERATION = "."  # PREVIOUS naming the first build, which lives in the index directory
NEXT_NAME = "next"
DATA_PREFIX = "data-"
REBUILD_MARKER = "REBUILD"  # in a data directory: "a full run is owed", with the reason
CORRUPT_SUFFIX = ".corrupt-"
KEEP_CORRUPT = 2  # quarantined databases kept for inspection
# Files of one index generation (beside its data directory's own name).
DATA_FILES = (
    DB_NAME,
    DB_NAME + "-wal",
    DB_NAME + "-shm",
    VECTORS_NAME,
    VECTORS_NAME + ".json",
    MANIFEST_NAME,
    REBUILD_MARKER,
)


def live_dir(index_dir: Path) -> Path:
    """The data directory readers should open now. A damaged pointer falls back to the newest
    data directory (the last one published), else the index directory itself."""
    try:
        name = (index_dir / CURRENT_NAME).read_text().strip()
    except FileNotFoundError:
        return index_dir
    except (OSError, UnicodeDecodeError) as exc:
        name = f"<unreadable: {exc}>"
    if name.startswith(DATA_PREFIX) and "/" not in name and (index_dir / name).is_dir():
        return index_dir / name
    published = [p for p in generations(index_dir) if p != index_dir]
    fallback = max(published, key=lambda p: _stamp(p.name)) if published else index_dir
    log.debug("%s names no data directory (%r); using %s", index_dir / CURRENT_NAME, name[:80], fallback)
    return fallback


def repair_pointer(index_dir: Path) -> None:
    """Rewrite a damaged ``CURRENT`` to name the directory readers fall back to (writer only)."""
    current = index_dir / CURRENT_NAME
    if not current.exists():
        return
    live = live_dir(index_dir)
    try:
        if current.read_text().strip() == live.name:
            return
    except (OSError, UnicodeDecodeError):
        pass
    if live == index_dir:
        current.unlink()
    else:
        _write_pointer(index_dir, live.name)
    log.warning("%s was damaged; it now names %s", current, live.name)


def _stamp(name: str) -> int:
    digits = name.removeprefix(DATA_PREFIX)
    return int(digits) if digits.isdigit() else -1


def identity(index_dir: Path) -> tuple[str, int, int]:
    """Changes when the live index is replaced (a published rebuild, a quarantined database):
    the pointer's target and the database file's inode."""
    data = live_dir(index_dir)
    try:
        st = (data / DB_NAME).stat()
        return (data.name, st.st_dev, st.st_ino)
    except OSError:
        return (data.name, -1, -1)


def next_dir(index_dir: Path) -> Path:
    return index_dir / NEXT_NAME


def writable(path: Path) -> bool:
    """Whether codekin may write the index at ``path`` (a directory, existing or not)."""
    probe = path
    while not probe.exists():
        if probe.parent == probe:
            return False
        probe = probe.parent
    if not os.access(probe, os.W_OK | os.X_OK):
        return False
    db = path / DB_NAME
    return not db.exists() or os.access(db, os.W_OK)


def publish(index_dir: Path, built: Path) -> Path:
    """Make the closed, complete index in ``built`` the live one; returns its new directory.
    The generation that was live stays until the next publish (a reader may still have it open
    for a moment); older ones are removed."""
    previous = live_dir(index_dir)
    target = index_dir / f"{DATA_PREFIX}{time.time_ns()}"
    os.rename(built, target)
    _write_file(index_dir, PREVIOUS_NAME, ROOT_GENERATION if previous == index_dir else previous.name)
    _write_pointer(index_dir, target.name)
    for old in generations(index_dir):
        if old not in (target, previous):
            remove_generation(index_dir, old)
    return target


def previous_dir(index_dir: Path) -> Path | None:
    """The generation that was live before the last publish, while it is kept."""
    try:
        name = (index_dir / PREVIOUS_NAME).read_text().strip()
    except (OSError, UnicodeDecodeError):
        return None
    if name == ROOT_GENERATION:
        return index_dir if (index_dir / DB_NAME).exists() else None
    if name.startswith(DATA_PREFIX) and "/" not in name and (index_dir / name / DB_NAME).exists():
        return index_dir / name
    return None


def rollback(index_dir: Path) -> Path:
    """Make the previous generation live again and the current one previous (a second rollback
    undoes the first); returns the new live directory. Writer only."""
    previous, current = previous_dir(index_dir), live_dir(index_dir)
    if previous is None or previous == current:
        raise LookupError(f"no earlier index is kept in {index_dir} (one is kept after each full rebuild)")
    if previous == index_dir:  # the first build: give it a data directory so CURRENT can name it
        adopted = index_dir / f"{DATA_PREFIX}{time.time_ns()}"
        adopted.mkdir()
        for name in DATA_FILES:
            if (index_dir / name).exists():
                os.rename(index_dir / name, adopted / name)
        previous = adopted
    _write_file(index_dir, PREVIOUS_NAME, ROOT_GENERATION if current == index_dir else current.name)
    _write_pointer(index_dir, previous.name)
    return previous


def generations(index_dir: Path) -> list[Path]:
    """Every data directory present: the index directory itself when it holds a database, and
    each ``data-*`` subdirectory."""
    found = [index_dir] if (index_dir / DB_NAME).exists() else []
    if index_dir.is_dir():
        found += sorted(p for p in index_dir.iterdir() if p.is_dir() and p.name.startswith(DATA_PREFIX))
    return found


def remove_generation(index_dir: Path, data: Path) -> None:
    if data == index_dir:  # the first build lives in the index directory: remove its files only
        for name in DATA_FILES:
            (data / name).unlink(missing_ok=True)
    else:
        shutil.rmtree(data, ignore_errors=True)


def quarantine(data: Path, reason: str) -> Path:
    """Rename a corrupt database aside (keeping the newest few), drop what derives from it, and
    leave a marker asking the next writer for a full run. Returns the quarantined file."""
    reason = reason.removeprefix(f"{data / DB_NAME}: ")
    aside = data / f"{DB_NAME}{CORRUPT_SUFFIX}{time.strftime('%Y%m%d-%H%M%S')}-{time.time_ns() % 10**6:06d}"
    os.rename(data / DB_NAME, aside)
    for name in (DB_NAME + "-wal", DB_NAME + "-shm", VECTORS_NAME, VECTORS_NAME + ".json"):
        (data / name).unlink(missing_ok=True)
    mark_rebuild_owed(data, f"the database was corrupt or unreadable ({reason}); moved aside to {aside.name}")
    for old in quarantined(data)[:-KEEP_CORRUPT]:
        old.unlink(missing_ok=True)
    log.info("index database %s is corrupt (%s): moved aside to %s", data / DB_NAME, reason, aside.name)
    return aside


def quarantined(data: Path) -> list[Path]:
    """Quarantined databases in ``data``, oldest first."""
    if not data.is_dir():
        return []
    return sorted(p for p in data.iterdir() if p.name.startswith(DB_NAME + CORRUPT_SUFFIX))


def rebuild_owed(data: Path) -> str | None:
    """Why a full run is owed in ``data`` (a quarantined database), or None."""
    try:
        return (data / REBUILD_MARKER).read_text().strip() or "a full run is owed"
    except OSError:
        return None


def mark_rebuild_owed(data: Path, reason: str) -> None:
    (data / REBUILD_MARKER).write_text(reason + "\n")


def rebuild_done(data: Path) -> None:
    (data / REBUILD_MARKER).unlink(missing_ok=True)


def _write_pointer(index_dir: Path, name: str) -> None:
    """Replace ``CURRENT`` atomically (and durably) with ``name``."""
    _write_file(index_dir, CURRENT_NAME, name)


def _write_file(index_dir: Path, file: str, name: str) -> None:
    tmp = index_dir / (file + ".tmp")
    with open(tmp, "w") as fh:
        fh.write(name + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, index_dir / file)
    _fsync_dir(index_dir)


def _fsync_dir(path: Path) -> None:
    """Make a rename in ``path`` durable. Windows cannot open a directory (PermissionError) and
    needs no such step: NTFS journals the rename itself."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except PermissionError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
