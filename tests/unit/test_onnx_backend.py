"""Choosing the encoder runtime: settings, parity bars, the cached build report, and falling back
to torch with one warning. No model is loaded: torch's encoder is replaced by a stub."""

from __future__ import annotations

import json
import logging
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from codekin.embeddings import backend as backend_module
from codekin.embeddings.hf import weights_hash
from codekin.embeddings.onnx_cache import CACHE_FORMAT, REPORT_FILE, Report, export_dir, read_report
from codekin.embeddings.parity import Parity, compare_vectors
from codekin.embeddings.query_runtime import QueryOnnxEncoder
from codekin.settings import Settings, merge

GOOD = Parity(min_cosine=0.9999, mean_cosine=0.99999, top10_same=1.0, top10_overlap=1.0)


class TorchStub:
    backend = "torch"

    def __init__(self, model: str, **kwargs: Any) -> None:
        self.model_id = model


@pytest.fixture
def model_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(backend_module, "HFEncoder", TorchStub)

    def no_build(*args: Any, **kwargs: Any) -> Report:
        raise AssertionError("this path must not build an export")

    monkeypatch.setattr(backend_module, "build", no_build)
    path = tmp_path / "model"
    path.mkdir()
    (path / "config.json").write_text("{}")
    return path


def write_report(model_dir: Path, **changes: Any) -> Report:
    values: dict[str, Any] = {
        "model_hash": weights_hash(model_dir),
        "max_tokens": 256,
        "batch_size": 32,
        "texts": 96,
        "cuda": False,
        "torch_rate": 20.0,
        "fp32_rate": 30.0,
        "int8_rate": 50.0,
        "fp32": GOOD,
        "int8": GOOD,
    }
    report = Report(**{**values, **changes})
    target = export_dir(report.model_hash)
    target.mkdir(parents=True)
    (target / REPORT_FILE).write_text(json.dumps(report.to_json()))
    return report


def warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


# --- settings ---------------------------------------------------------------------------------
def test_backend_setting_accepts_the_runtimes_and_reports_anything_else() -> None:
    assert Settings().backend == "auto"
    settings, problems = merge(Settings(), {"backend": "onnx-int8"}, "test")
    assert settings.backend == "onnx-int8" and problems == []
    settings, problems = merge(Settings(), {"backend": "tensorrt"}, "test")
    assert settings.backend == "auto"
    assert len(problems) == 1 and "expected one of auto, torch, onnx, onnx-int8" in problems[0]


# --- parity bars ------------------------------------------------------------------------------
def test_parity_bars_for_fp32_and_int8() -> None:
    assert GOOD.failure(int8=False) is None and GOOD.failure(int8=True) is None
    int8_like = Parity(min_cosine=0.995, mean_cosine=0.998, top10_same=1.0, top10_overlap=1.0)
    assert int8_like.failure(int8=True) is None
    assert "min cosine 0.99500 < 0.999" in str(int8_like.failure(int8=False))
    moved = Parity(min_cosine=0.995, mean_cosine=0.998, top10_same=0.9375, top10_overlap=0.99)
    assert "top-10 differs on 6% of the retrieval queries" in str(moved.failure(int8=True))
    broken = Parity(min_cosine=math.nan, mean_cosine=math.nan, top10_same=1.0, top10_overlap=1.0)
    assert broken.failure(int8=True) is not None


def test_compare_vectors_measures_rows_and_retrieval() -> None:
    rng = np.random.default_rng(0)
    docs = rng.normal(size=(40, 16)).astype(np.float32)
    queries = rng.normal(size=(5, 16)).astype(np.float32)
    same = compare_vectors(docs, queries, docs.copy(), queries.copy())
    assert same.min_cosine == pytest.approx(1.0, abs=1e-6) and same.top10_same == 1.0
    noisy = docs + rng.normal(scale=0.5, size=docs.shape).astype(np.float32)
    worse = compare_vectors(docs, queries, noisy, queries)
    assert worse.min_cosine < 0.99 and worse.top10_overlap < 1.0


