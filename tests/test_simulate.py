"""Behaviour of the log simulator: determinism, scenario mixes, file invariants, monitor quirks,
and the realities of log-formats.md (stderr, versions, exits, silent hangs, snapshots, copies)."""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from poolwatch.simulate import SCENARIOS, RunTruth, SimulationResult, SnapshotTruth, simulate

MONITOR = "week6b_monitoring.log"
DATE_LINE = re.compile(rb"^[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d UTC \d{4}$", re.M)
#: Lines that go to stderr (Python's tracebacks and warnings, timeout's message): the
#: console shows them, tee's run log never does.
STDERR = re.compile(
    r"^(?:Traceback \(most recent call last\):|  File \"| {4}|Exception ignored in thread started"
    r"|Exception in thread |[A-Za-z]+Error(?:: .*)?$|\S+resource_tracker\.py:\d+: UserWarning: "
    r"|  warnings\.warn\(|timeout: sending signal )"
)
#: What run_card.sh echoes before each run: `date`, the banner and the Running line.
HEADER_LINES = 6
EXITS = (
    "CRITICAL: MemoryError in CPU ProcessPoolExecutor. System out of memory. Exiting.",
    "CRITICAL: MemoryError in ThreadPoolExecutor fallback. System out of memory. Exiting.",
    "System critically low on memory. Cannot create workers. Exiting.",
)

Corpus = tuple[Path, SimulationResult]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Corpus]:
    """Simulates each distinct set of arguments once per module."""
    made: dict[tuple[object, ...], Corpus] = {}

    def make(scenario: str, **kwargs: object) -> Corpus:
        key = (scenario, *sorted(kwargs.items()))
        if key not in made:
            out = tmp_path_factory.mktemp(scenario)
            made[key] = (out, simulate(scenario, out, **kwargs))  # type: ignore[arg-type]
        return made[key]

    return make


def runs_of(result: SimulationResult) -> list[RunTruth]:
    """All runs of a result as a list."""
    return list(result.runs)


def share(runs: list[RunTruth], test: Callable[[RunTruth], bool]) -> float:
    """Fraction of runs passing a test."""
    return sum(map(test, runs)) / len(runs)


def parse_date(line: bytes) -> datetime:
    """A `date` line as an aware UTC datetime."""
    stamp = datetime.strptime(" ".join(line.decode().split()), "%a %b %d %H:%M:%S UTC %Y")
    return stamp.replace(tzinfo=UTC)


def consoles(out: Path) -> list[Path]:
    """The console logs in a simulated directory."""
    return sorted(out.glob("run_card_*.log"))


def run_segments(text: str) -> list[str]:
    """A console log split into its runs, each starting at its `date` line."""
    starts = [m.start() for m in re.finditer(DATE_LINE.pattern.decode(), text, re.M)]
    return [text[a:b] for a, b in zip(starts, [*starts[1:], len(text)], strict=True)]


def console_runs(out: Path, result: SimulationResult) -> list[tuple[RunTruth, str]]:
    """Every run beside its text in its console, date and banner included."""
    pairs: list[tuple[RunTruth, str]] = []
    for console in consoles(out):
        runs = [run for run in result.runs if run.console == console.name]
        pairs += zip(runs, run_segments(console.read_text()), strict=True)
    return pairs


def tee_copy(segment: str) -> list[str]:
    """The lines of one console run that tee copies: no banner, no stderr line."""
    return [line for line in segment.splitlines()[HEADER_LINES:] if not STDERR.match(line)]


def stderr_lines(segment: str) -> list[str]:
    """The lines of one console run that went to stderr."""
    return [line for line in segment.splitlines() if STDERR.match(line)]


# --- determinism -----------------------------------------------------------------------------


def file_bytes(out: Path) -> dict[str, bytes]:
    """Every file of a directory by name."""
    return {p.name: p.read_bytes() for p in sorted(out.iterdir())}


def test_same_seed_gives_identical_bytes(tmp_path: Path) -> None:
    first = simulate("overloaded", tmp_path / "a", instances=3, runs=2, seed=7)
    second = simulate("overloaded", tmp_path / "b", instances=3, runs=2, seed=7)
    assert file_bytes(tmp_path / "a") == file_bytes(tmp_path / "b")
    assert first.runs == second.runs
    assert (first.bytes, first.lines) == (second.bytes, second.lines)


