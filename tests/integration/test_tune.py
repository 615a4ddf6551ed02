"""`codekin tune`: pairs split by file, a clear error on too little documentation, and (slow, the
real encoder) a run killed mid-training that resumes from its checkpoint and yields a model
directory the runtime encoder loads."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from codekin.cli import main
from codekin.evaluation import load_dataset
from codekin.files import FileFilter
from codekin.tuning import MIN_DOCUMENTED, mine_pairs
from codekin.tuning.trainer import batches_for
from codekin.workspace import Workspace

SRC = Path(__file__).resolve().parents[2] / "src"

TOPICS = {
    "text": ("title", "paragraph", "sentence", "word", "line"),
    "money": ("invoice", "price", "discount", "tax", "refund"),
    "files": ("archive", "folder", "symlink", "checksum", "backup"),
    "net": ("socket", "request", "cookie", "header", "proxy"),
    "dates": ("weekday", "timezone", "calendar", "deadline", "holiday"),
    "shapes": ("polygon", "circle", "triangle", "rectangle", "ellipse"),
}
VERBS = ("normalise", "validate", "summarise", "render", "compress")


def write_repo(root: Path, documented: bool = True, topics: int = len(TOPICS)) -> Path:
    """``topics`` modules of five functions each; with ``documented`` each has a distinct docstring."""
    for module, nouns in list(TOPICS.items())[:topics]:
        parts = []
        for verb, noun in zip(VERBS, nouns, strict=True):
            doc = f'    """{verb.capitalize()} the {noun} given by the caller for the {module} module."""\n'
            parts.append(
                f"def {verb}_{noun}(value, options=None):\n"
                + (doc if documented else "")
                + f"    result = [part for part in str(value).split() if part != {noun!r}]\n"
                + f"    return {verb!r}, result, options\n"
            )
        path = root / "pkg" / f"{module}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n\n".join(parts))
    return root


def test_pairs_are_split_by_file_and_held_out_files_are_never_trained_on(tmp_path: Path) -> None:
    root = write_repo(tmp_path / "repo")
    pairs = mine_pairs(FileFilter(root), tmp_path / "tree")
    assert pairs.documented == 30
    assert pairs.held_out and set(pairs.held_out_files).isdisjoint(pairs.train_files)
    assert {q.targets[0].path for q in pairs.held_out} == set(pairs.held_out_files)
    assert {p.path for p in pairs.train} <= set(pairs.train_files)
    assert pairs.count("doc") + len(pairs.held_out) == 30
    assert pairs.count("ident") == 5 * len(pairs.train_files)  # every definition of a training file
    doc = next(p for p in pairs.train if p.kind == "doc")
    # the definition side is what the indexer embeds, without the doc comment it was mined from
    assert doc.document.startswith(f"{doc.path}\nfunction ") and '"""' not in doc.document
    ident = next(p for p in pairs.train if p.kind == "ident" and p.document == doc.document)
    assert ident.query == doc.document.split("\n")[1].removeprefix("function ").replace("_", " ")
    # the same seed gives the same split; the trained pairs decide the checkpoint's identity
    again = mine_pairs(FileFilter(root), tmp_path / "tree")
    assert again.held_out_files == pairs.held_out_files and again.fingerprint() == pairs.fingerprint()


def test_batches_hold_a_definition_once_and_are_the_same_for_a_seed(tmp_path: Path) -> None:
    pairs = mine_pairs(FileFilter(write_repo(tmp_path / "repo")), tmp_path / "tree").train
    batches = batches_for(pairs, 4, seed=3, epoch=1)
    assert all(len({p.document for p in b}) == len(b) for b in batches)
    assert sorted(p.query for b in batches for p in b) == sorted(p.query for p in pairs)
    assert batches == batches_for(pairs, 4, seed=3, epoch=1) != batches_for(pairs, 4, seed=3, epoch=2)


