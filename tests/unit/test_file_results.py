"""Workspace.files: "which files" results, one per file, each with its best chunks."""

from __future__ import annotations

from pathlib import Path

from codekin.embeddings.fake import FakeEncoder
from codekin.settings import Settings
from codekin.workspace import Workspace
from tests.conftest import write_tree

CONFIG = "\n\n".join(
    f"def {name}_config(path):\n    data = open(path).read()\n    return {name}(data)\n"
    for name in ("parse", "load", "save", "merge", "check")
)
FILES = {
    "app/config.py": CONFIG,
    "app/render.py": "def render_page(tpl):\n    return tpl.format()\n\n\n"
    "def render_row(r):\n    return str(r)\n",
    "tests/test_config.py": "def test_parse_config():\n    assert parse_config('x')\n",
    "web/config.ts": "export function parseConfig(text: string) {\n  return JSON.parse(text);\n}\n",
}


def _workspace(tmp_path: Path) -> Workspace:
    ws = Workspace(
        write_tree(tmp_path / "repo", FILES), Settings(index_dir=str(tmp_path / "idx")), encoder=FakeEncoder()
    )
    ws.index()
    return ws


def test_one_result_per_file_with_its_best_chunks(tmp_path: Path) -> None:
    with _workspace(tmp_path) as ws:
        files = ws.files("parse config", k=10)
        paths = [f.path for f in files]
        assert paths[0] == "app/config.py"
        assert len(paths) == len(set(paths)) and set(paths) <= set(FILES)
        first = files[0]
        assert first.language == "python" and 1 <= len(first.hits) <= 3
        assert first.hits[0].symbol == "parse_config"
        assert all(h.path == f.path for f in files for h in f.hits)
        assert all(f.score == f.hits[0].score for f in files)
        # the chunk search ranks the same chunk first
        assert ws.search("parse config", k=1)[0].symbol == "parse_config"


def test_k_filters_and_empty_query(tmp_path: Path) -> None:
    with _workspace(tmp_path) as ws:
        assert len(ws.files("config", k=1)) == 1
        assert [f.path for f in ws.files("parse config", languages=["typescript"])] == ["web/config.ts"]
        assert {f.path for f in ws.files("config", paths=["app/**"])} <= {"app/config.py", "app/render.py"}
        assert ws.files("   ") == []
        assert ws.files("config")[0].to_dict()["hits"][0]["path"].endswith("config.py")
