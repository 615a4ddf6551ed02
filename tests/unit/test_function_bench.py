"""bench/function_bench.py and function_data.py: the pinned panel stays clear of the semble
benchmark and of the training sources, trees and mined query sets are cached, and the tables
score what the systems return."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))
fd = importlib.import_module("function_data")
fb = importlib.import_module("function_bench")

from codekin.evaluation.dataset import EvalQuery, Target  # noqa: E402
from codekin.evaluation.mine import mine_repository  # noqa: E402
from codekin.files import FileFilter  # noqa: E402
from codekin.hit import Hit  # noqa: E402
from training.sources import Source, load_manifest  # noqa: E402

REQUIRED = {"rust", "java", "go", "javascript", "typescript", "python", "ruby", "php"}


def test_the_panel_is_pinned_and_covers_the_required_languages() -> None:
    panel = fd.load_panel()
    assert len(panel) >= 12
    languages = {r.language for r in panel}
    assert languages >= REQUIRED and languages & {"c", "cpp"}
    assert len(languages) >= 9
    assert all(len(r.revision) == 40 for r in panel)


def test_the_panel_overlaps_neither_semble_nor_training() -> None:
    semble = json.loads(fd.SEMBLE_REPOS.read_text()) if fd.SEMBLE_REPOS.is_file() else []
    training = load_manifest(fd.TRAINING_SOURCES).sources
    assert fd.panel_conflicts(fd.load_panel(), semble, training) == []


def test_a_semble_or_training_repository_slipped_into_the_panel_is_refused() -> None:
    semble = [{"name": "tokio", "url": "https://github.com/tokio-rs/tokio.git"}]
    training = [
        Source("rust-rand", "debian", "librust-rand-dev", "0.8", "MIT", "https://github.com/rust-random/rand")
    ]
    panel = [
        fd.PanelRepo("tokio", "rust", "https://github.com/someone/tokio", "0" * 40),  # name
        fd.PanelRepo("rt", "rust", "https://github.com/tokio-rs/tokio", "0" * 40),  # upstream
        fd.PanelRepo("random", "rust", "https://github.com/rust-random/rand", "0" * 40),  # training URL
        fd.PanelRepo("clean", "rust", "https://github.com/indexmap-rs/indexmap", "0" * 40),
    ]
    problems = fd.panel_conflicts(panel, semble, training)
    assert "tokio: named like semble repository 'tokio'" in problems
    assert "rt: same upstream as semble repository 'tokio'" in problems
    assert "training rust-rand: same upstream as panel repository 'random'" in problems
    assert not any("clean" in p or "indexmap" in p for p in problems)


def test_load_panel_rejects_unpinned_and_duplicate_entries(tmp_path: Path) -> None:
    entry = 'name = "a"\nlanguage = "go"\nurl = "https://github.com/o/a"\n'
    bad = tmp_path / "panel.toml"
    bad.write_text(f'[[repo]]\n{entry}revision = "main"\n')
    with pytest.raises(ValueError, match="40-hex"):
        fd.load_panel(bad)
    bad.write_text(f'[[repo]]\n{entry}revision = "{"a" * 40}"\n' * 2)
    with pytest.raises(ValueError, match="duplicate"):
        fd.load_panel(bad)
    with pytest.raises(SystemExit, match="unknown"):
        fd.load_panel(fd.PANEL_FILE, names=["no-such-repo"])


def _git(*args: str, cwd: Path) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def test_the_pinned_folders_are_extracted_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    work = tmp_path / "work"
    (work / "src").mkdir(parents=True)
    (work / "docs").mkdir()
    (work / "src" / "a.py").write_text("x = 1\n")
    (work / "docs" / "b.md").write_text("# b\n")
    _git("init", "-q", cwd=work)
    _git("add", ".", cwd=work)
    _git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "one", cwd=work)
    sha = _git("rev-parse", "HEAD", cwd=work)
    mirrors = tmp_path / "mirrors"
    subprocess.run(["git", "clone", "-q", "--bare", str(work), str(mirrors / "o+r" / "repo")], check=True)
    monkeypatch.setattr(fd, "MIRROR_DIR", mirrors)
    repo = fd.PanelRepo("r", "python", "https://github.com/o/r", sha, ("src",))
    tree = fd.ensure_tree(repo, tmp_path / "cache")
    assert tree is not None
    assert sorted(p.relative_to(tree).as_posix() for p in tree.rglob("*") if p.is_file()) == ["src/a.py"]
    (tree / "src" / "a.py").write_text("changed\n")
    assert fd.ensure_tree(repo, tmp_path / "cache") == tree  # kept, not extracted again
    assert (tree / "src" / "a.py").read_text() == "changed\n"
    missing = fd.PanelRepo("r", "python", "https://github.com/o/r", "f" * 40, ("src",))
    with pytest.raises(SystemExit, match="lacks commit"):
        fd.ensure_tree(missing, tmp_path / "other-cache")
    absent = fd.PanelRepo("x", "python", "https://github.com/o/x", sha)
    assert fd.ensure_tree(absent, tmp_path / "cache") is None


PY = '''
def add_numbers(first, second):
    """Add two numbers together and return their sum."""
    total = first + second
    return total


def parse_header_line(line):
    """Split an HTTP header line into its name and its value."""
    name, _, value = line.partition(":")
    return name.strip(), value.strip()


def read_config_file(path):
    """Read the configuration file at the given path as a dictionary."""
    with open(path) as handle:
        return dict(line.split("=", 1) for line in handle)
'''


def test_queries_are_mined_like_codekin_eval_and_cached(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "mod.py").write_text(PY)
    (tree / "skip.py").write_text(PY.replace("def ", "def other_"))
    repo = fd.PanelRepo("r", "python", "https://github.com/o/r", "a" * 40, exclude=("skip.py",))
    cache = tmp_path / "cache"
    mined = fd.mined_queries(repo, tree, limit=2, seed=3, max_chunk_bytes=4000, base=cache)
    expected = mine_repository(FileFilter(tree, exclude=["skip.py"]), tmp_path / "ref", limit=2, seed=3)
    assert mined.queries == expected.queries and len(mined.queries) == 2
    assert (mined.files, mined.documented) == (1, 3)
    stripped = fd.stripped_tree(repo, cache) / "mod.py"
    assert '"""' not in stripped.read_text() and not (fd.stripped_tree(repo, cache) / "skip.py").exists()

    stripped.write_text(stripped.read_text() + "# marker\n")  # a re-mine would rewrite the copy
    again = fd.mined_queries(repo, tree, limit=2, seed=3, max_chunk_bytes=4000, base=cache)
    assert again == mined and stripped.read_text().endswith("# marker\n")
    fd.mined_queries(repo, tree, limit=2, seed=3, max_chunk_bytes=4000, base=cache, remine=True)
    assert not stripped.read_text().endswith("# marker\n")


