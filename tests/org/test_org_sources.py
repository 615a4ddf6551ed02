"""Git URLs in the repository list: cloned bare into a cache once, fetched at most once per job,
extracted at the revision; clear errors per repository. Local bare repositories and file://
URLs only (no network)."""

from __future__ import annotations

from pathlib import Path

import pytest

from codekin.org.sources import SourceError, Sources
from codekin.org.spec import RepoSpec, parse_repo_list, redact_url, split_url
from tests.org.org_support import git, make_remote


@pytest.fixture
def remote(tmp_path: Path) -> Path:
    return make_remote(tmp_path)


def test_url_lines_and_their_revisions() -> None:
    assert split_url("https://github.com/acme/x.git@v1.2") == ("https://github.com/acme/x.git", "v1.2")
    assert split_url("https://bot@github.com/acme/x.git") == ("https://bot@github.com/acme/x.git", "")
    assert split_url("git@github.com:acme/x.git") == ("git@github.com:acme/x.git", "")
    assert split_url("git@github.com:acme/x.git@feature/y") == ("git@github.com:acme/x.git", "feature/y")
    assert split_url("file:///srv/x.git@0123abc") == ("file:///srv/x.git", "0123abc")
    assert redact_url("https://bot:s3cret@github.com/acme/x.git") == "https://***@github.com/acme/x.git"


def test_repo_lists_with_urls(tmp_path: Path, remote: Path) -> None:
    (tmp_path / "list.txt").write_text(
        f"https://bot:s3cret@github.com/acme/x.git@v1.2\nfile://{remote}@v1\nlib.git\n"
    )
    a, b, c = parse_repo_list(tmp_path / "list.txt")
    assert (a.name, a.url, a.revision, a.path) == (
        "x@v1.2",
        "https://bot:s3cret@github.com/acme/x.git",
        "v1.2",
        "",
    )
    assert "s3cret" not in a.source
    assert (b.name, b.url, b.revision) == ("lib@v1", f"file://{remote}", "v1")
    assert (c.name, c.url, c.revision) == ("lib", str(remote), "")  # a bare repository is cloned like a URL
    (tmp_path / "repos.toml").write_text(
        f'[[repo]]\nurl = "file://{remote}"\nrev = "main"\n\n[[repo]]\nurl = "lib.git"\nname = "core"\n'
    )
    assert [(s.name, s.url, s.revision) for s in parse_repo_list(tmp_path / "repos.toml")] == [
        ("lib@main", f"file://{remote}", "main"),
        ("core", str(remote), ""),
    ]


def test_a_url_is_cloned_once_and_checked_out_at_its_revision(tmp_path: Path, remote: Path) -> None:
    cache = tmp_path / "cache"
    root, commit = Sources(tmp_path / "w0", cache).resolve(RepoSpec("lib", "", "", f"file://{remote}"))
    assert (Path(root) / "lib.py").read_text().startswith("def second")
    assert commit == git(remote, "rev-parse", "main")
    clones = list(cache.iterdir())
    assert len(clones) == 1 and clones[0].name.endswith(".git")
    sources = Sources(tmp_path / "work", cache)  # the next job
    root, tagged = sources.resolve(RepoSpec("lib@v1", "", "v1", f"file://{remote}"))
    assert (Path(root) / "lib.py").read_text().startswith("def first")
    assert tagged == git(remote, "rev-parse", "v1^{commit}")
    assert list(cache.iterdir()) == clones  # the cached clone was fetched, not cloned again
    assert sources.fetched == {str(clones[0]): ""}  # once per job


def test_a_pinned_commit_in_the_cache_needs_no_fetch(tmp_path: Path, remote: Path) -> None:
    cache = tmp_path / "cache"
    sha = git(remote, "rev-parse", "v1^{commit}")
    Sources(tmp_path / "w1", cache).resolve(RepoSpec("lib", "", "", f"file://{remote}"))
    moved = tmp_path / "gone.git"
    remote.rename(moved)  # the remote is unreachable from now on
    later = Sources(tmp_path / "w2", cache)
    root, commit = later.resolve(RepoSpec("lib@pin", "", sha, f"file://{remote}"))
    assert commit == sha and (Path(root) / "lib.py").read_text().startswith("def first")
    assert later.fetched == {}
    with pytest.raises(SourceError, match=r"cannot fetch file://.*lib\.git: "):
        later.resolve(RepoSpec("lib@main", "", "main", f"file://{remote}"))


def test_unknown_revisions_and_unreachable_urls_say_why(tmp_path: Path, remote: Path) -> None:
    sources = Sources(tmp_path / "work", tmp_path / "cache")
    with pytest.raises(SourceError, match=r"no revision 'v9' \(branches and tags: main, v1\)"):
        sources.resolve(RepoSpec("lib@v9", "", "v9", f"file://{remote}"))
    with pytest.raises(
        SourceError, match=r"cannot clone file://.*nowhere\.git: '.*nowhere\.git' does not appear"
    ):
        sources.resolve(RepoSpec("nowhere", "", "", f"file://{tmp_path / 'nowhere.git'}"))
    with pytest.raises(SourceError) as caught:
        sources.resolve(RepoSpec("x", "", "", "https://bot:s3cret@127.0.0.1:9/acme/x.git"))
    assert "s3cret" not in str(caught.value) and "cannot clone https://***@127.0.0.1:9/acme/x.git" in str(
        caught.value
    )
    assert not [p for p in (tmp_path / "cache").iterdir() if not p.name.startswith("lib-")]  # no half clones
