"""Where the shared index lives (``--store``) and which repositories go into it (``REPOS``)."""

from __future__ import annotations

import re
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
        if parts.username or parts.password:  # the message must not repeat it
            raise SpecError(
                "a store address must not hold credentials: put the API key in $QDRANT_API_KEY "
                "(or the variable the store_api_key_env setting names)"
            )
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
    """One repository to index: a local directory (readable from every Ray node) or a git URL
    (cloned into a cache once, then fetched), optionally at a git revision. ``name`` labels its
    hits; it defaults to the directory's (or URL's last) name, plus ``@REVISION`` when one is
    given (two branches of one repository are two names)."""

    name: str
    path: str  # the local directory; "" for a git URL
    revision: str = ""
    url: str = ""  # a git URL (or a bare repository's path), fetched by codekin.org.sources

    @property
    def source(self) -> str:
        """Where it comes from, safe to print and store (a URL's credentials masked)."""
        return redact_url(self.url) if self.url else self.path


_URL_SCHEMES = ("https://", "http://", "ssh://", "git://", "file://", "git+ssh://")
_SCP = re.compile(r"^[\w.-]+@[\w.-]+:(?!//)")  # git@github.com:org/repo.git


def is_git_url(text: str) -> bool:
    return text.startswith(_URL_SCHEMES) or bool(_SCP.match(text))


def split_url(text: str) -> tuple[str, str]:
    """``URL@REVISION`` -> (URL, REVISION): the revision follows the last ``@`` of the URL's
    path (a user name before the host, ``git@host:``, is not one)."""
    if text.startswith(_URL_SCHEMES):
        scheme, _, rest = text.partition("://")
        host, slash, path = rest.partition("/")
        head = f"{scheme}://{host}{slash}"
    else:
        host, colon, path = text.partition(":")
        head = host + colon
    if "@" not in path:
        return text, ""
    path, _, revision = path.rpartition("@")
    return head + path, revision


def redact_url(url: str) -> str:
    """A URL without its password or token (``https://user:TOKEN@host/x`` -> ``https://***@host/x``)."""
    if "://" not in url:
        return url
    scheme, _, rest = url.partition("://")
    host, slash, path = rest.partition("/")
    if "@" in host:
        host = "***@" + host.rpartition("@")[2]
    return f"{scheme}://{host}{slash}{path}"


def _is_bare_repository(path: Path) -> bool:
    return (path / "HEAD").is_file() and (path / "objects").is_dir() and not (path / ".git").exists()


def parse_repo_list(file: str | Path) -> list[RepoSpec]:
    """A text file (``PATH``, ``PATH@REVISION``, ``URL`` or ``URL@REVISION`` a line, ``#``
    comments) or a TOML file with ``[[repo]]`` tables (``path`` or ``url``, optional ``rev`` or
    ``revision``, and ``name``). Relative paths are relative to the list's directory; a path to a
    bare repository is cloned like a URL."""
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
            if is_git_url(line):
                url, revision = split_url(line)
                specs.append(_url_spec(url, revision.strip(), ""))
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
        seen[s.name] = s.source
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
        if not isinstance(t, dict) or isinstance(t.get("path"), str) == isinstance(t.get("url"), str):
            raise SpecError(f"{where}: repo #{i + 1} needs a path or a url string (one of them)")
        if "rev" in t and "revision" in t:
            raise SpecError(f"{where}: repo #{i + 1}: give rev or revision, not both")
        rev, name = t.get("rev", t.get("revision", "")), t.get("name", "")
        if not isinstance(rev, str) or not isinstance(name, str):
            raise SpecError(f"{where}: repo #{i + 1}: revision and name must be strings")
        if isinstance(t.get("url"), str):
            url = t["url"] if is_git_url(t["url"]) else str((base / Path(t["url"]).expanduser()).resolve())
            specs.append(_url_spec(url, rev, name))
        else:
            specs.append(_spec(base, t["path"], rev, name))
    return specs


def _spec(base: Path, path: str, revision: str, name: str) -> RepoSpec:
    full = (base / Path(path).expanduser()).resolve()
    if _is_bare_repository(full):  # no work tree to walk: cloned like a URL
        return _url_spec(str(full), revision, name)
    default = full.name.removesuffix(".git") + (f"@{revision}" if revision else "")
    return RepoSpec(name or default, str(full), revision)


def _url_spec(url: str, revision: str, name: str) -> RepoSpec:
    last = re.split(r"[/:]", url.rstrip("/"))[-1].removesuffix(".git")
    if not last:
        raise SpecError(f"{redact_url(url)}: cannot tell the repository's name; give one (TOML: name = ...)")
    return RepoSpec(name or last + (f"@{revision}" if revision else ""), "", revision, url)
