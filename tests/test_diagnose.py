"""Diagnosis end to end: the decision tree's every branch, the four Quick Diagnostics
scenarios, computed actions with their evidence, the blind monitor, performance, and
summary.json against its schema."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jsonschema
import pytest

from conftest import GUIDE, made_up, read
from poolwatch.analyze.decide import actions, decision_path, scenarios
from poolwatch.analyze.diagnose import diagnose
from poolwatch.analyze.health import flags, metrics
from poolwatch.findings import Findings
from poolwatch.render.json import document, schema
from poolwatch.simulate import SCENARIOS, simulate

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def diagnosed(folder: Path) -> Findings:
    """The findings of a folder of logs, with the guide's defaults."""
    return diagnose(read(folder), GUIDE, now=NOW)


def answers(runs: Sequence[Mapping[str, object]]) -> list[str]:
    """The decision tree's answers for a made-up fleet."""
    fleet_ = made_up(runs)
    return [step.answer for step in decision_path(fleet_, metrics(fleet_))]


@pytest.fixture(scope="module")
def corpora(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Findings]:
    """Every scenario simulated once (8 instances, 5 runs each) and diagnosed."""
    out = {}
    for scenario in SCENARIOS:
        folder = tmp_path_factory.mktemp(scenario)
        simulate(scenario, folder, instances=8, runs=5, seed=3)
        out[scenario] = diagnosed(folder)
    return out


# --- the decision tree, branch by branch ---------------------------------------------------


def test_tree_no_fallbacks() -> None:
    assert answers([{}] * 10) == ["YES", "No fallbacks → ✅ Optimal performance"]


def test_tree_processpool_fallbacks_under_30() -> None:
    runs = [{"processpool_failed": int(i < 29), "path": "thread" if i < 29 else "process"}
            for i in range(100)]  # fmt: skip
    assert answers(runs)[1] == "ProcessPool fallbacks (<30%) → ✅ Working as designed"


def test_tree_processpool_fallbacks_above_the_tree() -> None:
    runs = [{"processpool_failed": int(i < 45)} for i in range(100)]
    answer = answers(runs)[1]
    assert answer.startswith("ProcessPool fallbacks at 45 %: the tree has no branch above 30 %")
    assert "thresholds table grades it critical" in answer


def test_tree_threadpool_fallbacks_under_15() -> None:
    runs = [{"threadpool_failed": int(i < 10), "processpool_failed": int(i < 10)}
            for i in range(100)]  # fmt: skip
    assert answers(runs)[1] == "ThreadPool fallbacks (<15%) → ⚠️ Monitor, consider reducing load"


def test_tree_threadpool_fallbacks_above_the_tree() -> None:
    runs = [{"threadpool_failed": int(i < 20)} for i in range(100)]
    assert answers(runs)[1].startswith("ThreadPool fallbacks at 20 %: the tree has no branch")


def test_tree_sequential_over_30() -> None:
    runs = [{"overloads": 1, "path": "sequential"} for _ in range(31)] + [{}] * 69
    assert (
        answers(runs)[1] == "Sequential fallbacks (>30%) → ❌ System overloaded, reduce instances"
    )


def test_tree_overload_skips_under_30_are_graceful_degradation() -> None:
    runs = [{"overloads": 1, "path": "sequential"} for _ in range(10)] + [{}] * 90
    assert "High Load pattern calls it graceful degradation" in answers(runs)[1]


@pytest.mark.parametrize(
    ("threads", "answer"),
    [
        (95, ">80 threads → ❌ Thread exhaustion despite checks; "
             "ACTION: Reduce threshold (50 → 30)"),
        (40, "<50 threads → ❌ Other issue (deadlock? infinite loop?); ACTION: Check code logic, "
             "add logging"),
        (65, "65 threads: the tree has no branch between 50 and 80; the thresholds table grades "
             "it a warning: Reduce concurrent instances"),
    ],
)  # fmt: skip
def test_tree_hanging_by_thread_count(threads: int, answer: str) -> None:
    runs = [{"outcome": "hung", "path": "timeout", "max_threads": threads,
             "stuck": "thread exhaustion"}] + [{}] * 9  # fmt: skip
    assert answers(runs) == ["NO", "Timing out (10 minutes)", 'Hang → See "Hanging" above', answer]


def test_tree_hanging_without_a_thread_count() -> None:
    runs = [{"outcome": "hung", "path": "timeout", "stuck": "no progress", "tasks_done": 1,
             "elapsed": 600.0, "usual_pace": 0.4, "pace": 0.004}] + [{}] * 9  # fmt: skip
    assert answers(runs)[3].startswith("Unknown: no per-process thread count")


