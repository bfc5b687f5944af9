"""Daily summaries, the history store behind them, and post-deployment reviews, as the
cron job and the engineer run them."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta, tzinfo
from functools import partial
from pathlib import Path

import jsonschema
import pandas as pd
import pytest
from click.testing import CliRunner
from dateutil import tz
from markupsafe import escape

from conftest import LOGS
from poolwatch import api
from poolwatch.analyze.days import days_in, only_day, run_days, runs_on
from poolwatch.cli import main
from poolwatch.ingest.parse import ingest
from poolwatch.render.json import schema
from poolwatch.simulate import simulate

DAY = date(2026, 11, 20)


def run(*args: str) -> tuple[int, str, str]:
    """Invoke the CLI; return exit code, stdout and stderr."""
    done = CliRunner().invoke(main, list(args))
    return done.exit_code, done.stdout, done.stderr


@pytest.fixture(scope="module")
def three_days(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Logs of three days of one host, a folder a day named by its date: healthy,
    healthy, overloaded (4 instances, 3 runs each)."""
    logs = tmp_path_factory.mktemp("days")
    for i, scenario in enumerate(("healthy", "healthy", "overloaded")):
        start = datetime(DAY.year, DAY.month, DAY.day + i, 8, 0, tzinfo=UTC)
        simulate(scenario, _day(logs, i), instances=4, runs=3, seed=i, start=start)
    return logs


def _day(logs: Path, offset: int) -> Path:
    """The folder of the day ``offset`` days after the first."""
    return logs / (DAY + timedelta(days=offset)).isoformat()


def test_a_run_belongs_to_the_day_it_started_in_the_given_timezone(tmp_path: Path) -> None:
    start = datetime(DAY.year, DAY.month, DAY.day, 23, 56, tzinfo=UTC)  # runs of about 80 s
    simulate("healthy", tmp_path, instances=3, runs=4, seed=2, start=start)
    result = ingest([str(tmp_path)])
    runs = result.runs
    utc_days = run_days(result, tz.UTC)
    # In UTC the fleet straddles midnight: each run counts on the day of its start.
    assert set(utc_days) == {DAY, DAY + timedelta(days=1)}
    for started, day in zip(runs["started_at"], utc_days, strict=True):
        assert started.date() == day
    # A run that started before midnight and ended after it stays on the first day.
    took = runs["total_seconds"].astype("Float64").fillna(runs["seconds"].astype("Float64"))
    ends = runs["started_at"] + pd.to_timedelta(took.astype(float), unit="s")
    crossing = (runs["started_at"].dt.date == DAY) & (ends.dt.date == DAY + timedelta(days=1))
    assert crossing.any()
    assert all(utc_days[crossing] == DAY)
    # Nine hours ahead, every run started the next morning.
    tokyo = tz.gettz("Asia/Tokyo")
    assert tokyo is not None
    assert set(run_days(result, tokyo)) == {DAY + timedelta(days=1)}
    # The day's logs hold only its runs, their tasks and events, and its monitor records.
    first = only_day(result, DAY, tz.UTC)
    assert len(first.runs) == int((utc_days == DAY).sum())
    assert set(first.tasks["run"]) <= set(first.runs["run"])
    assert first.monitor["timestamp"].dt.date.eq(DAY).all()
    assert days_in(result, tz.UTC) == [DAY, DAY + timedelta(days=1)]


