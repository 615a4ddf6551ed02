"""One writer per index: an advisory lock file that names its holder.

POSIX locks the whole file with ``fcntl.flock``; Windows (no ``fcntl``) locks one byte far past
the holder record with ``msvcrt.locking``, because a Windows byte-range lock also bars reads of
the bytes it covers. Both are released by the operating system when the holder's process dies,
so a killed writer never leaves a stale lock. The record at the start of the file (JSON: pid,
host, command, since) is readable by every waiter on every platform.
"""

from __future__ import annotations

import errno
import json
import os
import socket
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType, TracebackType

try:
    import fcntl as _fcntl
except ImportError:  # Windows
    _fcntl = None  # type: ignore[assignment]
try:
    import msvcrt as _msvcrt
except ImportError:  # POSIX
    _msvcrt = None  # type: ignore[assignment]

RECORD_BYTES = 4096  # the holder record lives in [0, RECORD_BYTES); longer records are cut
LOCK_OFFSET = 1 << 30  # the byte msvcrt locks: far past the record, so waiters can still read it
_OPEN_FLAGS = os.O_RDWR | os.O_CREAT | getattr(os, "O_BINARY", 0)
_BUSY = {errno.EACCES, errno.EAGAIN, errno.EDEADLK, getattr(errno, "EDEADLOCK", errno.EDEADLK)}


class IndexLocked(RuntimeError):
    """Another process is writing this index."""

    def __init__(self, message: str, holder: Holder | None = None) -> None:
        super().__init__(message)
        self.holder = holder


class ReadOnlyIndex(RuntimeError):
    """The index cannot be written here (a read-only directory or mount); it can be searched."""


@dataclass(frozen=True)
class Holder:
    """Who holds (or last held) a write lock."""

    pid: int | None
    host: str
    command: str
    since: float | None

    @classmethod
    def current(cls) -> Holder:
        command = " ".join([Path(sys.argv[0]).name if sys.argv and sys.argv[0] else "python", *sys.argv[1:]])
        return cls(os.getpid(), socket.gethostname(), command[:200], time.time())

    def encode(self) -> bytes:
        record = {"pid": self.pid, "host": self.host, "command": self.command, "since": self.since}
        return json.dumps(record).encode("utf-8")[:RECORD_BYTES]

    @classmethod
    def decode(cls, raw: bytes) -> Holder | None:
        """A record as written by :meth:`encode`, or the bare pid older versions wrote."""
        text = raw.decode("utf-8", "replace").strip("\x00 \r\n\t")
        if not text:
            return None
        try:
            data = json.loads(text)
        except ValueError:
            return cls(int(text), "", "", None) if text.isdigit() else None
        if not isinstance(data, dict):
            return cls(data, "", "", None) if isinstance(data, int) and not isinstance(data, bool) else None
        pid = data.get("pid")
        since = data.get("since")
        return cls(
            pid if isinstance(pid, int) and not isinstance(pid, bool) else None,
            str(data.get("host") or ""),
            str(data.get("command") or ""),
            float(since) if isinstance(since, int | float) and not isinstance(since, bool) else None,
        )

    def describe(self) -> str:
        """``pid 4242 on build-7, `codekin serve```: the parts that are known."""
        parts = [f"pid {self.pid}" if self.pid is not None else "pid ?"]
        if self.host and self.host != socket.gethostname():
            parts[0] += f" on {self.host}"
        if self.command:
            parts.append(f"`{self.command}`")
        return ", ".join(parts)


@dataclass(frozen=True)
class _Backend:
    """Non-blocking exclusive lock of an open file: ``try_lock`` is False when another holds it."""

    name: str
    try_lock: Callable[[int], bool]
    unlock: Callable[[int], None]


def _flock_backend(fcntl: ModuleType) -> _Backend:
    def try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    return _Backend("fcntl", try_lock, lambda fd: fcntl.flock(fd, fcntl.LOCK_UN))


def _msvcrt_backend(msvcrt: ModuleType) -> _Backend:
    def try_lock(fd: int) -> bool:
        os.lseek(fd, LOCK_OFFSET, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError as exc:
            if exc.errno in _BUSY:
                return False
            raise
        return True

    def unlock(fd: int) -> None:
        os.lseek(fd, LOCK_OFFSET, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

    return _Backend("msvcrt", try_lock, unlock)


def backend() -> _Backend:
    """The platform's lock: ``fcntl.flock`` where there is ``fcntl``, else ``msvcrt.locking``."""
    if _fcntl is not None:
        return _flock_backend(_fcntl)
    if _msvcrt is not None:
        return _msvcrt_backend(_msvcrt)
    raise OSError(errno.ENOSYS, "no file locking on this platform (neither fcntl nor msvcrt)")


def read_holder(path: Path) -> Holder | None:
    """The holder record of a lock file (None when absent or empty). Reading never blocks."""
    try:
        with open(path, "rb") as fh:
            return Holder.decode(fh.read(RECORD_BYTES))
    except OSError:
        return None


class WriteLock:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None
        self._backend = backend()

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self, timeout: float = 0.0) -> None:
        try:
            fd = os.open(self.path, _OPEN_FLAGS, 0o644)
        except OSError as exc:
            if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
                raise ReadOnlyIndex(
                    f"the index in {self.path.parent} is read-only ({exc.strerror}); it can be searched "
                    "as it is (search --no-update) but not updated"
                ) from None
            raise
        deadline = time.monotonic() + timeout
        try:
            while not self._backend.try_lock(fd):
                if time.monotonic() >= deadline:
                    holder = Holder.decode(_read_at_start(fd))
                    raise IndexLocked(
                        f"another codekin process ({holder.describe() if holder else 'pid ?'}) is "
                        f"updating the index in {self.path.parent}; wait for it to finish or stop it",
                        holder,
                    )
                time.sleep(0.1)
            _write_record(fd, Holder.current().encode())
        except BaseException:
            os.close(fd)  # closing also drops the lock if it was taken
            raise
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            try:
                self._backend.unlock(fd)
            finally:
                os.close(fd)

    def __enter__(self) -> WriteLock:
        self.acquire()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()


def _read_at_start(fd: int) -> bytes:
    os.lseek(fd, 0, os.SEEK_SET)
    return os.read(fd, RECORD_BYTES)


def _write_record(fd: int, record: bytes) -> None:
    os.ftruncate(fd, 0)
    os.lseek(fd, 0, os.SEEK_SET)
    os.write(fd, record)
