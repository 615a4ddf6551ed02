from __future__ import annotations

import os
from pathlib import Path

import pytest

from codekin.files import FileEntry, FileFilter, SkipFile, read_source, rel_path


def walked(root: Path, **kw: object) -> tuple[list[str], dict[str, str]]:
    skipped: dict[str, str] = {}
    ff = FileFilter(root, **kw)  # type: ignore[arg-type]
    found = sorted(e.rel for e in ff.walk(on_skip=lambda r, why: skipped.__setitem__(r, why)))
    return found, skipped


def test_gitignore_nested_ignore_and_codekinignore(tree) -> None:  # type: ignore[no-untyped-def]
    root = tree(
        {
            ".gitignore": "*.log\n/generated/\n",
            "a.py": "x = 1\n",
            "debug.log": "noise\n",
            "generated/g.py": "y = 2\n",
            "pkg/.gitignore": "local_*.py\n!local_keep.py\n",
            "pkg/local_tmp.py": "z\n",
            "pkg/local_keep.py": "k\n",
            "pkg/mod.py": "m\n",
            ".ignore": "scratch/\n",
            "scratch/s.py": "s\n",
            ".codekinignore": "docs/*.md\n",
            "docs/readme.md": "hello\n",
            "docs/conf.py": "c\n",
        }
    )
    found, _ = walked(root)
    assert found == [
        ".codekinignore",
        ".gitignore",
        ".ignore",
        "a.py",
        "docs/conf.py",
        "pkg/.gitignore",
        "pkg/local_keep.py",
        "pkg/mod.py",
    ]


def test_default_dirs_secrets_and_globs(tree) -> None:  # type: ignore[no-untyped-def]
    root = tree(
        {
            "node_modules/x/index.js": "x",
            ".venv/lib/a.py": "a",
            "build/out.py": "b",
            "src/__pycache__/m.pyc": b"\x00\x01",
            ".env": "SECRET=1",
            ".env.production": "SECRET=2",
            "deploy/server.pem": "-----BEGIN",
            "keys/id_rsa": "key",
            "src/app.py": "print(1)\n",
            "src/app_test.py": "print(2)\n",
            "src/token.key": "k",
            "notes.private": "p",
        }
    )
    found, _ = walked(root, exclude=["*_test.py"], secret_patterns=["*.private"])
    assert found == ["src/app.py"]
    found, _ = walked(root, include=["src/**"])
    assert found == ["src/app.py", "src/app_test.py"]


def test_size_limit_is_a_logged_skip(tree) -> None:  # type: ignore[no-untyped-def]
    root = tree({"big.py": "x = 1\n" * 1000, "small.py": "y = 2\n"})
    found, skipped = walked(root, max_file_bytes=1000)
    assert found == ["small.py"]
    assert "larger than max_file_bytes" in skipped["big.py"]


def test_symlink_loop_and_outside_link(tree, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    root = tree({"a/b.py": "b\n"})
    os.symlink(root / "a", root / "a" / "loop")
    outside = tmp_path / "outside.py"
    outside.write_text("o\n")
    os.symlink(outside, root / "link_out.py")
    os.symlink(root / "a" / "b.py", root / "link_in.py")
    found, skipped = walked(root)
    assert found == ["a/b.py", "link_in.py"]
    assert "outside" in skipped["link_out.py"]


def test_read_source_rejects_binary_minified_and_vanished(tmp_path: Path) -> None:
    def entry(name: str, data: bytes) -> FileEntry:
        p = tmp_path / name
        p.write_bytes(data)
        return FileEntry(name, p, len(data), 0)

    with pytest.raises(SkipFile, match="binary"):
        read_source(entry("blob.dat", b"\x7fELF\x00\x00\x01"))
    with pytest.raises(SkipFile, match="minified"):
        read_source(entry("bundle.js", b"var a=1;" * 2000))
    gone = entry("gone.py", b"x")
    gone.abs.unlink()
    with pytest.raises(SkipFile, match="vanished"):
        read_source(gone)
    assert read_source(entry("ok.py", b"def f():\n    return 1\n")).startswith(b"def f")


def test_unreadable_file_is_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p = tmp_path / "locked.py"
    p.write_text("x\n")
    real_open = os.open

    def fake_open(path: object, *a: object, **kw: object) -> int:
        if str(path).endswith("locked.py"):
            raise PermissionError(13, "Permission denied")
        return real_open(path, *a, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr("codekin.files.os.open", fake_open)
    with pytest.raises(SkipFile, match="Permission denied"):
        read_source(FileEntry("locked.py", p, 2, 0))


def test_rel_path(tmp_path: Path) -> None:
    assert rel_path(tmp_path, tmp_path / "a" / "b.py") == "a/b.py"
    assert rel_path(tmp_path, "a/b.py") == "a/b.py"
    assert rel_path(tmp_path, "/elsewhere/x.py") is None