def test_daily_records_each_day_once_and_writes_an_index(three_days: Path, tmp_path: Path) -> None:
    store, out = tmp_path / "store", tmp_path / "out"
    common = ("--tz", "UTC", "--store", str(store), "--out", str(out), "--format", "json,html")
    for offset in (0, 1, 2, 2):  # the last day twice: a re-run replaces it
        day = (DAY + timedelta(days=offset)).isoformat()
        code, stdout, stderr = run("daily", str(three_days), "--day", day, *common)
        assert code == 0, stderr
        assert stdout.startswith(f"{day}: ")
    code, table, _ = run("history", "--store", str(store), "--csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(table)))
    assert [r["day"][:10] for r in rows] == ["2026-11-20", "2026-11-21", "2026-11-22"]
    assert [r["verdict"] for r in rows] == ["healthy", "healthy", "critical"]
    assert [r["runs"] for r in rows] == ["12", "12", "12"]
    index = (out / "index.html").read_text()
    for day in ("2026-11-20", "2026-11-21", "2026-11-22"):
        assert f'href="{day}/report.html"' in index
    assert index.count('class="badge badge-') == 3
    summary = json.loads((out / "2026-11-22" / "summary.json").read_text())
    jsonschema.validate(summary, schema())
    changes = summary["history"]["changes"]
    pp = changes["processpool_fallback_rate"]
    yesterday = float(rows[1]["processpool_fallback_rate"])
    assert pp["vs_yesterday"] == pytest.approx(pp["value"] - yesterday, abs=0.01)
    assert pp["text"].startswith(f"ProcessPool fallback {pp['value']:.0f} % (+")
    assert " pts vs yesterday, " in pp["text"]
    page = (out / "2026-11-22" / "report.html").read_text()
    assert '<a href="#history">Against the history</a>' in page  # in the contents too
    assert "<title>poolwatch daily summary 2026-11-22: Critical</title>" in page
    assert "<h1>Daily summary 2026-11-22: fleet critical</h1>" in page
    assert '<a href="../index.html">All days</a>' in page
    # Two days before it: their median, said to be of two days, never a "7-day median".
    assert "against the day before and the median of the 2 days recorded before it" in page
    assert "vs the median of the 2 days recorded" in pp["text"]
    assert changes["runs"]["text"].startswith("Runs 12 (")
    # The index: each day's sentence and its files, linked.
    for day in ("2026-11-20", "2026-11-21", "2026-11-22"):
        sentence = json.loads((out / day / "summary.json").read_text())["summary"]
        assert f'<span class="sub">{escape(sentence)}</span>' in index
    assert 'href="2026-11-22/report.pdf"' not in index  # json,html: no PDF that day


def test_keep_prunes_old_days(three_days: Path, tmp_path: Path) -> None:
    store = tmp_path / "store"
    for offset in range(3):
        day = (DAY + timedelta(days=offset)).isoformat()
        code, _, stderr = run("daily", str(three_days), "--day", day, "--tz", "UTC", "--store",
                              str(store), "--out", str(tmp_path / "out"), "--format", "json",
                              "--keep", "2")  # fmt: skip
        assert code == 0, stderr
    _, table, _ = run("history", "--store", str(store), "--csv")
    assert [r["day"][:10] for r in csv.DictReader(io.StringIO(table))] == [
        "2026-11-21",
        "2026-11-22",
    ]


def test_a_day_without_logs_and_bad_options_fail_on_one_line(
    three_days: Path, tmp_path: Path
) -> None:
    base = ("--store", str(tmp_path / "s"), "--out", str(tmp_path / "o"))
    code, _, err = run("daily", str(three_days), "--day", "2026-01-01", "--tz", "UTC", *base)
    assert code == 1
    assert "no run or monitor record on 2026-01-01" in err
    assert "2026-11-22" in err
    code, _, err = run("daily", str(three_days), "--day", "someday", *base)
    assert code == 2 and "'someday' is not YYYY-MM-DD" in err
    code, _, err = run("daily", str(three_days), "--tz", "Mars/Olympus", *base)
    assert code == 2 and "unknown timezone 'Mars/Olympus'" in err
    code, _, err = run("history", "--store", str(tmp_path / "empty"))
    assert code == 1 and "no day recorded yet" in err


def test_post_deployment_review(three_days: Path, tmp_path: Path) -> None:
    out = tmp_path / "review"
    code, stdout, stderr = run("report", str(_day(three_days, 2)), "--out", str(out),
                               "--format", "json,md,html",
                               "--baseline", str(_day(three_days, 0)))  # fmt: skip
    assert code == 0, stderr
    assert "After the deploy, ProcessPool fallback rose from 8 % to 82 %: critical." in stdout
    summary = json.loads((out / "summary.json").read_text())
    jsonschema.validate(summary, schema())
    block = summary["baseline"]
    assert set(block["metrics"]) >= set(summary["metrics"]) - {"threads_per_instance"}
    pp = block["metrics"]["processpool_fallback_rate"]
    assert (pp["before_grade"], pp["after_grade"], pp["crossed"]) == ("healthy", "critical", True)
    assert "Before and after" in (out / "report.html").read_text()
    assert "Before and after" in (out / "ticket.md").read_text()
    # From the store instead: the median of the recorded days before the logs' window.
    store = tmp_path / "store"
    for offset in (0, 1):
        day = (DAY + timedelta(days=offset)).isoformat()
        run("daily", str(three_days), "--day", day, "--tz", "UTC", "--store", str(store),
            "--out", str(tmp_path / "daily"), "--format", "json")  # fmt: skip
    code, stdout, _ = run("report", str(_day(three_days, 2)), "--out", str(tmp_path / "r2"),
                          "--format", "json", "--baseline-days", "7",
                          "--store", str(store))  # fmt: skip
    assert code == 0
    assert "rose from 8 % to 82 %" in stdout  # the median of two days at 8 %
    source = json.loads((tmp_path / "r2" / "summary.json").read_text())["baseline"]["source"]
    assert source.startswith("the median of 2 recorded days, 2026-11-20 to 2026-11-21")


def test_two_daily_jobs_at_once_share_the_store(three_days: Path, tmp_path: Path) -> None:
    store = tmp_path / "store"
    jobs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "poolwatch",
                "daily",
                str(three_days),
                "--day",
                day,
                "--tz",
                "UTC",
                "--store",
                str(store),
                "--out",
                str(tmp_path / "out"),
                "--format",
                "json",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for day in ("2026-11-20", "2026-11-21", "2026-11-21")
    ]
    for job in jobs:
        _, err = job.communicate(timeout=300)
        assert job.returncode == 0, err
    _, table, _ = run("history", "--store", str(store), "--csv")
    assert [r["day"][:10] for r in csv.DictReader(io.StringIO(table))] == [
        "2026-11-20",
        "2026-11-21",
    ]