def test_same_arguments_give_identical_bytes_with_every_option(tmp_path: Path) -> None:
    first, second = (
        simulate("deadlock", tmp_path / name, instances=3, runs=2, seed=5, live=True,
                 version="mixed", snapshots="leak")
        for name in "ab"
    )  # fmt: skip
    assert file_bytes(tmp_path / "a") == file_bytes(tmp_path / "b")
    assert (first.runs, first.snapshots) == (second.runs, second.snapshots)


def test_different_seed_gives_different_bytes(tmp_path: Path) -> None:
    simulate("healthy", tmp_path / "a", instances=2, runs=1, seed=1)
    simulate("healthy", tmp_path / "b", instances=2, runs=1, seed=2)
    a, b = file_bytes(tmp_path / "a"), file_bytes(tmp_path / "b")
    assert a["run_card_1.log"] != b["run_card_1.log"]


def test_start_sets_the_clock(tmp_path: Path) -> None:
    start = datetime(2026, 3, 1, 23, 59, 0, tzinfo=UTC)
    result = simulate("healthy", tmp_path, instances=2, runs=1, start=start)
    assert all(start <= run.started_at < start + timedelta(minutes=5) for run in result.runs)
    assert (tmp_path / MONITOR).read_text().splitlines()[1] == "Sun Mar  1 23:59:00 UTC 2026"


def test_never_deletes_other_files(tmp_path: Path) -> None:
    keep = tmp_path / "notes.txt"
    keep.write_text("mine")
    simulate("healthy", tmp_path, instances=1, runs=1)
    assert keep.read_text() == "mine"


# --- scenario mixes (percentages of runs) ----------------------------------------------------


def test_healthy_mix(corpus: Callable[..., Corpus]) -> None:
    _, result = corpus("healthy", runs=5)
    runs = runs_of(result)
    paths = Counter(run.path for run in runs)
    assert (paths["process"], paths["thread"], paths["sequential"]) == (30, 6, 4)  # of 40
    assert not any(run.killed or run.incomplete or run.sample_timeouts for run in runs)
    for run in runs:
        if run.path == "thread":
            assert 1 <= run.processpool_failed <= 2 and run.overloads == 0
        if run.path == "sequential":
            assert run.overloads >= 1 and run.max_threads is not None
            assert 51 <= run.max_threads <= 60


def test_overloaded_mix(corpus: Callable[..., Corpus]) -> None:
    _, result = corpus("overloaded", runs=3)
    runs = runs_of(result)
    by_instance: dict[str, list[RunTruth]] = {}
    for run in runs:
        by_instance.setdefault(run.instance, []).append(run)
    killed = [name for name, rs in by_instance.items() if all(r.killed and r.hang for r in rs)]
    assert len(killed) == 1
    finished = [run for run in runs if not run.killed]
    assert all(run.path == "sequential" for run in finished)
    assert all(run.max_threads is not None and 81 <= run.max_threads <= 95 for run in finished)
    assert sum(run.overloads for run in finished) / sum(run.tasks for run in finished) > 0.6
    tp_instances = {run.instance for run in runs if run.threadpool_failed}
    assert len(tp_instances) == 1
    assert all(run.seconds == 600 and run.path == "timeout" for run in runs if run.killed)


def test_overloaded_hang_looks_like_a_hang(corpus: Callable[..., Corpus]) -> None:
    out, result = corpus("overloaded", runs=3)
    hung = next(run for run in result.runs if run.hang)
    text = (out / hung.console).read_text()
    assert "RuntimeError: can't start new thread" in text
    assert "thread creation failed" in text
    dates = [parse_date(line) for line in DATE_LINE.findall(text.encode())]
    gaps = {round((b - a).total_seconds()) for a, b in pairwise(dates)}
    assert all(600 <= gap <= 610 for gap in gaps)


def test_memory_pressure_mix(corpus: Callable[..., Corpus]) -> None:
    out, result = corpus("memory-pressure", runs=5)
    runs = runs_of(result)
    assert share(runs, lambda run: run.processpool_failed > 0) > 0.3
    text = "".join(path.read_text() for path in consoles(out))
    assert "failed due to MemoryError" in text
    assert "leaked semlock objects to clean up at shutdown" in text
    assert "Exception in thread ExecutorManagerThread:\n" in text
    assert sum(text.count(line) for line in EXITS) == sum(run.exited for run in runs) >= 1
    assert not any(run.killed for run in runs)


def test_timeouts_mix(corpus: Callable[..., Corpus]) -> None:
    _, result = corpus("timeouts", runs=3)
    killed = [run for run in result.runs if run.killed]
    assert len(killed) >= 3
    assert all(run.seconds == 600 and run.path == "timeout" for run in killed)
    hangs = [run for run in killed if run.hang]
    batches = [run for run in killed if not run.hang]
    assert hangs and batches
    assert all(run.tasks > 32 for run in batches)
    assert all(run.tasks <= 32 for run in hangs)


