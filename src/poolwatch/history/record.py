"""What a daily summary records of a day: its metrics, from the findings and runs, and
each host's when the logs came from several."""

from __future__ import annotations

from datetime import date

import pandas as pd

from poolwatch.findings import Findings
from poolwatch.history.store import DayMetrics
from poolwatch.states import Outcome


def day_metrics(day: date, findings: Findings, runs: pd.DataFrame) -> DayMetrics:
    """The day's row of the history store: of logs of several hosts, the worst host's
    (the findings' own fields are), from its runs."""
    f = findings
    if f.hosts:
        runs = runs[runs["host"] == f.hosts[0].host]
    graded = {m.name: m.value for m in f.metrics}
    finished = runs[runs["outcome"] != Outcome.INCOMPLETE]
    overloaded = 100.0 * float((finished["overloads"] > 0).mean()) if len(finished) else None
    return DayMetrics.of(
        day,
        {
            "verdict": f.verdict,
            "instances": f.instances,
            "runs": f.runs.total,
            "finished": f.runs.total - f.runs.incomplete,
            "killed": f.runs.timed_out + f.runs.hung,
            "hung": f.runs.hung,
            **graded,
            "overload_rate": overloaded,
            "sequential_rate": f.executor_mix.sequential if len(finished) else None,
            "mix_process": f.executor_mix.process,
            "mix_thread": f.executor_mix.thread,
            "mix_sequential": f.executor_mix.sequential,
            "mix_timeout": f.executor_mix.timeout,
            "system_overloaded": f.counts.system_overloaded,
            "processpool_failed": f.counts.processpool_failed,
            "threadpool_failed": f.counts.threadpool_failed,
        },
    )


def host_metrics(day: date, findings: Findings, runs: pd.DataFrame) -> dict[str, DayMetrics]:
    """Each host's row of the day (none for one host's logs), from its own findings and
    runs."""
    return {
        h.host: day_metrics(day, h.findings, runs[runs["host"] == h.host]) for h in findings.hosts
    }
