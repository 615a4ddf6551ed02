"""OS paths <-> index keys <-> file URIs, for Windows and macOS too: Windows paths are checked
here through ntpath/PureWindowsPath (``windows=True``); the URIs are as VS Code, Neovim and MCP
clients on Windows and macOS send them, and as the LSP specification's examples write them."""

from __future__ import annotations

from pathlib import Path

import pytest

from codekin.files import rel_path as files_rel_path
from codekin.paths import (
    index_key,
    key_to_os_path,
    os_path_to_uri,
    rel_path,
    strip_long_prefix,
    uri_to_os_path,
    within,
)

# (uri as sent, the Windows path it names)
WINDOWS_URIS = [
    # VS Code on Windows: drive letter lower case, colon percent-encoded
    ("file:///c%3A/Users/alice/source/shop/src/cart.ts", r"C:\Users\alice\source\shop\src\cart.ts"),
    ("file:///c%3A/Users/alice/My%20Shop/src/%C3%A9t%C3%A9.py", r"C:\Users\alice\My Shop\src\été.py"),
    ("file:///d%3A/work/a%23b/c%25d.rs", r"D:\work\a#b\c%d.rs"),
    ("file:///c%3A", "C:\\"),
    # the LSP specification's two spellings of one file
    ("file:///c:/project/readme.md", r"C:\project\readme.md"),
    ("file:///C%3A/project/readme.md", r"C:\project\readme.md"),
    # Neovim (vim.uri_from_fname) and MCP clients: upper-case drive, plain colon
    ("file:///C:/Users/alice/shop/src/cart.ts", r"C:\Users\alice\shop\src\cart.ts"),
    # UNC shares, WSL's share among them (VS Code puts the server in the authority)
    ("file://fileserver/projects/shop/src/cart.ts", r"\\fileserver\projects\shop\src\cart.ts"),
    ("file://wsl%24/Ubuntu/home/alice/shop/app.py", r"\\wsl$\Ubuntu\home\alice\shop\app.py"),
    ("file://wsl.localhost/Ubuntu/home/alice/app.py", r"\\wsl.localhost\Ubuntu\home\alice\app.py"),
    ("file://localhost/c%3A/x/y.py", r"C:\x\y.py"),
]

# (uri as sent by VS Code on macOS (or Linux), the POSIX path)
POSIX_URIS = [
    ("file:///Users/alice/Projects/shop/Sources/Cart.swift", "/Users/alice/Projects/shop/Sources/Cart.swift"),
    ("file:///Users/alice/Projects/caf%C3%A9/main.swift", "/Users/alice/Projects/café/main.swift"),
    ("file:///Users/alice/My%20Project/a%3Bb.py", "/Users/alice/My Project/a;b.py"),
    ("file:///Users/alice/a;b.py", "/Users/alice/a;b.py"),  # Neovim leaves ';' as it is
    ("file:///home/u/%FF.py", "/home/u/\udcff.py"),  # a name that is not UTF-8 (os.fsdecode's form)
    ("file://localhost/etc/hosts", "/etc/hosts"),
]


@pytest.mark.parametrize(("uri", "path"), WINDOWS_URIS)
def test_windows_uris_as_clients_send_them(uri: str, path: str) -> None:
    assert uri_to_os_path(uri, windows=True) == path


@pytest.mark.parametrize(("uri", "path"), POSIX_URIS)
def test_macos_and_linux_uris(uri: str, path: str) -> None:
    assert uri_to_os_path(uri, windows=False) == path


@pytest.mark.parametrize(
    "uri",
    [
        "untitled:Untitled-1",
        "vscode-notebook-cell:/c%3A/nb.ipynb#W0sZmlsZQ%3D%3D",
        "git:/c%3A/x.py?%7B%7D",
        "foo://example.com:8042/over/there?name=ferret#nose",
        "http://[::1/x",
        "not a uri",
    ],
)
def test_other_schemes_and_garbage_name_no_file(uri: str) -> None:
    assert uri_to_os_path(uri, windows=True) is None
    assert uri_to_os_path(uri, windows=False) is None


@pytest.mark.parametrize(
    ("path", "uri"),
    [
        (r"C:\Users\alice\My Shop\cart.ts", "file:///C:/Users/alice/My%20Shop/cart.ts"),
        (r"\\fileserver\projects\shop\a.py", "file://fileserver/projects/shop/a.py"),
        (r"\\?\C:\very\long\path.py", "file:///C:/very/long/path.py"),
    ],
)
def test_windows_paths_to_uris_and_back(path: str, uri: str) -> None:
    assert os_path_to_uri(path, windows=True) == uri
    assert uri_to_os_path(uri, windows=True) == strip_long_prefix(path)


def test_posix_paths_to_uris_and_back() -> None:
    for path in ["/Users/alice/My Project/a;b#c.py", "/home/u/\udcff.py", "/tmp/100%.py"]:
        assert uri_to_os_path(os_path_to_uri(path, windows=False), windows=False) == path
    assert os_path_to_uri("/home/u/a b.py", windows=False) == Path("/home/u/a b.py").as_uri()  # as before


def test_long_path_prefixes() -> None:
    assert strip_long_prefix(r"\\?\C:\x\y") == r"C:\x\y"
    assert strip_long_prefix(r"\\?\UNC\server\share\x") == r"\\server\share\x"
    assert strip_long_prefix(r"C:\x") == r"C:\x"


WIN_ROOT = r"C:\Users\alice\shop"