def test_tree_timing_out_on_legitimate_work() -> None:
    # 150 of 400 tasks in 600 s at 90 % of the usual pace: the batch needs about 1,600 s;
    # the raise stays at twice the current timeout.
    runs = [
        {
            "outcome": "timed_out",
            "path": "timeout",
            "requested_tasks": 400,
            "tasks_done": 150,
            "elapsed": 600.0,
            "usual_pace": 0.28,
            "pace": 0.9,
        }
    ] + [{}] * 9
    assert answers(runs) == [
        "NO",
        "Timing out (10 minutes)",
        "Legitimate (large batch) → Increase timeout (600s → 1200s)",
    ]  # fmt: skip


def test_tree_cannot_tell_working_from_stuck_without_a_usual_pace() -> None:
    runs = [{"outcome": "timed_out", "path": "timeout", "tasks_done": 150}] + [{}] * 9
    assert answers(runs)[2].startswith("Unknown: no completed run of these instances")


# --- scenarios and actions on simulated fleets -------------------------------------------------


@pytest.mark.parametrize(
    ("scenario", "expected"),
    [
        ("healthy", set()),
        ("overloaded", {"frequent-overload", "script-timeouts"}),
        ("memory-pressure", {"processpool-fallbacks"}),
        ("timeouts", {"script-timeouts"}),
        ("sequential-excessive", {"sequential-excessive", "frequent-overload"}),
    ],
)
def test_scenarios_detected(
    corpora: dict[str, Findings], scenario: str, expected: set[str]
) -> None:
    assert expected <= {s.id for s in corpora[scenario].scenarios}
    if not expected:
        assert corpora[scenario].scenarios == ()


@pytest.mark.parametrize(
    ("scenario", "verdict", "texts"),
    [
        ("healthy", "healthy", []),
        ("overloaded", "critical", ["Reduce concurrent instances from 8 to 4",
                                    "Lower the thread threshold from 50 to 30"]),
        ("memory-pressure", "critical", ["Reduce ProcessPool workers from 3 to 2"]),
        ("timeouts", "critical", ["Lower the thread threshold from 50 to 40",
                                  "Raise the timeout from 600 s to 900 s"]),
        ("sequential-excessive", "critical", ["Reduce concurrent instances from 8 to 3"]),
    ],
)  # fmt: skip
def test_verdicts_and_actions(
    corpora: dict[str, Findings], scenario: str, verdict: str, texts: list[str]
) -> None:
    found = corpora[scenario]
    assert found.verdict == verdict
    assert set(texts) <= {action.text for action in found.actions}
    if not texts:
        assert found.actions == ()


def test_every_cited_line_is_in_its_file(corpora: dict[str, Findings]) -> None:
    for found in corpora.values():
        cited = [ref for a in found.actions for ref in a.refs]
        cited += [ref for s in found.scenarios for ref in s.refs]
        cited += [ref for f in found.flags for ref in f.refs]
        for ref in cited:
            line = Path(ref.file).read_text().splitlines()[ref.line - 1]
            if ref.text and not ref.text.startswith(("no closing line", "line ", "last run")):
                assert line.startswith(ref.text[:60]), (ref, line)


def test_the_monitor_is_blind_with_several_instances(corpora: dict[str, Findings]) -> None:
    monitor = corpora["overloaded"].monitor
    assert monitor is not None and monitor.blind
    assert monitor.reason is not None and "GNU tail rejects" in monitor.reason


def test_a_lone_instance_s_monitor_sees(tmp_path: Path) -> None:
    simulate("overloaded", tmp_path, instances=1, runs=3, seed=2)
    monitor = diagnosed(tmp_path).monitor
    assert monitor is not None
    assert monitor.alerts > 0
    assert not monitor.blind


def test_performance_against_the_guide(corpora: dict[str, Findings]) -> None:
    healthy = corpora["healthy"].performance
    assert healthy is not None and healthy.measured > 0 and healthy.slower == 0


def test_healthy_mix_is_the_guide_s(corpora: dict[str, Findings]) -> None:
    mix = corpora["healthy"].executor_mix
    assert (mix.process, mix.thread, mix.sequential, mix.timeout) == (75, 15, 10, 0)


def test_counts_are_lines(corpora: dict[str, Findings]) -> None:
    counts = corpora["overloaded"].counts
    assert counts.system_overloaded > counts.threadpool_failed > 0


