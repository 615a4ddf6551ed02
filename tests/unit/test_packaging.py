"""The wheel is pure Python (one wheel for Linux, Windows and macOS), declares the default
encoder package by name, and ``python -m codekin`` runs the CLI (the VS Code extension's
``py -3 -m codekin`` / ``python3 -m codekin`` launchers)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_wheel_is_pure_and_pulls_the_encoder(tmp_path: Path) -> None:
    project = tmp_path / "project"  # a copy: building writes build/ and *.egg-info beside the sources
    shutil.copytree(ROOT / "src", project / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, project / name)
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q",
         "-w", str(tmp_path), str(project)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    (wheel,) = tmp_path.glob("codekin-*.whl")
    assert wheel.name.endswith("-py3-none-any.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        info = next(n for n in names if n.endswith(".dist-info/METADATA"))
        metadata = zf.read(info).decode()
        entry_points = zf.read(info.replace("METADATA", "entry_points.txt")).decode()
    assert "Requires-Dist: codekin-encoder>=0.1" in metadata.splitlines()
    assert "codekin/__main__.py" in names and "codekin/parsers/queries/python.scm" in names
    assert "codekin = codekin.cli:main" in entry_points
    assert not [n for n in names if n.endswith((".so", ".pyd", ".dylib", ".dll"))]


def test_python_dash_m_codekin() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    probe = "import importlib.util as u, sys; sys.exit(u.find_spec('codekin.__main__') is None)"
    assert subprocess.run([sys.executable, "-c", probe], env=env).returncode == 0  # the extension's probe
    proc = subprocess.run(
        [sys.executable, "-m", "codekin", "--version"], env=env, capture_output=True, text=True
    )
    assert proc.returncode == 0 and "0.1.0" in proc.stdout + proc.stderr
