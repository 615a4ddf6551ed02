"""Hostile files and content: the walker, chunker and indexer are total (fake encoder, seconds).

The hostile repository (tests/hostile.py) is indexed and searched in a child process that,
where the tests run as root, drops the capabilities that bypass permission bits, so unreadable
files and directories are real."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from codekin.files import FileFilter, path_key
from codekin.parsers import SUPPORTED_LANGUAGES, Chunk, chunk_file, detect_language
from codekin.safetext import valid_text
from tests.hostile import (
    INDEXED,
    Case,
    build_hostile_repo,
    check_report,
    outcome_table,
    permission_cases,
    unprivileged_prefix,
)

HOSTILE_SCRIPT = Path(__file__).resolve().parents[1] / "hostile.py"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "parsers"


def test_hostile_repository_is_indexed_or_skipped_with_one_reason(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    cases = build_hostile_repo(root)
    prefix = unprivileged_prefix()
    if prefix is not None:
        cases += permission_cases(root)
    markers = sorted({c.marker for c in cases if c.marker})
    proc = subprocess.run(
        [*(prefix or []), sys.executable, str(HOSTILE_SCRIPT), str(root)],
        env={**os.environ, "HOSTILE_MARKERS": json.dumps(markers)},
        capture_output=True,
        text=True,
        timeout=300,  # a hang guard (a FIFO that blocked the walk would stop here), not a speed test
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    report = json.loads(proc.stdout)
    cases += [Case(**c) for c in report["midrun"]]
    assert check_report(cases, report) == []
    assert report["second_run_indexed"] == 0  # nothing indexed twice, nothing lost
    gone = {"vanish.py", "to_dir.py"}  # deleted, and now a directory: nothing left to skip
    assert set(report["second_run_skipped"]) == {c.path for c in cases if c.outcome != INDEXED} - gone
    assert len(report["hostile_queries"]) == 5  # each answered (empty or not), none raised
    print(outcome_table(cases, report))


def test_non_utf8_name_round_trips_to_the_file_on_disk(tmp_path: Path) -> None:
    raw = os.fsdecode(b"bad\xffname.py")
    (tmp_path / raw).write_text("x = 1\n")
    ff = FileFilter(tmp_path)
    (entry,) = list(ff.walk())
    assert entry.rel == "bad\\xffname.py" == path_key(raw)
    assert entry.abs == tmp_path / raw
    assert ff.disk_rel(entry.rel) == raw
    assert ff.stat_file(entry.rel) == entry == ff.stat_file(raw)


def test_valid_text_replaces_only_lone_surrogates() -> None:
    assert valid_text("caf\xe9 \U0001f600") == "caf\xe9 \U0001f600"
    assert valid_text("a\udcffb\ud800") == "a\ufffdb\ufffd"
    valid_text("x\udc80").encode("utf-8")


# --- chunker fuzz ------------------------------------------------------------------------------
CASES_PER_LANGUAGE = 15  # x 20 languages = 300 seeded cases
_SAMPLES = {detect_language(p.name, p.read_bytes()[:256]): p for p in FIXTURES.iterdir()}
_ENCODING_NOISE = [b"\x00", b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xef\xbb\xbf", b"\r", b"\r\n", b"\t", b"\\"]
_SYNTAX_NOISE = [b"{", b"}", b"(", b")", b"[", b"]", b'"', b"'", b"`", b"/*", b"*/", b"#", b"--", b"end"]
_NOISE = _ENCODING_NOISE + _SYNTAX_NOISE


def _mutate(rng: random.Random, sample: bytes, other: bytes, case: int) -> bytes:
    kind = case % 6
    if kind == 0:
        return rng.randbytes(rng.randrange(1, 4096))
    if kind == 1:
        return b"".join(
            rng.choice(_NOISE + [b"x", b" ", b"\n", b"def", b"fn", b"class"])
            for _ in range(rng.randrange(1, 2000))
        )
    if kind == 5:
        opener = rng.choice([b"(", b"[", b"{", b"{ {", b"f(", b"class A:\n "])
        depth = rng.randrange(500, 3000)
        return (
            sample[: rng.randrange(len(sample))]
            + opener * depth
            + rng.choice([b"", b")" * depth, b"]" * depth])
        )
    data = bytearray(sample)
    for _ in range(rng.randrange(1, 40)):
        pos = rng.randrange(len(data) + 1)
        op = rng.randrange(5)
        if op == 0 and data:
            data[min(pos, len(data) - 1)] = rng.randrange(256)
        elif op == 1:
            del data[pos : pos + rng.randrange(1, 200)]
        elif op == 2:
            start = rng.randrange(len(sample))
            data[pos:pos] = sample[start : start + rng.randrange(1, 400)]
        elif op == 3:
            data[pos:pos] = rng.choice(_NOISE)
        else:
            start = rng.randrange(len(other))
            data[pos:pos] = other[start : start + rng.randrange(1, 300)]
    if kind == 4:
        data = bytearray(bytes(data).replace(b"\n", rng.choice([b"\r\n", b"\r", b"\n\n"])))
    return bytes(data[: rng.randrange(len(data) + 1)] if kind == 3 else data)


def _check_spans(data: bytes, chunks: list[Chunk]) -> None:
    previous_end = 0
    for c in chunks:
        assert 0 <= c.start_byte < c.end_byte <= len(data)
        assert c.text == data[c.start_byte : c.end_byte].decode("utf-8", "replace")
        assert c.start_line == data[: c.start_byte].count(b"\n")
        assert c.end_line == data[: c.end_byte - 1].count(b"\n")
        assert c.start_col == c.start_byte - (data.rfind(b"\n", 0, c.start_byte) + 1)
        assert c.end_col == c.end_byte - (data.rfind(b"\n", 0, c.end_byte - 1) + 1)
        valid_text(c.text).encode("utf-8")
        if c.kind != "window":  # tree chunks are disjoint and in order; windows overlap by design
            assert c.start_byte >= previous_end
            previous_end = c.end_byte


def test_fixtures_cover_every_supported_language() -> None:
    assert set(SUPPORTED_LANGUAGES) <= set(_SAMPLES)


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_chunker_fuzz_returns_valid_spans(language: str) -> None:
    rng = random.Random(f"codekin-chunker-fuzz-{language}")
    sample = _SAMPLES[language].read_bytes()
    others = [p for lang, p in sorted(_SAMPLES.items()) if lang != language]
    for case in range(CASES_PER_LANGUAGE):
        data = _mutate(rng, sample, rng.choice(others).read_bytes(), case)
        chunks = chunk_file(
            _SAMPLES[language].name, data, language, max_chunk_bytes=rng.choice([200, 1000, 4000])
        )
        _check_spans(data, chunks)
