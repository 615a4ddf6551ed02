"""The semble code-search benchmark: repositories, annotations, source trees and its scoring.

Data: ``../shared/datasets/semble-bench`` (``repos.json`` + ``annotations/<repo>.json``).
Trees come from bare mirrors under ``/work/.mirror/<owner>+<name>/repo`` (brought by the
session's fetch tool); the pinned revision's ``benchmark_root`` is extracted once into
``.bench-cache/semble/<name>/tree/`` with its repository-relative paths kept.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("SEMBLE_DATA", REPO_ROOT.parent / "shared" / "datasets" / "semble-bench"))
CACHE_DIR = Path(os.environ.get("SEMBLE_CACHE", REPO_ROOT / ".bench-cache" / "semble"))
MIRROR_DIR = Path(os.environ.get("SEMBLE_MIRRORS", "/work/.mirror"))
K = 10

# One or two small repositories per language: the subset used for ablations.
SUBSET = [
    "requests",
    "flask",
    "model2vec",
    "express",
    "redux",
    "axios",
    "chi",
    "gson",
    "guzzle",
    "sinatra",
    "axum",
    "trpc",
    "dapper",
    "ktor",
    "circe",
    "alamofire",
    "fmtlib",
    "libuv",
    "plug",
    "bats-core",
    "xmonad",
    "telescope.nvim",
    "lazy.nvim",
    "zig-clap",
]


@dataclass
class Query:
    query: str
    relevant: list[str]
    secondary: list[str]
    category: str

    @property
    def targets(self) -> list[str]:
        return list(dict.fromkeys(self.relevant + self.secondary))


@dataclass
class Repo:
    name: str
    language: str
    url: str
    revision: str
    benchmark_root: str  # "" = the whole repository
    queries: list[Query] = field(default_factory=list)

    @property
    def mirror(self) -> Path:
        slug = self.url.split("github.com/", 1)[1].removesuffix(".git").replace("/", "+")
        return MIRROR_DIR / slug / "repo"

    @property
    def cache(self) -> Path:
        return CACHE_DIR / self.name

    @property
    def tree(self) -> Path:
        return self.cache / "tree"

    @property
    def root(self) -> Path:
        """The folder indexed and searched."""
        return self.tree / self.benchmark_root if self.benchmark_root else self.tree

    def repo_path(self, rel: str) -> str:
        """A path relative to the searched folder -> relative to the repository."""
        return f"{self.benchmark_root.strip('/')}/{rel}" if self.benchmark_root else rel

    def answerable(self) -> list[Query]:
        """The queries with at least one target file in the extracted tree. When the pinned
        commit is not in the mirror, a fallback revision can lack the annotated files (its
        layout moved): such a query cannot be answered by any system, so it is not scored."""
        files = [p.relative_to(self.tree).as_posix() for p in self.tree.rglob("*") if p.is_file()]
        return [q for q in self.queries if any(matches(f, t) for t in q.targets for f in files)]


def load_repos(names: list[str] | None = None) -> list[Repo]:
    entries: list[dict[str, Any]] = json.loads((DATA_DIR / "repos.json").read_text())
    repos: list[Repo] = []
    for e in entries:
        ann = DATA_DIR / "annotations" / f"{e['name']}.json"
        if not ann.exists():
            continue
        repo = Repo(
            e["name"], e["language"], e["url"], e["revision"], (e.get("benchmark_root") or "").strip("/")
        )
        repo.queries = [
            Query(q["query"], _paths(q.get("relevant")), _paths(q.get("secondary")), q["category"])
            for q in json.loads(ann.read_text())
        ]
        repos.append(repo)
    if names:
        by_name = {r.name: r for r in repos}
        missing = [n for n in names if n not in by_name]
        if missing:
            raise SystemExit(f"unknown repositories: {', '.join(missing)}")
        repos = [by_name[n] for n in names]
    return repos


def _paths(targets: list[str | dict[str, Any]] | None) -> list[str]:
    """Targets are paths or ``{"path", "start_line", "end_line"}`` spans; scoring is by file, so
    spans become their path (a file named twice counts once)."""
    out = [t["path"] if isinstance(t, dict) else t for t in targets or []]
    return list(dict.fromkeys(out))


def ensure_tree(repo: Repo) -> Path | None:
    """Extract the pinned ``benchmark_root`` once; None when the mirror is absent. When the
    mirror lacks the pinned commit, or that commit lacks the folder, the branch head nearest in
    time that has the folder is used (``tree.rev`` then records ``fallback <sha>``)."""
    marker = repo.cache / "tree.rev"
    if marker.exists() and repo.root.is_dir():
        return repo.root
    if not repo.mirror.exists():
        return None
    git = ["git", f"--git-dir={repo.mirror}"]
    rev = repo.revision
    spec = f"{rev}:{repo.benchmark_root}" if repo.benchmark_root else f"{rev}^{{commit}}"
    have = subprocess.run([*git, "cat-file", "-e", spec], capture_output=True)
    note = rev
    if have.returncode != 0:  # commit absent, or the folder is not there at that commit
        rev = _nearest_ref_with(git, repo.revision, repo.benchmark_root)
        note = f"fallback {rev}"
    extract(repo.mirror, rev, [repo.benchmark_root] if repo.benchmark_root else [], repo.tree)
    marker.write_text(note + "\n")
    return repo.root


def extract(mirror: Path, rev: str, folders: list[str], dest: Path) -> None:
    """``folders`` of commit ``rev`` of a bare mirror (every file when empty) into ``dest``
    (emptied first), repository-relative paths kept."""
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    cmd = ["git", f"--git-dir={mirror}", "archive", rev, *folders]
    archive = subprocess.run(cmd, check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)


def _nearest_ref_with(git: list[str], revision: str, folder: str) -> str:
    """The branch head holding ``folder`` whose commit time is nearest the pinned commit's (the
    newest such head when the pinned commit is absent)."""

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*git, *args], capture_output=True, text=True)

    pinned = run("log", "-1", "--format=%ct", revision)
    when = int(pinned.stdout.strip()) if pinned.returncode == 0 and pinned.stdout.strip() else None
    refs = run("for-each-ref", "--format=%(objectname) %(committerdate:unix)", "refs/heads", "refs/tags")
    best: tuple[float, str] | None = None
    for line in refs.stdout.splitlines():
        sha, _, ts = line.partition(" ")
        if not ts.strip():
            continue
        if folder and run("cat-file", "-e", f"{sha}:{folder}").returncode != 0:
            continue
        distance = abs(int(ts) - when) if when is not None else -int(ts)
        if best is None or distance < best[0]:
            best = (distance, sha)
    if best is None:
        raise RuntimeError(f"no branch of {git[1]} has {folder!r}")
    return best[1]


def tree_revision(repo: Repo) -> str:
    marker = repo.cache / "tree.rev"
    return marker.read_text().strip() if marker.exists() else ""


def matches(path: str, target: str) -> bool:
    return path == target or path.endswith("/" + target)


def ndcg_at_k(paths: list[str], targets: list[str], k: int = K) -> float:
    """semble's NDCG@k: hits are chunks in rank order (not collapsed to files); a target's rank
    is the position of the first hit in it; every target (relevant or secondary) gains 1."""
    if not targets:
        return 0.0
    found: set[str] = set()
    dcg = 0.0
    for pos, path in enumerate(paths[:k]):
        for t in targets:
            if t not in found and matches(path, t):
                found.add(t)
                dcg += 1.0 / math.log2(pos + 2)
    ideal = sum(1.0 / math.log2(i + 2) for i in range(min(len(targets), k)))
    return dcg / ideal
