"""Hostile run boundaries and numbers: consoles two instances wrote at once, ``date`` lines
in other locales, iterations without a ``date`` line, numbers no integer type holds.

Every input is built here, line by line from log-formats.md, and read by the installed
poolwatch in a process of its own. Each case checks no traceback, the exit code, the runs
and outcomes an operator counts by hand, and counts against ``grep -c``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from .conftest import Done, grep_count, poolwatch

CEST = timedelta(hours=2)
#: When the first instance's first iteration starts (UTC).
T0 = datetime(2025, 10, 14, 7, 36, 8, tzinfo=UTC)


def c_date(at: datetime, zone: timedelta = CEST, name: str = "CEST") -> str:
    """``date`` in the C locale, at UTC time ``at`` shown in a zone: ``Tue Oct 14 ...``."""
    local = at + zone
    return f"{local:%a %b} {local.day:2d} {local:%H:%M:%S} {name} {local.year}"


@dataclass(frozen=True)
class Task:
    """One ARC task of a run: its id, and the fallback line its executor choice printed."""

    tid: str
    fallback: str | None = None


@dataclass
class Iteration:
    """One iteration of run_card.sh: ``date``, banner, generation, ``Running:``, run_batt."""

    instance: str
    tasks: Sequence[Task]
    closed: bool = True
    date: str | None = ""
    """The ``date`` line's text; "" for the C locale at the iteration's time; None: none."""
    running: str | None = None
    """The ``Running:`` line, if not the usual one."""
    lines: list[tuple[float, str, bool]] = field(default_factory=list)

    def at(self, start: float) -> tuple[float, list[tuple[float, str, bool]]]:
        """Its lines from ``start`` (seconds after T0): (time, line, on stdout) each, and
        when the next iteration starts."""
        now = start
        out: list[tuple[float, str, bool]] = []

        def say(after: float, line: str, stdout: bool = True) -> None:
            nonlocal now
            now += after
            out.append((now, line, stdout))

        count = len(self.tasks)
        run_log = f"tmp_batt_{self.instance}_run"
        if self.date is not None:
            say(0, self.date or c_date(T0 + timedelta(seconds=start)), False)
        say(0.01, "=== NO GPU - CPU MODE ===", False)
        say(0.3, "Card.py: Generating standard batt for CPU", False)
        say(0.01, "Timeout: 10.0s", False)
        say(0.2, f"Generating batt: python card.py -c 32 -f {run_log}.py", False)
        running = f"Running: python run_batt.py -t 10.0 -c -{count} -b {run_log}"
        say(1.4, self.running or running, False)
        say(0.9, "run_batt.py:72: GPU Support: Disabled (CuPy not available)")
        for index, task in enumerate(self.tasks):
            say(0.2, f"run_batt.py:840: -- {task.tid} - {index} start --")
            say(0.01, f"run_batt.py:476: -- {task.tid} - {index} --")
            if task.fallback:
                say(0.05, f"run_batt.py:591: -- {task.fallback}")
            for sample in range(3):
                say(0.5, f"run_batt.py:428: demo[{sample}] - {task.tid} - {7 + sample}")
            say(0.5, f"run_batt.py:428: test[0] - {task.tid} - 3")
            if not self.closed and index == count - 1:
                return now + 600 - (now - start), out  # killed here: a silent hang
            say(0.3, "run_batt.py:682: -- Demo+Test scoring: 24 outputs, 3 matches, 40 diff calls")
            say(0.01, f"run_batt.py:845: -- {task.tid} - {index} scored --")
            say(0.01, f"run_batt.py:850: -- {task.tid} - {index} done - 12 candidates scored")
        say(0.1, f"{count} tasks - 0 timeouts")
        took = now - start - 2.8
        say(0.001, "Timing summary (seconds):")
        say(0.0005, f"  main.run_batt                       {took:.3f}")
        say(0.0005, f"  run_batt.check_batt                 {took * 0.8:.3f}")
        return now + 0.5, out


def instance_lines(
    iterations: Sequence[Iteration], start: float
) -> list[tuple[float, str, bool, int]]:
    """One run_card.sh instance's console lines, timed: (time, line, on stdout, iteration)."""
    out: list[tuple[float, str, bool, int]] = []
    for number, iteration in enumerate(iterations):
        start, lines = iteration.at(start)
        out += [(when, line, stdout, number) for when, line, stdout in lines]
    return out


