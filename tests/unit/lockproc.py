"""A separate process for the write-lock tests: ``lockproc.py MODE ACTION LOCKFILE``.

MODE ``native`` uses the platform's lock (``fcntl`` here); ``portable`` first makes ``fcntl``
unimportable and installs a stand-in for Windows' ``msvcrt`` with the same contract
(``locking(fd, mode, nbytes)`` locks ``nbytes`` at the file position, non-blocking ``LK_NBLCK``
raises ``OSError(EACCES)`` when taken, the OS drops the lock when the process dies), built on
POSIX record locks (``os.lockf``, which needs no ``fcntl`` module). Every call is logged to
stderr as ``locking MODE POS NBYTES``.

ACTION ``hold`` takes the lock, prints ``held`` and sleeps until killed; ``try`` attempts it once
and prints a JSON line: ``{"backend", "acquired", "error", "holder"}``.
"""

from __future__ import annotations

import json
import os
import sys
import time
import types
from pathlib import Path


def install_portable() -> None:
    sys.modules["fcntl"] = None  # type: ignore[assignment]  # `import fcntl` -> ImportError
    fake = types.ModuleType("msvcrt")
    fake.LK_UNLCK, fake.LK_LOCK, fake.LK_NBLCK = 0, 1, 2  # msvcrt's values

    def locking(fd: int, mode: int, nbytes: int) -> None:
        pos = os.lseek(fd, 0, os.SEEK_CUR)
        print(f"locking {mode} {pos} {nbytes}", file=sys.stderr, flush=True)
        if mode == fake.LK_NBLCK:
            try:
                os.lockf(fd, os.F_TLOCK, nbytes)
            except OSError as exc:  # as msvcrt: EACCES when the bytes are locked elsewhere
                raise OSError(13, "Permission denied") from exc
        elif mode == fake.LK_UNLCK:
            os.lockf(fd, os.F_ULOCK, nbytes)
        else:
            raise ValueError(f"mode {mode} not used by codekin")

    fake.locking = locking  # type: ignore[attr-defined]
    sys.modules["msvcrt"] = fake


def main() -> None:
    mode, action, path = sys.argv[1], sys.argv[2], Path(sys.argv[3])
    if mode == "portable":
        install_portable()
    from codekin.index.lock import IndexLocked, WriteLock, backend

    lock = WriteLock(path)
    if action == "hold":
        lock.acquire()
        print("held", flush=True)
        while True:
            time.sleep(60)
    try:
        lock.acquire()
    except IndexLocked as exc:
        holder = exc.holder.__dict__ if exc.holder else None
        print(json.dumps({"backend": backend().name, "acquired": False, "error": str(exc), "holder": holder}))
        return
    lock.release()
    print(json.dumps({"backend": backend().name, "acquired": True, "error": None, "holder": None}))


if __name__ == "__main__":
    main()
