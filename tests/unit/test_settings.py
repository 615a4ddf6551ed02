from __future__ import annotations

from pathlib import Path

import pytest

from codekin.live_settings import LiveSettings
from codekin.settings import (
    ENCODER_KEYS,
    INDEX_KEYS,
    LIVE_KEYS,
    Settings,
    Source,
    keys,
    merge,
    project_sources,
    resolve,
)


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
    s, problems = resolve(*project_sources(tmp_path))
    assert (s.max_chunk_bytes, s.batch_size, problems) == (111, 4, [])


def test_broken_toml_is_reported_not_raised(tmp_path: Path) -> None:
    (tmp_path / ".codekin.toml").write_text("batch_size = [\n")
    s, problems = resolve(*project_sources(tmp_path))
    assert s == Settings() and "cannot read settings" in problems[0]


def test_later_sources_win_and_problems_keep_their_order(tmp_path: Path) -> None:
    (tmp_path / ".codekin.toml").write_text("batch_size = 4\nhybrid = 3\n")
    s, problems = resolve(
        *project_sources(tmp_path),
        Source("initializationOptions", {"batchSize": 8, "debounceMs": 50}),
        Source("workspace/configuration", problems=("workspace/configuration: not an object",)),
        Source("command line", {"batch_size": 16, "model": None}),
    )
    assert (s.batch_size, s.debounce_ms, s.hybrid, s.model) == (16, 50, True, Settings().model)
    assert [p.split(":")[0] for p in problems] == [str(tmp_path / ".codekin.toml"), "workspace/configuration"]


def test_each_setting_declares_whether_it_shapes_the_index() -> None:
    assert keys() == INDEX_KEYS | LIVE_KEYS and not INDEX_KEYS & LIVE_KEYS
    # what applies without reopening the index (the language server's former hand list)
    assert {"hybrid", "debounce_ms", "code_lens", "code_lens_threshold", "feedback"} == LIVE_KEYS
    assert {"model", "device", "backend", "batch_size", "max_tokens"} == ENCODER_KEYS
    assert keys(group="search") == {"hybrid"}


def test_same_index_and_with_live() -> None:
    base = Settings()
    live = base.replace(hybrid=False, debounce_ms=10)
    assert base.same_index(live) and base.changed(live) == {"hybrid", "debounce_ms"}
    assert not base.same_index(base.replace(max_chunk_bytes=10))
    other = base.replace(model="elsewhere", hybrid=False)
    assert base.with_live(other) == base.replace(hybrid=False)


def test_subscribers_hear_only_the_settings_they_use() -> None:
    live = LiveSettings(Settings())
    heard: list[tuple[str, object, object]] = []
    live.subscribe({"hybrid"}, lambda old, new: heard.append(("search", old.hybrid, new.hybrid)))
    stop = live.subscribe(
        {"debounce_ms"}, lambda old, new: heard.append(("debounce", old.debounce_ms, new.debounce_ms))
    )
    assert live.update(Settings(hybrid=False)) == {"hybrid"}
    assert live.update(Settings(hybrid=False, debounce_ms=5)) == {"debounce_ms"}
    stop()
    live.update(Settings(hybrid=False, debounce_ms=7))
    assert live.update(live.current) == frozenset()
    assert heard == [("search", True, False), ("debounce", 300, 5)]
    assert live.current.debounce_ms == 7


def test_a_failing_subscriber_does_not_stop_the_others(caplog: pytest.LogCaptureFixture) -> None:
    live = LiveSettings(Settings())
    heard: list[bool] = []

    def broken(old: Settings, new: Settings) -> None:
        raise RuntimeError("boom")

    live.subscribe({"hybrid"}, broken)
    live.subscribe({"hybrid"}, lambda old, new: heard.append(new.hybrid))
    live.update(Settings(hybrid=False))
    assert heard == [False] and "boom" in caplog.text


def test_subscribing_to_an_unknown_setting_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown settings hybridd"):
        LiveSettings(Settings()).subscribe({"hybridd"}, lambda old, new: None)
