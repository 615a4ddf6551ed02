"""The stripped copies of the repository that `codekin eval --mine` (``.codekin/eval-mined/tree``)
and `codekin tune` (``.codekin/tune/tree``) write are redacted as the index is: a secret planted
in the repository is found in clear in no file under the index directory afterwards."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from codekin.evaluation import load_dataset
from codekin.settings import Settings
from codekin.tuning import mine_pairs
from codekin.workspace import Workspace
from tests.conftest import write_tree
from tests.fake_cli import fake_cli
from tests.unit.test_redact import SECRETS, planted_source

TOKEN = SECRETS["github_token"]
NOUNS = ("invoice", "price", "discount", "tax", "refund", "socket", "cookie", "header")
VERBS = ("normalise", "validate", "render")


def documented_module(index: int, noun: str) -> str:
    """Three documented functions about ``noun``; the first one's doc comment holds a token."""
    parts = []
    for n, verb in enumerate(VERBS):
        extra = f" with the token {TOKEN}" if n == 0 and index == 0 else ""
        parts.append(
            f"def {verb}_{noun}(value, options=None):\n"
            f'    """{verb.capitalize()} the {noun} given by the caller{extra}."""\n'
            f"    result = [part for part in str(value).split() if part != {noun!r}]\n"
            f"    return {verb!r}, result, options\n"
        )
    return "\n\n".join(parts)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    files: dict[str, str | bytes] = {
        f"pkg/{noun}.py": documented_module(i, noun) for i, noun in enumerate(NOUNS)
    }
    files["app/settings.py"] = planted_source()
    files["deploy/settings.ini"] = f"[api]\nAPI_TOKEN={SECRETS['env_token']}\n"
    return write_tree(tmp_path / "repo", files)


def files_holding(folder: Path, secrets: dict[str, str]) -> list[str]:
    """``name in path`` for every planted secret found in clear in a file under ``folder``."""
    assert folder.is_dir() and any(folder.rglob("*.py")), f"nothing written under {folder}"
    return [
        f"{name} in {p.relative_to(folder)}"
        for p in sorted(folder.rglob("*"))
        if p.is_file()
        for name, secret in secrets.items()
        if secret.encode() in p.read_bytes()
    ]


def planted(extra: bool) -> dict[str, str]:
    return {k: v for k, v in SECRETS.items() if extra or k != "extra"}


def test_eval_mine_writes_its_stripped_copy_redacted(repo: Path) -> None:
    (repo / ".codekin.toml").write_text('[redact]\nextra_patterns = ["ACME-\\\\w+"]\n')
    saved = repo.parent / "mined.jsonl"
    run = fake_cli(repo, "eval", "--mine", "--save-dataset", str(saved))
    assert run.returncode == 0, run.stderr
    assert files_holding(repo / ".codekin", planted(extra=True)) == []
    copy = (repo / ".codekin" / "eval-mined" / "tree" / "app" / "settings.py").read_text()
    assert len(copy) == len(planted_source()) and copy.count("\n") == planted_source().count("\n")
    assert "def after_the_secrets(order):" in copy  # the code around the secrets is copied as it is
    queries = {q.query for q in load_dataset(saved)}
    assert "Validate the invoice given by the caller" in queries
    assert not [q for q in queries if "the token" in q]  # masked, the sentence is mostly symbols
    assert TOKEN not in saved.read_text()


def test_the_tune_tree_is_redacted(repo: Path) -> None:
    with Workspace(repo, Settings(redact_extra_patterns=[r"ACME-\w+"])) as ws:
        tree = ws.index_dir / "tune" / "tree"
        pairs = mine_pairs(ws.file_filter, tree, redactor=ws.redactor)
    assert files_holding(tree, planted(extra=True)) == []
    texts = [t for p in pairs.train for t in (p.query, p.document)] + [q.query for q in pairs.held_out]
    assert pairs.train and not [s for s in planted(extra=True).values() for t in texts if s in t]


def test_with_redaction_off_the_copy_is_the_repository_as_it_is(repo: Path) -> None:
    (repo / ".codekin.toml").write_text("[redact]\nenabled = false\n")
    saved = repo.parent / "mined.jsonl"
    run = fake_cli(repo, "eval", "--mine", "--json", "--save-dataset", str(saved))
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["summary"]["queries"] > 0
    found = files_holding(repo / ".codekin" / "eval-mined" / "tree", {"github_token": TOKEN})
    assert found == ["github_token in app/settings.py"]  # the doc comment holding it was stripped
    assert f"Normalise the invoice given by the caller with the token {TOKEN}" in saved.read_text()