# --- the cached report --------------------------------------------------------------------------
def test_report_round_trips_and_unreadable_or_stale_reports_are_ignored(
    model_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    report = write_report(model_dir)
    assert read_report(report.model_hash) == report
    path = export_dir(report.model_hash) / REPORT_FILE
    path.write_text(json.dumps({**json.loads(path.read_text()), "format": CACHE_FORMAT + 1}))
    assert read_report(report.model_hash) is None
    path.write_text("{not json")
    assert read_report(report.model_hash) is None
    assert any("unreadable ONNX build report" in w for w in warnings(caplog))


def test_auto_prefers_onnx_only_when_it_passed_and_measured_faster(model_dir: Path) -> None:
    base = {"model_hash": "h", "max_tokens": 256, "batch_size": 32, "texts": 96, "int8_rate": 1.0}
    fast = Report(**base, cuda=False, torch_rate=20.0, fp32_rate=30.0, fp32=GOOD, int8=GOOD)
    assert fast.prefers_onnx()
    assert not Report(**{**fast.__dict__, "fp32_rate": 21.0}).prefers_onnx()  # within the margin
    assert not Report(**{**fast.__dict__, "cuda": True}).prefers_onnx()
    failed = Parity(min_cosine=0.98, mean_cosine=0.99, top10_same=1.0, top10_overlap=1.0)
    assert not Report(**{**fast.__dict__, "fp32": failed}).prefers_onnx()


# --- choosing and falling back ------------------------------------------------------------------
def test_torch_and_auto_without_a_cached_export_load_torch_silently(
    model_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    for backend in ("torch", "auto"):
        encoder = backend_module.load_encoder(str(model_dir), backend=backend)
        assert isinstance(encoder, TorchStub)
    assert warnings(caplog) == []


class OnnxStub:
    """Stands in for the ONNX encoder: records what it encodes."""

    def __init__(self, model_dir: Path, export: Path, **kwargs: Any) -> None:
        self.model_id, self.model_hash, self.backend = (
            kwargs["model_id"],
            kwargs["model_hash"],
            kwargs["backend"],
        )
        self.dim = 4
        self.queries: list[str] = []

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        self.queries += texts
        return np.ones((len(texts), self.dim), dtype=np.float32) / 2


def test_auto_with_a_slower_export_encodes_queries_on_onnx_and_documents_on_torch(
    model_dir: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    write_report(model_dir, fp32_rate=15.0)  # passed parity, indexed slower than torch
    monkeypatch.setattr(backend_module, "OnnxEncoder", OnnxStub)
    loads: list[str] = []

    class Torch(TorchStub):
        def __init__(self, model: str, **kwargs: Any) -> None:
            super().__init__(model)
            loads.append(model)
            self.model_hash, self.dim = weights_hash(model_dir), 4

        def embed_documents(self, texts: list[str]) -> np.ndarray:
            return np.zeros((len(texts), 4), dtype=np.float32)

    monkeypatch.setattr(backend_module, "HFEncoder", Torch)
    encoder = backend_module.load_encoder(str(model_dir))
    assert isinstance(encoder, QueryOnnxEncoder) and encoder.model_hash == weights_hash(model_dir)
    assert encoder.embed_queries(["parse a config file"]).shape == (1, 4)
    assert loads == []  # a search never loads torch
    assert encoder.embed_documents(["def f(): pass"]).shape == (1, 4) and loads == [str(model_dir)]
    encoder.embed_documents(["def g(): pass"])
    assert loads == [str(model_dir)] and warnings(caplog) == []


def test_auto_stays_on_torch_when_the_cached_export_failed_parity(
    model_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    failed = Parity(min_cosine=0.98, mean_cosine=0.99, top10_same=1.0, top10_overlap=1.0)
    write_report(model_dir, fp32=failed)
    assert isinstance(backend_module.load_encoder(str(model_dir)), TorchStub)
    assert warnings(caplog) == []


def test_missing_onnxruntime_falls_back_to_torch_with_one_warning(
    model_dir: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import onnxruntime -> ImportError
    encoder = backend_module.load_encoder(str(model_dir), backend="onnx")
    assert isinstance(encoder, TorchStub)
    [line] = warnings(caplog)
    assert "backend onnx is unavailable" in line and "onnxruntime is not installed" in line
    assert "using torch" in line


def test_auto_with_a_faster_export_but_no_onnxruntime_falls_back_with_one_warning(
    model_dir: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    write_report(model_dir)
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    assert isinstance(backend_module.load_encoder(str(model_dir)), TorchStub)
    [line] = warnings(caplog)
    assert "onnxruntime is not installed" in line


def test_failed_parity_falls_back_to_torch_with_one_warning_and_no_rebuild(
    model_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    bad = Parity(min_cosine=0.97, mean_cosine=0.99, top10_same=0.5, top10_overlap=0.9)
    write_report(model_dir, int8=bad)
    assert isinstance(backend_module.load_encoder(str(model_dir), backend="onnx-int8"), TorchStub)
    [line] = warnings(caplog)
    assert "int8 parity with torch failed (min cosine 0.97000 < 0.99)" in line and "using torch" in line


def test_a_gpu_device_keeps_torch(model_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
    write_report(model_dir)
    assert isinstance(backend_module.load_encoder(str(model_dir), device="cuda"), TorchStub)
    assert warnings(caplog) == []  # auto: silently
    assert isinstance(backend_module.load_encoder(str(model_dir), device="cuda", backend="onnx"), TorchStub)
    [line] = warnings(caplog)
    assert "device 'cuda' runs on torch" in line


def test_an_unknown_backend_is_an_error(model_dir: Path) -> None:
    with pytest.raises(ValueError, match="unknown encoder backend 'tensorrt'"):
        backend_module.load_encoder(str(model_dir), backend="tensorrt")


def test_the_default_path_imports_neither_onnxruntime_nor_torch(model_dir: Path) -> None:
    code = (
        "import sys; import codekin.cli, codekin.workspace; from codekin.embeddings import backend; "
        "backend.HFEncoder = lambda *a, **k: 'torch'; "
        f"print(backend.load_encoder({str(model_dir)!r}), "
        "'onnxruntime' in sys.modules, 'torch' in sys.modules)"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2] / "src")}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["torch", "False", "False"]
