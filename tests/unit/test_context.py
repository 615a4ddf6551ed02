"""The context engine (codekin.context) through Workspace.context, with the fake encoder."""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

from codekin.context import Reference, callees, count_tokens, references
from codekin.embeddings.fake import FakeEncoder
from codekin.settings import Settings
from codekin.workspace import Workspace
from tests.conftest import write_tree

LOCK = '''import fcntl
import os


class WriteLock:
    def __enter__(self):
        self.acquire()
        return self

    def release(self):
        """Give the write lock back."""
        fcntl.flock(self.fd, fcntl.LOCK_UN)
        os.close(self.fd)

    def acquire(self, timeout=0.0):
        """Take the write lock: open the lock file, then flock it."""
        fd = open_lock_file(self.path)
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                wait_a_little(timeout)
        self.fd = fd


def open_lock_file(path):
    """Open (creating) the lock file."""
    return os.open(path, os.O_RDWR | os.O_CREAT, 0o644)


def wait_a_little(timeout):
    """Sleep before the next try."""
    import time

    time.sleep(min(0.1, timeout))
'''
FILES = {
    "pkg/lock.py": LOCK,
    # the same function twice: a near duplicate must not be paid for twice
    "pkg/copy_a.py": "def take_lock_copy(path):\n    fd = open_lock_file(path)\n    return fd\n",
    "pkg/copy_b.py": "def take_lock_copy(path):\n    fd = open_lock_file(path)\n    return fd\n",
    "pkg/other.py": "def unrelated_parser(text):\n    return text.split(',')\n",
}


def _workspace(tmp_path: Path, files: dict[str, str | bytes] = FILES) -> Workspace:  # type: ignore[assignment]
    ws = Workspace(
        write_tree(tmp_path / "repo", files), Settings(index_dir=str(tmp_path / "idx")), encoder=FakeEncoder()
    )
    ws.index()
    return ws


def test_count_tokens_is_the_documented_rule() -> None:
    assert count_tokens("") == 0
    assert count_tokens("abc") == 1  # one word of up to 4 characters
    assert count_tokens("abcdefghi") == 3  # ceil(9 / 4)
    assert count_tokens("f(x)") == 4  # f ( x )
    assert count_tokens("a\n    b") == 3  # a, line break with indentation, b


def test_references_skip_members_of_other_objects() -> None:
    refs = references("def f(a):\n    os.open(a)\n    return g(self.b) + h\n", "python")
    assert refs == [
        Reference("f", False),
        Reference("a", False),
        Reference("os", False),
        Reference("g", False),
        Reference("self", False),
        Reference("b", True),
        Reference("h", False),
    ]
    assert references("foo bar foo", "no-such-language") == [Reference("foo", False), Reference("bar", False)]


def test_callees_resolve_self_members_and_top_level_names(tmp_path: Path) -> None:
    with _workspace(tmp_path) as ws:
        enter = ws.hit_at("pkg/lock.py", 7)
        acquire = ws.hit_at("pkg/lock.py", 20)
        assert enter is not None and acquire is not None
        assert [h.symbol for h in callees(ws, enter)] == ["WriteLock.acquire"]
        # os.close / fcntl.flock are other objects' members: no "close" or "flock" definitions match
        assert [h.symbol for h in callees(ws, acquire)] == ["open_lock_file", "wait_a_little"]


def test_a_question_chunk_is_followed_by_what_it_calls_in_its_file(tmp_path: Path) -> None:
    with _workspace(tmp_path) as ws:
        built = ws.context(query="enter the lock context manager", token_budget=5000)
    reasons = {p.symbol: p.reason for p in built.pieces}
    assert "WriteLock.__enter__" in reasons and "WriteLock.acquire" in reasons
    assert reasons["WriteLock.acquire"] in {"named by WriteLock.__enter__"} | {
        f"search rank {n}" for n in range(1, 11)
    }