def test_killed_batch_is_cut_mid_line(corpus: Callable[..., Corpus]) -> None:
    out, result = corpus("timeouts", runs=3)
    batch = next(run for run in result.runs if run.killed and not run.hang)
    runs = [run for run in result.runs if run.console == batch.console]
    data = (out / batch.console).read_bytes()
    assert len(DATE_LINE.findall(data)) == len(runs)  # each date line starts a line of its own
    assert all(run.killed and not run.hang for run in runs)
    data = data.removesuffix(b"\ntimeout: sending signal TERM to command 'python'\n")
    assert not data.endswith(b"\n")
    assert b"tasks - " not in data.rsplit(b"\n", 1)[-1]


def test_sequential_excessive_mix(corpus: Callable[..., Corpus]) -> None:
    _, result = corpus("sequential-excessive", runs=5)
    runs = runs_of(result)
    assert share(runs, lambda run: run.threadpool_failed > 0) > 0.3
    reported = [run.max_threads for run in runs if run.max_threads is not None]
    assert reported and all(51 <= n <= 80 for n in reported)


# --- files agree with the truth --------------------------------------------------------------

PHRASES: dict[str, Callable[[RunTruth], int]] = {
    "System overloaded": lambda run: run.overloads,
    "ProcessPoolExecutor failed": lambda run: run.processpool_failed,
    "ThreadPoolExecutor also failed": lambda run: run.threadpool_failed,
    "Parallel execution failed": lambda run: run.parallel_failed,
    "] timed out": lambda run: run.sample_timeouts,
    " start --": lambda run: run.tasks,
}


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_truth_matches_grep_counts(corpus: Callable[..., Corpus], scenario: str) -> None:
    out, result = corpus(scenario, runs=3)
    for console in consoles(out):
        text = console.read_text()
        runs = [run for run in result.runs if run.console == console.name]
        for phrase, count in PHRASES.items():
            assert text.count(phrase) == sum(map(count, runs)), (console.name, phrase)
        closed = re.findall(r"^\d+ tasks - (\d+) timeouts$", text, re.M)
        assert len(closed) <= len(runs)
        assert len(DATE_LINE.findall(text.encode())) == len(runs)


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_run_log_is_the_last_run_without_its_stderr_lines(
    corpus: Callable[..., Corpus], scenario: str
) -> None:
    out, result = corpus(scenario, runs=3)
    last = {run.console: (run, segment) for run, segment in console_runs(out, result)}
    for run, segment in last.values():
        console = (out / run.console).read_bytes()
        run_log = (out / f"{run.instance}_run.log").read_bytes()
        assert run_log.startswith(b"run_batt.py:72: GPU Support: Disabled (CuPy not available)")
        assert run_log.decode().splitlines() == tee_copy(segment)
        assert segment.splitlines()[HEADER_LINES - 1].startswith("Running: ")
        if not run.stderr_lines:  # then the copies agree byte for byte
            assert console.endswith(run_log)
            assert console[: -len(run_log)].endswith(b"\n")


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_stderr_lines_reach_the_console_only(corpus: Callable[..., Corpus], scenario: str) -> None:
    out, result = corpus(scenario, runs=3)
    for run, segment in console_runs(out, result):
        assert len(stderr_lines(segment)) == run.stderr_lines, (run.console, run.run)
    for run_log in out.glob("tmp_batt_*_run.log"):
        assert not any(STDERR.match(line) for line in run_log.read_text().splitlines())


def test_troubled_last_runs_differ_from_their_run_logs(corpus: Callable[..., Corpus]) -> None:
    out, result = corpus("overloaded", runs=3)
    last = {run.console: (run, segment) for run, segment in console_runs(out, result)}
    troubled = [(run, segment) for run, segment in last.values() if run.stderr_lines]
    assert troubled  # the hanging instance's traceback, at least
    for run, segment in troubled:
        run_log = (out / f"{run.instance}_run.log").read_text()
        assert not (out / run.console).read_text().endswith(run_log)
        kinds = {line.split(":")[0] for line in stderr_lines(segment)}
        assert kinds & {"Traceback (most recent call last)", "KeyError", "RuntimeError"}
        assert len(segment.splitlines()) - HEADER_LINES - run.stderr_lines == len(
            run_log.splitlines()
        )


