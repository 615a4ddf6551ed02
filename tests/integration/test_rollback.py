"""`codekin index --rollback` / Workspace.rollback: the index that was live before a full rebuild
(or a model change) comes back atomically, and a second rollback undoes the first."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from codekin import Workspace
from codekin.embeddings.fake import FakeEncoder
from codekin.index import layout
from codekin.settings import Settings
from tests.fake_cli import fake_cli


class OtherModel(FakeEncoder):
    model_id = "other"
    model_hash = "other-v1"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    for i in range(12):
        (root / f"mod{i}.py").write_text(f"def compute_{i}(values):\n    return sum(values) * {i}\n")
    return root


def test_a_model_change_is_rolled_back_and_forward_without_reembedding(repo: Path) -> None:
    with Workspace(repo, Settings(), encoder=FakeEncoder()) as ws:
        ws.index()  # the first build lives in the index directory itself
    with Workspace(repo, Settings(model="other"), encoder=OtherModel()) as ws:
        assert ws.index().rebuilt_reason == "index rebuilt: model changed (fake -> other)"
        other_dir = layout.live_dir(ws.index_dir)
        restored = ws.rollback()
        assert restored is not None and restored.model == "fake"
        assert layout.live_dir(ws.index_dir) != other_dir
    with Workspace(repo, Settings(), encoder=FakeEncoder()) as ws:
        assert ws.search("compute_3", k=1)[0].path == "mod3.py"
        assert ws.index().embedded == 0  # the old index is whole: nothing to re-embed
        restored = ws.rollback()  # and forward again
        assert restored is not None and restored.model == "other"
        assert layout.live_dir(ws.index_dir) == other_dir
    with Workspace(repo, Settings(model="other"), encoder=OtherModel()) as ws:
        assert ws.index().embedded == 0


def test_a_reader_switches_to_the_rolled_back_index_on_its_next_query(repo: Path) -> None:
    with Workspace(repo, Settings(), encoder=FakeEncoder()) as writer:
        writer.index()
        writer.index(full=True)
        (repo / "mod3.py").unlink()  # only the newer index learns that mod3 is gone
        writer.index()
        reader = Workspace(repo, Settings(), encoder=FakeEncoder())
        assert all(h.path != "mod3.py" for h in reader.search("compute_3", k=12))
        writer.rollback()
        assert reader.search("compute_3", k=1)[0].path == "mod3.py"
        reader.close()


def test_a_model_change_answers_by_keywords_until_the_rebuild_is_swapped_in(repo: Path) -> None:
    """A long-lived process (language server, MCP) whose model changed keeps answering from the
    old index, by keywords and the ranking, not with an error, until the rebuild beside it is live."""
    with Workspace(repo, Settings(), encoder=FakeEncoder()) as ws:
        ws.index()
    with Workspace(repo, Settings(model="other"), encoder=OtherModel()) as ws:
        hits = ws.search("compute_3", k=1)
        assert hits[0].path == "mod3.py" and hits.coverage.lexical_only and hits.partial
        assert ws.index().rebuilt_reason == "index rebuilt: model changed (fake -> other)"
        hits = ws.search("compute_3", k=1)
        assert hits[0].path == "mod3.py" and not hits.partial and hits[0].cosine > 0


def test_nothing_to_roll_back_to_is_a_clear_error(repo: Path) -> None:
    with Workspace(repo, Settings(), encoder=FakeEncoder()) as ws:
        ws.index()
        with pytest.raises(LookupError, match="no earlier index is kept"):
            ws.rollback()


def cli(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return fake_cli(root, *args, models={"other": 64})


def test_the_cli_rolls_back_and_says_which_model_to_configure(repo: Path) -> None:
    assert cli(repo, "index").returncode == 0
    none = cli(repo, "index", "--rollback")
    assert none.returncode == 1 and "no earlier index is kept" in none.stderr
    assert cli(repo, "index", "--model", "other").returncode == 0
    back = cli(repo, "index", "--rollback", "--model", "other")
    assert back.returncode == 0, back.stderr
    assert "the index built with fake is live again" in back.stdout
    assert "set model = 'fake'" in back.stdout
    status = json.loads(cli(repo, "status", "--json").stdout)
    assert status["model"] == "fake"
