"""One typed settings tree and the one way to resolve it.

Sources merge in order, later wins: defaults < ``[tool.codekin]`` in ``pyproject.toml`` <
``.codekin.toml`` < the editor (LSP initializationOptions < workspace/configuration) or the
command line. Invalid values never raise: they are reported and the value before kept.

Each setting declares its ``scope``: ``index`` settings shape the index or the encoder that
fills it (a change reopens the workspace and rebuilds what no longer matches), ``live`` ones
apply at once (search, the language server's debounce and lenses). Its ``group`` says which
part of codekin reads it (``model`` is the encoder: :mod:`codekin.embeddings.registry`).
"""

from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

BACKENDS = ("auto", "torch", "onnx", "onnx-int8")  # encoder runtimes: codekin.embeddings.backend
DEFAULT_MODEL = "codekin-encoder"  # models/codekin-encoder: trained by training/, weights bundled

Scope = Literal["index", "live"]
Group = Literal["model", "files", "chunking", "store", "redact", "search", "server"]


def _setting(default: Any, scope: Scope, group: Group, choices: tuple[str, ...] = ()) -> Any:
    """A field of the tree with its scope, its group and (for strings) the values it accepts."""
    meta = {"scope": scope, "group": group, "choices": choices}
    if isinstance(default, list):
        return field(default_factory=list, metadata=meta)
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class Settings:
    # a registered model name or alias, a transformers model id or a local directory
    model: str = _setting(DEFAULT_MODEL, "index", "model")
    device: str = _setting("auto", "index", "model")  # auto | cpu | cuda | cuda:N
    backend: str = _setting("auto", "index", "model", BACKENDS)  # codekin.embeddings.backend
    batch_size: int = _setting(32, "index", "model")
    max_tokens: int = _setting(256, "index", "model")  # encoder input is truncated to this many tokens
    index_dir: str = _setting("", "index", "files")  # "" -> <root>/.codekin
    include: list[str] = _setting([], "index", "files")  # gitignore-style globs; empty = everything
    exclude: list[str] = _setting([], "index", "files")  # gitignore-style globs, on top of ignore files
    secret_patterns: list[str] = _setting([], "index", "files")  # extends the built-in denylist
    max_file_bytes: int = _setting(1_000_000, "index", "files")
    max_chunk_bytes: int = _setting(4000, "index", "chunking")
    hybrid: bool = _setting(True, "live", "search")  # fuse lexical (BM25) with dense results
    debounce_ms: int = _setting(300, "live", "server")
    code_lens: bool = _setting(False, "live", "server")  # "N similar" lenses in the language server
    code_lens_threshold: float = _setting(0.85, "live", "server")
    # a shared org index searched instead of the local one (codekin.org, the codekin[org] extra):
    # "qdrant-local:DIR" or "qdrant://HOST:PORT/COLLECTION"; "" = the local index
    store: str = _setting("", "index", "store")
    # credentials inside files are masked before indexing (``[redact]`` table: enabled,
    # extra_patterns: regexes whose first group, or whole match, is masked)
    redact_enabled: bool = _setting(True, "index", "redact")
    redact_extra_patterns: list[str] = _setting([], "index", "redact")
    # the language server logs which result a user opened for which (redacted) query to
    # <index dir>/feedback.jsonl; `codekin eval --feedback` measures search on it
    feedback: bool = _setting(False, "live", "server")

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)

    def part(self, keys: frozenset[str]) -> dict[str, Any]:
        """The values of these settings (``INDEX_KEYS``, ``LIVE_KEYS``, ``keys(group=...)``)."""
        return {name: getattr(self, name) for name in sorted(keys)}

    def changed(self, other: Settings) -> frozenset[str]:
        """The names of the settings whose values differ in ``other``."""
        return frozenset(n for n in _FIELDS if getattr(self, n) != getattr(other, n))

    def same_index(self, other: Settings) -> bool:
        """True when ``other`` differs from this only in live settings."""
        return not self.changed(other) & INDEX_KEYS

    def with_live(self, other: Settings) -> Settings:
        """These settings with ``other``'s live part (the index-shaping part kept)."""
        return self.replace(**other.part(LIVE_KEYS))


