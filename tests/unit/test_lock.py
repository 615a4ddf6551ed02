"""The index write lock on every platform: the POSIX path (fcntl) and the portable path Windows
takes (msvcrt, simulated here with fcntl made unimportable), each against a holder in another
process that is then SIGKILLed."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from codekin.index.lock import LOCK_OFFSET, RECORD_BYTES, Holder, IndexLocked, WriteLock, read_holder

HELPER = Path(__file__).with_name("lockproc.py")
SRC = Path(__file__).resolve().parents[2] / "src"

NATIVE = "msvcrt" if sys.platform == "win32" else "fcntl"
MODES = [
    "native",
    pytest.param("portable", marks=pytest.mark.skipif(not hasattr(os, "lockf"), reason="POSIX")),
]
posix_only = pytest.mark.skipif(sys.platform == "win32", reason="simulates Windows on POSIX")


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": f"{SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}


def _holder(mode: str, lock: Path) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, str(HELPER), mode, "hold", str(lock)],
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line == "held\n", proc.stderr.read() if proc.stderr else line
    return proc


def _try(mode: str, lock: Path) -> tuple[dict[str, object], str]:
    proc = subprocess.run(
        [sys.executable, str(HELPER), mode, "try", str(lock)], env=_env(), capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout), proc.stderr


def _kill(proc: subprocess.Popen[str]) -> None:
    proc.kill()  # SIGKILL; TerminateProcess on Windows
    proc.wait()
    if sys.platform != "win32":
        assert proc.returncode == -signal.SIGKILL


@pytest.fixture
def lock_path(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path / "write.lock"


@pytest.mark.parametrize("mode", MODES)
def test_holder_is_named_and_a_killed_holder_releases_the_lock(mode: str, lock_path: Path) -> None:
    holder = _holder(mode, lock_path)
    try:
        result, _ = _try(mode, lock_path)
        assert result["backend"] == (NATIVE if mode == "native" else "msvcrt")
        assert result["acquired"] is False
        assert f"another codekin process (pid {holder.pid}, `lockproc.py {mode} hold" in str(result["error"])
        named = result["holder"]
        assert isinstance(named, dict)
        assert (named["pid"], named["host"]) == (holder.pid, socket.gethostname())
        assert named["command"] == f"lockproc.py {mode} hold {lock_path}"
        seen = read_holder(lock_path)  # readable while held, from any process
        assert seen is not None and seen.pid == holder.pid
    finally:
        _kill(holder)
    result, _ = _try(mode, lock_path)
    assert result["acquired"] is True


@posix_only
def test_portable_path_locks_one_byte_past_the_holder_record(lock_path: Path) -> None:
    """Windows' byte-range locks bar reads of the bytes they cover: the lock must not cover the
    record waiters read."""
    holder = _holder("portable", lock_path)
    try:
        _, log = _try("portable", lock_path)
    finally:
        _kill(holder)
    calls = [line.split()[1:] for line in log.splitlines() if line.startswith("locking ")]
    assert calls == [["2", str(LOCK_OFFSET), "1"]]  # one non-blocking attempt, refused
    assert LOCK_OFFSET >= RECORD_BYTES
    assert lock_path.stat().st_size <= RECORD_BYTES  # the lock byte lies beyond the file itself


@posix_only
def test_import_without_fcntl_succeeds(tmp_path: Path) -> None:
    code = (
        "import sys; sys.modules['fcntl'] = None\n"
        "import codekin.index.lock as lock\n"
        "assert lock._fcntl is None\n"
        "try:\n    lock.WriteLock(__import__('pathlib').Path(sys.argv[1]))\n"
        "except OSError as exc:\n    print('no lock:', exc)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "w.lock")], env=_env(), capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    assert "neither fcntl nor msvcrt" in proc.stdout  # a clear error, not an import failure


def test_same_process_second_lock_is_refused_then_granted(lock_path: Path) -> None:
    first = WriteLock(lock_path)
    first.acquire()
    try:
        with pytest.raises(IndexLocked, match=rf"pid {os.getpid()}") as info:
            WriteLock(lock_path).acquire()
        assert info.value.holder is not None and info.value.holder.pid == os.getpid()
    finally:
        first.release()
    first.release()  # releasing twice (or never acquired) is harmless
    with WriteLock(lock_path) as again:
        assert again.held


def test_records_of_older_versions_and_garbage() -> None:
    assert Holder.decode(b"4242\n") == Holder(4242, "", "", None)
    assert Holder.decode(b"") is None
    assert Holder.decode(b"\x00\xff junk") is None
    assert Holder.decode(b'{"pid": "x", "host": 3}') == Holder(None, "3", "", None)
    assert Holder(7, socket.gethostname(), "codekin serve", None).describe() == "pid 7, `codekin serve`"
    assert Holder(7, "elsewhere", "", None).describe() == "pid 7 on elsewhere"
