"""The cross-language find-similar set: one algorithm implemented in several languages.

TheAlgorithms' repositories (MIT) each implement hundreds of algorithms in one language, one per
file. Files are matched across repositories by their normalised name (``binary_search.py``,
``BinarySearch.java`` and ``binarysearch.go`` are all ``binarysearch``); an algorithm found in at
least two languages enters the set with one file per language. Fetch each repository with the
search tool's ``fetch github:TheAlgorithms/<name>`` (a bare mirror under ``/work/.mirror``);
the commits below are the ones measured.
"""

from __future__ import annotations

import random
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

# codekin language -> (repository, file extension, pinned commit)
REPOS = {
    "python": ("Python", ".py", "f5988cc09713315817df6a7e327e258013a94440"),
    "java": ("Java", ".java", "9d05db2d14702454a418ff31158905e502df83e0"),
    "go": ("Go", ".go", "5ba447ec5ff3d1213de65b92e726ee74c5d5cc19"),
    "javascript": ("JavaScript", ".js", "08d8c6b6749c06a36fab705a8cf16e9a04d46a8e"),
    "rust": ("Rust", ".rs", "2c53ddfa4b43da4df34bc2f990c5e806f455cb90"),
    "c": ("C", ".c", "e5dad3fa8def3726ec850ca66a7f51521f8ad393"),
    "cpp": ("C-Plus-Plus", ".cpp", "b9c118fb5dca86f6325e816481959e1e6c360373"),
    "ruby": ("Ruby", ".rb", "bda11bdfd83b7958e1ca98247e5e43100ca88865"),
    "php": ("PHP", ".php", "81b5386af390fd2b44fecf162ade3b1a940c8500"),
}
_TEST = re.compile(
    r"(^|/)(tests?|__tests__|testing)/|(^|/)test_|_test\.|\.test\.|Tests?\.(java|php)$|_spec\."
)
# names that say where code sits, not what it computes
_GENERIC = frozenset(
    [
        "main",
        "index",
        "utils",
        "util",
        "helpers",
        "helper",
        "node",
        "solution",
        "test",
        "readme",
        "setup",
        "mod",
        "lib",
        "config",
        "common",
        "types",
        "init",
        "constants",
        "errors",
        "error",
        "tree",
        "graph",
        "list",
        "stack",
        "queue",
        "math",
    ]
)
MAX_BYTES = 40_000


@dataclass(frozen=True)
class Implementation:
    language: str
    key: str  # normalised algorithm name
    source: str  # path in its repository
    text: str

    @property
    def path(self) -> str:
        """Where it sits in the benchmark corpus: ``<language>/<path in its repository>``."""
        return f"{self.language}/{self.source}"


def algorithm_key(path: str, extension: str) -> str | None:
    """``sorts/bubble_sort.py`` -> ``bubblesort``; None for tests and generic names."""
    if not path.endswith(extension) or _TEST.search(path):
        return None
    key = re.sub(r"[^a-z0-9]", "", path.rsplit("/", 1)[-1][: -len(extension)].lower())
    return key if len(key) >= 4 and key not in _GENERIC else None


def load(mirrors: Path, languages: list[str], limit: int, seed: int) -> list[Implementation]:
    """One file per (algorithm, language) for ``limit`` seeded algorithms found in 2+ languages
    (all of them when ``limit`` is 0); the shortest path wins within a language."""
    found: dict[str, dict[str, str]] = {}
    for language in languages:
        repo, ext, commit = REPOS[language]
        git = _git(mirrors, repo)
        names = subprocess.run(
            [*git, "ls-tree", "-r", "--name-only", commit], check=True, capture_output=True, text=True
        ).stdout.split("\n")
        for path in sorted(filter(None, names), key=lambda p: (len(p), p)):
            key = algorithm_key(path, ext)
            if key:
                found.setdefault(key, {}).setdefault(language, path)
    keys = sorted(k for k, by in found.items() if len(by) >= 2)
    if limit:
        keys = sorted(random.Random(seed).sample(keys, min(limit, len(keys))))
    out: list[Implementation] = []
    for key in keys:
        for language, path in sorted(found[key].items()):
            repo, _, commit = REPOS[language]
            data = subprocess.run(
                [*_git(mirrors, repo), "show", f"{commit}:{path}"], check=True, capture_output=True
            ).stdout
            if len(data) <= MAX_BYTES:
                out.append(Implementation(language, key, path, data.decode("utf-8", errors="replace")))
    languages_of: dict[str, set[str]] = {}
    for impl in out:
        languages_of.setdefault(impl.key, set()).add(impl.language)
    return [i for i in out if len(languages_of[i.key]) >= 2]  # an oversized twin may have gone


def _git(mirrors: Path, repo: str) -> list[str]:
    return ["git", f"--git-dir={mirrors / f'TheAlgorithms+{repo}' / 'repo'}"]
