"""The index manifest: what an index was built with. A mismatch means a clean rebuild.

The store records it in its meta table (the authority: it travels with the vectors it
describes); ``manifest.json`` is a readable copy for people and tools."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

FORMAT_VERSION = 1
FIELDS = ("format", "model", "model_hash", "dim", "chunker_version")
META_PREFIX = "manifest."


@dataclass(frozen=True)
class Manifest:
    format: int
    model: str
    model_hash: str
    dim: int
    chunker_version: str

    def mismatch(self, other: Manifest) -> str | None:
        """Why an index built with ``self`` cannot serve ``other``, or None."""
        for name in FIELDS:
            old, new = getattr(self, name), getattr(other, name)
            if old != new:
                return f"{name} changed ({old} -> {new})"
        return None

    def to_meta(self) -> dict[str, str]:
        return {META_PREFIX + k: str(v) for k, v in asdict(self).items()}

    @classmethod
    def from_meta(cls, meta: dict[str, str]) -> Manifest | None:
        """The manifest a store recorded, or None (a store made before it recorded one)."""
        try:
            values = {k: meta[META_PREFIX + k] for k in FIELDS}
            return cls(
                int(values["format"]),
                values["model"],
                values["model_hash"],
                int(values["dim"]),
                values["chunker_version"],
            )
        except (KeyError, ValueError):
            return None


def read_manifest(path: Path) -> Manifest | None:
    try:
        data = json.loads(path.read_text())
        return Manifest(**{k: data[k] for k in FIELDS})
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError):
        return Manifest(-1, "?", "?", -1, "?")  # unreadable: forces a rebuild with a reason


def write_manifest(path: Path, manifest: Manifest) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(asdict(manifest), indent=2) + "\n")
    os.replace(tmp, path)