_FIELDS = {f.name: f for f in dataclasses.fields(Settings)}
_DEFAULTS = Settings()


def keys(*, scope: Scope | None = None, group: Group | None = None) -> frozenset[str]:
    """The names of the settings declared with this scope and/or group."""
    return frozenset(
        name
        for name, f in _FIELDS.items()
        if (scope is None or f.metadata["scope"] == scope) and (group is None or f.metadata["group"] == group)
    )


INDEX_KEYS = keys(scope="index")  # a change reopens the workspace (and rebuilds what it shapes)
LIVE_KEYS = keys(scope="live")  # a change applies at once
ENCODER_KEYS = keys(group="model")  # what builds the encoder (codekin.embeddings.registry)


@dataclass(frozen=True)
class Source:
    """One layer of settings: its name (problems say where they come from), its values, and the
    problems met reading it."""

    name: str
    values: Mapping[str, Any] = field(default_factory=dict)
    problems: tuple[str, ...] = ()


def resolve(*sources: Source) -> tuple[Settings, list[str]]:
    """The settings ``sources`` give over the defaults, later sources winning, and the problems
    (read errors, unknown keys, invalid values) in the same order."""
    settings = _DEFAULTS
    problems: list[str] = []
    for source in sources:
        problems += source.problems
        settings, found = merge(settings, source.values, source.name)
        problems += found
    return settings, problems


def project_sources(root: Path) -> list[Source]:
    """The settings files under ``root``: ``pyproject.toml`` ``[tool.codekin]``, then
    ``.codekin.toml`` (those present)."""
    out: list[Source] = []
    for name, table_path in (("pyproject.toml", ("tool", "codekin")), (".codekin.toml", ())):
        path = root / name
        if not path.is_file():
            continue
        try:
            data: Any = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            out.append(Source(str(path), problems=(f"{path}: cannot read settings: {exc}",)))
            continue
        for part in table_path:
            data = data.get(part, {}) if isinstance(data, dict) else {}
        if isinstance(data, dict) and data:
            out.append(Source(str(path), data))
    return out


def _snake(key: str) -> str:
    """Accept camelCase keys from editors (``maxFileBytes``) as well as snake_case."""
    out = [("_" + c.lower()) if c.isupper() else c for c in key]
    return "".join(out).replace("-", "_").replace(".", "_")


def _coerce(name: str, value: Any) -> Any:
    expected = type(getattr(_DEFAULTS, name))
    if expected is bool:
        if isinstance(value, bool):
            return value
        raise TypeError("expected true or false")
    if expected is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError("expected an integer")
        if value <= 0:
            raise ValueError("must be positive")
        return value
    if expected is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TypeError("expected a number")
        return float(value)
    if expected is list:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise TypeError("expected a list of strings")
        return list(value)
    if not isinstance(value, str):
        raise TypeError("expected a string")
    choices: Sequence[str] = _FIELDS[name].metadata["choices"]
    if choices and value not in choices:
        raise ValueError(f"expected one of {', '.join(choices)}")
    return value


def merge(base: Settings, values: Mapping[str, Any], source: str) -> tuple[Settings, list[str]]:
    """Apply ``values`` over ``base``; return the result and human-readable problems."""
    changes: dict[str, Any] = {}
    problems: list[str] = []
    for key, value in _flatten(values).items():
        name = _snake(key)
        if name not in _FIELDS:
            problems.append(f"{source}: unknown setting {key!r} (ignored)")
            continue
        if value is None:
            continue
        try:
            changes[name] = _coerce(name, value)
        except (TypeError, ValueError) as exc:
            default = getattr(base, name)
            problems.append(f"{source}: setting {key!r}={value!r} is invalid: {exc}; using {default!r}")
    return base.replace(**changes), problems


def _flatten(values: Mapping[str, Any]) -> dict[str, Any]:
    """A table of settings (``[redact]``, ``{"redact": {"enabled": false}}``) as its prefixed
    keys (``redact_enabled``); other keys as they are."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, Mapping) and _snake(key) not in _FIELDS:
            out.update({f"{_snake(key)}_{k}": v for k, v in _flatten(value).items()})
        else:
            out[key] = value
    return out
