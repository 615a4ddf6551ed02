"""The default install has no Ray and no qdrant-client: nothing on its path may import them."""

from __future__ import annotations

import subprocess
import sys

from tests.org.org_support import env

HIDE = """
import sys
class Hide:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("ray", "qdrant_client"):
            raise ImportError(f"No module named {name!r}", name=name)
sys.meta_path.insert(0, Hide())
"""


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", HIDE + code],
        capture_output=True,
        text=True,
        env=env(),
        timeout=120,
        check=False,
    )


def test_cli_and_workspace_import_without_the_org_extra() -> None:
    done = _run(
        "import codekin.cli, codekin.workspace, codekin.org, codekin.agents.mcp_server\n"
        "codekin.cli.build_parser().parse_args(['org', 'index', 'r.txt', '--store', 'qdrant-local:x'])\n"
        "assert not [m for m in sys.modules if m.split('.')[0] in ('ray', 'qdrant_client')]\n"
        "print('ok')"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_org_commands_without_the_extra_say_how_to_install_it(tmp_path: object) -> None:
    done = _run(
        "from codekin.cli import main\n"
        f"sys.exit(main(['search', '--root', {str(tmp_path)!r}, '--store', 'qdrant-local:x', 'q']))"
    )
    assert done.returncode == 1
    assert "pip install 'codekin[org]'" in done.stderr
    done = _run(
        "from codekin.cli import main\nsys.exit(main(['org', 'index', 'r.txt', '--store', 'qdrant-local:x']))"
    )
    assert done.returncode == 1
    assert "pip install 'codekin[org]'" in done.stderr
