"""Counting each run once although ``tee`` writes it to two files.

``run_card.sh`` pipes run_batt through ``tee tmp_batt_<id>_run.log``: the run log
repeats, line for line, the latest run of the instance's console log. A run log's
run is a copy when its notable lines equal those of a console run, or when one is a
prefix of the other (both files still being written); the console copy is kept, since
only it carries the run's start time.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Protocol

import polars as pl

from poolwatch.ingest.assemble import RunFile

_CONTENT_EXCLUDED = ("date", "gpu", "generating", "run_start")


class _HasRun(Protocol):
    """A file result that may carry a run file (parse._FileResult)."""

    run: RunFile | None
    status: str
    reason: str | None


def drop_tee_copies(results: list[_HasRun]) -> None:
    """Remove, from run logs, every run that a console log also holds."""
    consoles = [r for r in results if r.run is not None and r.run.family == "console"]
    if not consoles:
        return
    known = _console_signatures(consoles)
    tails = _console_tails(consoles)
    for result in results:
        if result.run is None or result.run.family != "run_batt":
            continue
        _drop_copied_runs(result, known, tails)


def _content(run: RunFile) -> pl.DataFrame:
    """Each run's notable lines, without the console-only ones, as one text."""
    line = pl.concat_str(
        [pl.col("kind"), pl.col("task"), pl.col("count"), pl.col("text")],
        separator="|",
        ignore_nulls=True,
    )
    return (
        run.marks.filter(~pl.col("kind").is_in(_CONTENT_EXCLUDED))
        .group_by("run", maintain_order=True)
        .agg(texts=line, instance=pl.col("instance").first())
    )


def _console_signatures(consoles: list[_HasRun]) -> dict[int, str]:
    """The content hash of every console run, to the place it is at."""
    known: dict[int, str] = {}
    for result in consoles:
        assert result.run is not None
        frame = _content(result.run).with_columns(sig=pl.col("texts").list.join("\n").hash())
        lines = result.run.runs.select("run", "line")
        frame = frame.join(lines, on="run", how="left")
        name = result.run.runs["file"][0] if result.run.runs.height else "?"
        for sig, line in frame.select("sig", "line").iter_rows():
            known.setdefault(sig, f"{name}:{line}")
    return known


def _console_tails(consoles: list[_HasRun]) -> dict[str, tuple[list[str], str]]:
    """The last run of each console, by instance: its notable lines and where it is."""
    tails: dict[str, tuple[list[str], str]] = {}
    for result in consoles:
        assert result.run is not None
        content = _content(result.run)
        if not content.height:
            continue
        last = content.row(-1, named=True)
        where = result.run.runs.filter(pl.col("run") == last["run"])
        place = f"{where['file'][0]}:{where['line'][0]}" if where.height else "?"
        tails[str(last["instance"])] = (list(last["texts"]), place)
    return tails


def _drop_copied_runs(
    result: _HasRun, known: dict[int, str], tails: dict[str, tuple[list[str], str]]
) -> None:
    """Drop the runs of one run log that a console holds; mark the file if none remain."""
    assert result.run is not None
    copies: dict[int, str] = {}
    for row in _content(result.run).iter_rows(named=True):
        texts: list[str] = list(row["texts"])
        place = known.get(_signature(texts)) or _prefix_place(texts, tails.get(row["instance"]))
        if place is not None:
            copies[row["run"]] = place
    if not copies:
        return
    run = result.run
    keep = ~pl.col("run").is_in(list(copies))
    result.run = replace(
        run,
        events=run.events.filter(keep),
        tasks=run.tasks.filter(keep) if run.tasks.height else run.tasks,
        runs=run.runs.filter(keep),
        marks=run.marks.filter(keep),
    )
    if not result.run.runs.height:
        result.status = "duplicate"
        result.reason = "tee copy of " + ", ".join(sorted(set(copies.values())))
        result.run = None


def _signature(texts: list[str]) -> int:
    """The same hash ``_console_signatures`` computes, for one run."""
    value: int = pl.Series([texts]).list.join("\n").hash()[0]
    return value


def _prefix_place(texts: list[str], tail: tuple[list[str], str] | None) -> str | None:
    """Where the console tail is, when one of the two runs is a prefix of the other."""
    if tail is None or not texts or not tail[0]:
        return None
    shorter = min(len(texts), len(tail[0]))
    return tail[1] if texts[:shorter] == tail[0][:shorter] else None