def test_result_counts_files_bytes_and_lines(corpus: Callable[..., Corpus]) -> None:
    out, result = corpus("timeouts", runs=3)
    assert {p.name for p in result.files} == {p.name for p in out.iterdir()}
    assert result.bytes == sum(p.stat().st_size for p in result.files)
    assert result.lines == sum(len(p.read_bytes().splitlines()) for p in result.files)


def test_started_at_matches_the_date_lines(corpus: Callable[..., Corpus]) -> None:
    out, result = corpus("healthy", runs=3)
    for console in consoles(out):
        dates = [parse_date(line) for line in DATE_LINE.findall(console.read_bytes())]
        assert dates == [run.started_at for run in result.runs if run.console == console.name]


def test_timing_rows_equal_run_seconds(corpus: Callable[..., Corpus]) -> None:
    out, result = corpus("healthy", runs=3)
    found = 0
    for console in consoles(out):
        rows = [
            float(v) for v in re.findall(r"^  main\.run_batt +([\d.]+)$", console.read_text(), re.M)
        ]
        if rows:
            truth = [run.seconds for run in result.runs if run.console == console.name]
            assert rows == pytest.approx(truth, abs=0.0011)
            found += 1
    assert found >= 1


def test_progress_lines_are_the_bulk(corpus: Callable[..., Corpus]) -> None:
    out, _ = corpus("healthy", runs=3)
    lines = (out / "run_card_1.log").read_text().splitlines()
    progress = [
        line for line in lines if re.match(r"run_batt\.py:\d+: (demo|test)\[\d+\] - ", line)
    ]
    assert len(progress) > len(lines) / 2


def test_task_ids_are_eight_hex_digits(corpus: Callable[..., Corpus]) -> None:
    out, result = corpus("healthy", runs=3)
    text = (out / "run_card_1.log").read_text()
    assert re.findall(r"-- (\S+) - \d+ start --", text)
    assert all(
        re.fullmatch(r"[0-9a-f]{8}", t) for t in re.findall(r"-- (\S+) - \d+ start --", text)
    )
    assert all(re.fullmatch(r"tmp_batt_[A-Za-z0-9]{6}", run.instance) for run in result.runs)


# --- the monitor log -------------------------------------------------------------------------

RECORD = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) \| Threads: Python=(\S+) System=(\S+) \|")


def test_monitor_splits_records_with_several_instances(corpus: Callable[..., Corpus]) -> None:
    out, _ = corpus("overloaded", runs=3)
    lines = (out / MONITOR).read_text().splitlines()
    assert lines[0] == "=== Week 6B Monitoring Started ==="
    records = [i for i, line in enumerate(lines) if RECORD.match(line)]
    assert len(records) > 5
    for i in records:
        assert lines[i].endswith("| Fails: Process=0")
        assert lines[i + 1 : i + 4] == ["0 Thread=0", "0 Overload=0", "0"]
    assert not any("ALERT" in line for line in lines)
    assert len(lines) == 2 + 4 * len(records)


def test_monitor_records_every_minute_across_the_window(corpus: Callable[..., Corpus]) -> None:
    out, result = corpus("overloaded", runs=3)
    stamps = [
        datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
        for m in map(RECORD.match, (out / MONITOR).read_text().splitlines())
        if m
    ]
    assert all(60 <= (b - a).total_seconds() <= 63 for a, b in pairwise(stamps))
    end = max(run.started_at + timedelta(seconds=run.seconds) for run in result.runs)
    assert stamps[0] <= min(run.started_at for run in result.runs)
    assert end - timedelta(seconds=70) <= stamps[-1] <= end + timedelta(seconds=5)


def test_monitor_thread_values(corpus: Callable[..., Corpus]) -> None:
    out, _ = corpus("overloaded", runs=3)
    matches = [m for m in map(RECORD.match, (out / MONITOR).read_text().splitlines()) if m]
    assert {m.group(2) for m in matches} <= {"1", "N/A"}
    system = [int(m.group(3)) for m in matches if m.group(3) != "N/A"]
    assert max(system) > 300  # several hundred host threads when overloaded


WARN, CROSS = "\u26a0\ufe0f", "\u274c"


def mac_roman(text: str) -> str:
    """UTF-8 text as it reads when decoded as Mac Roman."""
    return text.encode("utf-8").decode("mac_roman")


