"""Where the shared index lives (``--store``) and which repositories go into it (``REPOS``)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

DEFAULT_COLLECTION = "codekin"
DEFAULT_PORT = 6333


class SpecError(ValueError):
    """A store address or repository list that cannot be used; the message says why."""


@dataclass(frozen=True)
class StoreSpec:
    """``qdrant-local:DIR`` (qdrant-client's in-process local mode, one process at a time),
    ``qdrant://HOST[:PORT][/COLLECTION]`` (a Qdrant server; ``qdrants://`` for TLS) or
    ``qdrant-memory:`` (local mode in memory, gone with the process: benchmarks)."""

    kind: str  # "local" | "server" | "memory"
    path: str = ""  # local mode: the directory
    host: str = ""
    port: int = DEFAULT_PORT
    https: bool = False
    collection: str = DEFAULT_COLLECTION

    def describe(self) -> str:
        if self.kind == "memory":
            return "qdrant-memory:"
        if self.kind == "local":
            return f"qdrant-local:{self.path}"
        scheme = "qdrants" if self.https else "qdrant"
        return f"{scheme}://{self.host}:{self.port}/{self.collection}"


def parse_store(text: str) -> StoreSpec:
    text = text.strip()
    if text == "qdrant-memory:":
        return StoreSpec("memory")
    if text.startswith("qdrant-local:"):
        path, _, collection = text.removeprefix("qdrant-local:").partition("#")
        if not path:
            raise SpecError("qdrant-local: needs a directory, e.g. qdrant-local:./org-index")
        return StoreSpec(
            "local", path=str(Path(path).expanduser()), collection=collection or DEFAULT_COLLECTION
        )
    if text.startswith(("qdrant://", "qdrants://")):
        parts = urlsplit(text)
        if not parts.hostname:
            raise SpecError(f"{text!r}: no host (qdrant://HOST:PORT/COLLECTION)")
        try:
            port = parts.port or DEFAULT_PORT
        except ValueError as exc:
            raise SpecError(f"{text!r}: bad port ({exc})") from None
        collection = parts.path.strip("/") or DEFAULT_COLLECTION
        if "/" in collection:
            raise SpecError(f"{text!r}: the path must be one collection name, got {collection!r}")
        return StoreSpec(
            "server", host=parts.hostname, port=port, https=parts.scheme == "qdrants", collection=collection
        )
    raise SpecError(f"unknown store {text!r}: use qdrant-local:DIR or qdrant://HOST:PORT/COLLECTION")


@dataclass(frozen=True)
class RepoSpec:
    """One repository to index: a local directory (readable from every Ray node), optionally at a
    git revision. ``name`` labels its hits; it defaults to the directory's name, plus
    ``@REVISION`` when one is given (two branches of one repository are two names)."""

    name: str
    path: str
    revision: str = ""


def parse_repo_list(file: str | Path) -> list[RepoSpec]:
    """A text file (``PATH`` or ``PATH@REVISION`` a line, ``#`` comments) or a TOML file with
    ``[[repo]]`` tables (``path``, optional ``revision`` and ``name``). Relative paths are
    relative to the list's directory."""
    where = Path(file)
    try:
        text = where.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(f"cannot read the repository list {where}: {exc}") from None
    base = where.resolve().parent
    if where.suffix == ".toml":
        specs = _from_toml(where, text, base)
    else:
        specs = []
        for number, raw in enumerate(text.splitlines(), 1):
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            path, _, revision = line.partition("@")
            if not path:
                raise SpecError(f"{where}:{number}: no path in {raw.strip()!r}")
            specs.append(_spec(base, path.strip(), revision.strip(), ""))
    if not specs:
        raise SpecError(f"{where}: no repositories listed")
    seen: dict[str, str] = {}
    for s in specs:
        if s.name in seen:
            raise SpecError(
                f"{where}: two repositories are both named {s.name!r} ({seen[s.name]} and {s.path}); "
                "give one a name (TOML: name = ...)"
            )
        seen[s.name] = s.path
    return specs


def _from_toml(where: Path, text: str, base: Path) -> list[RepoSpec]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"{where}: {exc}") from None
    tables = data.get("repo", [])
    if not isinstance(tables, list):
        raise SpecError(f"{where}: 'repo' must be an array of tables ([[repo]])")
    specs = []
    for i, t in enumerate(tables):
        if not isinstance(t, dict) or not isinstance(t.get("path"), str):
            raise SpecError(f"{where}: repo #{i + 1} needs a path string")
        rev, name = t.get("revision", ""), t.get("name", "")
        if not isinstance(rev, str) or not isinstance(name, str):
            raise SpecError(f"{where}: repo #{i + 1}: revision and name must be strings")
        specs.append(_spec(base, t["path"], rev, name))
    return specs


def _spec(base: Path, path: str, revision: str, name: str) -> RepoSpec:
    full = (base / Path(path).expanduser()).resolve()
    default = full.name.removesuffix(".git") + (f"@{revision}" if revision else "")
    return RepoSpec(name or default, str(full), revision)
