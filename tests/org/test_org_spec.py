from __future__ import annotations

from pathlib import Path

import pytest

from codekin.org.spec import RepoSpec, SpecError, parse_repo_list, parse_store


def test_store_addresses() -> None:
    local = parse_store("qdrant-local:/data/org")
    assert (local.kind, local.path, local.collection) == ("local", "/data/org", "codekin")
    server = parse_store("qdrant://qdrant.internal:6334/acme")
    assert (server.kind, server.host, server.port, server.collection, server.https) == (
        "server",
        "qdrant.internal",
        6334,
        "acme",
        False,
    )
    default = parse_store("qdrants://db.example.com")
    assert (default.port, default.collection, default.https) == (6333, "codekin", True)
    assert default.describe() == "qdrants://db.example.com:6333/codekin"
    assert parse_store("qdrant-memory:").kind == "memory"


@pytest.mark.parametrize(
    "bad",
    ["", "qdrant-local:", "qdrant://", "qdrant://h:notaport/c", "qdrant://h/a/b", "milvus://h/c", "/tmp/x"],
)
def test_bad_store_addresses_say_why(bad: str) -> None:
    with pytest.raises(SpecError):
        parse_store(bad)


def test_text_repo_list(tmp_path: Path) -> None:
    (tmp_path / "list.txt").write_text("# org\nsvc-a\n../elsewhere/svc-b@v1.2  # pinned\n\n/abs/lib.git\n")
    specs = parse_repo_list(tmp_path / "list.txt")
    assert specs == [
        RepoSpec("svc-a", str(tmp_path / "svc-a")),
        RepoSpec("svc-b@v1.2", str((tmp_path / "../elsewhere/svc-b").resolve()), "v1.2"),
        RepoSpec("lib", "/abs/lib.git"),
    ]


def test_toml_repo_list(tmp_path: Path) -> None:
    (tmp_path / "repos.toml").write_text(
        '[[repo]]\npath = "a"\n\n[[repo]]\npath = "a"\nrevision = "dev"\n\n'
        '[[repo]]\npath = "b"\nname = "core"\n'
    )
    names = [s.name for s in parse_repo_list(tmp_path / "repos.toml")]
    assert names == ["a", "a@dev", "core"]


@pytest.mark.parametrize(
    ("name", "text", "why"),
    [
        ("dup.txt", "x/a\ny/a\n", "both named 'a'"),
        ("empty.txt", "# nothing\n", "no repositories"),
        ("rev.txt", "@main\n", "no path"),
        ("bad.toml", "[[repo]]\nrevision = 'x'\n", "needs a path"),
        ("broken.toml", "[[repo]\n", "broken.toml"),
    ],
)
def test_bad_repo_lists_say_why(tmp_path: Path, name: str, text: str, why: str) -> None:
    (tmp_path / name).write_text(text)
    with pytest.raises(SpecError, match=why):
        parse_repo_list(tmp_path / name)


def test_missing_repo_list(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="cannot read"):
        parse_repo_list(tmp_path / "nope.txt")


def test_an_unreachable_server_is_a_clear_error() -> None:
    pytest.importorskip("qdrant_client")
    from codekin.embeddings.fake import FakeEncoder
    from codekin.org.qdrant_store import StoreProblem
    from codekin.org.shared import SharedIndex

    with pytest.raises(StoreProblem, match="cannot read qdrant://127.0.0.1:9/acme"):
        SharedIndex("qdrant://127.0.0.1:9/acme", lambda: FakeEncoder(8))


def test_a_missing_local_store_is_not_created_by_a_search(tmp_path: Path) -> None:
    pytest.importorskip("qdrant_client")
    from codekin.embeddings.fake import FakeEncoder
    from codekin.org.qdrant_store import StoreProblem
    from codekin.org.shared import SharedIndex

    with pytest.raises(StoreProblem, match="no such directory"):
        SharedIndex(f"qdrant-local:{tmp_path / 'none'}", lambda: FakeEncoder(8))
    assert not (tmp_path / "none").exists()
