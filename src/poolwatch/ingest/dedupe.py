"""Counting each run once although ``tee`` writes it to two files.

``run_card.sh`` pipes run_batt's standard output through ``tee tmp_batt_<id>_run.log``:
the run log repeats the latest run of the instance's console log, without the lines the
run wrote to standard error (tracebacks, ``resource_tracker`` warnings), which reach
the console only. So runs are compared on what both copies share, their stdout
lines: a run log's run is a copy when those notable lines hash the same as a console
run's (its tasks alone, for a console that interleaves instances, whose lines naming no
task may be told to the wrong run), or when one is a prefix of the other (both files
still being written); the
console copy is kept, since only it carries the run's start time. Every file's runs
are compared at once, whether a file was assembled alone or in a batch, and only with
the runs of its own host: an instance is a host and a ``tmp_batt_<id>`` together.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

import polars as pl

from poolwatch.ingest.assemble import RunFile, instance_from_name
from poolwatch.ingest.results import Assembly

#: The last run of a console, by host and instance: its notable lines and where it is.
_Tails = dict[tuple[str, str], tuple[tuple[str, ...], str]]
_PLACE = pl.concat_str([pl.col("file"), pl.col("line").cast(pl.String)], separator=":")


def drop_tee_copies(parts: Sequence[Assembly], hosts: Mapping[str, str]) -> dict[str, str]:
    """Remove, from run logs, every run that a console log of the same host also holds
    (``hosts``: each file's, by name); return the run logs left with none, with why
    (their frames are the caller's to let go of)."""
    families = {name: family for part in parts for name, family in part.run.families.items()}
    logs = [name for name, family in families.items() if family == "run_batt"]
    if not logs or len(logs) == len(families):
        return {}
    mine = {name: hosts[name] for name in families}
    content = pl.concat([part.run.content for part in parts]).with_columns(
        host=pl.col("file").replace_strict(mine, return_dtype=pl.String)
    )
    family = pl.col("file").replace_strict(families, return_dtype=pl.String)
    consoles = content.filter(family == "console")
    copied = content.filter(family == "run_batt")
    known = _known(consoles, copied, "hash")
    mixed = [name for part in parts for name in part.run.mixed]
    loose = _known(consoles.filter(pl.col("file").is_in(mixed)), copied, "task_hash")
    last = {name: lines for part in parts for name, lines in part.run.last_content.items()}
    tails = _console_tails(consoles, last)
    copies = _copies(copied, known, loose, tails, last)
    emptied = _cut_only(logs, set(copied.get_column("file")), tails, mine)
    for part in parts:
        emptied |= _drop_runs(part, copies)
    return emptied


def _console_tails(consoles: pl.DataFrame, last: dict[str, tuple[str, ...]]) -> _Tails:
    """The last run of each console, by host and instance (a later console's for an
    instance that two consoles hold)."""
    tails: _Tails = {}
    ends = consoles.group_by("file", maintain_order=True).last().with_columns(place=_PLACE)
    for name, host, instance, place in ends.select("file", "host", "instance", "place").iter_rows():
        tails[(host, str(instance))] = (last.get(name, ()), place)
    return tails


def _known(consoles: pl.DataFrame, copied: pl.DataFrame, key: str) -> pl.DataFrame:
    """The console runs whose hash (``key``) a run log's run of the same host has, and
    where they are."""
    keys = ["host", key]
    return (
        consoles.join(copied.select(keys).unique(), on=keys, how="semi", maintain_order="left")
        .unique(keys, keep="first", maintain_order=True)
        .select(*keys, place=_PLACE)
    )


def _copies(
    logs: pl.DataFrame,
    known: pl.DataFrame,
    loose: pl.DataFrame,
    tails: _Tails,
    last: dict[str, tuple[str, ...]],
) -> pl.DataFrame:
    """The run logs' runs that are copies (``file``, ``run``, ``place`` of the console run):
    same hash as a console run, or the same tasks as a run of a console that interleaves
    instances (``loose``), or, for a file's last run, a prefix of its console's last run or
    the other way round (both still being written)."""
    rows = (
        logs.join(known, on=["host", "hash"], how="left", maintain_order="left")
        .join(loose, on=["host", "task_hash"], how="left", maintain_order="left", suffix="_loose")
        .with_columns(
            place=pl.coalesce("place", "place_loose"),
            last=pl.col("run") == pl.col("run").max().over("file"),
        )
    )
    found = rows.filter(pl.col("place").is_not_null()).select("file", "run", "place")
    unmatched = rows.filter(pl.col("place").is_null() & pl.col("last"))
    prefixes = [
        (name, run, place)
        for name, run, host, instance in unmatched.select(
            "file", "run", "host", "instance"
        ).iter_rows()
        if (place := _prefix_place(last.get(name, ()), tails.get((host, instance)))) is not None
    ]
    extra = pl.DataFrame(prefixes, schema=found.schema, orient="row")
    return pl.concat([found, extra])


def _cut_only(
    logs: list[str], with_content: set[str], tails: _Tails, hosts: Mapping[str, str]
) -> dict[str, str]:
    """Run logs with nothing written but a line cut short: tee has just truncated them for
    a new run of an instance whose console (on the same host) is read."""
    emptied: dict[str, str] = {}
    for name in logs:
        tail = tails.get((hosts[name], instance_from_name(name)))
        if name not in with_content and tail is not None:
            emptied[name] = f"tee copy of {tail[1]}"
    return emptied


def _drop_runs(part: Assembly, copies: pl.DataFrame) -> dict[str, str]:
    """Drop a part's copied runs; the files left with no run, with their reasons."""
    mine = copies.filter(pl.col("file").is_in(list(part.run.families)))
    if not mine.height:
        return {}
    part.run = _without(part.run, mine.select("file", "run"))
    remaining = set(part.run.runs.get_column("file").cast(pl.String))
    places = mine.group_by("file", maintain_order=True).agg(pl.col("place").unique().sort())
    return {
        name: "tee copy of " + ", ".join(found)
        for name, found in places.iter_rows()
        if name not in remaining
    }


def _without(run: RunFile, copies: pl.DataFrame) -> RunFile:
    """The frames without the runs listed (``file``, ``run``)."""

    def keep(frame: pl.DataFrame) -> pl.DataFrame:
        if not frame.height:
            return frame
        return frame.join(
            copies,
            left_on=[pl.col("file").cast(pl.String), "run"],
            right_on=["file", "run"],
            how="anti",
            maintain_order="left",
        )

    return replace(
        run,
        events=keep(run.events),
        tasks=keep(run.tasks),
        runs=keep(run.runs),
        content=keep(run.content),
    )


def _prefix_place(texts: tuple[str, ...], tail: tuple[tuple[str, ...], str] | None) -> str | None:
    """Where the console tail is, when one of the two runs is a prefix of the other."""
    if tail is None or not texts or not tail[0]:
        return None
    shorter = min(len(texts), len(tail[0]))
    return tail[1] if texts[:shorter] == tail[0][:shorter] else None