@pytest.mark.parametrize(
    ("style", "warn", "cross"),
    [
        ("emoji", f"{WARN}  ALERT: System overloaded detected ", f"{CROSS} ALERT"),
        ("mojibake", f"{mac_roman(WARN)}  ALERT: System overloaded detected ", mac_roman(CROSS)),
        ("plain", "ALERT: System overloaded detected ", "ALERT: ThreadPool failures"),
    ],
)
def test_monitor_alerts_with_one_instance(
    tmp_path: Path, style: str, warn: str, cross: str
) -> None:
    simulate("overloaded", tmp_path, instances=1, runs=3, monitor_style=style)
    lines = (tmp_path / MONITOR).read_text(encoding="utf-8").splitlines()
    alerts = [line for line in lines if "ALERT: System overloaded detected" in line]
    assert alerts and all(line.startswith(warn) for line in alerts)
    assert all(line.endswith("times in last 100 lines") for line in alerts)
    for line in alerts:
        count = int(line.split("detected ")[1].split()[0])
        assert count > 5
    assert not any(cross in line for line in lines)  # this instance never loses its ThreadPool


def test_monitor_counts_follow_the_lone_run_log(tmp_path: Path) -> None:
    simulate("sequential-excessive", tmp_path, instances=1, runs=6, seed=3)
    text = (tmp_path / MONITOR).read_text()
    values = [int(v) for v in re.findall(r"(?:Process|Thread|Overload)=(\d+)(?!\n0)", text)]
    assert any(v > 0 for v in values)
    assert all(v <= 100 for v in values)
    thread_alerts = re.findall(r"ALERT: ThreadPool failures (\d+) times \(extreme load\)", text)
    assert all(int(n) > 3 for n in thread_alerts)


def test_files_are_dated_at_their_last_write(tmp_path: Path) -> None:
    result = simulate("timeouts", tmp_path, instances=3, runs=2)
    for console in consoles(tmp_path):
        last = [run for run in result.runs if run.console == console.name][-1]
        end = (last.started_at + timedelta(seconds=last.seconds)).timestamp()
        assert 1.0 <= console.stat().st_mtime - end <= 4.1  # card.py runs before python starts
        run_log = tmp_path / f"{last.instance}_run.log"
        assert run_log.stat().st_mtime == console.stat().st_mtime
    assert (tmp_path / MONITOR).stat().st_mtime == max(p.stat().st_mtime for p in result.files)


# --- size, live, arguments -------------------------------------------------------------------


def test_size_bytes_is_reached_and_progress_adds_up(tmp_path: Path) -> None:
    written: list[int] = []
    result = simulate(
        "healthy", tmp_path, instances=2, runs=1, size_bytes=400_000, progress=written.append
    )
    assert result.bytes >= 400_000
    assert sum(written) == result.bytes
    assert len(result.runs) > 2
    last_start: dict[str, datetime] = {}
    for run in result.runs:
        last_start[run.instance] = run.started_at
    ends = list(last_start.values())
    assert max(ends) - min(ends) < timedelta(minutes=10)  # the instances keep pace in time


def test_size_with_live_does_not_overshoot(tmp_path: Path) -> None:
    result = simulate("overloaded", tmp_path, size_bytes=2_000_000, live=True)
    assert 2_000_000 <= result.bytes < 2_600_000


def test_zero_size_still_writes_the_minimum_runs(tmp_path: Path) -> None:
    result = simulate("healthy", tmp_path, instances=2, runs=2, size_bytes=0)
    assert len(result.runs) == 4


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_live_leaves_every_last_line_unfinished(tmp_path: Path, scenario: str) -> None:
    result = simulate(scenario, tmp_path, instances=3, runs=2, live=True)
    for path in [*consoles(tmp_path), *tmp_path.glob("tmp_batt_*_run.log")]:
        data = path.read_bytes()
        assert data and not data.endswith(b"\n"), path.name
    last: dict[str, RunTruth] = {}
    for run in result.runs:
        last[run.console] = run
    assert all(run.incomplete and not run.killed for run in last.values())
    assert sum(run.incomplete for run in result.runs) == 3
    assert all(not run.incomplete for run in result.runs if run not in last.values())
    monitor = (tmp_path / MONITOR).read_bytes()
    assert monitor.endswith(b"\n")
    assert len({path.stat().st_mtime for path in result.files}) == 1  # all caught at one moment


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"scenario": "calm"}, "unknown scenario"),
        ({"instances": 0}, "instances"),
        ({"runs": 0}, "runs"),
        ({"size_bytes": -1}, "size_bytes"),
        ({"monitor_style": "fancy"}, "monitor_style"),
        ({"version": "second"}, "unknown version"),
        ({"snapshots": "all"}, "unknown snapshots"),
    ],
)
def test_bad_arguments_raise_value_error(
    tmp_path: Path, kwargs: dict[str, object], message: str
) -> None:
    arguments: dict[str, object] = {"scenario": "healthy", **kwargs}
    scenario = str(arguments.pop("scenario"))
    with pytest.raises(ValueError, match=message):
        simulate(scenario, tmp_path, **arguments)  # type: ignore[arg-type]
    assert not any(tmp_path.iterdir())


