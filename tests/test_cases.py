"""The hand-written cases (tests/cases/*/): poolwatch's conclusions against an expert's.

Each folder holds logs written by hand from log-formats.md and an ``expect.toml``
(see tests/cases/README.md). The logs are copied, given the modification times the
case asks for, diagnosed, and checked with ``poolwatch check`` as cron would run it.
"""

from __future__ import annotations

import os
import shutil
import tomllib
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from conftest import GUIDE, read
from poolwatch.analyze.diagnose import diagnose
from poolwatch.cli import main
from poolwatch.config import load
from poolwatch.findings import Action, Findings, Scenario

CASES = Path(__file__).parent / "cases"
NOW = datetime(2026, 12, 1, tzinfo=UTC)
#: Files of a case folder that are not logs.
_NOT_LOGS = ("expect.toml", "poolwatch.toml")


def _cases() -> list[Path]:
    return sorted(p for p in CASES.iterdir() if (p / "expect.toml").is_file())


def _logs(case: Path, target: Path, mtimes: Mapping[str, str]) -> Path:
    """A copy of the case's logs, with the modification times it asks for."""
    shutil.copytree(case, target, ignore=shutil.ignore_patterns(*_NOT_LOGS))
    for name, stamp in mtimes.items():
        when = datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
        os.utime(target / name, (when, when))
    return target


def _matches(expected: object, actual: object) -> bool:
    """A number, a string, a list of strings, or a [low, high] range of numbers."""
    if (
        isinstance(expected, list)
        and len(expected) == 2
        and all(isinstance(x, int | float) for x in expected)
    ):
        return isinstance(actual, int | float) and expected[0] <= actual <= expected[1]
    if isinstance(expected, list):
        return isinstance(actual, tuple | list) and sorted(map(str, actual)) == sorted(
            map(str, expected)
        )
    if isinstance(expected, int | float) and isinstance(actual, int | float):
        return abs(float(expected) - float(actual)) < 1e-6
    return expected == actual


def _action_problems(wanted: list[Mapping[str, Any]], actions: tuple[Action, ...]) -> list[str]:
    """Each expected action found once, with its values; nothing else proposed."""
    left = list(actions)
    problems = []
    for spec in wanted:
        fits = [a for a in left if _action_fits(spec, a)]
        if fits:
            left.remove(fits[0])
        else:
            same = [f"{a.text} {dict(a.values)}" for a in left if a.id == spec["id"]]
            problems.append(f"action {dict(spec)} not proposed (same id: {same or 'none'})")
    problems += [f"unexpected action {a.id}: {a.text} {dict(a.values)}" for a in left]
    return problems


def _action_fits(spec: Mapping[str, Any], action: Action) -> bool:
    """An action with the id, the setting and the values the expert gives."""
    setting = action.change.setting if action.change else None
    return (
        action.id == spec["id"]
        and spec.get("setting", setting) == setting
        and all(
            _matches(v, dict(action.values).get(k))
            for k, v in spec.items()
            if k not in ("id", "setting")
        )
    )


def _solution_problems(wanted: Mapping[str, Any], scenarios: tuple[Scenario, ...]) -> list[str]:
    """Each scenario's solutions change exactly the settings given, from and to the numbers
    given (``[from, to]``, either a number or a ``[low, high]`` range)."""
    problems = []
    for scenario in scenarios:
        if scenario.id not in wanted:
            continue
        got = {c.setting: [c.before, c.after] for c in scenario.changes if c is not None}
        want = wanted[scenario.id]
        fits = set(got) == set(want) and all(
            _matches(w, g) for k in want for w, g in zip(want[k], got[k], strict=True)
        )
        if not fits:
            problems.append(f"{scenario.id}'s changes: expected {want}, poolwatch says {got}")
    return problems


def _words(found: Findings) -> str:
    """The sentences a reader sees first: summary, tree, scenarios, actions."""
    parts = [found.summary]
    parts += [f"{s.question} {s.answer} {s.evidence}" for s in found.decision_path]
    parts += [f"{s.diagnosis} {s.evidence} {' '.join(s.solutions)}" for s in found.scenarios]
    parts += [f"{a.text} {a.reason} {a.evidence}" for a in found.actions]
    return "\n".join(parts)


