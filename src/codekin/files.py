"""What is indexable: a git-aware walk with ignore files, size/binary/minified limits and a
secret-file denylist."""

from __future__ import annotations

import errno
import logging
import os
import re
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pathspec

from codekin.paths import rel_path as rel_path  # the one implementation; imported from here too
from codekin.safetext import REPLACEMENT

log = logging.getLogger(__name__)

DEFAULT_SKIP_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        ".codekin",
        "node_modules",
        "dist",
        "build",
        "target",
        ".venv",
        "venv",
        "__pycache__",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".tox",
        ".nox",
        ".idea",
        ".gradle",
        ".next",
        ".nuxt",
        "bower_components",
        "vendor",
        ".eggs",
        "site-packages",
    }
)
SECRET_PATTERNS = (
    ".env",
    ".env.*",
    "*.pem",
    "*.key",
    "*.p12",
    "*.pfx",
    "*.keystore",
    "*.jks",
    "id_rsa*",
    "id_dsa*",
    "id_ecdsa*",
    "id_ed25519*",
    "credentials",
    "credentials.*",
    ".netrc",
    ".npmrc",
    ".pypirc",
    "*.kdbx",
    "secrets.*",
    ".htpasswd",
)
IGNORE_FILES = (".gitignore", ".ignore", ".codekinignore")
# Never worth indexing whatever their size: archives, images, compiled objects, lock files.
SKIP_SUFFIXES = frozenset(
    {
        ".png",
        ".jpg",
        ".jpeg",
        ".gif",
        ".bmp",
        ".ico",
        ".webp",
        ".pdf",
        ".zip",
        ".gz",
        ".tgz",
        ".bz2",
        ".xz",
        ".7z",
        ".jar",
        ".war",
        ".class",
        ".o",
        ".a",
        ".so",
        ".dylib",
        ".dll",
        ".exe",
        ".pyc",
        ".whl",
        ".woff",
        ".woff2",
        ".ttf",
        ".otf",
        ".mp3",
        ".mp4",
        ".mov",
        ".wav",
        ".db",
        ".sqlite",
        ".lock",
        ".map",
        ".min.js",
        ".min.css",
        ".svg",
        ".npy",
        ".pt",
        ".bin",
        ".safetensors",
    }
)
MINIFIED_LINE_BYTES = 1000  # average line length above this (on files with few lines) = minified


_ESCAPED_BYTE = re.compile(r"\\x([89a-f][0-9a-f])")
_FILE_KINDS = (
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISDIR, "a directory"),
)


@dataclass(frozen=True)
class FileEntry:
    rel: str  # the path key: repository-relative, "/" separators, valid UTF-8 (see path_key)
    abs: Path  # the real path on disk
    size: int
    mtime_ns: int


class SkipFile(Exception):
    """A file that must not be indexed; ``str(exc)`` is the reason, logged by the caller."""


def path_key(rel: str) -> str:
    """How a path is stored, displayed and embedded: itself when it is valid UTF-8; otherwise each
    byte that is not UTF-8 (a surrogate from ``os.fsdecode``) is written ``\\xNN``.

    The key is lossless: ``FileFilter.disk_rel`` maps it back to the name on disk (a name whose key
    would equal another file's real name is skipped, so keys stay unique).
    """
    try:
        rel.encode("utf-8")
    except UnicodeEncodeError:
        return "".join(_escape_char(c) for c in rel)
    return rel


def _escape_char(char: str) -> str:
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # an undecodable byte under surrogateescape
        return f"\\x{code - 0xDC00:02x}"
    return REPLACEMENT if 0xD800 <= code <= 0xDFFF else char


def _unescape(key: str) -> str:
    return _ESCAPED_BYTE.sub(lambda m: chr(0xDC00 + int(m.group(1), 16)), key)


def _file_kind(mode: int) -> str:
    return next((name for test, name in _FILE_KINDS if test(mode)), "not a regular file")


def _spec(lines: list[str]) -> pathspec.PathSpec:  # type: ignore[type-arg]
    return pathspec.GitIgnoreSpec.from_lines(lines)