@pytest.mark.parametrize(
    ("path", "key"),
    [
        (r"C:\Users\alice\shop\src\Cart.ts", "src/Cart.ts"),  # watchdog's spelling
        (r"c:\users\ALICE\Shop\src\Cart.ts", "src/Cart.ts"),  # another case: same file, path's own tail
        ("C:/Users/alice/shop/src/Cart.ts", "src/Cart.ts"),  # forward slashes
        (r"\\?\C:\Users\alice\shop\src\Cart.ts", "src/Cart.ts"),
        (r"src\Cart.ts", "src/Cart.ts"),  # relative to the root
        (r"src\..\README.md", "README.md"),
        (WIN_ROOT, None),  # the root itself is no file key
        (r"C:\Users\alice\shop2\a.ts", None),  # a sibling sharing a prefix
        (r"D:\Users\alice\shop\a.ts", None),  # another drive
        (r"\\fileserver\projects\a.ts", None),
    ],
)
def test_windows_index_keys(path: str, key: str | None) -> None:
    assert index_key(WIN_ROOT, path, windows=True) == key


def test_windows_root_from_a_vscode_uri_matches_watchdog_paths() -> None:
    root = uri_to_os_path("file:///c%3A/Users/alice/shop", windows=True)
    assert root is not None
    event = r"C:\Users\alice\shop\src\cart.ts"  # ReadDirectoryChangesW path joined by watchdog
    assert index_key(root, event, windows=True) == "src/cart.ts"
    assert within(root, event, windows=True) and within(root, root.lower(), windows=True)
    assert key_to_os_path(root, "src/cart.ts", windows=True) == event


def test_unc_root_keys() -> None:
    root = r"\\fileserver\projects\shop"
    assert index_key(root, r"\\FILESERVER\projects\shop\lib\a.py", windows=True) == "lib/a.py"
    assert index_key(root, r"\\?\UNC\fileserver\projects\shop\a.py", windows=True) == "a.py"
    assert index_key(root, r"\\other\projects\shop\a.py", windows=True) is None


def test_posix_keys_unchanged(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    cases = {
        str(root / "src" / "a.py"): "src/a.py",
        "src/a.py": "src/a.py",
        str(root / "src" / ".." / "b.py"): "b.py",
        str(root): None,
        str(tmp_path / "repo2" / "a.py"): None,
        str(tmp_path / "REPO" / "a.py"): None,  # case matters on Linux
        "../x.py": None,
        "a\\b.py": "a\\b.py",  # a backslash is a character of a POSIX name
    }
    for path, key in cases.items():
        assert rel_path(root, path) == key, path
        assert files_rel_path(root, path) == key  # codekin.files uses the same one


def test_case_insensitive_posix_roots_as_on_macos(tmp_path: Path) -> None:
    """macOS: the folder VS Code opened as /Users/alice/Shop is the one FSEvents reports as
    /Users/alice/shop. Simulated with a second spelling that is a symlink to the same directory."""
    real = tmp_path / "Shop"
    (real / "src").mkdir(parents=True)
    (tmp_path / "shop").symlink_to(real)
    (tmp_path / "SHOP").mkdir()  # a different directory: never folded into the root
    event = str(tmp_path / "shop" / "src" / "Cart.swift")
    assert index_key(str(real), event, windows=False, fold_case=True) == "src/Cart.swift"
    assert within(str(real), str(tmp_path / "shop"), windows=False, fold_case=True)
    assert index_key(str(real), event, windows=False, fold_case=False) is None
    assert index_key(str(real), str(tmp_path / "SHOP" / "a.py"), windows=False, fold_case=True) is None
    gone = str(tmp_path / "nowhere" / "a.py")
    assert index_key(str(tmp_path / "Nowhere"), gone, windows=False, fold_case=True) is None  # no such dir


def test_folding_asks_the_file_system_once_per_check() -> None:
    asked: list[tuple[str, str]] = []

    def same(a: str, b: str) -> bool:
        asked.append((a, b))
        return True

    key = index_key(
        "/Users/alice/Shop", "/users/alice/shop/a.py", windows=False, fold_case=True, same_dir=same
    )
    assert key == "a.py" and asked == [("/users/alice/shop", "/Users/alice/Shop")]


class _Doc:
    def __init__(self, uri: str, source: str) -> None:
        self.uri, self.source = uri, source


class _Workspace:
    def __init__(self, docs: list[_Doc]) -> None:
        from urllib.parse import unquote

        self.text_documents = {unquote(d.uri): d for d in docs}  # as pygls keys them


class _Server:
    def __init__(self, docs: list[_Doc]) -> None:
        self.workspace = _Workspace(docs)


def test_open_buffers_are_found_whatever_uri_spelling_the_client_used(tmp_path: Path) -> None:
    """A client may spell a document's URI unlike codekin does (``file:///c%3A/`` against
    ``file:///C:/`` on Windows; here ``file://localhost/``): its unsaved text is still used."""
    from codekin.server.text import document_text

    path = tmp_path / "My Shop" / "cart.py"
    path.parent.mkdir()
    path.write_text("on disk\n")
    other = tmp_path / "other.py"
    ls = _Server([_Doc("file://localhost" + path.as_uri()[len("file://") :], "in the editor\n")])
    assert document_text(ls, path) == "in the editor\n"  # type: ignore[arg-type]
    assert document_text(ls, other) is None  # type: ignore[arg-type]
    assert document_text(_Server([_Doc(path.as_uri(), "exact\n")]), path) == "exact\n"  # type: ignore[arg-type]