def _outside_the_window(found: Findings) -> list[str]:
    """Chart times outside the logs' own window (a copy's file time stretching it): a run
    still going cannot outlast its timeout."""
    start, end = found.window
    if start is None or end is None:
        return []
    longest = timedelta(
        seconds=max(limit.value for limit in found.limits if limit.name == "timeout")
    )
    times = [p.at for p in found.charts.running] + [p.at for p in found.charts.threads if p.at]
    return [f"chart time {at} outside {start} - {end} + {longest}"
            for at in times if not start <= at <= end + longest][:1]  # fmt: skip


def _metric_problems(expect: Mapping[str, Any], found: Findings) -> list[str]:
    """The metrics' values (+-0.5), grades and sources that differ from the expert's."""
    rows = {row.name: row for row in found.metrics}
    problems = []
    for key, want in expect.get("metrics", {}).items():
        got = rows[key].value
        if got is None or abs(got - want) > 0.5:
            problems.append(f"metric {key}: expected {want}, poolwatch says {got}")
    for table, field in (("grades", "grade"), ("measured_by", "measured_by")):
        for key, want in expect.get(table, {}).items():
            got = getattr(rows[key], field)
            if want != got:
                problems.append(f"{field} of {key}: expected {want!r}, poolwatch says {got!r}")
    return problems


def _problems(expect: Mapping[str, Any], found: Findings, exit_code: int) -> list[str]:
    """Every way poolwatch's conclusions differ from the expert's."""
    problems = []

    def compare(what: str, want: object, got: object) -> None:
        if not _matches(want, got):
            problems.append(f"{what}: expected {want!r}, poolwatch says {got!r}")

    compare("verdict", expect["verdict"], found.verdict)
    compare("check exit", expect["check_exit"], exit_code)
    tree = [step.node or "" for step in found.decision_path]
    if expect["tree"] != tree:  # in order: the walk from the root down
        problems.append(f"tree: expected {expect['tree']!r}, poolwatch says {tree!r}")
    compare("scenarios", expect["scenarios"], [s.id for s in found.scenarios])
    problems += _action_problems(expect.get("actions", []), found.actions)
    problems += _solution_problems(expect.get("solutions", {}), found.scenarios)
    if "pattern" in expect:
        compare("pattern", expect["pattern"], found.pattern and found.pattern.classification)
    for key, want in expect.get("runs", {}).items():
        compare(f"runs.{key}", want, getattr(found.runs, key))
    problems += _metric_problems(expect, found)
    limits = {limit.name: limit.value for limit in found.limits}
    for key, want in expect.get("limits", {}).items():
        compare(f"limit {key}", want, limits.get(key))
    if "flags" in expect:
        held = [f.id for f in found.flags if f.holds and f.color in ("yellow", "red")]
        compare("flags", expect["flags"], held)
    if "monitor_blind" in expect:
        compare(
            "monitor blind", expect["monitor_blind"], bool(found.monitor and found.monitor.blind)
        )
    window = expect.get("window", {})
    for key, at in zip(("start", "end"), found.window, strict=True):
        if key in window:
            compare(f"window {key}", window[key], at and at.strftime("%Y-%m-%dT%H:%M:%SZ"))
    if "skipped" in expect:
        names = [Path(path).name for path, _ in found.inputs.skipped]
        compare("skipped", expect["skipped"], names)
    problems += _outside_the_window(found)
    words = _words(found)
    problems += [f"no {t!r} in:\n{words}" for t in expect.get("texts", []) if t not in words]
    problems += [f"{t!r} in:\n{words}" for t in expect.get("absent", []) if t in words]
    return problems


@pytest.mark.parametrize("case", _cases(), ids=lambda p: p.name)
def test_case(case: Path, tmp_path: Path) -> None:
    expect = tomllib.loads((case / "expect.toml").read_text())
    logs = _logs(case, tmp_path / "logs", expect.get("mtimes", {}))
    toml = case / "poolwatch.toml"
    config = load(toml) if toml.is_file() else GUIDE
    found = diagnose(read(logs), config, now=NOW)
    options = ["--config", str(toml)] if toml.is_file() else []
    checked = CliRunner().invoke(main, ["check", str(logs), *options])
    problems = _problems(expect, found, checked.exit_code)
    assert not problems, f"{case.name}: {expect.get('why', '')}\n- " + "\n- ".join(problems)
