"""Workspace.files: "which files" results, one per file, each with its best chunks."""

from __future__ import annotations

from pathlib import Path

from codekin.embeddings.fake import FakeEncoder
from codekin.index.ranking import FILE_RANKING
from codekin.index.search import Searcher
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


def test_a_big_file_does_not_crowd_out_the_other_files(tmp_path: Path) -> None:
    # 150 matching functions in one file fill the first 100 ranked chunks; the k files asked
    # for must still come back (the files are grouped from every ranked candidate)
    big = "\n\n".join(f"def parse_config_{i}(p):\n    return parse_config(p, {i})\n" for i in range(150))
    small = {f"pkg/reader_{i}.py": f"def read_{i}(path):\n    return parse_config(path)\n" for i in range(6)}
    root = write_tree(tmp_path / "repo", {"pkg/big.py": big, **small})
    with Workspace(root, Settings(index_dir=str(tmp_path / "idx")), encoder=FakeEncoder()) as ws:
        ws.index()
        ranked = Searcher(ws.code_index, ws.encoder, ranking=FILE_RANKING).search("parse config", 100)
        assert {h.path for h in ranked} == {"pkg/big.py"}  # the situation this test is about
        files = ws.files("parse config", k=5)
        assert len(files) == 5 and files[0].path == "pkg/big.py"
        assert {f.path for f in files[1:]} < set(small)
