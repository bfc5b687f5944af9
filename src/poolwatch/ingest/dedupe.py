"""Counting each run once although ``tee`` writes it to two files.

``run_card.sh`` pipes run_batt's standard output through ``tee tmp_batt_<id>_run.log``:
the run log repeats the latest run of the instance's console log, without the lines the
run wrote to standard error (tracebacks, ``resource_tracker`` warnings), which reach
the console only. So runs are compared on what both copies share, their stdout
lines: a run log's run is a copy when those notable lines hash the same as a console
run's, or when one is a prefix of the other (both files still being written); the
console copy is kept, since only it carries the run's start time.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Protocol

import polars as pl

from poolwatch.ingest.assemble import RunFile, instance_from_name


class _HasRun(Protocol):
    """A file result that may carry a run file (parse._FileResult)."""

    run: RunFile | None
    status: str
    reason: str | None

    @property
    def label(self) -> str:
        """How tables name the file."""
        ...


def drop_tee_copies(results: list[_HasRun]) -> None:
    """Remove, from run logs, every run that a console log also holds."""
    consoles = [r.run for r in results if r.run is not None and r.run.family == "console"]
    if not consoles:
        return
    logs = [r for r in results if r.run is not None and r.run.family == "run_batt"]
    if not logs:
        return
    wanted = pl.concat([r.run.content.get_column("hash") for r in logs if r.run is not None])
    known = _console_hashes(consoles, wanted)
    tails = _console_tails(consoles)
    for result in logs:
        _drop_copied_runs(result, known, tails)


def _place(run: RunFile, number: int) -> str:
    """``file:line`` of a run."""
    row = run.runs.filter(pl.col("run") == number)
    return f"{row['file'][0]}:{row['line'][0]}" if row.height else "?"


def _console_hashes(consoles: list[RunFile], wanted: pl.Series) -> dict[int, str]:
    """The console runs whose content hash is ``wanted`` (the run logs' runs' hashes),
    by hash, to the place the first of them is at."""
    known: dict[int, str] = {}
    for run in consoles:
        found = run.content.filter(pl.col("hash").is_in(wanted.implode()))
        places = found.join(
            run.runs.select("run", "file", "line"), on="run", how="left", maintain_order="left"
        )
        for digest, name, line in places.select("hash", "file", "line").iter_rows():
            known.setdefault(digest, f"{name}:{line}")
    return known


def _console_tails(consoles: list[RunFile]) -> dict[str, tuple[tuple[str, ...], str]]:
    """The last run of each console, by instance: its notable lines and where it is."""
    tails: dict[str, tuple[tuple[str, ...], str]] = {}
    for run in consoles:
        if run.content.height:
            last = run.content.row(-1, named=True)
            tails[str(last["instance"])] = (run.last_content, _place(run, last["run"]))
    return tails


def _drop_copied_runs(
    result: _HasRun, known: dict[int, str], tails: dict[str, tuple[tuple[str, ...], str]]
) -> None:
    """Drop the runs of one run log that a console holds; mark the file if none remain."""
    run = result.run
    assert run is not None
    if not run.content.height:
        # Nothing written but a line cut short: tee has just truncated it for a new run.
        tail = tails.get(instance_from_name(result.label))
        if tail is not None:
            result.status, result.reason, result.run = "duplicate", f"tee copy of {tail[1]}", None
        return
    copies: dict[int, str] = {}
    for row in run.content.iter_rows(named=True):
        place = known.get(row["hash"])
        if place is None and row["run"] == run.content["run"][-1]:
            place = _prefix_place(run.last_content, tails.get(row["instance"]))
        if place is not None:
            copies[row["run"]] = place
    if not copies:
        return
    keep = ~pl.col("run").is_in(list(copies))
    result.run = replace(
        run,
        events=run.events.filter(keep),
        tasks=run.tasks.filter(keep) if run.tasks.height else run.tasks,
        runs=run.runs.filter(keep),
        content=run.content.filter(keep),
    )
    if not result.run.runs.height:
        result.status = "duplicate"
        result.reason = "tee copy of " + ", ".join(sorted(set(copies.values())))
        result.run = None


def _prefix_place(texts: tuple[str, ...], tail: tuple[tuple[str, ...], str] | None) -> str | None:
    """Where the console tail is, when one of the two runs is a prefix of the other."""
    if tail is None or not texts or not tail[0]:
        return None
    shorter = min(len(texts), len(tail[0]))
    return tail[1] if texts[:shorter] == tail[0][:shorter] else None
