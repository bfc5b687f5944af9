"""Ingested tables to Findings: the one call the outputs need.

Runs ``fleet`` (paths, outcomes, concurrency), then the health metrics, flags and
verdict, the decision tree, scenarios and actions, the performance comparison and
the monitor cross-check, and gathers them into one frozen ``Findings``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from poolwatch.analyze.decide import (
    actions,
    decision_path,
    observed_concurrency,
    scenarios,
    tree,
)
from poolwatch.analyze.evidence import appendix
from poolwatch.analyze.health import flags, metrics, verdict
from poolwatch.analyze.hosts import fleet_of_hosts, hosts, of_host, worst_first
from poolwatch.analyze.instances import instance_rows, mix
from poolwatch.analyze.monitoring import monitor_check, sampling
from poolwatch.analyze.patterns import pattern
from poolwatch.analyze.performance import performance, run_times
from poolwatch.analyze.provenance import provenance
from poolwatch.analyze.runs import Fleet, fleet
from poolwatch.analyze.series import charts
from poolwatch.analyze.timeline import timeline
from poolwatch.config import Config
from poolwatch.findings import (
    Action,
    Counts,
    Findings,
    Flag,
    HostFindings,
    Inputs,
    Limit,
    MetricRow,
    Ref,
    RunCounts,
    Scenario,
)
from poolwatch.ingest.parse import Ingest
from poolwatch.states import FileStatus, FlagColor, Grade, Outcome, Verdict

#: The event kinds behind each ``counts`` key (lines, as ``grep -c`` counts them).
COUNTED = {
    "system_overloaded": "overload",
    "processpool_failed": "processpool_failed",
    "threadpool_failed": "threadpool_failed",
    "parallel_failed": "parallel_failed",
    "sample_timeouts": "sample_timeout",
    "sample_failures": "sample_failed",
}


@dataclass(frozen=True)
class Assessment:
    """The findings, and one row per run for the history store."""

    findings: Findings
    runs: pd.DataFrame
    """host, file, instance, run, started_at, outcome, path, fallback line counts,
    max_threads, seconds (the run's time, when known)."""


def diagnose(result: Ingest, config: Config, *, now: datetime, command: str = "") -> Findings:
    """Everything a report shows about the fleet these logs come from; logs of several
    hosts are diagnosed host by host (``analyze.hosts``).

    ``command`` is the command line that asked for it, for the report's provenance.
    """
    return assess(result, config, now=now, command=command).findings


def assess(result: Ingest, config: Config, *, now: datetime, command: str = "") -> Assessment:
    """The findings, with the per-run rows a daily summary records."""
    names = hosts(result)
    if len(names) < 2:
        facts = fleet(result, config)
        return Assessment(_findings(facts, now, command), _run_rows(facts))
    each = [(host, fleet(of_host(result, host), config)) for host in names]
    ranked = worst_first(
        [HostFindings(host, _findings(facts, now, command)) for host, facts in each]
    )
    collected = [h.findings.inputs.collected for h in ranked if h.findings.inputs.collected]
    notes = [h.findings.inputs.times_note for h in ranked if h.findings.inputs.times_note]
    inputs = _inputs(result, max(collected, default=None), notes[0] if notes else None)
    found = fleet_of_hosts(ranked, inputs, _window(result), provenance(result, config, command))
    rows = pd.concat([_run_rows(facts) for _, facts in each], ignore_index=True)
    return Assessment(found, rows)


def _run_rows(facts: Fleet) -> pd.DataFrame:
    """One row per run, in the history store's columns."""
    runs = facts.runs
    seconds = runs["total_seconds"].astype("Float64").fillna(runs["seconds"].astype("Float64"))
    return pd.DataFrame(
        {
            "host": runs["host"].astype(str),
            "file": runs["file"].astype(str),
            "instance": runs["instance"].astype(str),
            "run": runs["run"].astype("int64"),
            "started_at": runs["started_at"],
            "outcome": runs["outcome"].astype(str),
            "path": runs["path"].astype(str),
            "overloads": runs["overloads"].astype("int64"),
            "processpool_failed": runs["processpool_failed"].astype("int64"),
            "threadpool_failed": runs["threadpool_failed"].astype("int64"),
            "max_threads": runs["max_threads"].astype("Int64"),
            "seconds": seconds.astype("float64"),
        }
    )


def _findings(facts: Fleet, now: datetime, command: str) -> Findings:
    """Everything a report shows, from the fleet's facts."""
    result, config = facts.result, facts.config
    rows = metrics(facts)
    held = flags(facts)
    found = scenarios(facts)
    exited = int((facts.finished["outcome"] == Outcome.EXITED).sum())
    judged = verdict(held, rows, finished=len(facts.finished), exited=exited)
    path = decision_path(facts, rows)
    matched = pattern(facts)
    todo = actions(facts, found, rows, held, matched)
    moments, omitted = timeline(facts)
    timed = run_times(facts)
    return Findings(
        generated_at=now,
        window=_window(result),
        inputs=_inputs(result, _collected(facts), facts.collection.note),
        instances=int(result.runs["instance"].nunique()),
        concurrency=observed_concurrency(facts),
        runs=_run_counts(facts),
        executor_mix=mix(facts.finished),
        counts=_counts(result),
        monitor=monitor_check(facts),
        metrics=rows,
        limits=_limits(config),
        verdict=judged,
        summary=_summary(judged, held, found, rows, facts),
        flags=held,
        scenarios=found,
        decision_path=path,
        actions=todo,
        performance=performance(timed),
        tree=tree(facts, path),
        instance_rows=instance_rows(facts),
        charts=charts(facts, timed),
        timeline=moments,
        timeline_omitted=omitted,
        evidence=appendix(facts, _cited(todo, found, held)),
        provenance=provenance(result, config, command),
        pattern=matched,
        sampling=sampling(facts, rows),
    )


#: The settings the runs ran under, which the logs may state (``limits``), as reports
#: name them.
_LIMITS = {"timeout": "timeout", "overload_threads": "overload threshold"}


def _limits(config: Config) -> tuple[Limit, ...]:
    """The timeout and overload threshold in effect, and where each came from."""
    return tuple(
        Limit(s.name, s.value, s.unit, s.source, _LIMITS[s.name])
        for s in config.settings
        if s.name in _LIMITS
    )


def _cited(
    todo: tuple[Action, ...], found: tuple[Scenario, ...], held: tuple[Flag, ...]
) -> tuple[tuple[str, tuple[Ref, ...]], ...]:
    """Each finding's cited lines, most important first: actions, scenarios, red and
    yellow flags that hold."""
    flagged = [f for color in (FlagColor.RED, FlagColor.YELLOW) for f in held
               if f.holds and f.color == color]  # fmt: skip
    return (
        *((a.text, a.refs) for a in todo),
        *((s.title, s.refs) for s in found),
        *((f.text, f.refs) for f in flagged),
    )


def _counts(result: Ingest) -> Counts:
    """Lines of each counted event kind."""
    lines = result.events["kind"].value_counts()
    return Counts(**{key: int(lines.get(kind, 0)) for key, kind in COUNTED.items()})


def _window(result: Ingest) -> tuple[datetime | None, datetime | None]:
    """The first and last wall-clock times the logs give (run starts, monitor records)."""
    columns = [result.runs["started_at"], result.monitor["timestamp"], result.events["timestamp"],
               result.host_samples["timestamp"]]  # fmt: skip
    known = [column.dropna() for column in columns]
    known = [column for column in known if not column.empty]
    if not known:
        return None, None
    first = min(column.min() for column in known)
    last = max(column.max() for column in known)
    return first.to_pydatetime(), last.to_pydatetime()


def _collected(facts: Fleet) -> datetime | None:
    """When the logs were collected, if a file's time can be believed."""
    return None if facts.collection.at is None else facts.collection.at.to_pydatetime()


def _inputs(result: Ingest, collected: datetime | None, note: str | None) -> Inputs:
    """What was read, skipped and counted once, and when the logs were collected."""
    files = result.files
    read = files[files["status"] == FileStatus.READ]
    skipped = files[files["status"] == FileStatus.SKIPPED]
    return Inputs(
        files=len(read),
        bytes=int(read["bytes"].fillna(0).sum()),
        lines=int(read["lines"].fillna(0).sum()),
        unparsed_lines=int(read["unparsed"].fillna(0).sum()),
        duplicates=int((files["status"] == FileStatus.DUPLICATE).sum()),
        skipped=tuple(zip(skipped["path"].astype(str), skipped["reason"].astype(str), strict=True)),
        collected=collected,
        times_note=note,
    )


def _run_counts(facts: Fleet) -> RunCounts:
    """How the runs ended."""
    outcome = facts.runs["outcome"]
    return RunCounts(
        total=len(outcome),
        completed=int((outcome == Outcome.COMPLETED).sum()),
        exited=int((outcome == Outcome.EXITED).sum()),
        timed_out=int((outcome == Outcome.TIMED_OUT).sum()),
        hung=int((outcome == Outcome.HUNG).sum()),
        incomplete=int((outcome == Outcome.INCOMPLETE).sum()),
    )


#: Which scenario's diagnosis leads the summary when several hold: the most severe.
_LEAD = ("sequential-excessive", "frequent-overload", "script-timeouts", "processpool-fallbacks")


def _summary(
    judged: Verdict,
    held: tuple[Flag, ...],
    found: tuple[Scenario, ...],
    rows: tuple[MetricRow, ...],
    facts: Fleet,
) -> str:
    """One sentence saying what is wrong (or that nothing is), never at odds with the
    verdict: what raised it leads."""
    if judged == Verdict.UNKNOWN:
        return "No finished run in the logs: nothing to judge yet."
    if judged == Verdict.HEALTHY:
        good = [flag.text for flag in held if flag.holds and flag.color == FlagColor.GREEN]
        return "Healthy: " + ("; ".join(good) if good else "no flag raised") + "."
    color = FlagColor.RED if judged == Verdict.CRITICAL else FlagColor.YELLOW
    wrong = [f"{flag.text}: {flag.evidence}" for flag in held
             if flag.holds and flag.color == color]  # fmt: skip
    critical = [row for row in rows if row.grade == Grade.CRITICAL]
    if judged == Verdict.WARNING:
        wrong += [f"{row.title} {row.value:g}{'' if row.unit == 'threads' else ' %'} "
                  f"({row.source}): {row.action}" for row in critical]  # fmt: skip
    exited = facts.finished[facts.finished["outcome"] == Outcome.EXITED]
    if len(exited):
        wrong.append(f"{len(exited)} of {len(facts.finished)} runs exited out of memory")
    ranked = sorted(found, key=lambda scenario: _LEAD.index(scenario.id))
    # Without a scenario, the guide's own headings: "Monitor Closely", "Take Action".
    heading = "Monitor closely" if judged == Verdict.WARNING else "Take action"
    lead = ranked[0].diagnosis if ranked else heading
    return f"{lead}. " + "; ".join(wrong) + "."
