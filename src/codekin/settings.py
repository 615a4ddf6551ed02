"""One typed settings tree.

Sources merge in this order (later wins): defaults < ``[tool.codekin]`` in ``pyproject.toml``
< ``.codekin.toml`` < explicit overrides (CLI flags, LSP initializationOptions,
workspace/configuration). Invalid values never raise: they are reported and the default kept.
"""

from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BACKENDS = ("auto", "torch", "onnx", "onnx-int8")  # encoder runtimes: codekin.embeddings.backend
DEFAULT_MODEL = "codekin-encoder"  # models/codekin-encoder: trained by training/, weights bundled


@dataclass(frozen=True)
class Settings:
    model: str = DEFAULT_MODEL  # a packaged model name, a transformers model id or a local directory
    device: str = "auto"  # auto | cpu | cuda | cuda:N
    backend: str = "auto"  # auto | torch | onnx | onnx-int8 (codekin.embeddings.backend)
    batch_size: int = 32
    max_tokens: int = 256  # encoder input is truncated to this many tokens
    index_dir: str = ""  # "" -> <root>/.codekin
    include: list[str] = field(default_factory=list)  # gitignore-style globs; empty = everything
    exclude: list[str] = field(default_factory=list)  # gitignore-style globs, on top of ignore files
    secret_patterns: list[str] = field(default_factory=list)  # extends the built-in denylist
    max_file_bytes: int = 1_000_000
    max_chunk_bytes: int = 4000
    hybrid: bool = True  # fuse lexical (BM25) with dense results
    debounce_ms: int = 300
    code_lens: bool = False  # "N similar" lenses in the language server
    code_lens_threshold: float = 0.85
    # a shared org index searched instead of the local one (codekin.org, the codekin[org] extra):
    # "qdrant-local:DIR" or "qdrant://HOST:PORT/COLLECTION"; "" = the local index
    store: str = ""
    # a shared org index searched beside the local one: results merged, labelled by repository,
    # this workspace's own repository answered from the local index (read-only; same forms as store)
    org_store: str = ""
    # the environment variable holding the API key of a Qdrant server (never stored or printed)
    store_api_key_env: str = "QDRANT_API_KEY"
    # credentials inside files are masked before indexing (``[redact]`` table: enabled,
    # extra_patterns: regexes whose first group, or whole match, is masked)
    redact_enabled: bool = True
    redact_extra_patterns: list[str] = field(default_factory=list)

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)


_FIELDS = {f.name: f for f in dataclasses.fields(Settings)}
_CHOICES = {"backend": BACKENDS}
_DEFAULTS = Settings()


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
    choices = _CHOICES.get(name)
    if choices is not None and value not in choices:
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


def load_file_settings(root: Path, base: Settings | None = None) -> tuple[Settings, list[str]]:
    """Settings from ``pyproject.toml`` ``[tool.codekin]`` and ``.codekin.toml`` under ``root``."""
    settings = base or Settings()
    problems: list[str] = []
    for name, table_path in (("pyproject.toml", ("tool", "codekin")), (".codekin.toml", ())):
        path = root / name
        if not path.is_file():
            continue
        try:
            data: Any = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            problems.append(f"{path}: cannot read settings: {exc}")
            continue
        for part in table_path:
            data = data.get(part, {}) if isinstance(data, dict) else {}
        if isinstance(data, dict) and data:
            settings, found = merge(settings, data, str(path))
            problems += found
    return settings, problems
