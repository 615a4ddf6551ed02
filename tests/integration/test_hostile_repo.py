"""The hostile repository through the real command line and the real encoder: the tokenizer
sees the non-UTF-8 file name and lone-surrogate queries (the TypeError of issue 16)."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.hostile import (
    build_hostile_repo,
    check_report,
    outcome_table,
    permission_cases,
    unprivileged_prefix,
)

pytestmark = pytest.mark.slow


def codekin(
    prefix: list[str], *args: str | bytes, cwd: Path, stdin: bytes = b""
) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    return subprocess.run(
        [*prefix, sys.executable, "-m", "codekin.cli", *args],
        cwd=cwd,
        env=env,
        input=stdin,
        capture_output=True,
        timeout=600,  # a hang guard, not a speed test
    )


def test_cli_indexes_and_searches_the_hostile_repository(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    cases = build_hostile_repo(root)
    prefix = unprivileged_prefix()
    if prefix is not None:
        cases += permission_cases(root)
    out = codekin(prefix or [], "index", str(root), "--json", "-v", cwd=tmp_path)
    assert out.returncode == 0, out.stderr.decode(errors="replace")[-4000:]
    stats = json.loads(out.stdout)
    log = out.stderr.decode("utf-8", "replace")
    db = sqlite3.connect(root / ".codekin" / "index.sqlite")
    indexed = sorted(p for (p,) in db.execute("SELECT path FROM files"))
    db.close()
    checked = ["marker_bad_name", "marker_inner_dir", "marker_good_plain", "marker_mixed_enc"]
    found = {}
    for marker in checked:
        hits = codekin([], "search", marker, "--json", "--no-update", "-k", "5", cwd=root)
        assert hits.returncode == 0, hits.stderr.decode(errors="replace")
        found[marker] = [h["path"] for h in json.loads(hits.stdout)["results"]]
    report = {
        "skipped": stats["skipped"],
        "indexed": indexed,
        "found": found,
        "skip_logs": {p: len(re.findall(rf"INFO skip {re.escape(p)}: ", log)) for p in stats["skipped"]},
    }
    assert check_report(cases, report) == []
    print(outcome_table(cases, report))

    # Lone surrogates reach the real tokenizer from argv (a non-UTF-8 query) and from stdin.
    bad_query = codekin([], "search", b"bad\xffname marker \xed\xa0\x80", "--json", "--no-update", cwd=root)
    assert bad_query.returncode == 0, bad_query.stderr.decode(errors="replace")
    assert json.loads(bad_query.stdout)["results"]
    similar = codekin(
        [],
        "similar",
        "-",
        "--json",
        "--no-update",
        cwd=root,
        stdin=b"def marker_bad\xff_name():\n    return 1\n",
    )
    assert similar.returncode == 0, similar.stderr.decode(errors="replace")
    assert "bad\\xffname.py" in [h["path"] for h in json.loads(similar.stdout)]
    again = codekin(prefix or [], "index", str(root), "--json", cwd=tmp_path)
    assert again.returncode == 0 and json.loads(again.stdout)["files_indexed"] == 0