@settings(max_examples=15, deadline=None)
@given(
    scenario=st.sampled_from(SCENARIOS),
    seed=st.integers(min_value=0, max_value=2**32),
    instances=st.integers(min_value=1, max_value=3),
    live=st.booleans(),
)
def test_every_run_agrees_with_its_text(
    tmp_path_factory: pytest.TempPathFactory, scenario: str, seed: int, instances: int, live: bool
) -> None:
    out = tmp_path_factory.mktemp("any")
    result = simulate(scenario, out, instances=instances, runs=2, seed=seed, live=live)
    assert result.bytes == sum(p.stat().st_size for p in result.files)
    for console in consoles(out):
        runs = [run for run in result.runs if run.console == console.name]
        segments = run_segments(console.read_text())
        assert len(segments) == len(runs)
        for run, segment in zip(runs, segments, strict=True):
            assert run.path in {"process", "thread", "sequential", "timeout"}
            assert run.killed == (run.path == "timeout") and run.seconds > 0
            assert run.hang <= run.killed and not (run.killed and run.incomplete)
            for phrase, count in PHRASES.items():
                assert segment.count(phrase) == count(run), (run, phrase)
            closed = re.search(r"^\d+ tasks - \d+ timeouts$", segment, re.M)
            assert closed is None or not (run.killed or run.incomplete or run.exited)
            assert len(stderr_lines(segment)) == run.stderr_lines
            assert run.exited == any(line in EXITS for line in tee_copy(segment))
        run_log = (out / f"{runs[-1].instance}_run.log").read_text()
        assert run_log.splitlines() == tee_copy(segments[-1])


def test_both_running_forms_and_timing_appear(corpus: Callable[..., Corpus]) -> None:
    out, _ = corpus("timeouts", runs=3)
    text = "".join(path.read_text() for path in consoles(out))
    assert re.search(
        r"^Running: python run_batt\.py -t 10\.0 -c -32 -b tmp_batt_\w{6}_run$", text, re.M
    )
    assert re.search(
        r"^Running: timeout -k 5s 600s python run_batt\.py -t 10\.0 -c -32 ", text, re.M
    )
    assert re.search(r"^Running: .*run_batt\.py -t 10\.0 -c 0 -b ", text, re.M)  # a -c 0 batch
    assert "Timing summary (seconds):" in text


# --- the realities of log-formats.md ---------------------------------------------------------


@pytest.mark.parametrize(("instances", "runs"), [(8, 3), (8, 5), (3, 7)])
def test_healthy_fleet_holds_the_guide_s_mix(tmp_path: Path, instances: int, runs: int) -> None:
    for seed in range(30):
        result = simulate(
            "healthy", tmp_path / str(seed), instances=instances, runs=runs, seed=seed
        )
        n = len(result.runs)
        paths = Counter(run.path for run in result.runs)
        assert paths["thread"] == n * 15 // 100, seed  # never more than the shares give
        assert paths["sequential"] == n * 10 // 100, seed
        assert paths["process"] == n - paths["thread"] - paths["sequential"], seed
        for run, segment in console_runs(tmp_path / str(seed), result):
            failed = "ProcessPoolExecutor failed" in segment
            assert failed == (run.processpool_failed > 0) == (run.path == "thread"), seed


def test_healthy_mix_stays_within_the_shares_at_any_size(tmp_path: Path) -> None:
    result = simulate("healthy", tmp_path, instances=4, runs=2, size_bytes=3_000_000, seed=8)
    n = len(result.runs)
    paths = Counter(run.path for run in result.runs)
    assert n > 80
    assert n * 15 // 100 - 2 <= paths["thread"] <= n * 15 // 100
    assert n * 10 // 100 - 2 <= paths["sequential"] <= n * 10 // 100


RUNNING = re.compile(r"^Running: (.*)run_batt\.py -t 10\.0 -c (-?\d+) -b tmp_batt_\w{6}_run$", re.M)
OVERLOAD = re.compile(r"System overloaded \((\d+) threads\)")


