"""Thresholds: the guide's boundaries, poolwatch.toml overrides with provenance, clear errors."""

from __future__ import annotations

from pathlib import Path
from typing import get_args

import pytest
from click.testing import CliRunner

from poolwatch.cli import main
from poolwatch.config import BandName, ConfigError, SettingName, WatchName, load


@pytest.mark.parametrize(
    ("band", "value", "grade"),
    [
        ("thread_count", 49, "healthy"),
        ("thread_count", 50, "warning"),
        ("thread_count", 80, "warning"),
        ("thread_count", 81, "critical"),
        ("processpool_fallback_rate", 9.9, "healthy"),
        ("processpool_fallback_rate", 10, "warning"),
        ("processpool_fallback_rate", 30, "warning"),
        ("processpool_fallback_rate", 30.1, "critical"),
        ("threadpool_fallback_rate", 4.9, "healthy"),
        ("threadpool_fallback_rate", 15, "warning"),
        ("threadpool_fallback_rate", 15.1, "critical"),
        ("timeout_rate", 0, "healthy"),
        ("timeout_rate", 0.1, "warning"),
        ("timeout_rate", 5, "warning"),
        ("timeout_rate", 5.1, "critical"),
        ("threads_per_instance", 14, "healthy"),
        ("threads_per_instance", 25, "warning"),
        ("threads_per_instance", 26, "critical"),
        ("thread_count", None, "unknown"),
    ],
)
def test_guide_boundaries(band: BandName, value: float | None, grade: str) -> None:
    assert load(cwd=Path("/nonexistent")).band(band).grade(value) == grade


def test_a_toml_overrides_and_says_so(tmp_path: Path) -> None:
    path = tmp_path / "poolwatch.toml"
    path.write_text("[thresholds.thread_count]\nwarning = 30\n\n[settings]\ninstances = 4\n")
    config = load(cwd=tmp_path)
    band = config.bands.thread_count
    assert (band.warning, band.critical, band.source) == (30, 80, str(path))
    assert band.grade(35) == "warning"
    assert config.settings.instances.value == 4
    assert config.bands.timeout_rate.source == "guide: Health Check Thresholds"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[thresholds.thread_count]\nwarnin = 40\n", "unknown key thresholds.thread_count.warnin"),
        ("[threshold]\n", "unknown section 'threshold'"),
        ("[thresholds.threads]\nwarning = 1\n", "unknown key thresholds.threads"),
        (
            "[thresholds.thread_count]\nwarning = 'many'\n",
            "thresholds.thread_count.warning must be a whole number from 1 to 100000, not 'many'",
        ),
        ("[thresholds.thread_count]\nwarning = 90\n", "warning (90) is above critical (80)"),
        ("[settings]\ntimeout = 0\n", "settings.timeout must be a number from 1 to 604800, not 0"),
        ("[settings\n", "not valid TOML"),
    ],
)
def test_bad_files_get_one_clear_line(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "poolwatch.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=r"poolwatch\.toml: ") as caught:
        load(path)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_thresholds_command(tmp_path: Path) -> None:
    path = tmp_path / "tuned.toml"
    path.write_text("[thresholds.thread_count]\nwarning = 40\ncritical = 60\n")
    done = CliRunner().invoke(main, ["thresholds", "--config", str(path)])
    assert done.exit_code == 0
    row = next(line for line in done.stdout.splitlines() if line.startswith("thread_count"))
    assert row.split()[:5] == ["thread_count", "<", "40", "40-60", ">"]
    assert row.endswith(str(path))
    missing = CliRunner().invoke(main, ["thresholds", "--config", str(tmp_path / "none.toml")])
    assert missing.exit_code == 2
    assert "none.toml: no such file" in missing.stderr


def test_band_ranges_say_what_the_grades_compare() -> None:
    config = load(cwd=Path("/nonexistent"))
    threads = config.bands.thread_count
    assert threads.ranges() == ("< 50", "50-80", "> 80")
    assert [threads.grade(v) for v in (49, 50, 80, 81)] == [
        "healthy", "warning", "warning", "critical",
    ]  # fmt: skip
    # "0% / < 5% / > 5%": a single timeout is a warning, so healthy is exactly 0 %.
    timeouts = config.bands.timeout_rate
    assert timeouts.ranges() == ("0%", "> 0-5%", "> 5%")
    assert [timeouts.grade(v) for v in (0, 0.1, 5, 5.1)] == [
        "healthy", "warning", "warning", "critical",
    ]  # fmt: skip


def test_every_row_and_setting_is_an_attribute_of_its_name() -> None:
    """``config.bands.thread_count`` is the row named ``thread_count``, and the names a
    lookup by variable accepts are exactly the attributes."""
    config = load(cwd=Path("/nonexistent"))
    for group, names in ((config.bands, BandName), (config.settings, SettingName),
                         (config.watch, WatchName)):  # fmt: skip
        assert group._fields == get_args(names)
        assert all(getattr(group, item.name) is item for item in group)