def test_methods_keep_their_original_indentation(tmp_path: Path) -> None:
    with _workspace(tmp_path) as ws:
        built = ws.context(query="take the write lock acquire", token_budget=2000)
        acquire = next(p for p in built.pieces if p.symbol == "WriteLock.acquire")
        assert acquire.text.startswith("    def acquire(self, timeout=0.0):")
        assert acquire.text in LOCK  # byte-for-byte the source lines
        ast.parse(textwrap.dedent(acquire.text))  # pasteable code


def test_budget_is_respected_and_what_was_left_out_is_counted(tmp_path: Path) -> None:
    with _workspace(tmp_path) as ws:
        roomy = ws.context(query="lock", token_budget=5000)
        tight = ws.context(query="lock", token_budget=120)
    assert roomy.tokens <= 5000 and tight.tokens <= 120
    assert count_tokens(tight.render()) <= 120  # the footer fits too
    assert count_tokens(roomy.render()) <= 5000
    assert 0 < len(tight.pieces) < len(roomy.pieces)
    assert tight.omitted > 0 and tight.cut and "left out for the budget" in tight.render()
    assert all(p.tokens == count_tokens(p.label) + 1 + count_tokens(p.text) for p in roomy.pieces)


def test_pieces_follow_the_ranking_without_duplicates_or_bare_headers(tmp_path: Path) -> None:
    with _workspace(tmp_path) as ws:
        ranked = [(h.path, h.start_line) for h in ws.search("take lock copy open lock file", k=10)]
        built = ws.context(query="take lock copy open lock file", token_budget=5000)
    symbols = [p.symbol for p in built.pieces]
    assert symbols.count("take_lock_copy") == 1  # the identical copy is dropped
    assert "WriteLock" not in symbols  # `class WriteLock:` alone says nothing the labels don't
    by_rank = [p for p in built.pieces if p.reason.startswith("search rank")]
    positions = [ranked.index((p.path, p.start_line)) for p in by_rank]
    assert positions == sorted(positions)  # the search ranking's order
    assert [p.reason for p in by_rank] == [f"search rank {i + 1}" for i in positions]
    for i, piece in enumerate(built.pieces):  # the rest follow the chunk that calls them
        if piece.reason.startswith("named by"):
            callers = [p.symbol for p in built.pieces[:i] if p.reason.startswith("search rank")]
            assert piece.reason.removeprefix("named by ") in callers


def test_location_gives_enclosing_definition_then_what_it_calls(tmp_path: Path) -> None:
    with _workspace(tmp_path) as ws:
        built = ws.context(path="pkg/lock.py", line=18, token_budget=3000)
    first = built.pieces[0]
    assert (first.symbol, first.reason) == ("WriteLock.acquire", "enclosing definition")
    callees = {p.symbol: p.reason for p in built.pieces if p.reason.startswith("named by")}
    assert callees == {
        "open_lock_file": "named by WriteLock.acquire",
        "wait_a_little": "named by WriteLock.acquire",
    }
    assert any(p.reason == "similar to WriteLock.acquire" for p in built.pieces)
    rendered = built.render()
    assert "# pkg/lock.py:15-24  WriteLock.acquire  (enclosing definition)" in rendered
    assert f"# {built.tokens} tokens of a 3000-token budget" in rendered


def test_an_enclosing_definition_larger_than_the_budget_is_cut_not_dropped(tmp_path: Path) -> None:
    with _workspace(tmp_path) as ws:
        built = ws.context(path="pkg/lock.py", line=18, token_budget=100)
    assert len(built.pieces) == 1 and built.pieces[0].cut and built.tokens <= 100
    piece = built.pieces[0]
    assert piece.text.startswith("    def acquire(") and piece.end_line < 24
    assert "cut to fit" in piece.label


def test_nothing_found_says_so(tmp_path: Path) -> None:
    with _workspace(tmp_path) as ws:
        built = ws.context(path="pkg/lock.py", line=999, token_budget=500)
    assert built.pieces == () and "nothing found" in built.render()
