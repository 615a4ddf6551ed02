"""The deferred encoder: an index opens with the model's identity while its weights load in the
background; the lexical phase runs meanwhile, an editor's searches answer by keywords until the
model is there, and a run with nothing to embed never loads it."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from codekin import Settings, Workspace
from codekin.embeddings import build_encoder
from codekin.embeddings.base import Encoder
from codekin.embeddings.deferred import (
    DeferredEncoder,
    encoder_ready,
    known_identity,
    prefetch,
    wait_until_loaded,
)
from codekin.embeddings.fake import FakeEncoder
from codekin.embeddings.query_runtime import QueryOnnxEncoder

WAIT_S = 30.0


class Loader:
    """Builds a FakeEncoder when released; counts the loads."""

    def __init__(self, encoder: Encoder | None = None) -> None:
        self.encoder = encoder or FakeEncoder()
        self.release = threading.Event()
        self.loads = 0

    def __call__(self) -> Encoder:
        self.loads += 1
        assert self.release.wait(WAIT_S), "the test never released the load"
        return self.encoder


def deferred(loader: Loader) -> DeferredEncoder:
    return DeferredEncoder("fake", FakeEncoder.model_hash, FakeEncoder().dim, loader)


def make_repo(root: Path, files: int = 12) -> Path:
    for i in range(files):
        p = root / f"mod{i}.py"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(f"def parse_record_{i}(line):\n    return line.split(',')[{i}]\n")
    return root


def test_identity_is_known_before_loading_and_load_waits_for_use() -> None:
    loader = Loader()
    enc = deferred(loader)
    assert (enc.model_id, enc.model_hash, enc.dim) == ("fake", "fake-v1", 64)
    assert loader.loads == 0 and not encoder_ready(enc)
    loader.release.set()
    vec = enc.embed_queries(["parse a record"])
    assert vec.shape == (1, 64) and loader.loads == 1 and encoder_ready(enc)
    enc.embed_documents(["def f(): pass"])
    assert loader.loads == 1  # loaded once


def test_a_loaded_model_of_another_identity_is_refused() -> None:
    loader = Loader(FakeEncoder(dim=32))  # the directory said 64
    loader.release.set()
    enc = deferred(loader)
    with pytest.raises(RuntimeError, match="refusing to mix vectors"):
        enc.embed_queries(["x"])


def test_load_errors_reach_the_caller() -> None:
    def broken() -> Encoder:
        raise OSError("weights file unreadable")

    enc = DeferredEncoder("fake", "fake-v1", 64, broken)
    with pytest.raises(OSError, match="unreadable"):
        enc.embed_documents(["x"])


def test_identity_read_from_a_model_directory_matches_the_loaded_model(tmp_path: Path) -> None:
    transformers = pytest.importorskip("transformers")
    from tokenizers import Tokenizer, models, pre_tokenizers

    from codekin.embeddings.hf import HFEncoder

    model_dir = tmp_path / "tiny"
    config = transformers.BertConfig(
        vocab_size=64, hidden_size=24, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32
    )
    transformers.BertModel(config).save_pretrained(model_dir)
    vocab = {t: i for i, t in enumerate(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "def", "parse", "x"])}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    transformers.PreTrainedTokenizerFast(
        tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]", sep_token="[SEP]"
    ).save_pretrained(model_dir)

    loaded = HFEncoder(str(model_dir))
    assert known_identity(str(model_dir), "torch") == (loaded.model_hash, loaded.dim)
    assert known_identity(str(model_dir), "onnx-int8") is None  # int8 has an identity of its own
    assert known_identity(str(tmp_path / "missing"), "torch") is None
    enc = build_encoder(str(model_dir), Settings(backend="torch"), defer=True)
    assert isinstance(enc, DeferredEncoder) and not enc.ready
    assert enc.embed_queries(["parse x"]).shape == (1, 24)


def test_lexical_phase_runs_while_the_model_loads(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "repo")
    loader = Loader()
    ws = Workspace(root, Settings(), encoder=deferred(loader))
    done: list[object] = []
    run = threading.Thread(target=lambda: done.append(ws.index()))
    run.start()
    try:
        reader = Workspace(root, Settings())
        for _ in range(300):  # the lexical phase commits while the load is held back
            try:
                hits = reader.search("parse_record_7", k=3, lexical=True)
            except LookupError:  # no index database yet
                hits = None
            if hits and hits[0].symbol == "parse_record_7":
                break
            run.join(0.1)
        else:
            pytest.fail("the files never became searchable while the model was loading")
        assert loader.loads == 1 and not done  # loading began, embedding waits for it
    finally:
        loader.release.set()
        run.join(WAIT_S)
    assert done and ws.coverage().embedded == ws.coverage().total == 12


def test_an_editor_workspace_answers_by_keywords_until_the_model_is_loaded(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "repo")
    with Workspace(root, Settings(), encoder=FakeEncoder()) as ws:
        ws.index()
    loader = Loader()
    ws = Workspace(root, Settings(), encoder=deferred(loader), wait_for_model=False)
    first = ws.search("parse_record_3", k=3)
    assert first.coverage.lexical_only and first[0].symbol == "parse_record_3"
    assert loader.loads == 1  # the search started the load
    loader.release.set()
    deadline = threading.Event()
    while not encoder_ready(ws.encoder) and not deadline.wait(0.05):
        pass
    later = ws.search("parse_record_3", k=3)
    assert not later.coverage.lexical_only and later[0].symbol == "parse_record_3"


def test_a_run_with_nothing_to_embed_never_loads_the_model(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "repo")
    with Workspace(root, Settings(), encoder=FakeEncoder()) as ws:
        ws.index()
    loader = Loader()
    loader.release.set()
    ws = Workspace(root, Settings(), encoder=deferred(loader))
    stats = ws.index()
    assert stats.files_unchanged == 12 and loader.loads == 0
    (root / "mod0.py").write_text("def parse_header(line):\n    return line\n")
    ws.index()
    assert loader.loads == 1 and ws.search("parse_header", k=1)[0].symbol == "parse_header"


def test_indexing_loads_the_document_side_of_a_split_runtime_in_the_background() -> None:
    """Queries on ONNX, documents on torch: the indexer's prefetch starts torch's load at once;
    a search's does not; the MCP wait covers a document load in progress."""
    torch_loads = Loader()
    split = Loader(QueryOnnxEncoder(FakeEncoder(), torch_loads))
    split.release.set()
    searching = deferred(split)
    prefetch(searching, documents=False)
    assert wait_until_loaded(searching, WAIT_S) and torch_loads.loads == 0
    released = Loader(QueryOnnxEncoder(FakeEncoder(), torch_loads))
    released.release.set()
    indexing = deferred(released)
    prefetch(indexing)  # what the indexer does when it meets a chunk to embed
    for _ in range(300):
        if torch_loads.loads:
            break
        torch_loads.release.wait(0.01)
    assert torch_loads.loads == 1  # started without anyone embedding yet
    torch_loads.release.set()
    assert wait_until_loaded(indexing, WAIT_S)
    inner = indexing.inner
    assert isinstance(inner, QueryOnnxEncoder) and inner.embed_documents(["x"]).shape == (1, 64)
    assert torch_loads.loads == 1
