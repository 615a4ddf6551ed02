"""Where exported ONNX models live, what their build measured, and building them once.

An export is keyed by the weights' hash and kept in ``$XDG_CACHE_HOME/codekin/onnx/<key>/``
(default ``~/.cache``), not beside the weights: every file in a model directory is part of its
hash (the index identity), and installed packages are often read-only. Nothing is downloaded:
the export is made from the local weights, in a child process (``python -m
codekin.embeddings.onnx_export``) so that torch, the exporter and their memory never enter the
serving process. Its ``report.json`` records parity with torch and the rates measured here."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codekin.embeddings.onnx_encoder import OnnxUnavailable
from codekin.embeddings.parity import Parity

log = logging.getLogger(__name__)

CACHE_FORMAT = 1  # bump when the export changes: old exports are then never read
FP32_FILE = "model.onnx"
INT8_FILE = "model-int8.onnx"
REPORT_FILE = "report.json"
AUTO_MARGIN = 1.1  # backend=auto takes ONNX fp32 only when it measured at least this much faster
BUILD_TIMEOUT_S = 1800


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "codekin" / "onnx"


def export_dir(model_hash: str) -> Path:
    key = hashlib.blake2b(f"{model_hash}\0{CACHE_FORMAT}".encode(), digest_size=10).hexdigest()
    return cache_root() / key


@dataclass(frozen=True)
class Report:
    """What building an export found: parity with torch and chunks/s of each runtime here."""

    model_hash: str
    max_tokens: int
    batch_size: int
    texts: int
    cuda: bool  # torch saw a GPU: torch keeps it
    torch_rate: float
    fp32_rate: float
    int8_rate: float
    fp32: Parity
    int8: Parity

    def failure(self, *, int8: bool) -> str | None:
        problem = (self.int8 if int8 else self.fp32).failure(int8=int8)
        return f"{'int8' if int8 else 'fp32'} parity with torch failed ({problem})" if problem else None

    def prefers_onnx(self) -> bool:
        """backend=auto: ONNX fp32 passed parity and measured faster than torch on this machine."""
        return (
            not self.cuda
            and self.failure(int8=False) is None
            and self.fp32_rate >= AUTO_MARGIN * self.torch_rate
        )

    def to_json(self) -> dict[str, Any]:
        data = {k: v for k, v in self.__dict__.items() if k not in ("fp32", "int8")}
        return {**data, "format": CACHE_FORMAT, "fp32": self.fp32.as_dict(), "int8": self.int8.as_dict()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Report:
        fields = {k: data[k] for k in cls.__dataclass_fields__ if k not in ("fp32", "int8")}
        return cls(**fields, fp32=Parity(**data["fp32"]), int8=Parity(**data["int8"]))


def read_report(model_hash: str) -> Report | None:
    """The cached build for these weights, or None (never built, or unreadable)."""
    path = export_dir(model_hash) / REPORT_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        report = Report.from_json(data)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("ignoring the unreadable ONNX build report %s: %s", path, exc)
        return None
    return report if data.get("format") == CACHE_FORMAT and report.model_hash == model_hash else None


def build(model_dir: Path, model_hash: str, *, max_tokens: int, batch_size: int) -> Report:
    """Export, quantise and check these weights in a child process; cache and return its report."""
    target = export_dir(model_hash)
    target.parent.mkdir(parents=True, exist_ok=True)
    log.warning("building the ONNX export of %s (once, about a minute; cached in %s)", model_dir, target)
    tmp = Path(tempfile.mkdtemp(prefix=".build-", dir=target.parent))
    try:
        import codekin

        src = str(Path(codekin.__file__).parent.parent)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [src, os.environ.get("PYTHONPATH")]))}
        env.setdefault("HF_HUB_OFFLINE", "1")
        env.setdefault("TRANSFORMERS_OFFLINE", "1")
        command = [sys.executable, "-m", "codekin.embeddings.onnx_export", str(model_dir), str(tmp)]
        command += [
            "--model-hash",
            model_hash,
            "--max-tokens",
            str(max_tokens),
            "--batch-size",
            str(batch_size),
        ]
        try:
            done = subprocess.run(
                command, env=env, capture_output=True, text=True, timeout=BUILD_TIMEOUT_S, check=False
            )
        except subprocess.TimeoutExpired:
            raise OnnxUnavailable(f"the ONNX export took over {BUILD_TIMEOUT_S} s") from None
        if done.returncode != 0:
            lines = [line for line in done.stderr.splitlines() if line.strip()]
            raise OnnxUnavailable(f"the ONNX export failed: {lines[-1] if lines else done.returncode}")
        if read_report(model_hash) is not None:  # another process finished first: keep its export
            log.info("an ONNX export of %s appeared meanwhile; using it", model_dir)
        else:
            shutil.rmtree(target, ignore_errors=True)  # a damaged earlier export
            os.replace(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    report = read_report(model_hash)
    if report is None:
        raise OnnxUnavailable(f"the ONNX export left no readable report in {target}")
    return report
