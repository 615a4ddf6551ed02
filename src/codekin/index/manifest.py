"""The index manifest: what an index was built with. A mismatch means a clean rebuild."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

FORMAT_VERSION = 1


@dataclass(frozen=True)
class Manifest:
    format: int
    model: str
    model_hash: str
    dim: int
    chunker_version: str

    def mismatch(self, other: Manifest) -> str | None:
        """Why an index built with ``self`` cannot serve ``other``, or None."""
        for name in ("format", "model", "model_hash", "dim", "chunker_version"):
            old, new = getattr(self, name), getattr(other, name)
            if old != new:
                return f"{name} changed ({old} -> {new})"
        return None


def read_manifest(path: Path) -> Manifest | None:
    try:
        data = json.loads(path.read_text())
        return Manifest(**{k: data[k] for k in ("format", "model", "model_hash", "dim", "chunker_version")})
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError):
        return Manifest(-1, "?", "?", -1, "?")  # unreadable: forces a rebuild with a reason


def write_manifest(path: Path, manifest: Manifest) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(asdict(manifest), indent=2) + "\n")
    os.replace(tmp, path)
