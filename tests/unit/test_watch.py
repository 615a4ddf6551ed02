"""The debouncer, the watchdog tree watcher and the noise filter under the server's file watching
(no model, no subprocess)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from codekin.watch import Debouncer, TreeWatcher, is_noise

WAIT_S = 30.0


def _wait(event: threading.Event) -> None:
    assert event.wait(WAIT_S), "timed out"


def test_debouncer_coalesces_a_burst_into_one_flush() -> None:
    batches: list[set[str]] = []
    done = threading.Event()

    def flush(paths: set[str]) -> None:
        batches.append(paths)
        done.set()

    debouncer = Debouncer(flush, delay_ms=200)
    try:
        for i in range(5000):  # a branch switch
            debouncer.add([f"/repo/f{i}.py"])
        _wait(done)
        deadline = time.monotonic() + 0.5
        while time.monotonic() < deadline and not debouncer.idle:
            time.sleep(0.01)
        assert len(batches) == 1 and len(batches[0]) == 5000
    finally:
        debouncer.close()


def test_debouncer_flushes_a_steady_stream_by_max_delay() -> None:
    done = threading.Event()
    debouncer = Debouncer(lambda paths: done.set(), delay_ms=100, max_delay_ms=300)
    try:
        while not done.is_set():  # events keep coming: the max delay still delivers them
            debouncer.add(["/repo/a.py"])
            time.sleep(0.02)
    finally:
        debouncer.close()


def test_tree_watcher_reports_create_change_rename_delete(tmp_path: Path) -> None:
    seen: set[str] = set()
    lock = threading.Lock()

    def sink(paths: list[str]) -> None:
        with lock:
            seen.update(paths)

    def wait_seen(path: Path) -> None:
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            with lock:
                if str(path) in seen:
                    return
            time.sleep(0.02)
        raise AssertionError(f"{path} not reported; saw {sorted(seen)}")

    watcher = TreeWatcher(sink)
    watcher.watch(tmp_path)
    try:
        a = tmp_path / "a.py"
        a.write_text("x = 1\n")
        wait_seen(a)
        b = tmp_path / "b.py"
        a.rename(b)
        wait_seen(b)
        sub = tmp_path / "pkg"
        staged = tmp_path.parent / f"{tmp_path.name}-staged"
        staged.mkdir()
        (staged / "mod.py").write_text("y = 2\n")
        staged.rename(sub)  # a directory moved in: its files are listed
        wait_seen(sub / "mod.py")
        b.unlink()
        wait_seen(b)
    finally:
        watcher.stop()


def test_noise_paths() -> None:
    repo = Path("/home/me/build/repo")  # "build" above the root does not count
    assert is_noise(repo / ".git/index", repo)
    assert is_noise(repo / "node_modules/x/y.js", repo)
    assert is_noise("/idx/index.sqlite", repo, [Path("/idx")])
    assert not is_noise(repo / "src/main.py", repo, [Path("/idx")])
