from __future__ import annotations

from pathlib import Path

from codekin.settings import Settings, load_file_settings, merge


def test_merge_accepts_camel_case_and_reports_bad_values() -> None:
    s, problems = merge(
        Settings(), {"maxFileBytes": 10, "hybrid": "yes", "bogus": 1, "exclude": ["*.md"]}, "test"
    )
    assert s.max_file_bytes == 10
    assert s.exclude == ["*.md"]
    assert s.hybrid is True  # invalid value keeps the default
    assert any("hybrid" in p and "invalid" in p for p in problems)
    assert any("unknown setting 'bogus'" in p for p in problems)


def test_negative_numbers_rejected() -> None:
    s, problems = merge(Settings(), {"batch_size": -3}, "test")
    assert s.batch_size == Settings().batch_size and problems


def test_file_sources_merge_in_order(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.codekin]\nmax_chunk_bytes = 111\nbatch_size = 8\n")
    (tmp_path / ".codekin.toml").write_text("batch_size = 4\n")
    s, problems = load_file_settings(tmp_path)
    assert (s.max_chunk_bytes, s.batch_size, problems) == (111, 4, [])


def test_broken_toml_is_reported_not_raised(tmp_path: Path) -> None:
    (tmp_path / ".codekin.toml").write_text("batch_size = [\n")
    s, problems = load_file_settings(tmp_path)
    assert s == Settings() and "cannot read settings" in problems[0]