class FileFilter:
    """Decides which paths are indexable under one root (ignore files are read lazily per dir)."""

    def __init__(
        self,
        root: Path,
        include: list[str] | None = None,
        exclude: list[str] | None = None,
        secret_patterns: list[str] | None = None,
        max_file_bytes: int = 1_000_000,
    ) -> None:
        self.root = root
        self.max_file_bytes = max_file_bytes
        self._include = _spec(include) if include else None
        self._exclude = _spec(exclude or [])
        self._secrets = _spec([*SECRET_PATTERNS, *(secret_patterns or [])])
        self._dir_specs: dict[str, pathspec.PathSpec | None] = {}  # type: ignore[type-arg]

    def _spec_for_dir(self, rel_dir: str) -> pathspec.PathSpec | None:  # type: ignore[type-arg]
        if rel_dir not in self._dir_specs:
            lines: list[str] = []
            base = self.root / rel_dir if rel_dir else self.root
            for name in IGNORE_FILES:
                try:
                    lines += (base / name).read_text(encoding="utf-8", errors="replace").splitlines()
                except OSError:
                    continue
            self._dir_specs[rel_dir] = _spec(lines) if lines else None
        return self._dir_specs[rel_dir]

    def forget_ignore_files(self) -> None:
        """Drop cached ignore rules (call when an ignore file changed)."""
        self._dir_specs.clear()

    def is_ignored(self, rel: str, is_dir: bool = False) -> bool:
        """Apply default skips, ignore files of every ancestor dir, excludes and secrets."""
        parts = rel.split("/")
        if any(p in DEFAULT_SKIP_DIRS for p in (parts if is_dir else parts[:-1])):
            return True
        probe = rel + "/" if is_dir else rel
        if self._exclude.match_file(probe):
            return True
        for depth in range(len(parts)):
            spec = self._spec_for_dir("/".join(parts[:depth]))
            if spec is not None and spec.match_file("/".join(parts[depth:]) + ("/" if is_dir else "")):
                return True
        if is_dir:
            return False
        if self._secrets.match_file(parts[-1]):
            return True
        lower = parts[-1].lower()
        if any(lower.endswith(s) for s in SKIP_SUFFIXES):
            return True
        return self._include is not None and not self._include.match_file(rel)

    def walk(self, on_skip: Callable[[str, str], None] | None = None) -> Iterator[FileEntry]:
        """Yield indexable regular files under the root in a stable order.

        Symlinked directories are not followed (no loops); symlinked files are followed only when
        they resolve inside the root. Everything else that is not indexable and not ignored
        (unreadable directories, loops, dangling links, FIFOs, sockets, devices, vanished
        entries) is reported once to ``on_skip(path key, reason)``; nothing is ever opened here.
        """
        skip = on_skip or (lambda rel, why: log.info("skip %s: %s", rel, why))
        stack = [""]
        while stack:
            rel_dir = stack.pop()
            try:
                with os.scandir(self.root / rel_dir if rel_dir else self.root) as it:
                    entries = sorted(it, key=lambda e: e.name)
            except OSError as exc:
                skip(path_key(rel_dir) or ".", f"cannot list directory: {exc.strerror or exc}")
                continue
            subdirs: list[str] = []
            for entry in entries:
                rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
                try:
                    if entry.is_dir(follow_symlinks=False):
                        if not self.is_ignored(rel, is_dir=True):
                            subdirs.append(rel)
                        continue
                    if self.is_ignored(rel):
                        continue
                    found = self.stat_file(rel)
                except SkipFile as why:
                    skip(path_key(rel), str(why))
                    continue
                except OSError as exc:
                    skip(path_key(rel), f"cannot stat: {exc.strerror or exc}")
                    continue
                if found is not None:
                    yield found
            stack.extend(reversed(subdirs))

    def disk_rel(self, rel: str) -> str:
        """The name on disk of ``rel``, given as a path key or as a name from ``os.fsdecode``."""
        if "\\x" not in rel or os.path.lexists(self.root / rel):
            return rel
        return _unescape(rel)

    def stat_file(self, rel: str) -> FileEntry | None:
        """The entry for ``rel`` (a path key or a name on disk) if it is an indexable regular file;
        None for a plain directory; raises SkipFile with the reason when it must be skipped and
        OSError when it cannot be examined (it vanished)."""
        disk = self.disk_rel(rel)
        key = path_key(disk)
        if key != disk and os.path.lexists(self.root / key):
            raise SkipFile(f"name is not UTF-8 and its escaped form {key!r} is another file's name")
        path = self.root / disk
        st = path.lstat()
        if stat.S_ISDIR(st.st_mode):
            return None
        if stat.S_ISLNK(st.st_mode):
            st = self._follow(path)
        if not stat.S_ISREG(st.st_mode):
            raise SkipFile(f"not a regular file: {_file_kind(st.st_mode)}")
        if st.st_size > self.max_file_bytes:
            raise SkipFile(f"larger than max_file_bytes ({st.st_size} > {self.max_file_bytes})")
        return FileEntry(key, path, st.st_size, st.st_mtime_ns)

    def _follow(self, link: Path) -> os.stat_result:
        """The target's status of a symlink that stays inside the root (SkipFile otherwise)."""
        try:
            st = os.stat(link)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise SkipFile("symlink loop") from exc
            if exc.errno == errno.ENOENT:
                raise SkipFile("dangling symlink (its target does not exist)") from exc
            raise SkipFile(f"cannot follow symlink: {exc.strerror or exc}") from exc
        if not Path(os.path.realpath(link)).is_relative_to(os.path.realpath(self.root)):
            raise SkipFile("symlink points outside the repository")
        if stat.S_ISDIR(st.st_mode):
            raise SkipFile("symlink to a directory (not followed)")
        return st


# O_BINARY (Windows): a descriptor opened without it reads in text mode (CRLF -> LF, stops at ^Z).
_OPEN_FLAGS = (
    os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0)
)


def read_source(entry: FileEntry) -> bytes:
    """Read a file's bytes; raise SkipFile for unreadable, non-regular, binary or minified content.

    Opened non-blocking and checked to be a regular file, so a path that became a FIFO or a
    device since the walk never blocks the run."""
    try:
        with open(os.open(entry.abs, _OPEN_FLAGS), "rb") as fh:
            mode = os.fstat(fh.fileno()).st_mode
            if not stat.S_ISREG(mode):
                raise SkipFile(f"not a regular file: {_file_kind(mode)}")
            data = fh.read(entry.size + 1)
    except FileNotFoundError as exc:
        raise SkipFile("file vanished") from exc
    except OSError as exc:
        raise SkipFile(f"cannot read: {exc.strerror or exc}") from exc
    if b"\x00" in data[:8192]:
        raise SkipFile("binary content")
    if looks_minified(data):
        raise SkipFile("minified or generated (very long lines)")
    return data


def looks_minified(data: bytes) -> bool:
    if len(data) < 4 * MINIFIED_LINE_BYTES:
        return False
    lines = data.count(b"\n") + 1
    return len(data) / lines > MINIFIED_LINE_BYTES