def test_a_later_version_states_its_own_limits(corpus: Callable[..., Corpus]) -> None:
    out, result = corpus("healthy", runs=5, version="later")
    text = "".join(path.read_text() for path in consoles(out))
    assert {m.group(1) for m in RUNNING.finditer(text)} == {"timeout -k 5s 64s python "}
    assert len(RUNNING.findall(text)) == len(result.runs)
    threads = [int(n) for n in OVERLOAD.findall(text)]
    assert threads and min(threads) > 40
    assert any(n <= 50 for n in threads)  # reported only by the later version's threshold
    for run in result.runs:
        assert (run.version, run.timeout_seconds, run.overload_above) == ("later", 64, 40)
        assert not run.killed and run.seconds < 64


def test_a_later_version_is_killed_at_its_own_limit(corpus: Callable[..., Corpus]) -> None:
    out, result = corpus("timeouts", runs=3, version="later")
    pairs = console_runs(out, result)
    killed = [run for run, _ in pairs if run.killed]
    assert killed and all(run.seconds == 64 for run in killed)
    for (run, segment), (after, _) in pairwise(pairs):
        if run.console == after.console and run.killed:
            gap = (after.started_at - run.started_at).total_seconds()
            assert 64 <= gap <= 70, (run.console, run.run)
        if run.killed:
            assert not re.search(r"^\d+ tasks - \d+ timeouts$", segment, re.M)
    batches = [(run, segment) for run, segment in pairs if "-c 0 " in segment]
    assert batches  # 2 x |0| = 0s: GNU timeout sets no limit, the whole batch runs
    for run, segment in batches:
        assert "Running: timeout -k 5s 0s python run_batt.py -t 10.0 -c 0 " in segment
        assert run.timeout_seconds is None and not run.killed
        assert re.search(r"^400 tasks - \d+ timeouts$", segment, re.M)


def test_a_mixed_fleet_runs_both_versions(corpus: Callable[..., Corpus]) -> None:
    out, result = corpus("healthy", runs=3, version="mixed")
    assert Counter(run.version for run in result.runs) == {"first": 12, "later": 12}
    forms = {
        "first": ("python ", "timeout -k 5s 600s python "),
        "later": ("timeout -k 5s 64s python ",),
    }
    for run, segment in console_runs(out, result):
        form = RUNNING.search(segment)
        assert form is not None and form.group(1) in forms[run.version]
        assert all(int(n) > run.overload_above for n in OVERLOAD.findall(segment))


def test_out_of_memory_exits_end_their_runs_seconds_after_start(
    corpus: Callable[..., Corpus],
) -> None:
    out, result = corpus("memory-pressure", runs=20)
    pairs = console_runs(out, result)
    exited = [(run, segment) for run, segment in pairs if run.exited]
    messages = {tee_copy(segment)[-1] for _, segment in exited}
    assert messages == set(EXITS)  # each run's tee copy ends with its exit line
    for (run, segment), (after, _) in pairwise(pairs):
        if not run.exited:
            assert not any(line in EXITS for line in segment.splitlines())
            continue
        assert not run.killed and run.seconds < 20 and run.tasks <= 3
        assert not re.search(r"^\d+ tasks - \d+ timeouts$", segment, re.M)
        if after.console == run.console:  # the loop's next `date` follows soon
            assert (after.started_at - run.started_at).total_seconds() < 30
        if tee_copy(segment)[-1] == EXITS[1]:  # the ThreadPool fallback ran out in its turn
            assert "trying ThreadPoolExecutor" in tee_copy(segment)[-2]


def test_a_silent_hang_stops_mid_task_without_a_word(corpus: Callable[..., Corpus]) -> None:
    out, result = corpus("deadlock", runs=3)
    pairs = console_runs(out, result)
    silent = [(run, segment) for run, segment in pairs if run.silent]
    assert len(silent) >= 2
    for (run, segment), (after, _) in pairwise(pairs):
        if not run.silent:
            assert run.stuck_task is None
            continue
        assert run.hang and run.killed and run.seconds == 600 and run.stuck_task
        tid = run.stuck_task
        assert re.search(rf"-- {tid} - \d+ start --$", segment, re.M)
        assert not re.search(rf"-- {tid} - \d+ done - ", segment)
        assert "thread creation failed" not in segment
        assert not any(line.startswith("Traceback") for line in segment.splitlines())
        assert tid in tee_copy(segment)[-1]  # its last word is the stuck task's
        if after.console == run.console:  # the next `date`: about one timeout later
            assert 600 <= (after.started_at - run.started_at).total_seconds() <= 610


