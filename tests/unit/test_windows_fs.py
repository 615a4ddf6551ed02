"""File-system behaviour Windows differs in, simulated: a directory cannot be opened, so it
cannot be fsynced (descriptors in text mode are caught by test_portability_static)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from codekin.index import layout


def test_publishing_an_index_does_not_need_to_open_a_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_open = os.open

    def windows_open(path: str | os.PathLike[str], flags: int, *args: int) -> int:
        if os.path.isdir(path):
            raise PermissionError(13, "Permission denied", str(path))  # what Windows answers
        return real_open(path, flags, *args)

    monkeypatch.setattr(os, "open", windows_open)
    built = tmp_path / "building"
    built.mkdir()
    (built / "index.sqlite").write_bytes(b"")
    live = layout.publish(tmp_path, built)
    assert layout.live_dir(tmp_path) == live and (live / "index.sqlite").exists()
