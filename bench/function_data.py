"""The function-level benchmark's data: the pinned panel, its source trees and mined query sets.

Panel: ``function_panel.toml``. Trees come from bare mirrors under ``/work/.mirror`` (brought by
the session's fetch tool), extracted once at the pinned commit into
``.bench-cache/function/<name>/tree/``. Queries are mined as ``codekin eval --mine`` mines them
(``codekin.evaluation.mine``): the doc comments of documented definitions are stripped into
``<name>/stripped/`` (the tree that is indexed and searched), and each query is the first sentence
of one of them, answered by the lines of its definition in the stripped copy. The stripped tree
and each ``(limit, seed)`` query set are kept, so later runs (and later chunkers) score the very
same queries against the very same files until ``--remine``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))  # the training package: its manifest and conflict rule

from semble_data import MIRROR_DIR, extract  # noqa: E402

from codekin import Workspace  # noqa: E402
from codekin.evaluation.dataset import EvalQuery, load_dataset, write_dataset  # noqa: E402
from codekin.evaluation.mine import mine_repository  # noqa: E402
from codekin.settings import Settings  # noqa: E402
from training.sources import SEMBLE_REPOS, Source, conflicts, load_manifest  # noqa: E402

PANEL_FILE = Path(__file__).with_name("function_panel.toml")
TRAINING_SOURCES = REPO_ROOT / "training" / "sources.toml"
CACHE_DIR = Path(os.environ.get("FUNCTION_BENCH_CACHE", REPO_ROOT / ".bench-cache" / "function"))
_SHA = re.compile(r"^[0-9a-f]{40}$")


@dataclass(frozen=True)
class PanelRepo:
    name: str
    language: str
    url: str
    revision: str
    paths: tuple[str, ...] = ()  # folders extracted and indexed; () = the whole repository
    exclude: tuple[str, ...] = ()  # gitignore-style globs, as Settings.exclude
    licence: str = ""
    note: str = ""

    @property
    def slug(self) -> str:
        """``owner/name`` of the GitHub URL."""
        return self.url.split("github.com/", 1)[1].removesuffix(".git").strip("/")

    @property
    def mirror(self) -> Path:
        return MIRROR_DIR / self.slug.replace("/", "+") / "repo"

    def cache(self, base: Path = CACHE_DIR) -> Path:
        return base / self.name


@dataclass(frozen=True)
class MinedQueries:
    queries: list[EvalQuery]
    files: int  # files in the stripped copy
    documented: int  # definitions that gave a usable, unique query (before sampling)


def load_panel(path: Path = PANEL_FILE, names: Iterable[str] | None = None) -> list[PanelRepo]:
    """The panel's repositories (those named, in that order, when ``names`` is given)."""
    raw: list[dict[str, Any]] = tomllib.loads(path.read_text()).get("repo", [])
    repos: list[PanelRepo] = []
    for n, e in enumerate(raw, 1):
        missing = [k for k in ("name", "language", "url", "revision") if not e.get(k)]
        if missing:
            raise ValueError(f"{path}: repo #{n} lacks {', '.join(missing)}")
        if not _SHA.match(e["revision"]):
            raise ValueError(f"{path}: {e['name']}: revision must be a full 40-hex commit")
        if "github.com/" not in e["url"]:
            raise ValueError(f"{path}: {e['name']}: url must be a GitHub repository")
        repos.append(
            PanelRepo(
                e["name"],
                e["language"],
                e["url"],
                e["revision"],
                tuple(p.strip("/") for p in e.get("paths", [])),
                tuple(e.get("exclude", [])),
                e.get("licence", ""),
                e.get("note", ""),
            )
        )
    seen = [r.name for r in repos]
    dupes = sorted({x for x in seen if seen.count(x) > 1})
    if dupes:
        raise ValueError(f"{path}: duplicate names: {', '.join(dupes)}")
    if names is None:
        return repos
    by_name = {r.name: r for r in repos}
    unknown = [x for x in names if x not in by_name]
    if unknown:
        raise SystemExit(f"unknown panel repositories: {', '.join(unknown)} (see {path.name})")
    return [by_name[x] for x in names]