def test_too_few_documented_definitions_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = write_repo(tmp_path / "repo", topics=2)  # 10 documented definitions
    assert main(["tune", "--root", str(root)]) == 1
    err = capsys.readouterr().err
    assert "only 10 documented definitions" in err and f"at least {MIN_DOCUMENTED}" in err
    assert not (root / ".codekin" / "tuned").exists()
    undocumented = write_repo(tmp_path / "bare", documented=False)
    assert main(["tune", "--root", str(undocumented)]) == 1
    assert "only 0 documented definitions" in capsys.readouterr().err


def test_bad_options_are_refused_before_any_work(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = write_repo(tmp_path / "repo")
    assert main(["tune", "--root", str(root), "--batch", "1"]) == 1
    assert "--batch must be at least 2" in capsys.readouterr().err
    assert not (root / ".codekin").exists()


def tune_cli(root: Path, *extra: str) -> list[str]:
    args = ["tune", "--root", str(root), "--steps", "10", "--batch", "4", "--max-tokens", "64"]
    return [sys.executable, "-m", "codekin.cli", *args, "--checkpoint-every", "2", "--json", *extra]


@pytest.mark.slow
def test_a_killed_run_resumes_from_its_checkpoint_and_yields_a_loadable_model(tmp_path: Path) -> None:
    from codekin.embeddings.hf import HFEncoder

    root = write_repo(tmp_path / "repo")
    env = {**os.environ, "PYTHONPATH": str(SRC), "HOME": str(tmp_path)}
    work = root / ".codekin" / "tune"
    first = subprocess.Popen(tune_cli(root), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    meta = work / "checkpoint" / "tune.json"
    deadline = time.monotonic() + 120
    while not meta.is_file() and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    first.send_signal(signal.SIGKILL)
    first.wait()
    assert meta.is_file(), first.stderr.read().decode() if first.stderr else ""
    killed_at = json.loads(meta.read_text())["step"]
    assert 2 <= killed_at < 10
    assert not (root / ".codekin" / "tuned").exists()  # nothing exported by a killed run

    second = subprocess.run(tune_cli(root), env=env, capture_output=True, text=True, timeout=300)
    assert second.returncode == 0, second.stderr
    card = json.loads(second.stdout)
    assert card["training"]["resumed_from"] == killed_at and card["training"]["steps"] == 10
    steps = [json.loads(line)["step"] for line in (work / "log.jsonl").read_text().splitlines()]
    assert steps.count(1) == 1 and steps[-(10 - killed_at) :] == list(range(killed_at + 1, 11))
    assert not (work / "checkpoint").exists()  # finished: the next run starts afresh

    # the model directory loads as the runtime loads any model, and embeds
    model_dir = Path(card["path"])
    assert model_dir.parent == root / ".codekin" / "tuned"
    encoder = HFEncoder(str(model_dir), device="cpu")
    vectors = encoder.embed_queries(["render the circle", "compress the archive"])
    assert vectors.shape == (2, encoder.dim) and np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-3)
    on_disk = json.loads((model_dir / "card.json").read_text())
    assert on_disk == {k: card[k] for k in on_disk}
    assert card["base_model"] == "codekin-encoder" and card["pairs"]["doc"] + card["pairs"]["held_out"] == 30
    names = {m["name"] for m in card["held_out"]["metrics"]}
    assert names == {"MRR@10", "NDCG@10", "R@10"}
    assert all(m["low"] <= m["diff"] <= m["high"] for m in card["held_out"]["metrics"])
    assert "MRR@10" in (model_dir / "README.md").read_text()
    # the held-out dataset names only held-out files, and the live model was never switched
    held = load_dataset(card["held_out_dataset"])
    assert {q.targets[0].path for q in held} == set(card["held_out_files"])
    assert not Workspace(root).status().exists and not (root / ".codekin.toml").exists()


def test_an_out_directory_that_is_not_a_tuned_model_is_never_replaced(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = write_repo(tmp_path / "repo")
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "notes.txt").write_text("keep me")
    assert main(["tune", "--root", str(root), "--out", str(precious)]) == 1
    assert "is not a model codekin tune wrote" in capsys.readouterr().err
    assert (precious / "notes.txt").read_text() == "keep me"
