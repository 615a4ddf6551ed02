"""One conversion between the three ways codekin names a file.

- OS path: what the file system and watchers give (``C:\\repo\\src\\a.py``, ``/home/u/repo/src/a.py``);
- index key: relative to a workspace root, ``/`` separators (``src/a.py``), what the store holds;
- file URI: what LSP and MCP clients send: ``file:///c%3A/repo/src/a.py`` (VS Code on Windows),
  ``file:///C:/repo/src/a.py`` (Neovim), ``file://server/share/a.py`` (a UNC share),
  ``file:///Users/me/repo/a.py`` (macOS).

The pure functions take ``windows`` (default: this machine) so Windows paths are checked on any
machine. Windows compares paths without case (drive letters included); ``fold_case`` (default on
Windows and macOS) lets a POSIX root match a path spelled with other case when both name the same
directory on disk (macOS's default file system ignores case).
"""

from __future__ import annotations

import ntpath
import os
import posixpath
import re
import sys
from collections.abc import Callable
from pathlib import Path, PurePath, PurePosixPath, PureWindowsPath
from urllib.parse import unquote, urlsplit

WINDOWS = os.name == "nt"
FOLDS_CASE = sys.platform in ("win32", "darwin")  # where the default file system ignores case

_DRIVE_PATH = re.compile(r"^/[A-Za-z]:(/|$)")  # "/c:/..." in a decoded URI path
_LONG_PREFIX = re.compile(r"^[\\/]{2}[?.][\\/](UNC[\\/])?", re.IGNORECASE)  # \\?\C:\ and \\?\UNC\srv\


# --- URIs -----------------------------------------------------------------------------------
def uri_to_os_path(uri: str, *, windows: bool = WINDOWS) -> str | None:
    """The OS path a ``file:`` URI names; None for any other scheme or a malformed URI.

    Percent-escapes are decoded (``%3A`` included: VS Code writes ``file:///c%3A/...``); a drive
    letter comes back upper case (``C:\\...``, as Windows and watchdog write it); a host other
    than ``localhost`` is a UNC share (``\\\\server\\share\\...``). Bytes that are not UTF-8 map to
    the surrogates ``os.fsdecode`` uses, so a POSIX name of any bytes survives the round trip."""
    try:
        parts = urlsplit(uri)
    except ValueError:
        return None
    if parts.scheme.lower() != "file":
        return None
    path = unquote(parts.path, errors="surrogateescape") or "/"
    host = unquote(parts.netloc)
    if host.lower() == "localhost":
        host = ""
    if not windows:
        return f"//{host}{path}" if host else path
    if host:
        return "\\\\" + host + path.replace("/", "\\")
    if _DRIVE_PATH.match(path):
        path = path[1].upper() + ":" + (path[3:] or "/")
    return path.replace("/", "\\")


def os_path_to_uri(path: str, *, windows: bool = WINDOWS) -> str:
    """The ``file:`` URI of an absolute OS path (``file:///C:/a%20b/c.py``, ``file://srv/share/x``,
    ``file:///home/u/c.py``). Clients compare URIs by the path they decode to, not as strings."""
    if windows:
        return PureWindowsPath(strip_long_prefix(path)).as_uri()
    return PurePosixPath(path).as_uri()


def strip_long_prefix(path: str) -> str:
    """``\\\\?\\C:\\x`` -> ``C:\\x`` and ``\\\\?\\UNC\\srv\\share`` -> ``\\\\srv\\share`` (Windows'
    extended-length spellings of ordinary paths)."""
    found = _LONG_PREFIX.match(path)
    if found is None:
        return path
    rest = path[found.end() :]
    return "\\\\" + rest if found.group(1) else rest


def uri_to_path(uri: str) -> Path | None:
    """A file URI as an absolute path on this machine, its directories resolved (symlinks, and on
    Windows the on-disk spelling), as folder roots are."""
    raw = uri_to_os_path(uri)
    if not raw:
        return None
    path = Path(raw).absolute()
    try:
        return path.parent.resolve() / path.name if path.name else path.resolve()
    except OSError:
        return path


def path_to_uri(path: Path) -> str:
    return os_path_to_uri(str(path))


# --- index keys -----------------------------------------------------------------------------
SameDir = Callable[[str, str], bool]


def index_key(
    root: str,
    path: str,
    *,
    windows: bool = WINDOWS,
    fold_case: bool = FOLDS_CASE,
    same_dir: SameDir = os.path.samefile,
) -> str | None:
    """``path`` (absolute, or relative to ``root``) as an index key under ``root``: relative,
    ``/``-separated, in the path's own spelling. None when it is ``root`` itself or outside it.

    Windows paths match without case (``c:\\Repo`` is ``C:\\repo``). A POSIX path whose leading
    components equal the root's only without case matches when ``fold_case`` and ``same_dir``
    says both spellings name one directory."""
    rel = _relative(root, path, windows, fold_case, same_dir)
    if rel is None:
        return None
    return "/".join(rel.parts) or None


def within(
    root: str,
    path: str,
    *,
    windows: bool = WINDOWS,
    fold_case: bool = FOLDS_CASE,
    same_dir: SameDir = os.path.samefile,
) -> bool:
    """Whether ``path`` is ``root`` or below it (same rules as :func:`index_key`)."""
    return _relative(root, path, windows, fold_case, same_dir) is not None


def rel_path(root: Path, path: str | Path) -> str | None:
    """:func:`index_key` on this machine, for ``Path`` arguments."""
    return index_key(str(root), str(path))


def _relative(root: str, path: str, windows: bool, fold_case: bool, same_dir: SameDir) -> PurePath | None:
    full, base = _absolute(root, path, windows)
    flavour: type[PurePath] = PureWindowsPath if windows else PurePosixPath
    p, r = flavour(full), flavour(base)
    try:
        return p.relative_to(r)  # without case on Windows
    except ValueError:
        pass
    if windows or not fold_case:
        return None
    head = p.parts[: len(r.parts)]
    if [s.casefold() for s in head] != [s.casefold() for s in r.parts]:
        return None
    try:
        if not same_dir(str(flavour(*head)), str(r)):
            return None
    except OSError:
        return None
    return flavour(*p.parts[len(r.parts) :])


def key_to_os_path(root: str, key: str, *, windows: bool = WINDOWS) -> str:
    """The OS path of an index key under ``root``."""
    join: Callable[..., str] = ntpath.join if windows else posixpath.join
    return join(root, *key.split("/"))


def _absolute(root: str, path: str, windows: bool) -> tuple[str, str]:
    """``(path, root)`` made absolute (``path`` against ``root``) and normalised."""
    if windows:
        absolute = ntpath.abspath if WINDOWS else ntpath.normpath  # no POSIX cwd in a Windows path
        root, path = strip_long_prefix(root), strip_long_prefix(path)
        return absolute(ntpath.join(root, path)), absolute(root)
    if os.name == "posix":
        return os.path.abspath(os.path.join(root, path)), os.path.abspath(root)
    return posixpath.normpath(posixpath.join(root, path)), posixpath.normpath(root)
