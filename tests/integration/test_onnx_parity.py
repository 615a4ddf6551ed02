"""The ONNX Runtime backend against torch on real chunks of codekin's own source.

Builds the export once into a temporary cache (about a minute: export, quantise, parity run)."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from codekin.embeddings.backend import INT8_SUFFIX, load_encoder, onnx_encoder
from codekin.embeddings.hf import HFEncoder, weights_hash
from codekin.embeddings.onnx_cache import FP32_FILE, REPORT_FILE, Report, export_dir, read_report
from codekin.embeddings.onnx_encoder import OnnxEncoder
from codekin.embeddings.parity import FP32_MIN_COSINE, INT8_MIN_COSINE, compare, reference_texts
from codekin.embeddings.registry import model_path

pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")
pytestmark = pytest.mark.slow

MODEL = "codekin-encoder"


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("xdg-cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XDG_CACHE_HOME", str(root))
        encoder = load_encoder(MODEL, backend="onnx")  # builds the export in a child process
        assert isinstance(encoder, OnnxEncoder)
        yield root


@pytest.fixture(scope="module")
def torch_encoder() -> HFEncoder:
    return HFEncoder(MODEL, device="cpu")


@pytest.fixture(scope="module")
def report(cache: Path) -> Report:
    found = read_report(weights_hash(Path(model_path(MODEL))))
    assert found is not None
    return found


def test_the_build_checked_fp32_parity_and_measured_every_runtime(report: Report) -> None:
    assert report.fp32.failure(int8=False) is None
    assert report.fp32.min_cosine >= FP32_MIN_COSINE and report.fp32.top10_same == 1.0
    assert report.texts >= 64 and report.max_tokens == 256
    assert min(report.torch_rate, report.fp32_rate, report.int8_rate) > 0


def test_fp32_matches_torch_on_real_chunks(cache: Path, torch_encoder: HFEncoder) -> None:
    encoder = load_encoder(MODEL, backend="onnx")
    assert isinstance(encoder, OnnxEncoder)
    texts = reference_texts()
    texts += ["", "x" * 20_000, "naïve ünïcode 漢字 🙂 \ud800 lone surrogate"]  # empty, truncated, odd
    parity = compare(torch_encoder, encoder, texts)
    assert parity.min_cosine >= FP32_MIN_COSINE, parity
    assert parity.top10_same == 1.0


def test_int8_is_measured_against_the_same_bar(cache: Path, torch_encoder: HFEncoder, report: Report) -> None:
    encoder = onnx_encoder(MODEL, int8=True, batch_size=32, max_tokens=256, checked=False)
    assert encoder is not None
    parity = compare(torch_encoder, encoder, reference_texts())
    assert parity.min_cosine > 0.95  # close, whatever the gate decides
    passes = parity.min_cosine >= INT8_MIN_COSINE and parity.top10_same == 1.0
    assert (report.failure(int8=True) is None) == passes
    if not passes:  # the gate holds: an explicit onnx-int8 runs on torch
        assert isinstance(load_encoder(MODEL, backend="onnx-int8"), HFEncoder)


def test_tokenisation_matches_transformers(cache: Path, torch_encoder: HFEncoder) -> None:
    encoder = load_encoder(MODEL, backend="onnx")
    assert isinstance(encoder, OnnxEncoder)
    texts = [*reference_texts()[:40], "", "y = 1 " * 2000, "ünïcode 漢字"]
    ours = [e.ids for e in encoder._tokenizer.encode_batch(texts)]
    theirs = torch_encoder._tokenizer(texts, padding=True, truncation=True, max_length=256)["input_ids"]
    assert ours == theirs


def test_fp32_keeps_the_index_identity_and_int8_has_its_own(cache: Path, torch_encoder: HFEncoder) -> None:
    fp32 = load_encoder(MODEL, backend="onnx")
    int8 = onnx_encoder(MODEL, int8=True, batch_size=32, max_tokens=256, checked=False)
    assert int8 is not None
    assert (fp32.model_id, fp32.model_hash, fp32.dim) == (MODEL, torch_encoder.model_hash, torch_encoder.dim)
    assert int8.model_hash == torch_encoder.model_hash + INT8_SUFFIX


def test_auto_uses_the_cached_export_only_where_it_measured_faster(cache: Path, report: Report) -> None:
    encoder = load_encoder(MODEL, backend="auto")
    assert isinstance(encoder, OnnxEncoder) == report.prefers_onnx()


def test_serving_on_onnx_never_imports_torch(cache: Path) -> None:
    code = (
        "import sys; from codekin.embeddings import build_encoder; from codekin.settings import Settings; "
        f"e = build_encoder({MODEL!r}, Settings(backend='onnx')); e.embed_queries(['parse a file']); "
        "print(type(e).__name__, 'torch' in sys.modules)"
    )
    env = {**os.environ, "XDG_CACHE_HOME": str(cache), "PYTHONPATH": str(Path(__file__).parents[2] / "src")}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["OnnxEncoder", "False"]


def test_a_broken_export_fails_parity_and_falls_back_to_torch_with_one_warning(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import json

    import numpy as np
    import onnx
    from onnx import numpy_helper

    model_hash = weights_hash(Path(model_path(MODEL)))
    good = export_dir(model_hash)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    broken = export_dir(model_hash)
    shutil.copytree(good, broken)
    graph = onnx.load(str(broken / FP32_FILE))
    ffn = [i for i in graph.graph.initializer if sorted(i.dims) == [384, 1536]]
    arr = numpy_helper.to_array(ffn[len(ffn) // 2])  # scramble one layer's FFN weights
    ffn[len(ffn) // 2].CopyFrom(
        numpy_helper.from_array(np.random.default_rng(0).permutation(arr), ffn[len(ffn) // 2].name)
    )
    onnx.save(graph, str(broken / FP32_FILE))
    candidate = onnx_encoder(MODEL, int8=False, batch_size=32, max_tokens=256, checked=False)
    assert candidate is not None
    parity = compare(HFEncoder(MODEL, device="cpu"), candidate, reference_texts()[:32])
    assert parity.failure(int8=False) is not None
    data = json.loads((broken / REPORT_FILE).read_text())
    data["fp32"] = parity.as_dict()  # what the build would have recorded for this export
    (broken / REPORT_FILE).write_text(json.dumps(data))
    caplog.set_level(logging.WARNING)
    encoder = load_encoder(MODEL, backend="onnx")
    assert isinstance(encoder, HFEncoder)
    lines = [
        r.getMessage()
        for r in caplog.records
        if r.levelno >= logging.WARNING and r.name.startswith("codekin")
    ]
    assert len(lines) == 1 and "fp32 parity with torch failed" in lines[0] and "using torch" in lines[0]
