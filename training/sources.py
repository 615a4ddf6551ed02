"""The sources manifest (``sources.toml``) and the rule that keeps benchmark code out of training."""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

SEMBLE_REPOS = Path("/work/shared/datasets/semble-bench/repos.json")
REGISTRIES = ("pypi", "npm", "debian")
SPLITS = ("train", "valid")

# Packages known to carry a copy of a semble repository or of other excluded code; refused by name.
KNOWN_COPIES: dict[str, str] = {
    "ziglang": "ships zig's standard library (semble: zig)",
    "libspdlog-dev": "bundles fmt (semble: fmtlib)",
    "libfmt-dev": "is fmt (semble: fmtlib)",
    "libnlohmann-json3-dev": "is nlohmann/json (semble)",
    "python-requests": "is requests (semble)",
}


@dataclass(frozen=True)
class Source:
    name: str
    registry: str
    package: str
    version: str
    licence: str
    url: str
    languages: tuple[str, ...] = ()
    split: str = "train"
    dist: str = "sdist"

    @property
    def held_out(self) -> bool:
        return self.split == "valid"


@dataclass
class Manifest:
    sources: list[Source] = field(default_factory=list)

    def select(self, names: list[str] | None = None, split: str | None = None) -> list[Source]:
        chosen = [
            s for s in self.sources if (not names or s.name in names) and (not split or s.split == split)
        ]
        if names:
            missing = set(names) - {s.name for s in chosen}
            if missing:
                raise SystemExit(f"unknown source(s): {', '.join(sorted(missing))}")
        return chosen


def load_manifest(path: Path) -> Manifest:
    data = tomllib.loads(path.read_text())
    sources: list[Source] = []
    seen: set[str] = set()
    for raw in data.get("source", []):
        src = Source(
            name=str(raw["name"]),
            registry=str(raw["registry"]),
            package=str(raw["package"]),
            version=str(raw["version"]),
            licence=str(raw["licence"]),
            url=str(raw.get("url", "")),
            languages=tuple(raw.get("languages", ())),
            split=str(raw.get("split", "train")),
            dist=str(raw.get("dist", "sdist")),
        )
        if src.registry not in REGISTRIES:
            raise ValueError(f"{src.name}: registry must be one of {REGISTRIES}")
        if src.split not in SPLITS:
            raise ValueError(f"{src.name}: split must be one of {SPLITS}")
        if src.name in seen:
            raise ValueError(f"duplicate source name {src.name!r}")
        seen.add(src.name)
        sources.append(src)
    return Manifest(sources)


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def _repo_key(url: str) -> str:
    """github.com/Owner/Name(.git) -> 'owner/name' (normalised); '' for other hosts."""
    m = re.search(r"github\.com[/:]([^/]+)/([^/#?]+?)(?:\.git)?/?$", url.strip())
    return f"{_norm(m.group(1))}/{_norm(m.group(2))}" if m else ""


def semble_conflicts(sources: list[Source], repos_json: Path = SEMBLE_REPOS) -> list[str]:
    """Why each offending source may not be trained on (empty when all are clean)."""
    repos = json.loads(repos_json.read_text()) if repos_json.is_file() else []
    return conflicts(sources, repos)


def conflicts(
    sources: list[Source], repos: list[dict[str, str]], label: str = "semble repository"
) -> list[str]:
    """Each source named like, or with the same GitHub upstream as, one of ``repos``
    (``{"name", "url"}`` objects); ``label`` names what those repositories are."""
    problems: list[str] = []
    names = {_norm(r["name"]): r["name"] for r in repos}
    urls = {_repo_key(r["url"]): r["name"] for r in repos}
    for src in sources:
        if src.package in KNOWN_COPIES:
            problems.append(f"{src.name}: {KNOWN_COPIES[src.package]}")
        for candidate in (src.name, src.package, src.package.split("/")[-1]):
            base = re.sub(r"^(lib|golang-github-|php-|ruby-|lua-|librust-|python3?-)", "", candidate)
            base = re.sub(r"(-dev|-src|-source|-java)$", "", base)
            for key in {_norm(candidate), _norm(base)}:
                if key in names:
                    problems.append(f"{src.name}: named like {label} {names[key]!r}")
        key = _repo_key(src.url)
        if key and key in urls:
            problems.append(f"{src.name}: same upstream as {label} {urls[key]!r}")
    return sorted(set(problems))
