"""Hostile configurations: every poolwatch.toml is built here at run time, given with
``--config`` or found in the working directory, and each bad one gets one line naming the
file, the key and what it may be, leaving the file as it was."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from poolwatch.render import assets
from poolwatch.render.html import environment, stylesheet
from poolwatch.render.pdf import RefusingFetcher
from poolwatch.smallfile import SmallFileError

from .conftest import CONSOLE, Done, poolwatch


def refused(done: Done, *parts: str, code: int = 2) -> str:
    """The one-line error of a refused configuration (all that is on stderr), checked to
    name every part."""
    done.clean()
    assert done.code == code, (done.code, done.out, done.err)
    assert done.err.strip().count("\n") == 0, done.err
    assert done.error.startswith("Error: "), done.err
    for part in parts:
        assert part in done.error, (part, done.error)
    return done.error


def report(config: Path, out: Path) -> Done:
    """``poolwatch report`` of the good console log with ``config``."""
    return poolwatch("report", CONSOLE, "--out", out, "--format", "json", "--config", config)


def written(path: Path, text: str | bytes) -> Path:
    """``path`` holding ``text``."""
    if isinstance(text, str):
        path.write_text(text)
    else:
        path.write_bytes(text)
    return path


@pytest.mark.parametrize(
    ("section", "key", "value", "allowed"),
    [
        ("settings", "instances", "nan", "a whole number from 1 to 10000"),
        ("settings", "instances", "inf", "a whole number from 1 to 10000"),
        ("settings", "instances", "-inf", "a whole number from 1 to 10000"),
        ("settings", "instances", "1e29", "a whole number from 1 to 10000"),
        ("settings", "instances", "0.5", "a whole number from 1 to 10000"),
        ("settings", "instances", "-3", "a whole number from 1 to 10000"),
        ("settings", "instances", "1" + "0" * 400, "a whole number from 1 to 10000"),
        ("settings", "processpool_workers", "0.5", "a whole number from 1 to 1024"),
        ("settings", "processpool_workers", "2.5", "a whole number from 1 to 1024"),
        ("settings", "timeout", "nan", "a number from 1 to 604800"),
        ("settings", "timeout", "inf", "a number from 1 to 604800"),
        ("settings", "timeout", "1e29", "a number from 1 to 604800"),
        ("settings", "overload_threads", "inf", "a whole number from 1 to 100000"),
        ("settings", "overload_threads", "40.5", "a whole number from 1 to 100000"),
        ("watch", "frequent", "nan", "a number from 0 to 100"),
        ("watch", "occasional", "-1", "a number from 0 to 100"),
        ("watch", "most_of_the_time", "101", "a number from 0 to 100"),
        ("thresholds.thread_count", "warning", "nan", "a whole number from 1 to 100000"),
        ("thresholds.thread_count", "critical", "1e29", "a whole number from 1 to 100000"),
        ("thresholds.threads_per_instance", "warning", "-5", "a whole number from 1 to 100000"),
        ("thresholds.processpool_fallback_rate", "critical", "inf", "a number from 0 to 100"),
        ("thresholds.timeout_rate", "critical", "150", "a number from 0 to 100"),
    ],
)
def test_a_setting_outside_its_domain_is_one_line(
    tmp_path: Path, section: str, key: str, value: str, allowed: str
) -> None:
    text = f"[{section}]\n{key} = {value}\n"
    config = written(tmp_path / "tuned.toml", text)
    name = f"{section}.{key}"
    error = refused(report(config, tmp_path / "out"), str(config), name, allowed)
    assert len(error) < 300
    assert config.read_text() == text
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("[watch]\noccasional = 40\nfrequent = 30\n",
         ("watch.occasional (40) is above watch.frequent (30)",)),
        ("[watch]\nprocesspool_fallback = 50\n",
         ("watch.processpool_fallback (50) is above "
          "thresholds.processpool_fallback_rate.critical (30)",)),
        ("[thresholds.threadpool_fallback_rate]\ncritical = 8\n",
         ("watch.threadpool_fallback (10) is above "
          "thresholds.threadpool_fallback_rate.critical (8)",)),
    ],
)  # fmt: skip
def test_limits_out_of_order_are_one_line(
    tmp_path: Path, text: str, parts: tuple[str, ...]
) -> None:
    config = written(tmp_path / "poolwatch.toml", text)
    refused(report(config, tmp_path / "out"), str(config), *parts)


def test_a_config_that_is_not_utf8_is_one_line(tmp_path: Path) -> None:
    data = b"[settings]\n# caf\xe9 au lait\ninstances = 4\n"
    config = written(tmp_path / "latin1.toml", data)
    refused(report(config, tmp_path / "out"), str(config), "not UTF-8", "line 2")
    assert config.read_bytes() == data


def test_a_device_is_not_read(tmp_path: Path) -> None:
    done = poolwatch("thresholds", "--config", "/dev/zero", timeout=30)
    refused(done, "/dev/zero", "not a regular file")


def test_a_fifo_is_not_waited_on(tmp_path: Path) -> None:
    fifo = tmp_path / "poolwatch.toml"
    os.mkfifo(fifo)
    done = poolwatch("thresholds", "--config", fifo, timeout=30)
    refused(done, str(fifo), "not a regular file")


def test_a_config_larger_than_the_bound_is_refused_unread(tmp_path: Path) -> None:
    config = tmp_path / "huge.toml"
    with config.open("wb") as handle:
        handle.truncate(64 * 1024 * 1024)  # sparse: 64 MiB of NUL bytes
    refused(report(config, tmp_path / "out"), str(config), "larger than 256 KiB")


def test_a_long_line_is_refused_before_parsing(tmp_path: Path) -> None:
    # tomllib's memory grows with the square of a dotted key's depth: 20,000 parts take
    # 2 GB. poolwatch.toml has short lines; a long one is refused before parsing.
    config = written(tmp_path / "deep.toml", "[settings]\n" + "a." * 3000 + "b = 1\n")
    refused(report(config, tmp_path / "out"), str(config), "line 2", "longer than 1000")


def test_deep_nesting_is_one_line(tmp_path: Path) -> None:
    config = written(tmp_path / "nested.toml", "x = " + "[\n" * 3000 + "]\n" * 3000)
    refused(report(config, tmp_path / "out"), str(config), "nested too deeply")


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ('thresholds = "tight"\n', ("[thresholds] must be a table",)),
        ("[thresholds]\nthread_count = 5\n", ("[thresholds.thread_count] must be a table",)),
        ("[thresholds.thread_count]\nwarning = 'many'\n",
         ("thresholds.thread_count.warning must be a whole number from 1 to 100000, "
          "not 'many'",)),
        ("[thresholds.processpool_fallback_rate]\ncritical = true\n",
         ("thresholds.processpool_fallback_rate.critical must be a number from 0 to 100, "
          "not true",)),
        ("[[settings]]\ninstances = 4\n", ("[settings] must be a table",)),
        ("[settings]\ninstances = [4]\n",
         ("settings.instances must be a whole number from 1 to 10000, not an array",)),
        ("[settings]\ntimeout = 2024-01-01\n",
         ("settings.timeout must be a number from 1 to 604800, not a date",)),
        ("[watch]\nfrequent = { value = 30 }\n",
         ("watch.frequent must be a number from 0 to 100, not a table",)),
    ],
)  # fmt: skip
def test_a_value_of_the_wrong_type_at_each_level_is_one_line(
    tmp_path: Path, text: str, parts: tuple[str, ...]
) -> None:
    config = written(tmp_path / "typed.toml", text)
    refused(report(config, tmp_path / "out"), str(config), *parts)


def test_an_unknown_key_is_named_and_kept_short(tmp_path: Path) -> None:
    config = written(tmp_path / "typo.toml", "[settings]\ninstance = 4\n")
    refused(report(config, tmp_path / "out"), str(config), "unknown key settings.instance")
    long_key = "k" * 900
    config = written(tmp_path / "long.toml", f"[settings]\n{long_key} = 4\n")
    error = refused(report(config, tmp_path / "out"), str(config), "unknown key settings.kkkk")
    assert len(error) < 300


def test_a_string_value_is_quoted_short(tmp_path: Path) -> None:
    config = written(tmp_path / "long.toml", f'[settings]\ninstances = "{"8" * 900}"\n')
    error = refused(report(config, tmp_path / "out"), str(config), "settings.instances")
    assert len(error) < 300


@pytest.mark.parametrize(
    ("make", "parts"),
    [
        (lambda p: p.write_bytes(b"[settings]\ninstances = \xff\n"), ("not UTF-8",)),
        (lambda p: p.write_text("[settings\n"), ("not valid TOML",)),
        (lambda p: p.mkdir(), ("not a regular file",)),
        (lambda p: p.write_text("[settings]\ninstances = nan\n"),
         ("settings.instances must be a whole number from 1 to 10000, not nan",)),
    ],
)  # fmt: skip
def test_a_broken_poolwatch_toml_in_the_working_directory(
    tmp_path: Path, make: object, parts: tuple[str, ...]
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    make(work / "poolwatch.toml")  # type: ignore[operator]
    done = poolwatch("report", CONSOLE, "--out", tmp_path / "out", "--format", "json", cwd=work)
    refused(done, "poolwatch.toml", *parts)
    checked = poolwatch("check", CONSOLE, cwd=work).clean()
    assert checked.code == 3
    assert checked.out.startswith(f"POOLWATCH UNKNOWN - {work / 'poolwatch.toml'}: ")
    for part in parts:
        assert part in checked.out


#: An action or a solution that changes nothing: "from 1 to 1", "(1 → 1)".
_SAME = re.compile(r"from (\d+(?:\.\d+)?) (?:s )?to \1\b|\((\d+(?:\.\d+)?)s? → \2s?\)")


def _advice(summary: dict[str, object]) -> list[str]:
    """Every action's and every scenario solution's text."""
    actions = [str(a["text"]) for a in summary["actions"]]  # type: ignore[attr-defined]
    solutions = [s for sc in summary["scenarios"] for s in sc["solutions"]]  # type: ignore[attr-defined]
    return actions + solutions


@pytest.mark.parametrize(
    ("settings", "threads"),
    [
        ("", 65),
        ("[settings]\nprocesspool_workers = 1\ninstances = 1\n", 65),
        ("[settings]\ninstances = 2\n", 65),
        ("", 5),  # "System overloaded (5 threads)": a threshold of at most 4
        ("", 12),
    ],
)
def test_advice_never_keeps_a_number_as_it_is(tmp_path: Path, settings: str, threads: int) -> None:
    # One console: one instance, whose runs overload, fall back and time out.
    log = written(
        tmp_path / "console.log",
        CONSOLE.read_text().replace("(65 threads)", f"({threads} threads)"),
    )
    config = written(tmp_path / "poolwatch.toml", settings)
    done = poolwatch("report", log, "--out", tmp_path / "out", "--format", "json", "--config",
                     config).clean()  # fmt: skip
    assert done.code == 0, done.err
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    advice = _advice(summary)
    assert advice
    assert [text for text in advice if _SAME.search(text)] == []
    assert [text for text in advice if re.search(r"→ -|to -\d", text)] == []
    for action in summary["actions"]:
        values = dict(action["values"])
        if action["id"].startswith(("reduce-", "lower-")):
            assert values["to"] < values["from"], action
            assert values["to"] >= 1, action


# --- poolwatch's own files: templates, stylesheet, schema --------------------------------


@pytest.fixture
def swapped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A templates folder whose stylesheet is /dev/zero, whose index template is a FIFO
    and whose ticket template is larger than the bound; poolwatch reads it instead of
    its own."""
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "report.css").symlink_to("/dev/zero")
    os.mkfifo(folder / "index.html.j2")
    with (folder / "ticket.md.j2").open("wb") as handle:
        handle.truncate(assets.LIMIT + 1)
    monkeypatch.setattr(assets, "folder", lambda: folder)
    return folder


def test_templates_and_assets_are_read_bounded(swapped: Path) -> None:
    with pytest.raises(SmallFileError, match=r"report\.css: not a regular file \(a character"):
        stylesheet()
    with pytest.raises(SmallFileError, match=r"index\.html\.j2: not a regular file \(a FIFO\)"):
        environment().get_template("index.html.j2")
    with pytest.raises(SmallFileError, match=r"ticket\.md\.j2: larger than 4 MiB"):
        environment().get_template("ticket.md.j2")
    with pytest.raises(ValueError, match="poolwatch fetches nothing"):
        RefusingFetcher().fetch((swapped / "report.css").as_uri())