def _hit(path: str, start: int, end: int, symbol: str = "f", kind: str = "function") -> Hit:
    return Hit(path, start, end, symbol, kind, "python", 0.5, "")


def test_a_hit_counts_when_its_lines_overlap_the_definition() -> None:
    repo = fd.PanelRepo("r", "python", "https://github.com/o/r", "a" * 40)
    q = EvalQuery("add two numbers", (Target("m.py", 10, 14),))
    row = fb.score_row(
        repo,
        q,
        {
            "dense": [_hit("m.py", 12, 13, "add")],
            "default": [
                _hit("m.py", 1, 9, "Header", "class"),
                _hit("other.py", 10, 14),
                _hit("m.py", 14, 20),
            ],
            "bm25": [_hit("m.py", 15, 20)],
        },
    )
    assert (row["dense"]["rank"], row["dense"]["mrr"], row["dense"]["r10"]) == (1, 1.0, 1.0)
    assert (row["default"]["rank"], row["default"]["mrr"]) == (3, pytest.approx(1 / 3))
    assert row["default"]["top"][0]["kind"] == "class"
    missed = row["bm25"]
    assert (missed["rank"], missed["mrr"], missed["r10"], missed["found"]) == (None, 0.0, 0.0, None)


def _row(repo: str, language: str, dense: int | None, default: int | None) -> dict[str, Any]:
    def outcome(rank: int | None) -> dict[str, Any]:
        hit = {"path": "p", "lines": [1, 2], "symbol": "s", "kind": "function"}
        return {
            "rank": rank,
            "mrr": 1 / rank if rank else 0.0,
            "r10": 1.0 if rank else 0.0,
            "top": [hit],
            "found": hit,
        }

    return {
        "repo": repo,
        "language": language,
        "query": f"{repo}-{dense}-{default}",
        "dense": outcome(dense),
        "default": outcome(default),
    }


def test_the_headline_weighs_languages_equally_and_queries_are_pooled_within_one() -> None:
    rows = [
        _row("a", "go", 1, None),
        _row("a", "go", 1, None),
        _row("b", "go", 2, 1),
        _row("c", "rust", None, 1),
    ]
    t = fb.summarise(rows, ["dense", "default"])
    assert t["by_language"]["go"]["dense"]["mrr"] == pytest.approx((1 + 1 + 0.5) / 3)
    assert t["by_language"]["go"]["repos"] == 2 and t["by_language"]["go"]["queries"] == 3
    assert t["overall"]["languages"]["dense"]["mrr"] == pytest.approx(((2.5 / 3) + 0.0) / 2)
    assert t["overall"]["queries"]["dense"]["mrr"] == pytest.approx(2.5 / 4)
    assert t["overall"]["languages"]["default"]["r10"] == pytest.approx((1 / 3 + 1) / 2)
    assert t["by_repo"]["a"]["default"]["mrr"] == 0.0 and t["by_repo"]["c"]["language"] == "rust"


def test_failures_are_where_dense_is_first_and_default_is_not_taken_across_languages() -> None:
    rows = [
        _row("a", "go", 1, 2),
        _row("a", "go", 1, None),
        _row("a", "go", 1, 1),  # both right: not a failure
        _row("b", "rust", 2, None),  # dense not first: not a failure
        _row("b", "rust", 1, 4),
    ]
    cases = fb.failures(rows, 2)
    assert [(c["language"], c["default"]["rank"]) for c in cases] == [("go", None), ("rust", 4)]
    assert len(fb.failures(rows, 10)) == 3


def test_variants_that_list_files_are_refused() -> None:
    with pytest.raises(SystemExit, match="files"):
        fb.searchers(_NoIndex(), [], fb.parse_variants("f=files:1"))  # type: ignore[arg-type]


class _NoIndex:
    """Enough of a Workspace for searchers() to reach the variant check."""

    code_index = type("CI", (), {"store": None})()
    encoder = None