def test_summary_json_follows_its_schema(corpora: dict[str, Findings], logs: Path) -> None:
    for found in [*corpora.values(), diagnosed(logs)]:
        data = json.loads(json.dumps(document(found)))
        jsonschema.validate(data, schema(), format_checker=jsonschema.FormatChecker())


def test_actions_without_scenarios_are_empty_on_healthy_logs(logs: Path) -> None:
    fleet_ = made_up([{}] * 5)
    rows = metrics(fleet_)
    assert actions(fleet_, scenarios(fleet_), rows, flags(fleet_), None) == ()


# --- the simulator's realities, judged as the hand-written cases are -------------------------


@pytest.mark.parametrize("seed", range(30))
def test_the_guide_s_healthy_fleet_reads_healthy(tmp_path: Path, seed: int) -> None:
    # The CLI's default fleet: 8 instances of 3 runs, the guide's 75/15/10 with noise.
    simulate("healthy", tmp_path, seed=seed)
    found = diagnosed(tmp_path)
    assert (found.verdict, found.actions) == ("healthy", ()), found.summary
    assert found.pattern is not None and found.pattern.classification == "healthy"


def test_a_deadlocked_fleet_is_investigated_not_given_more_time(tmp_path: Path) -> None:
    truth = simulate("deadlock", tmp_path, instances=4, runs=5, seed=4, snapshots="steady")
    stuck = {r.stuck_task for r in truth.runs if r.hang and r.silent and not r.incomplete}
    assert stuck
    found = diagnosed(tmp_path)
    assert [s.node for s in found.decision_path] == ["no", "timing-out", "hang", "few-threads"]
    ids = [a.id for a in found.actions]
    assert "investigate-hang" in ids
    assert not {"raise-timeout", "lower-threshold"} & set(ids)
    named = dict(next(a for a in found.actions if a.id == "investigate-hang").values)["tasks"]
    assert isinstance(named, tuple) and set(named) == stuck


def test_memory_exits_are_memory_pressure_never_ok(tmp_path: Path) -> None:
    truth = simulate("memory-pressure", tmp_path, instances=8, runs=5, seed=3)
    exited = sum(r.exited for r in truth.runs if not r.incomplete)
    assert exited
    found = diagnosed(tmp_path)
    assert found.runs.exited == exited
    assert found.verdict != "healthy"
    assert "processpool-fallbacks" in {s.id for s in found.scenarios}
    assert {"add-memory", "reduce-workers"} <= {a.id for a in found.actions}


def test_a_later_version_is_judged_by_its_own_limits(tmp_path: Path) -> None:
    truth = simulate("healthy", tmp_path, instances=4, runs=4, seed=5, version="later")
    assert {r.timeout_seconds for r in truth.runs} == {64}
    found = diagnosed(tmp_path)
    limits = {limit.name: (limit.value, limit.source.split(":")[0]) for limit in found.limits}
    assert limits == {"timeout": (64, "logs"), "overload_threads": (40, "logs")}
    words = " ".join([found.summary, *(f"{a.text} {a.reason}" for a in found.actions)])
    assert "600 s" not in words and "limit is 50" not in words


def test_a_leaking_instance_gets_the_guide_s_lsof_check(tmp_path: Path) -> None:
    truth = simulate("healthy", tmp_path, instances=4, runs=3, seed=2, snapshots="leak")
    leak = next(s for s in truth.snapshots if s.leak)
    found = diagnosed(tmp_path)
    assert found.verdict == "warning"
    assert not found.summary.startswith("Healthy")
    check = next(a for a in found.actions if a.id == "check-thread-leak")
    assert dict(check.values)["instance"] == leak.instance
    # The monitor's samples, a minute apart, read the climbing count as they find it.
    sampled = read(tmp_path).samples
    mine = sampled[(sampled["instance"] == leak.instance) & ~sampled["worker"].astype(bool)]
    assert dict(check.values)["threads"] == mine["threads"].max()
    assert int(mine["threads"].max()) in leak.threads


def test_copies_keep_the_logs_own_window(tmp_path: Path) -> None:
    simulate("healthy", tmp_path, instances=4, runs=3, seed=2, live=True, copied=True)
    found = diagnosed(tmp_path)
    start, end = found.window
    assert start is not None and end is not None
    assert all(start <= p.at <= end + timedelta(seconds=600) for p in found.charts.running)
    assert found.runs.timed_out + found.runs.hung == 0  # no kill invented from a copy's time
    assert found.inputs.collected is None and found.inputs.times_note