def test_a_review_against_newer_logs_says_so(three_days: Path, tmp_path: Path) -> None:
    out = tmp_path / "swapped"
    code, _, stderr = run("report", str(_day(three_days, 0)), "--out", str(out), "--format",
                          "json", "--baseline", str(_day(three_days, 2)))  # fmt: skip
    assert code == 0
    assert "ends after these logs begin (before and after may be swapped)" in stderr
    block = json.loads((out / "summary.json").read_text())["baseline"]
    assert "before and after may be swapped" in block["source"]


def test_a_value_unknown_before_crossed_nothing(three_days: Path, tmp_path: Path) -> None:
    """No overload line before: the thread count is unknown there, not comparable."""
    before = tmp_path / "before.log"
    before.write_text(LOGS.joinpath("tmp_batt_Xa3k9Q_run.log").read_text())
    out = tmp_path / "review"
    code, _, stderr = run("report", str(_day(three_days, 2)), "--out", str(out), "--format",
                          "json,html", "--baseline", str(before))  # fmt: skip
    assert code == 0, stderr
    threads = json.loads((out / "summary.json").read_text())["baseline"]["metrics"]["thread_count"]
    assert threads["before"] is None and threads["after"] is not None
    assert threads["crossed"] is False
    page = (out / "report.html").read_text()
    assert f"unknown → {threads['after']:.0f} threads: not comparable</td>" in page