def panel_conflicts(
    panel: list[PanelRepo], semble: list[dict[str, str]], training: list[Source]
) -> list[str]:
    """Why each panel repository may not be in the panel: named like, or the same upstream as, a
    semble benchmark repository or a training source (empty when the panel is clean)."""
    as_sources = [
        Source(r.name, "github", r.slug.split("/")[-1], r.revision, r.licence, r.url) for r in panel
    ]
    as_repos = [{"name": r.name, "url": r.url} for r in panel]
    problems = conflicts(as_sources, semble)
    problems += [f"training {p}" for p in conflicts(training, as_repos, label="panel repository")]
    return sorted(set(problems))


def check_panel(panel: list[PanelRepo]) -> None:
    """Refuse a panel that overlaps the semble benchmark or the training sources."""
    semble = json.loads(SEMBLE_REPOS.read_text()) if SEMBLE_REPOS.is_file() else []
    if not semble:
        print(f"warning: {SEMBLE_REPOS} is missing: the semble overlap is not checked", file=sys.stderr)
    problems = panel_conflicts(panel, semble, load_manifest(TRAINING_SOURCES).sources)
    if problems:
        raise SystemExit("the panel overlaps benchmark or training data:\n  " + "\n  ".join(problems))


def ensure_tree(repo: PanelRepo, base: Path = CACHE_DIR) -> Path | None:
    """The pinned tree, extracted once; None when the mirror is absent. A mirror without the
    pinned commit is an error (the panel is pinned, there is no fallback revision)."""
    tree = repo.cache(base) / "tree"
    marker = repo.cache(base) / "tree.rev"
    if marker.is_file() and marker.read_text().strip() == repo.revision and tree.is_dir():
        return tree
    if not repo.mirror.exists():
        return None
    if not _has_commit(repo):
        raise SystemExit(f"{repo.name}: {repo.mirror} lacks commit {repo.revision} (fetch it again)")
    extract(repo.mirror, repo.revision, list(repo.paths), tree)
    marker.write_text(repo.revision + "\n")
    return tree


def _has_commit(repo: PanelRepo) -> bool:
    probe = ["git", f"--git-dir={repo.mirror}", "cat-file", "-e", f"{repo.revision}^{{commit}}"]
    return subprocess.run(probe, capture_output=True).returncode == 0


def mined_queries(
    repo: PanelRepo,
    tree: Path,
    *,
    limit: int,
    seed: int,
    max_chunk_bytes: int,
    remine: bool = False,
    base: Path = CACHE_DIR,
) -> MinedQueries:
    """The ``(limit, seed)`` query set of ``repo``, mined from ``tree`` into the stripped copy
    (``stripped_tree``) on first use and read back afterwards. Mining again (``remine``, another
    revision, or a ``(limit, seed)`` not mined yet) rewrites the stripped copy and drops every
    other cached query set, whose targets referred to the old copy."""
    cache = repo.cache(base)
    meta_file = cache / "mined.json"
    queries_file = cache / f"queries-l{limit}-s{seed}.jsonl"
    meta: dict[str, Any] = json.loads(meta_file.read_text()) if meta_file.is_file() else {}
    fresh = meta.get("revision") == repo.revision and stripped_tree(repo, base).is_dir()
    key = f"l{limit}-s{seed}"
    if fresh and not remine and key in meta.get("sets", {}):
        counts = meta["sets"][key]
        queries = load_dataset(queries_file) if counts["queries"] else []
        return MinedQueries(queries, int(meta["files"]), int(counts["documented"]))
    for old in cache.glob("queries-*.jsonl"):
        old.unlink()
    file_filter = Workspace(tree, Settings(exclude=list(repo.exclude))).file_filter
    mined = mine_repository(
        file_filter, stripped_tree(repo, base), limit=limit, seed=seed, max_chunk_bytes=max_chunk_bytes
    )
    if mined.queries:
        write_dataset(mined.queries, queries_file)
    meta = {
        "revision": repo.revision,
        "files": mined.files,
        "sets": {key: {"queries": len(mined.queries), "documented": mined.documented}},
    }
    meta_file.write_text(json.dumps(meta, indent=1))
    return MinedQueries(mined.queries, mined.files, mined.documented)


def stripped_tree(repo: PanelRepo, base: Path = CACHE_DIR) -> Path:
    """The copy with doc comments removed: what is indexed and searched."""
    return repo.cache(base) / "stripped"
