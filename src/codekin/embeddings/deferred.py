"""An encoder whose identity is known before its weights are loaded.

Opening an index needs only the encoder's identity (model id, weights hash, dimension), which a
local model directory gives in milliseconds; loading torch and the weights takes seconds. The
deferred encoder answers the identity at once and loads the model in a background thread once
something asks for it (:func:`prefetch`: the indexer when it meets the first chunk to embed, a
server's first search), so a fresh index is chunked, stored and searchable by keywords (phase
one) while the model loads, a language server answers its first searches lexically instead of
waiting, and a run that embeds nothing never loads the model at all.

Only where the identity is certain before loading: a local directory (or packaged model) on the
torch or fp32 ONNX runtime, which share one identity. Anything else (a hub id, int8, a custom
encoder) loads eagerly as before."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

from codekin.embeddings.base import Encoder, Vectors
from codekin.embeddings.hf import weights_hash
from codekin.embeddings.query_runtime import QueryOnnxEncoder

log = logging.getLogger(__name__)

# Runtimes whose vectors carry the plain weights hash (int8 appends a suffix, and may fall back).
SAME_IDENTITY_BACKENDS = ("auto", "torch", "onnx")


class DeferredEncoder:
    """The encoder ``load`` returns, loaded in a background thread from :meth:`start` on."""

    def __init__(self, model_id: str, model_hash: str, dim: int, load: Callable[[], Encoder]) -> None:
        self.model_id = model_id
        self.model_hash = model_hash
        self.dim = dim
        self._load = load
        self._encoder: Encoder | None = None
        self._error: BaseException | None = None
        self._done = threading.Event()
        self._started = threading.Lock()
        self._thread: threading.Thread | None = None
        self._documents_wanted = False

    def start(self, *, documents: bool = True) -> None:
        """Begin loading in the background (once); ``documents``: chunks will need embedding,
        so a runtime that loads its document side separately starts that too."""
        with self._started:
            self._documents_wanted |= documents
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=f"load {self.model_id}", daemon=True)
                self._thread.start()
        if documents and self._encoder is not None:
            prefetch(self._encoder)

    @property
    def inner(self) -> Encoder | None:
        """The loaded encoder (None until loaded, or when loading failed)."""
        return self._encoder

    def _run(self) -> None:
        try:
            encoder = self._load()
            found = (encoder.model_hash, encoder.dim)
            if found != (self.model_hash, self.dim):
                raise RuntimeError(
                    f"encoder {self.model_id} loaded as {found}, not the expected "
                    f"{(self.model_hash, self.dim)}: refusing to mix vectors of two models"
                )
            self._encoder = encoder
            if self._documents_wanted:  # started before ``ready``: a wait then sees it loading
                prefetch(encoder)
        except BaseException as exc:  # re-raised in the thread that needs the encoder
            self._error = exc
        finally:
            self._done.set()

    @property
    def ready(self) -> bool:
        """Loaded (or failed: the next call raises); calls will not wait."""
        return self._done.is_set()

    def wait(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for a started load; True when finished."""
        return self._done.wait(timeout)

    def loaded(self, *, documents: bool = False) -> Encoder:
        """The real encoder, waiting for the load to finish (``documents``: see :meth:`start`)."""
        self.start(documents=documents)
        self._done.wait()
        if self._error is not None:
            raise self._error
        assert self._encoder is not None
        return self._encoder

    def embed_documents(self, texts: list[str]) -> Vectors:
        return self.loaded(documents=True).embed_documents(texts)

    def embed_queries(self, texts: list[str]) -> Vectors:
        return self.loaded().embed_queries(texts)

    def __getattr__(self, name: str) -> object:
        # backend, device, max_tokens …: the loaded encoder's (waits for it)
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.loaded(), name)


def encoder_ready(encoder: Encoder) -> bool:
    """False while a deferred encoder is not loaded yet (any other encoder is ready)."""
    return not isinstance(encoder, DeferredEncoder) or encoder.ready


def wait_until_loaded(encoder: Encoder, timeout: float) -> bool:
    """Load a deferred encoder, waiting up to ``timeout`` seconds in all for it and for a
    document side that is loading already; True when ready for queries."""
    deadline = time.monotonic() + timeout
    inner: Encoder | None = encoder
    if isinstance(encoder, DeferredEncoder):
        encoder.start(documents=False)
        encoder.wait(timeout)
        inner = encoder.inner
    if isinstance(inner, QueryOnnxEncoder):
        inner.wait_documents(max(0.0, deadline - time.monotonic()))
    return encoder_ready(encoder)


def prefetch(encoder: Encoder, *, documents: bool = True) -> None:
    """Start loading what ``encoder`` still lacks in the background: a deferred encoder, and
    with ``documents`` the document side of one that loads it separately (no-op otherwise)."""
    if isinstance(encoder, DeferredEncoder):
        encoder.start(documents=documents)
    elif documents and isinstance(encoder, QueryOnnxEncoder):
        encoder.start_documents()


def known_identity(path: str, backend: str) -> tuple[str, int] | None:
    """(weights hash, dimension) of the model in directory ``path`` on ``backend`` without
    loading it, or None where only loading can tell."""
    if backend not in SAME_IDENTITY_BACKENDS:
        return None
    try:
        local = Path(path)
        config = json.loads((local / "config.json").read_text(encoding="utf-8"))
        dim = int(config["hidden_size"])
    except (OSError, ValueError, KeyError, TypeError):
        return None  # not a directory, no usable config: load eagerly and let it say why
    return weights_hash(local), dim


def load_deferred(model: str, path: str, backend: str, load: Callable[[], Encoder]) -> Encoder:
    """``load()``'s encoder of ``model`` (weights in ``path``), as a :class:`DeferredEncoder`
    where its identity is known before loading (otherwise loaded here)."""
    identity = known_identity(path, backend)
    if identity is None:
        return load()
    log.debug("encoder %s: identity read from its directory; weights load when first needed", model)
    return DeferredEncoder(model, identity[0], identity[1], load)
