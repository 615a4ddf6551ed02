"""What would break codekin on Windows or macOS, caught here by reading the source: modules
that exist on one platform only imported unguarded, ``os`` functions Windows lacks, and
descriptors opened in Windows' text mode (no ``O_BINARY``: CRLF read as LF, ^Z read as the end)."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "codekin"

ONE_PLATFORM_MODULES = {
    "fcntl", "termios", "tty", "pty", "pwd", "grp", "resource", "posix", "syslog", "crypt", "readline",
    "msvcrt", "winreg", "winsound", "_winapi",
}  # fmt: skip
NOT_ON_WINDOWS = {
    "pread", "pwrite", "fork", "forkpty", "getuid", "geteuid", "getgid", "getegid", "setsid", "killpg",
    "mkfifo", "uname", "sync", "chown", "lchown", "statvfs", "getloadavg", "sched_getaffinity",
}  # fmt: skip
SIGNALS_NOT_ON_WINDOWS = {
    "SIGKILL",
    "SIGHUP",
    "SIGQUIT",
    "SIGUSR1",
    "SIGUSR2",
    "SIGALRM",
    "SIGCHLD",
    "SIGPIPE",
}
DIRECTORY_OPENERS = {"_fsync_dir"}  # os.open of a directory: POSIX only, Windows skips it


def problems(source: str, name: str = "<test>") -> list[str]:
    tree = ast.parse(source)
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    binary_names = {
        t.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign) and "O_BINARY" in ast.unparse(node.value)
        for t in node.targets
        if isinstance(t, ast.Name)
    }
    found: list[str] = []
    for node in ast.walk(tree):
        where = f"{name}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.Import | ast.ImportFrom):
            mods = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            for mod in mods:
                if mod.split(".")[0] in ONE_PLATFORM_MODULES and not _guarded(node, parents):
                    found.append(f"{where}: `import {mod}` outside try/except ImportError")
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            if node.value.id == "os" and node.attr in NOT_ON_WINDOWS:
                found.append(f"{where}: os.{node.attr} does not exist on Windows")
            if node.value.id == "signal" and node.attr in SIGNALS_NOT_ON_WINDOWS:
                found.append(f"{where}: signal.{node.attr} does not exist on Windows")
        if isinstance(node, ast.Call) and ast.unparse(node.func) == "os.open" and len(node.args) >= 2:
            flags = node.args[1]
            names = {n.id for n in ast.walk(flags) if isinstance(n, ast.Name)}
            binary = "O_BINARY" in ast.unparse(flags) or bool(names & binary_names)
            if not binary and _enclosing_function(node, parents) not in DIRECTORY_OPENERS:
                found.append(f"{where}: os.open without O_BINARY (text mode on Windows)")
    return found


def _guarded(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    while node in parents:
        node = parents[node]
        if isinstance(node, ast.Try):
            caught = {ast.unparse(h.type) for h in node.handlers if h.type is not None}
            if caught & {"ImportError", "ModuleNotFoundError"}:
                return True
    return False


def _enclosing_function(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> str | None:
    while node in parents:
        node = parents[node]
        if isinstance(node, ast.FunctionDef):
            return node.name
    return None


def test_the_source_imports_and_runs_on_every_platform() -> None:
    found = [p for f in sorted(SRC.rglob("*.py")) for p in problems(f.read_text(), str(f.relative_to(SRC)))]
    assert found == []


def test_the_checks_catch_what_they_look_for() -> None:
    bad = (
        "import fcntl\n"
        "import os, signal\n"
        "def f(fd):\n"
        "    os.pread(fd, 1, 0)\n"
        "    os.kill(1, signal.SIGKILL)\n"
        "    return os.open('x', os.O_RDONLY)\n"
    )
    assert [p.split(": ", 1)[1] for p in problems(bad)] == [
        "`import fcntl` outside try/except ImportError",
        "os.open without O_BINARY (text mode on Windows)",
        "os.pread does not exist on Windows",
        "signal.SIGKILL does not exist on Windows",
    ]
    good = (
        "import os\n"
        "try:\n    import fcntl\nexcept ImportError:\n    fcntl = None\n"
        "FLAGS = os.O_RDONLY | getattr(os, 'O_BINARY', 0)\n"
        "def g():\n    return os.open('x', FLAGS)\n"
        "def _fsync_dir(p):\n    return os.open(p, os.O_RDONLY)\n"
    )
    assert problems(good) == []