def test_a_noisy_hang_names_its_stuck_task(corpus: Callable[..., Corpus]) -> None:
    out, result = corpus("overloaded", runs=3)
    for run, segment in console_runs(out, result):
        if run.hang:
            assert not run.silent and run.stuck_task is not None
            assert re.search(rf"-- {run.stuck_task} - \d+ start --$", segment, re.M)
            assert not re.search(rf"-- {run.stuck_task} - \d+ done - ", segment)
            assert "thread creation failed" in segment
        else:
            assert run.stuck_task is None


SNAPSHOT_ACTIVE = re.compile(r"^(.+ UTC \d{4})\nActive threads: (\d+)$", re.M)
SNAPSHOT_NLWP = re.compile(r"^\$ date; ps -o nlwp (\d+)\n(.+ UTC \d{4})\nNLWP\n +(\d+)$", re.M)


def read_snapshots(path: Path, style: str) -> tuple[list[datetime], list[int]]:
    """The times and counts of a pasted snapshot file."""
    text = path.read_text()
    if style == "active":
        found = [(date, n) for date, n in SNAPSHOT_ACTIVE.findall(text)]
        assert len(found) * 2 == len(text.splitlines())
    else:
        found = [(date, n) for _, date, n in SNAPSHOT_NLWP.findall(text)]
        assert len(found) * 4 == len(text.splitlines())
    return [parse_date(date.encode()) for date, _ in found], [int(n) for _, n in found]


@pytest.mark.parametrize("kind", ["steady", "leak"])
def test_pasted_snapshots_match_their_truth(tmp_path: Path, kind: str) -> None:
    result = simulate("healthy", tmp_path, runs=3, seed=4, snapshots=kind)
    truths: tuple[SnapshotTruth, ...] = result.snapshots
    assert len(truths) == 8 and {s.style for s in truths} == {"active", "nlwp"}
    for snap in truths:
        assert snap.file == f"threads_{snap.instance}.txt"
        assert read_snapshots(tmp_path / snap.file, snap.style) == (
            list(snap.taken_at),
            list(snap.threads),
        )
        runs = [run for run in result.runs if run.instance == snap.instance]
        assert len(snap.taken_at) >= 4
        assert runs[0].started_at <= snap.taken_at[0]
        assert snap.taken_at[-1] <= runs[-1].started_at + timedelta(seconds=runs[-1].seconds + 5)
        if snap.leak:
            assert (snap.threads[0], snap.threads[-1]) == (11, 34)
            assert list(snap.threads) == sorted(snap.threads)
        else:
            assert max(snap.threads) < 12
    assert sum(snap.leak for snap in truths) == (kind == "leak")


def test_snapshot_pids_are_those_of_the_running_python(tmp_path: Path) -> None:
    result = simulate("healthy", tmp_path, instances=2, runs=4, seed=1, snapshots="steady")
    for snap in result.snapshots:
        if snap.style == "nlwp":
            pids = [int(p) for p, _, _ in SNAPSHOT_NLWP.findall((tmp_path / snap.file).read_text())]
            assert pids == sorted(pids) and len(set(pids)) > 1  # a new python each run


def test_copies_keep_the_time_they_were_written(tmp_path: Path) -> None:
    before = time.time()
    result = simulate("timeouts", tmp_path / "copy", instances=2, runs=1, copied=True)
    assert all(path.stat().st_mtime >= before - 1 for path in result.files)
    dated = simulate("timeouts", tmp_path / "dated", instances=2, runs=1)
    end = max(run.started_at + timedelta(seconds=run.seconds) for run in dated.runs)
    assert all(path.stat().st_mtime <= end.timestamp() + 5 for path in dated.files)
    assert file_bytes(tmp_path / "copy") == file_bytes(tmp_path / "dated")


def test_the_degraded_fleet_is_dense_with_fallback_lines(tmp_path: Path) -> None:
    """The guide's mix, as real degraded logs print it: a fallback line on every task of a
    degraded run, and about 1.5 % of lines sample timeouts."""
    result = simulate("degraded", tmp_path, instances=8, runs=5, seed=3)
    paths = Counter(r.path for r in result.runs)
    assert paths == {"process": 30, "thread": 6, "sequential": 4}
    for run in result.runs:
        if run.path == "thread":
            assert run.processpool_failed == run.tasks > 0
        if run.path == "sequential":
            assert run.overloads == run.tasks > 0
    timeouts = sum(r.sample_timeouts for r in result.runs)
    assert 0.01 < timeouts / result.lines < 0.02