def write(path: Path, lines: Sequence[str], ending: str = "\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes("".join(line + ending for line in lines).encode())
    return path


def report(logs: Path, out: Path) -> tuple[Done, dict[str, Any]]:
    """``poolwatch report LOGS --format json``: the process and its summary.json."""
    done = poolwatch("report", logs, "--out", out, "--format", "json").clean()
    assert done.code == 0, done.err
    return done, json.loads((out / "summary.json").read_text())


def tables(logs: Path, out: Path) -> dict[str, pd.DataFrame]:
    """``poolwatch parse LOGS --out DIR/``: every table."""
    done = poolwatch("parse", "--quiet", logs, "--out", f"{out}/").clean()
    assert done.code == 0, done.err
    names = ("runs", "events", "files", "monitor")
    return {name: pd.read_parquet(out / f"{name}.parquet") for name in names}


A = "Xa3k9Q"
MEMORY = "ProcessPoolExecutor failed (OSError: [Errno 12] Cannot allocate memory), trying ThreadPoolExecutor"  # noqa: E501


# --- run boundaries: date lines in other locales, iterations without one -----------------

#: ``date`` in other locales, each at 09:36:08 local on 14 October 2025, and that time in UTC.
LOCALES = {
    "ja_JP": ("2025年 10月 14日 火曜日 09:36:08 JST", "2025-10-14T00:36:08+00:00"),
    "zh_CN": ("2025年 10月 14日 星期二 09:36:08 CST", "2025-10-14T01:36:08+00:00"),
    "ko_KR": ("2025. 10. 14. (화) 09:36:08 KST", "2025-10-14T00:36:08+00:00"),
    "de_DE": ("Di 14. Okt 09:36:08 CEST 2025", "2025-10-14T07:36:08+00:00"),
    "de_DE glibc 2.3x": ("Di 14. Okt 2025 09:36:08 CEST", "2025-10-14T07:36:08+00:00"),
    "fr_FR": ("mar. 14 oct. 2025 09:36:08 CEST", "2025-10-14T07:36:08+00:00"),
    "es_ES": ("mar 14 oct 2025 09:36:08 CEST", "2025-10-14T07:36:08+00:00"),
    "it_IT": ("mar 14 ott 2025, 09:36:08, CEST", "2025-10-14T07:36:08+00:00"),
    "ru_RU": ("вт 14 окт 2025 09:36:08 MSK", "2025-10-14T06:36:08+00:00"),
    "pl_PL": ("wto, 14 paź 2025, 09:36:08 CEST", "2025-10-14T07:36:08+00:00"),
    "en_GB": ("Tue 14 Oct 09:36:08 BST 2025", "2025-10-14T08:36:08+00:00"),
    "en_US": ("Tue Oct 14 09:36:08 AM EDT 2025", "2025-10-14T13:36:08+00:00"),
    "ISO": ("2025-10-14 09:36:08", "2025-10-14T09:36:08+00:00"),
    "date -Iseconds": ("2025-10-14T09:36:08+02:00", "2025-10-14T07:36:08+00:00"),
    "date -R": ("Tue, 14 Oct 2025 09:36:08 +0200", "2025-10-14T07:36:08+00:00"),
}


def _four_runs(first_date: str | None, later: str | None = "") -> list[str]:
    """A console of four completed runs of one instance; the first starts with
    ``first_date`` (None: no date line), the others with ``later`` ("": C locale)."""
    start, lines = 0.0, []
    for number in range(4):
        tasks = [Task(f"{number}a1b2c3d"), Task(f"{number}b2c3d4e")]
        date = first_date if number == 0 else later
        start, timed = Iteration(A, tasks, date=date).at(start)
        start += 600
        lines += [line for _, line, _ in timed]
    return lines


@pytest.mark.parametrize("locale", list(LOCALES))
def test_a_date_line_in_another_locale_starts_its_run_at_its_time(
    tmp_path: Path, locale: str
) -> None:
    text, utc = LOCALES[locale]
    console = write(tmp_path / "logs" / "run_card.log", _four_runs(text))
    _, summary = report(console.parent, tmp_path / "out")
    assert summary["runs"]["total"] == 4 == grep_count("Running:", console)
    assert summary["runs"]["completed"] == 4 == grep_count(" tasks - ", console)
    assert summary["metrics"]["timeout_rate"]["value"] == 0
    assert summary["inputs"]["unparsed_lines"] == 0
    runs = tables(console.parent, tmp_path / "tables")["runs"]
    assert runs["started_at"].iloc[0] == pd.Timestamp(utc)
    assert runs["line"].tolist()[:2] == [1, 30]


@pytest.mark.parametrize(
    ("date", "first_line"),
    [
        ("ti 14.10.2025 klo 9.36.08", 2),  # fi_FI: a layout poolwatch does not read
        ("Sternzeit 2025.10 09:36", 2),
        ("Tue Oct 99 99:99:99 CEST 99999", 2),
        ("2025-13-45 25:61:61", 1),  # a date line, but no date
        (None, 1),  # no date line at all: the banner starts the iteration
    ],
)
def test_a_date_that_cannot_be_read_keeps_its_run_whole(
    tmp_path: Path, date: str | None, first_line: int
) -> None:
    console = write(tmp_path / "logs" / "run_card.log", _four_runs(date))
    _, summary = report(console.parent, tmp_path / "out")
    assert summary["runs"]["total"] == 4 == grep_count("Running:", console)
    assert summary["runs"]["completed"] == 4
    assert summary["metrics"]["timeout_rate"]["value"] == 0
    runs = tables(console.parent, tmp_path / "tables")["runs"]
    assert runs["line"].tolist()[0] == first_line
    assert pd.isna(runs["started_at"].iloc[0])
    assert runs["started_at"].iloc[1:].notna().all()


def test_iterations_without_date_lines_are_told_apart_by_their_banner(tmp_path: Path) -> None:
    lines = _four_runs(None, later=None)
    console = write(tmp_path / "logs" / "run_card.log", lines)
    _, summary = report(console.parent, tmp_path / "out")
    assert summary["runs"]["total"] == 4 == grep_count("=== NO GPU - CPU MODE ===", console)
    assert summary["runs"]["completed"] == 4
    runs = tables(console.parent, tmp_path / "tables")["runs"]
    assert runs["line"].tolist() == [1 + i * len(lines) // 4 for i in range(4)]


def test_crlf_console_reads_as_the_same_runs(tmp_path: Path) -> None:
    lines = _four_runs("")
    console = write(tmp_path / "logs" / "run_card.log", lines, ending="\r\n")
    _, summary = report(console.parent, tmp_path / "out")
    assert summary["runs"]["total"] == 4
    assert summary["runs"]["completed"] == 4
    assert summary["window"]["start"] == "2025-10-14T07:36:08+00:00"
    assert summary["inputs"]["unparsed_lines"] == 0


def test_a_run_log_of_run_batt_alone_is_one_run(tmp_path: Path) -> None:
    _, lines = Iteration(A, [Task("0a1b2c3d"), Task("1b2c3d4e", MEMORY)]).at(0)
    log = write(tmp_path / "logs" / f"tmp_batt_{A}_run.log", [t for _, t, out in lines if out])
    _, summary = report(log.parent, tmp_path / "out")
    assert summary["runs"]["total"] == 1
    assert summary["runs"]["completed"] == 1
    assert summary["counts"]["processpool_failed"] == 1 == grep_count("ProcessPool", log)


# --- two instances in one nohup.out -------------------------------------------------------

B = "Pq7Lm2"


def _instance(name: str, number: int, *, killed: int | None = None) -> list[Iteration]:
    """Three iterations of one instance, two tasks each; the second task of the first run
    falls back to the ThreadPool; iteration ``killed`` hangs in its last task."""
    return [
        Iteration(
            name,
            [Task(f"{number}{i}a1b2c3"), Task(f"{number}{i}b2c3d4", MEMORY if i == 0 else None)],
            closed=i != killed,
        )
        for i in range(3)
    ]


def _nohup(a: list[Iteration], b: list[Iteration], lag: float) -> list[tuple[str, bool, str]]:
    """Two instances' console lines as one ``nohup.out`` gets them, ``lag`` seconds apart:
    in time order, each with whether it went to standard output and its instance."""
    timed = [(*line, A) for line in instance_lines(a, 0)]
    timed += [(*line, B) for line in instance_lines(b, lag)]
    timed.sort(key=lambda row: row[0])
    return [(line, stdout, name) for _, line, stdout, _, name in timed]


def _last_run_log(logs: Path, name: str, rows: list[tuple[str, bool, str]]) -> None:
    """``tmp_batt_<name>_run.log``: the stdout of that instance's last run, as tee leaves it."""
    mine = [line for line, stdout, owner in rows if owner == name]
    last = max(i for i, line in enumerate(mine) if line.startswith("Running:"))
    stdout = {line for line, out, owner in rows if owner == name and out}
    write(logs / f"tmp_batt_{name}_run.log", [t for t in mine[last + 1 :] if t in stdout])


@pytest.mark.parametrize(
    ("lag", "exact"),
    [
        (0.35, True),
        (3.1, True),
        # B's fallback line comes 0.06 s after its task's start, and A's next task starts
        # in between: either of the two open tasks could have printed it.
        (17.0, False),
    ],
)
def test_two_instances_in_one_nohup_out_are_told_apart(
    tmp_path: Path, lag: float, exact: bool
) -> None:
    rows = _nohup(_instance(A, 1), _instance(B, 2), lag)
    logs = tmp_path / "logs"
    nohup = write(logs / "nohup.out", [line for line, _, _ in rows])
    for name in (A, B):
        _last_run_log(logs, name, rows)
    _, summary = report(logs, tmp_path / "out")
    assert summary["runs"]["total"] == 6 == grep_count("Running:", nohup)
    assert summary["runs"]["completed"] == 6 == grep_count(" tasks - ", nohup)
    assert summary["metrics"]["timeout_rate"]["value"] == 0
    assert summary["inputs"]["duplicates"] == 2  # each run log is its instance's last run
    found = tables(logs, tmp_path / "tables")
    runs, events, files = found["runs"], found["events"], found["files"]
    assert runs.groupby("instance", observed=True).size().to_dict() == {
        f"tmp_batt_{A}": 3,
        f"tmp_batt_{B}": 3,
    }
    assert (runs["tasks_started"] == 2).all() and (runs["tasks_done"] == 2).all()
    starts = events[events["kind"] == "task_start"]
    for instance, number in zip(runs["instance"].astype(str), runs["run"], strict=True):
        mine = starts[(starts["instance"] == instance) & (starts["run"] == number)]
        # a run's tasks are its instance's: A's ids start with 1, B's with 2
        assert mine["task"].str[0].tolist() == ["1" if instance.endswith(A) else "2"] * 2
    assert runs["samples"].isna().all()  # progress lines of two instances cannot be told apart
    assert (runs["seconds"].dropna() > 0).all()
    fallbacks = events[events["kind"] == "processpool_failed"]
    assert len(fallbacks) == 2 == grep_count("ProcessPoolExecutor failed", nohup)
    if exact:
        assert fallbacks.set_index("instance")["task"].to_dict() == {
            f"tmp_batt_{A}": "10b2c3d4",
            f"tmp_batt_{B}": "20b2c3d4",
        }
    reason = str(files.set_index("path").loc[str(nohup), "reason"])
    assert f"interleaves the console lines of 2 instances (tmp_batt_{A}, tmp_batt_{B})" in reason


def test_a_run_killed_in_a_nohup_out_of_two_instances_is_the_only_one_killed(
    tmp_path: Path,
) -> None:
    rows = _nohup(_instance(A, 1, killed=1), _instance(B, 2), 0.35)
    nohup = write(tmp_path / "logs" / "nohup.out", [line for line, _, _ in rows])
    _, summary = report(nohup.parent, tmp_path / "out")
    assert summary["runs"]["total"] == 6 == grep_count("Running:", nohup)
    assert summary["runs"]["completed"] == 5 == grep_count(" tasks - ", nohup)
    runs = tables(nohup.parent, tmp_path / "tables")["runs"]
    killed = runs[runs["end"] == "killed"]
    assert [(r.instance, r.tasks_started, r.tasks_done) for r in killed.itertuples()] == [
        (f"tmp_batt_{A}", 2, 1)
    ]
    later = runs["line"] > killed["line"].iloc[0]
    next_of_a = runs[(runs["instance"] == f"tmp_batt_{A}") & later]
    assert killed["end_evidence"].iloc[0] == (
        f"no closing line; the next run starts at line {next_of_a['line'].min()}"
    )


def test_consoles_one_after_the_other_in_a_file_read_as_each_alone(tmp_path: Path) -> None:
    a = [line for _, line, _, _ in instance_lines(_instance(A, 1), 0)]
    b = [line for _, line, _, _ in instance_lines(_instance(B, 2), 0)]
    both = write(tmp_path / "both" / "consoles.log", a + b)
    alone = write(tmp_path / "alone" / "a.log", a).parent
    write(alone / "b.log", b)
    together = tables(both.parent, tmp_path / "t1")
    apart = tables(alone, tmp_path / "t2")
    columns = ["instance", "end", "tasks_started", "tasks_done", "samples", "seconds"]
    pd.testing.assert_frame_equal(
        together["runs"][columns].astype({"instance": str}),
        apart["runs"][columns].astype({"instance": str}),
    )
    assert together["files"]["reason"].isna().all()


# --- numbers no integer type holds ------------------------------------------------------

HUGE = "99999999999999999999"


@dataclass(frozen=True)
class Huge:
    """A line with a number out of range: the event kind it stays, its event's fields and
    its run's columns that must read as unknown."""

    line: str
    kind: str
    fields: tuple[str, ...] = ()
    run: tuple[str, ...] = ()


RUNNING = "Running: python run_batt.py"
HUGE_RUN_LINES = {
    "-c": Huge(
        f"{RUNNING} -t 10.0 -c -{HUGE}999 -b tmp_batt_{A}_run",
        "run_start",
        (),
        ("requested_tasks",),
    ),
    "-c Int32 min": Huge(
        f"{RUNNING} -t 10.0 -c -2147483648 -b tmp_batt_{A}_run",
        "run_start",
        (),
        ("requested_tasks",),
    ),
    "-c Int32 max + 1": Huge(
        f"{RUNNING} -c 2147483648 -b tmp_batt_{A}_run", "run_start", (), ("requested_tasks",)
    ),
    "-c Int64 min": Huge(
        f"{RUNNING} -c -9223372036854775808 -b tmp_batt_{A}_run",
        "run_start",
        (),
        ("requested_tasks",),
    ),
    "timeout": Huge(
        f"Running: timeout -k 5s {HUGE}s python run_batt.py -c -2 -b tmp_batt_{A}_run",
        "run_start",
        (),
        ("timeout_s",),
    ),
    "-t": Huge(f"{RUNNING} -t {HUGE}.5 -c -2 -b tmp_batt_{A}_run", "run_start"),
    "threads": Huge(
        f"run_batt.py:539: -- System overloaded ({HUGE} threads), using sequential processing",
        "overload",
        ("threads",),
        ("max_threads",),
    ),
    "closing line": Huge(
        f"{HUGE} tasks - {HUGE} timeouts",
        "run_end",
        ("count", "timeouts"),
        ("reported_tasks", "reported_timeouts"),
    ),
    "timing row": Huge(
        f"  main.run_batt                 {HUGE}{HUGE}.5",
        "timing_total",
        ("seconds",),
        ("total_seconds",),
    ),
    "timing row, 400 digits": Huge(
        "  main.run_batt   " + "9" * 400, "timing_total", ("seconds",), ("total_seconds",)
    ),
    "sample index": Huge(
        f"run_batt.py:419: -- 0a1b2c3d - test[{HUGE}] timed out",
        "sample_timeout",
        ("sample_index",),
    ),
    "collection timeout": Huge(
        f"run_batt.py:419: -- 0a1b2c3d - demo[0] result collection timed out after {HUGE}s",
        "sample_timeout",
        ("seconds",),
    ),
    "leaked": Huge(
        f"resource_tracker: There appear to be {HUGE} leaked semlock objects to clean up",
        "leaked_semaphores",
        ("count",),
    ),
    "timeout after": Huge(f"bash run_card.sh timeout after {HUGE}s", "timeout_kill", ("seconds",)),
}


def _run_with(line: str) -> list[str]:
    """A console of two runs, the first with ``line`` in the middle of its first task."""
    _, first = Iteration(A, [Task("0a1b2c3d"), Task("1b2c3d4e")]).at(0)
    _, second = Iteration(A, [Task("2c3d4e5f")]).at(700)
    lines = [text for _, text, _ in first]
    lines.insert(9, line)
    return lines + [text for _, text, _ in second]


@pytest.mark.parametrize("case", list(HUGE_RUN_LINES))
def test_a_number_out_of_range_in_a_run_line_reads_as_unknown(tmp_path: Path, case: str) -> None:
    huge = HUGE_RUN_LINES[case]
    line, kind = huge.line, huge.kind
    lines = _run_with(line)
    own = {"run_start": "Running: ", "run_end": "2 tasks - ", "timing_total": "  main.run_batt"}
    if kind in own:  # in place of the first run's own line of that kind
        del lines[9]
        lines[next(i for i, text in enumerate(lines) if text.startswith(own[kind]))] = line
    console = write(tmp_path / "logs" / "run_card.log", lines)
    _, summary = report(console.parent, tmp_path / "out")
    assert summary["runs"]["total"] == 2 == grep_count("Running:", console)
    assert summary["runs"]["completed"] == 2 == grep_count(" tasks - ", console)
    found = tables(console.parent, tmp_path / "tables")
    events = found["events"]
    kept = events[events["line"] == lines.index(line) + 1]
    assert kept["kind"].astype(str).tolist() == [kind]
    assert kept[list(huge.fields)].isna().all(axis=None), kept.iloc[0].to_dict()
    first = found["runs"].iloc[0]
    assert first[list(huge.run)].isna().all(), first.to_dict()
    done = poolwatch("check", console.parent).clean()
    assert done.code in (0, 1, 2), done.out


def test_a_task_line_with_numbers_out_of_range_keeps_its_task(tmp_path: Path) -> None:
    lines = _run_with(f"run_batt.py:840: -- 9a8b7c6d - {HUGE} start --")
    lines.insert(10, f"run_batt.py:428: demo[{HUGE}] - 9a8b7c6d - {HUGE}")
    lines.insert(11, f"run_batt.py:850: -- 9a8b7c6d - {HUGE} done - {HUGE} candidates scored")
    console = write(tmp_path / "logs" / "run_card.log", lines)
    _, summary = report(console.parent, tmp_path / "out")
    assert summary["runs"]["total"] == 2
    events = tables(console.parent, tmp_path / "tables")["events"]
    done = events[(events["kind"] == "task_done") & (events["task"] == "9a8b7c6d")]
    assert len(done) == 1 and pd.isna(done["count"].iloc[0])
    assert len(events[events["kind"] == "task_done"]) == grep_count("candidates scored", console)


MONITOR_HEAD = ["=== Week 6B Monitoring Started ===", "Sat Nov 28 11:35:50 UTC 2026"]
HUGE_MONITOR_LINES = {
    "alert count": f"⚠️  ALERT: System overloaded detected {HUGE} times in last 100 lines",
    "threadpool alert": f"❌ ALERT: ThreadPool failures {HUGE} times (extreme load)",
    "record counts": (
        f"2026-11-28 11:36:50 | Threads: Python={HUGE} System={HUGE} | "
        f"Fails: Process={HUGE} Thread={HUGE} Overload={HUGE}"
    ),
    "record time": "2026-99-99 99:99:99 | Threads: Python=1 System=92 | Fails: Process=1 Thread=0 Overload=0",  # noqa: E501
}


@pytest.mark.parametrize("case", list(HUGE_MONITOR_LINES))
def test_a_number_out_of_range_in_the_monitor_log_reads_as_unknown(
    tmp_path: Path, case: str
) -> None:
    line = HUGE_MONITOR_LINES[case]
    lines = [
        *MONITOR_HEAD,
        "2026-11-28 11:35:50 | Threads: Python=1 System=92 | Fails: Process=0",
        "0 Thread=0",
        "0 Overload=1",
        line,
    ]
    monitor = write(tmp_path / "logs" / "week6b_monitoring.log", lines)
    _, summary = report(monitor.parent, tmp_path / "out")
    assert summary["monitor"]["samples"] == grep_count("| Threads:", monitor)
    assert summary["monitor"]["alerts"] == grep_count("ALERT:", monitor)
    frame = tables(monitor.parent, tmp_path / "tables")["monitor"]
    row = frame[frame["line"] == len(lines)]
    assert len(row) == 1
    numbers = row[["python_threads", "system_threads", "process_fails", "thread_fails",
                   "overload", "alert_count"]]  # fmt: skip
    if case == "record time":
        assert numbers.iloc[0].tolist()[:3] == [1, 92, 1], numbers.to_dict("records")
    else:
        assert numbers.isna().all(axis=None), numbers.to_dict("records")


@pytest.mark.parametrize(
    ("name", "lines", "threads", "message"),
    [
        (
            "threads_tmp_batt_Xa3k9Q.txt",
            ["$ date; ps -o nlwp 48213", "Tue Oct 14 09:36:08 CEST 2025", "NLWP", f"   {HUGE}"],
            None,
            "ps -o nlwp 48213",
        ),
        (
            "threads.txt",
            [f"$ ps -o pid,nlwp -p {HUGE}", "PID NLWP", f"{HUGE} 11"],
            11,
            "ps -o nlwp",
        ),
        (f"nlwp_pid{HUGE}.txt", ["$ ps -o nlwp", "NLWP", "   11"], 11, "ps -o nlwp"),
        (
            "active.txt",
            [
                "$ python -c 'import threading; print(threading.active_count())'",
                f"Active threads: {HUGE}",
            ],
            None,
            "threading.active_count()",
        ),
    ],
)
def test_a_number_out_of_range_in_a_snapshot_reads_as_unknown(
    tmp_path: Path, name: str, lines: list[str], threads: int | None, message: str
) -> None:
    snapshot = write(tmp_path / "logs" / name, lines)
    _, summary = report(snapshot.parent, tmp_path / "out")
    assert summary["inputs"]["files"] == 1
    events = tables(snapshot.parent, tmp_path / "tables")["events"]
    counts = events[events["kind"] == "thread_snapshot"]
    assert counts["line"].tolist() == [len(lines)]
    assert counts["message"].tolist() == [message]
    got = counts["threads"].iloc[0]
    assert (pd.isna(got) and threads is None) or got == threads, got


def test_a_host_thread_count_out_of_range_reads_as_unknown(tmp_path: Path) -> None:
    snapshot = write(
        tmp_path / "logs" / "host.txt", ["$ ps -eLf | wc -l", HUGE, "$ ps -eLf | wc -l", "412"]
    )
    report(snapshot.parent, tmp_path / "out")
    events = tables(snapshot.parent, tmp_path / "tables")["events"]
    counts = events[events["kind"] == "thread_snapshot"]
    assert counts["line"].tolist() == [2, 4]
    assert pd.isna(counts["count"].iloc[0]) and counts["count"].iloc[1] == 412


def test_the_largest_numbers_a_count_holds_are_kept(tmp_path: Path) -> None:
    top = "2147483647"
    lines = _run_with(f"run_batt.py:539: -- System overloaded ({top} threads), using sequential")
    lines[5] = f"Running: timeout -k 5s {top}s python run_batt.py -c -{top} -b tmp_batt_{A}_run"
    console = write(tmp_path / "logs" / "run_card.log", lines)
    _, summary = report(console.parent, tmp_path / "out")
    assert summary["runs"]["total"] == 2
    assert summary["counts"]["system_overloaded"] == 1 == grep_count("System overloaded", console)
    assert summary["metrics"]["thread_count"]["value"] == int(top)
    runs = tables(console.parent, tmp_path / "tables")["runs"]
    assert runs[["requested_tasks", "timeout_s", "max_threads"]].iloc[0].tolist() == [
        int(top), float(top), int(top),
    ]  # fmt: skip
    done = poolwatch("check", console.parent).clean()
    assert done.code == 2, done.out
