"""File events as each platform's watcher reports them, replayed against a real tree: the
server-side watcher (watchdog's Windows ReadDirectoryChangesW and macOS FSEvents observers, as
their event translation produces them) and the client-side one (VS Code's
workspace/didChangeWatchedFiles). After every sequence, flushed once at the end or after each
step, the index must hold exactly the files on disk, at their current size and mtime.

The sequences are recorded from watchdog 7's observers (read_directory_changes.py, fsevents.py)
and VS Code's file watcher; the file system operations that produce them run here for real."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from lsprotocol import types
from watchdog.events import (
    DirCreatedEvent,
    DirDeletedEvent,
    DirModifiedEvent,
    DirMovedEvent,
    EventsLostEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileSystemEvent,
)

from codekin.embeddings.fake import FakeEncoder
from codekin.server.features.watching import watched_paths
from codekin.server.state import FolderIndex, ServerState
from codekin.settings import Settings
from codekin.watch.observer import _Handler

NEW_CART = "def cart_total_with_tax(items, rate):\n    return sum(items) * (1 + rate)\n"
Op = Callable[[Path], None]
Events = Callable[[Path], list[FileSystemEvent]]
Step = tuple[Op, Events]


def write(rel: str, text: str = NEW_CART) -> Op:
    return lambda root: (root / rel).write_text(text)


def unlink(rel: str) -> Op:
    return lambda root: (root / rel).unlink()


def rename(src: str, dest: str) -> Op:
    return lambda root: os.replace(root / src, root / dest)


def move_out(rel: str) -> Op:  # to the Recycle Bin / Trash: out of the watched tree
    return lambda root: shutil.move(root / rel, root.parent / "trash" / rel.replace("/", "_"))


def move_in(rel: str) -> Op:
    def op(root: Path) -> None:
        outside = root.parent / "incoming"
        (outside / "c.py").parent.mkdir(parents=True, exist_ok=True)
        (outside / "c.py").write_text("def incoming_helper():\n    return 3\n")
        shutil.move(outside, root / rel)

    return op


def seq(*ops: Op) -> Op:
    def op(root: Path) -> None:
        for each in ops:
            each(root)

    return op


def nothing(root: Path) -> None:
    return None


def ev(cls: type[FileSystemEvent], *rels: str) -> Callable[[Path], FileSystemEvent]:
    """An event naming root-relative paths ("" stays "": a source watchdog could not pair)."""
    return lambda root: cls(*(str(root / r) if r else "" for r in rels))


def events(*makers: Callable[[Path], FileSystemEvent]) -> Events:
    return lambda root: [m(root) for m in makers]


def lost(root: Path) -> list[FileSystemEvent]:
    return [EventsLostEvent(str(root), is_directory=True)]


def several_changes(root: Path) -> None:
    write("src/cart.py")(root)
    unlink("lib/a.py")(root)
    write("src/new.py", "def brand_new():\n    return 1\n")(root)


WATCHDOG_SEQUENCES: dict[str, list[Step]] = {
    # Windows: an editor's atomic save (temp written, target deleted, temp renamed onto it)
    "windows atomic save": [
        (
            write("src/.cart.py.tmp"),
            events(
                ev(FileCreatedEvent, "src/.cart.py.tmp"),
                ev(FileModifiedEvent, "src/.cart.py.tmp"),
                ev(DirModifiedEvent, "src"),
            ),
        ),
        (unlink("src/cart.py"), events(ev(FileDeletedEvent, "src/cart.py"))),
        (
            rename("src/.cart.py.tmp", "src/cart.py"),
            events(
                ev(FileMovedEvent, "src/.cart.py.tmp", "src/cart.py"), ev(FileModifiedEvent, "src/cart.py")
            ),
        ),
    ],
    # Windows: JetBrains "safe write" (target renamed aside, temp renamed in, old one deleted)
    "windows safe write": [
        (
            write("src/cart.py___jb_tmp___"),
            events(
                ev(FileCreatedEvent, "src/cart.py___jb_tmp___"),
                ev(FileModifiedEvent, "src/cart.py___jb_tmp___"),
            ),
        ),
        (
            rename("src/cart.py", "src/cart.py___jb_old___"),
            events(ev(FileMovedEvent, "src/cart.py", "src/cart.py___jb_old___")),
        ),
        (
            rename("src/cart.py___jb_tmp___", "src/cart.py"),
            events(ev(FileMovedEvent, "src/cart.py___jb_tmp___", "src/cart.py")),
        ),
        (unlink("src/cart.py___jb_old___"), events(ev(FileDeletedEvent, "src/cart.py___jb_old___"))),
    ],
    # Windows: a folder renamed (RENAMED_OLD/NEW pair; watchdog adds one moved event per file)
    "windows folder rename": [
        (
            rename("lib", "pkg"),
            events(
                ev(DirMovedEvent, "lib", "pkg"),
                ev(FileMovedEvent, "lib/a.py", "pkg/a.py"),
                ev(FileMovedEvent, "lib/b.py", "pkg/b.py"),
            ),
        ),
    ],
    # Windows: a folder sent to the Recycle Bin is one REMOVED action, which watchdog reports as
    # a *file* deletion (it cannot tell what a vanished name was)
    "windows folder to recycle bin": [(move_out("lib"), events(ev(FileDeletedEvent, "lib")))],
    # Windows: a folder moved in whose old name was outside the watch: RENAMED_NEW_NAME alone,
    # so the move has no source, and the per-file events a source computed from ""
    "windows folder moved in": [
        (
            move_in("extra"),
            lambda root: [
                DirMovedEvent("", str(root / "extra")),
                FileMovedEvent(os.sep + "c.py", str(root / "extra" / "c.py")),
            ],
        ),
    ],
    # Windows: the ReadDirectoryChangesW buffer overflowed: only "events lost" for the watch
    "windows buffer overflow": [(several_changes, lost)],
    # macOS: atomic save; FSEvents reports the old inode's removal at the target path *after*
    # the rename onto it (watchdog emits created, modified, moved, then deleted)
    "macos atomic save": [
        (
            write("src/.cart.py.sb-1234"),
            events(
                ev(FileCreatedEvent, "src/.cart.py.sb-1234"),
                ev(DirModifiedEvent, "src"),
                ev(FileModifiedEvent, "src/.cart.py.sb-1234"),
            ),
        ),
        (
            rename("src/.cart.py.sb-1234", "src/cart.py"),
            events(
                ev(FileMovedEvent, "src/.cart.py.sb-1234", "src/cart.py"),
                ev(DirModifiedEvent, "src"),
                ev(FileDeletedEvent, "src/cart.py"),
                ev(DirModifiedEvent, "src"),
            ),
        ),
    ],
    # macOS: coalesced created|modified flags on a new file
    "macos coalesced create": [
        (
            write("src/new.py", "def brand_new():\n    return 1\n"),
            events(
                ev(FileCreatedEvent, "src/new.py"),
                ev(DirModifiedEvent, "src"),
                ev(FileModifiedEvent, "src/new.py"),
            ),
        ),
    ],
    # macOS: a temp file created and removed within one coalesced event
    "macos created and removed": [
        (
            seq(write("src/tmp.py"), unlink("src/tmp.py")),
            events(
                ev(FileCreatedEvent, "src/tmp.py"),
                ev(FileModifiedEvent, "src/tmp.py"),
                ev(FileDeletedEvent, "src/tmp.py"),
            ),
        ),
    ],
    # macOS: a rename whose two halves arrive in one batch (paired by inode: moved) ...
    "macos rename paired": [
        (rename("src/cart.py", "src/basket.py"), events(ev(FileMovedEvent, "src/cart.py", "src/basket.py")))
    ],
    # ... or in two batches (unpaired: the source reads as deleted, the target as created)
    "macos rename unpaired": [
        (rename("src/cart.py", "src/basket.py"), events(ev(FileDeletedEvent, "src/cart.py"))),
        (nothing, events(ev(FileCreatedEvent, "src/basket.py"))),
    ],
    # macOS: a folder renamed, paired (watchdog adds one moved event per file)
    "macos folder rename": [
        (
            rename("lib", "pkg"),
            events(
                ev(DirMovedEvent, "lib", "pkg"),
                ev(FileMovedEvent, "lib/a.py", "pkg/a.py"),
                ev(FileMovedEvent, "lib/b.py", "pkg/b.py"),
            ),
        ),
    ],
    # macOS: a folder moved to the Trash: one renamed event, no longer there: deleted
    "macos folder to trash": [(move_out("lib"), events(ev(DirDeletedEvent, "lib")))],
    # macOS: a folder moved in (renamed, exists): created, plus one created event per file
    "macos folder moved in": [
        (move_in("extra"), events(ev(DirCreatedEvent, "extra"), ev(FileCreatedEvent, "extra/c.py"))),
    ],
}


def uri(root: Path, rel: str) -> str:
    return (root / rel).as_uri()


def changes(*items: tuple[str, types.FileChangeType]) -> Callable[[Path], list[types.FileEvent]]:
    return lambda root: [types.FileEvent(uri=uri(root, rel), type=kind) for rel, kind in items]


C, D, M = types.FileChangeType.Created, types.FileChangeType.Deleted, types.FileChangeType.Changed

# VS Code's watcher (workspace/didChangeWatchedFiles): a rename is Deleted + Created, a deleted
# folder is one Deleted (children collapsed into it), a temp file added and deleted within the
# coalescing window is dropped, an atomic save reads as Changed.
CLIENT_SEQUENCES: dict[str, list[tuple[Op, Callable[[Path], list[types.FileEvent]]]]] = {
    "vscode atomic save": [
        (
            seq(write("src/.cart.py.tmp"), rename("src/.cart.py.tmp", "src/cart.py")),
            changes(("src/cart.py", M)),
        ),
    ],
    "vscode rename": [
        (rename("src/cart.py", "src/basket.py"), changes(("src/cart.py", D), ("src/basket.py", C)))
    ],
    "vscode folder deleted": [(move_out("lib"), changes(("lib", D)))],
    "vscode folder created": [(move_in("extra"), changes(("extra", C)))],
    "vscode folder renamed": [(rename("lib", "pkg"), changes(("lib", D), ("pkg", C)))],
}


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[ServerState, FolderIndex]]:
    root = tmp_path / "My Shop"  # a space: percent-encoded in URIs
    for rel, text in {
        "src/cart.py": "def cart_total(items):\n    return sum(items)\n",
        "lib/a.py": "def alpha():\n    return 'a'\n",
        "lib/b.py": "def beta():\n    return 'b'\n",
    }.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    (tmp_path / "trash").mkdir()
    state = ServerState(encoder=FakeEncoder())
    state.debouncer.set_delay(0)
    folder = state.add_folder(root.resolve(), Settings())
    state.schedule_index(folder).result()
    try:
        yield state, folder
    finally:
        state.close()


def settle(state: ServerState) -> None:
    """Flush the debouncer, then wait until the writer has applied everything it was given."""
    state.debouncer.flush_now()
    while not state.idle():
        time.sleep(0.01)
    state.write(lambda: None).result()  # the writer runs jobs in order: all earlier ones are done


def assert_index_matches_disk(folder: FolderIndex) -> None:
    ws = folder.workspace
    assert ws is not None
    rows = ws.code_index.file_rows()
    disk = {
        p.relative_to(folder.root).as_posix(): p.stat()
        for p in folder.root.rglob("*")
        if p.is_file() and ".codekin" not in p.relative_to(folder.root).parts
    }
    assert sorted(rows) == sorted(disk)
    for key, st in disk.items():
        assert (rows[key].size, rows[key].mtime_ns) == (st.st_size, st.st_mtime_ns), key


@pytest.mark.parametrize("flush", ["at the end", "after each step"])
@pytest.mark.parametrize("name", list(WATCHDOG_SEQUENCES))
def test_watchdog_sequences(name: str, flush: str, served: tuple[ServerState, FolderIndex]) -> None:
    state, folder = served
    handler = _Handler(state.debouncer.add, state.rescan)
    for op, make_events in WATCHDOG_SEQUENCES[name]:
        op(folder.root)
        for event in make_events(folder.root):
            handler.dispatch(event)
        if flush == "after each step":
            settle(state)
    settle(state)
    assert_index_matches_disk(folder)


@pytest.mark.parametrize("flush", ["at the end", "after each step"])
@pytest.mark.parametrize("name", list(CLIENT_SEQUENCES))
def test_client_watcher_sequences(name: str, flush: str, served: tuple[ServerState, FolderIndex]) -> None:
    state, folder = served
    for op, make_changes in CLIENT_SEQUENCES[name]:
        op(folder.root)
        state.debouncer.add(watched_paths(make_changes(folder.root)))
        if flush == "after each step":
            settle(state)
    settle(state)
    assert_index_matches_disk(folder)


def test_client_uris_in_vscode_spelling(served: tuple[ServerState, FolderIndex]) -> None:
    """VS Code percent-encodes more than Python does (``%3A``, ``%20``); the paths are the same."""
    _, folder = served
    vscode_uri = "file://" + str(folder.root / "src" / "cart.py").replace(" ", "%20").replace(":", "%3A")
    assert watched_paths([types.FileEvent(uri=vscode_uri, type=M)]) == [str(folder.root / "src" / "cart.py")]
    assert watched_paths([types.FileEvent(uri="untitled:Untitled-1", type=C)]) == []


def test_events_lost_walks_the_folder_again(served: tuple[ServerState, FolderIndex]) -> None:
    state, folder = served
    several_changes(folder.root)
    handler = _Handler(state.debouncer.add, state.rescan)
    handler.dispatch(EventsLostEvent(str(folder.root), is_directory=True))
    settle(state)
    ws = folder.workspace
    assert ws is not None
    assert {h.path for h in ws.search("brand_new", k=3)} >= {"src/new.py"}
    assert_index_matches_disk(folder)
