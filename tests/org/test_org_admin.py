"""``codekin org list`` / ``codekin org remove`` over a local-mode store, and a Qdrant server's
API key: from the environment only, never in an address, a report or an error."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("qdrant_client")

from codekin.cli import main  # noqa: E402
from codekin.embeddings.fake import FakeEncoder  # noqa: E402
from codekin.org.qdrant_store import QdrantStore, StoreProblem, api_key  # noqa: E402
from codekin.org.spec import SpecError, parse_store  # noqa: E402
from codekin.settings import Settings  # noqa: E402
from codekin.workspace import Workspace  # noqa: E402
from tests.org.org_support import FAKE_DIM, write_repo  # noqa: E402
from tests.org.store_support import build_store  # noqa: E402

SECRET = "k3y-never-printed"


@pytest.fixture
def store(tmp_path: Path) -> str:
    a = write_repo(
        tmp_path / "a", {"a.py": "def alpha():\n    return 1\n", "b.py": "def beta():\n    return 2\n"}
    )
    b = write_repo(tmp_path / "b", {"c.py": "def gamma():\n    return 3\n"})
    return build_store(tmp_path / "shared", {"svc-a": (a, "1" * 40), "svc-b": (b, "2" * 40)})


def _list(store: str, capsys: pytest.CaptureFixture[str]) -> dict:  # type: ignore[type-arg]
    assert main(["org", "list", "--store", store, "--json"]) == 0
    return json.loads(capsys.readouterr().out)  # type: ignore[no-any-return]


def test_org_list_shows_repositories_with_revisions_and_chunk_counts(
    store: str, capsys: pytest.CaptureFixture[str]
) -> None:
    listed = _list(store, capsys)
    assert [(r["name"], r["revision"], r["files"], r["chunks"]) for r in listed["repos"]] == [
        ("svc-a", "1" * 40, 2, 2),
        ("svc-b", "2" * 40, 1, 1),
    ]
    assert listed["chunks"] == 3
    assert main(["org", "list", "--store", store]) == 0
    text = capsys.readouterr().out
    assert text.splitlines()[0].split() == ["repo", "revision", "files", "chunks", "updated", "source"]
    assert "svc-a  111111111111" in text and "2 repositories, 3 chunks in qdrant-local:" in text


def test_org_remove_deletes_one_repository(store: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["org", "remove", "svc-a", "--store", store]) == 0
    assert "removed svc-a from qdrant-local:" in capsys.readouterr().out
    listed = _list(store, capsys)
    assert [(r["name"], r["chunks"]) for r in listed["repos"]] == [("svc-b", 1)] and listed["chunks"] == 1
    with QdrantStore(parse_store(store)) as s:
        assert s.markers("svc-a") == {} and len(s.markers("svc-b")) == 1
    assert main(["org", "remove", "svc-x", "--store", store]) == 1
    assert "has no repository 'svc-x' (it has: svc-b)" in capsys.readouterr().err


def test_org_commands_on_a_missing_store_say_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["org", "list", "--store", f"qdrant-local:{tmp_path / 'none'}"]) == 1
    assert "no such directory" in capsys.readouterr().err
    assert not (tmp_path / "none").exists()


def test_the_api_key_comes_from_the_named_environment_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACME_QDRANT_KEY", SECRET)
    monkeypatch.delenv("QDRANT_API_KEY", raising=False)
    assert api_key("ACME_QDRANT_KEY") == SECRET
    assert api_key("QDRANT_API_KEY") is None and api_key("") is None
    with QdrantStore(parse_store("qdrant://127.0.0.1:9/acme"), key=api_key("ACME_QDRANT_KEY")) as s:
        assert s.client._client._api_key == SECRET  # handed to the client, and only to it
        with pytest.raises(StoreProblem) as caught:
            s.manifest()
    assert SECRET not in str(caught.value) and SECRET not in s.spec.describe()


def test_workspaces_read_the_key_from_the_store_api_key_env_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[str | None] = []

    def connect(spec: object, key: str | None = None) -> object:
        seen.append(key)
        raise StoreProblem("stop here")

    monkeypatch.setattr("codekin.org.qdrant_store.connect", connect)
    monkeypatch.setenv("ACME_QDRANT_KEY", SECRET)
    settings = Settings(store="qdrant://127.0.0.1:9/acme", store_api_key_env="ACME_QDRANT_KEY")
    with Workspace(tmp_path, settings, encoder=FakeEncoder(FAKE_DIM)) as ws, pytest.raises(StoreProblem):
        ws.search("anything")
    assert seen == [SECRET]


def test_credentials_in_a_store_address_are_refused_without_repeating_them(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(SpecError) as caught:
        parse_store(f"qdrant://admin:{SECRET}@db.example.com:6333/acme")
    assert SECRET not in str(caught.value) and "QDRANT_API_KEY" in str(caught.value)
    monkeypatch.setenv("QDRANT_API_KEY", SECRET)
    assert main(["org", "list", "--store", "qdrant://127.0.0.1:9/acme"]) == 1
    out = capsys.readouterr()
    assert "cannot read qdrant://127.0.0.1:9/acme" in out.err and SECRET not in out.err + out.out