@pytest.fixture(scope="module")
def two_hosts_three_days(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Logs of two hosts over three days, ``<host>/<day>/``: web1 healthy every day, web2
    healthy, healthy, then overloaded (4 instances, 3 runs each)."""
    logs = tmp_path_factory.mktemp("hosts-days")
    for i in range(3):
        start = datetime(DAY.year, DAY.month, DAY.day + i, 8, 0, tzinfo=UTC)
        for k, scenario in enumerate(("healthy", "healthy" if i < 2 else "overloaded")):
            folder = logs / f"web{k + 1}" / (DAY + timedelta(days=i)).isoformat()
            simulate(scenario, folder, instances=4, runs=3, seed=10 * i + k, start=start)
    return logs


def test_daily_keeps_a_row_per_host_and_day(two_hosts_three_days: Path, tmp_path: Path) -> None:
    store, out = tmp_path / "store", tmp_path / "out"
    found = []
    for offset in range(3):
        found.append(
            api.daily([str(two_hosts_three_days)], day=DAY + timedelta(days=offset),
                      zone=UTC, out=out, store=store, formats=("json",))
        )  # fmt: skip
    last = found[-1]
    assert [h.host for h in last.hosts] == ["web2", "web1"]
    # Each host's day is compared with that host's own days: web2's ProcessPool fallback
    # with its two healthy days, not with the fleet's row.
    web2 = last.hosts[0].findings.history
    assert web2 is not None and web2.baseline_days == 2
    recorded = api.history(store)
    own = recorded.trend(7, DAY + timedelta(days=2), "web2")
    changes = {c.name: c for c in web2.changes}
    rates = own["processpool_fallback_rate"].tolist()
    change = changes["processpool_fallback_rate"]
    assert rates[2] > rates[1] and change.vs_yesterday == pytest.approx(rates[2] - rates[1])
    assert change.value == pytest.approx(rates[2])

    code, table, _ = run("history", "--store", str(store), "--host", "web2", "--csv")
    assert code == 0
    assert [r["verdict"] for r in csv.DictReader(io.StringIO(table))] == [
        "healthy", "healthy", "critical"
    ]  # fmt: skip
    _, table, _ = run("history", "--store", str(store), "--host", "web1", "--csv")
    assert [r["verdict"] for r in csv.DictReader(io.StringIO(table))] == ["healthy"] * 3
    _, table, _ = run("history", "--store", str(store), "--csv")
    rows = list(csv.DictReader(io.StringIO(table)))
    assert [r["verdict"] for r in rows] == ["healthy", "healthy", "critical"]
    assert [r["runs"] for r in rows] == ["12", "12", "12"]  # the worst host's runs
    code, shown, _ = run("history", "--store", str(store))
    assert code == 0
    assert shown.rstrip().endswith(
        "hosts recorded: 'web1', 'web2': a day of several hosts shows its worst host's row "
        "here; --host NAME shows one host's days"
    )
    code, _, err = run("history", "--store", str(store), "--host", "db1")
    assert code == 1
    assert err.strip() == (
        f"Error: {store / 'history.duckdb'}: no day recorded for host 'db1' "
        "(hosts recorded: 'web1', 'web2')"
    )
    # The fleet's row of a day is its worst host's, web2 on the last day.
    assert recorded.metrics(DAY + timedelta(days=2)) == recorded.metrics(
        DAY + timedelta(days=2), "web2"
    )
    runs = recorded.runs(DAY, DAY + timedelta(days=2))
    assert runs.groupby("host").size().to_dict() == {"web1": 36, "web2": 36}


def test_each_host_is_reviewed_against_its_own_days(
    two_hosts_three_days: Path, tmp_path: Path
) -> None:
    store = tmp_path / "store"
    for offset in range(2):
        api.daily([str(two_hosts_three_days)], day=DAY + timedelta(days=offset), zone=UTC,
                  out=tmp_path / "out", store=store, formats=("json",))  # fmt: skip
    last = (DAY + timedelta(days=2)).isoformat()
    findings = api.report(
        [str(two_hosts_three_days)],
        host_from=f"{two_hosts_three_days}/{{host}}/{last}/*",
        baseline_days=7,
        store=store,
    )
    days = "the median of 2 recorded days, 2026-11-20 to 2026-11-21, from the history store"
    assert findings.baseline is not None and findings.baseline.source == days
    recorded = api.history(store)
    for h in findings.hosts:
        assert h.findings.baseline is not None
        assert h.findings.baseline.source == f"{days}, host {h.host}"
        rows = {row.key: row for row in h.findings.baseline.rows}
        own = recorded.trend(7, DAY + timedelta(days=1), h.host)["processpool_fallback_rate"]
        assert rows["processpool_fallback_rate"].before == pytest.approx(own.median())
        assert rows["processpool_fallback_rate"].after == pytest.approx(
            next(m.value for m in h.findings.metrics if m.name == "processpool_fallback_rate")
        )
    assert [h.host for h in findings.hosts] == ["web2", "web1"]


def test_each_host_is_reviewed_against_its_own_earlier_logs(two_hosts_three_days: Path) -> None:
    first, last = (str(two_hosts_three_days / "*" / _day_name(i)) for i in (0, 2))
    findings = api.report([last], baseline=[first], host_from="{host}/*/*")
    assert [h.host for h in findings.hosts] == ["web2", "web1"]
    for h in findings.hosts:
        before = api.diagnose(api.read([str(two_hosts_three_days / h.host / _day_name(0))]))
        assert h.findings.baseline is not None
        assert h.findings.baseline.source == f"the logs at {first}, host {h.host}"
        rows = {row.key: row for row in h.findings.baseline.rows}
        assert rows["processpool_fallback_rate"].before == pytest.approx(
            next(m.value for m in before.metrics if m.name == "processpool_fallback_rate")
        )


def _day_name(offset: int) -> str:
    """The folder name of the day ``offset`` days after the first."""
    return (DAY + timedelta(days=offset)).isoformat()


@pytest.mark.parametrize("zone", ["UTC", "Asia/Tokyo"])
def test_a_day_read_alone_is_the_day_cut_out_of_every_day(
    three_days: Path, tmp_path: Path, zone: str
) -> None:
    """daily publishes only its day's runs' tasks and events: the tables are those cut
    out of every day's, row for row and dtype for dtype, runs across midnight too."""
    where = tz.gettz(zone)
    assert where is not None
    midnight = tmp_path / "midnight"
    start = datetime(DAY.year, DAY.month, DAY.day, 23, 56, tzinfo=UTC)
    simulate("overloaded", midnight, instances=3, runs=4, seed=2, start=start)
    # The hand-written logs too (log-formats.md's console, run log and monitor log).
    for logs in (three_days, midnight, LOGS, LOGS.parent.parent / "sample_logs" / "overloaded"):
        _cut_days_are_the_days(logs, where)


def _cut_days_are_the_days(logs: Path, where: tzinfo) -> None:
    """Each day of ``logs`` read alone is that day cut out of all of them."""
    every = api.read([str(logs)])
    days = days_in(every, where)
    for day in days:
        alone = api.read([str(logs)], wanted=partial(runs_on, day=day, zone=where))
        others = len(every.runs) - len(runs_on(every.runs, every.files, day=day, zone=where))
        if others:  # the other days' runs' tasks and events were never published
            assert len(alone.events) < len(every.events)
            assert len(alone.tasks) < len(every.tasks)
        cut, expected = only_day(alone, day, where), only_day(every, day, where)
        for name in ("runs", "tasks", "events", "monitor", "samples", "host_samples", "files"):
            pd.testing.assert_frame_equal(cut.table(name), expected.table(name), obj=name)


def test_a_first_day_says_there_is_nothing_to_compare_it_with(
    three_days: Path, tmp_path: Path
) -> None:
    args = ("--tz", "UTC", "--store", str(tmp_path / "store"), "--format", "html")
    first = DAY.isoformat()
    code, _, err = run("daily", str(three_days), "--day", first, "--out", str(tmp_path), *args)
    assert code == 0, err
    page = (tmp_path / first / "report.html").read_text()
    assert (f"{first}: no day recorded in the history store in the 7 days before it: "
            "nothing to compare it with yet.") in page  # fmt: skip
    assert "the median of the 0 days" not in page
