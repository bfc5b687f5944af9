"""Which family a file is, told from its first 64 KiB (or its first lines, if longer).

A file is a run log, a console log, a monitor log, poolwatch monitor's records or a
thread snapshot only when it has that family's structure (run_batt.py's own lines; a
``Running:`` line with a ``date`` line; the monitor's lines; JSON records that start
``{"schema":1,"record":``; counts as ``ps`` and ``threading`` print them)
and its lines are mostly lines the grammar explains. A document that quotes log lines
(a README, the operators' guide) has the structure in its code blocks, but most of its
lines are prose, headings, fences and tables.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

from poolwatch.ingest import grammar
from poolwatch.ingest.monitor import snapshot_lines
from poolwatch.ingest.own import own_outputs
from poolwatch.ingest.sources import SNIFF_BYTES

#: Share of a file's non-blank sniffed lines that must be log lines (more than half).
LOG_LINE_SHARE = 0.5

NO_STRUCTURE = (
    "no run_batt output, dated Running: line, monitor record or thread count "
    "(as ps or threading print it) in {sniffed}"
)
NO_COUNT = (
    "a ps or threading command but no thread count in a form poolwatch reads (NLWP or "
    "PID NLWP rows, Active threads: <n>, a bare number) in {sniffed}"
)


#: ``poolwatch monitor``'s JSON records (its ``--log``), and its human log beside them
#: (the same samples in the guide's format: read from the records, never twice).
RECORDS = "monitor_records"
HUMAN = "monitor_human"


@dataclass(frozen=True)
class Family:
    """A file's family (console, run_batt, monitor, monitor_records, monitor_human,
    snapshot), or None and why not."""

    name: str | None
    reason: str | None = None


def sniffed(size: int) -> str:
    """The part of a file its family was told from, in words."""
    return f"its first {max(size, SNIFF_BYTES) / 1024:,.0f} KiB"


def detect(lines: pl.Series, size: int = SNIFF_BYTES) -> Family:
    """The family the sniffed lines of a file show, or why they show none (``size``: the
    bytes they were cut from)."""
    return detect_many(pl.DataFrame({"fid": 0, "text": lines}, schema=_LINES), [size])[0]


_LINES = {"fid": pl.UInt32(), "text": pl.String()}


def detect_many(lines: pl.DataFrame, sizes: Sequence[int]) -> list[Family]:
    """The families of several files at once, from their sniffed lines (``fid``, ``text``:
    file ``i`` was told from ``sizes[i]`` bytes): the patterns run once over all of them."""
    text = pl.col("text")
    shows = {
        "human": grammar.MONITOR_HUMAN,
        "monitor": grammar.MONITOR_STRUCTURE,
        "output": grammar.RUN_OUTPUT,
        "running": grammar.RUNNING_RUN_BATT,
        "date": grammar.DATE_LINE,
    }
    found = (
        lines.filter(text.str.strip_chars() != "")
        .group_by("fid")
        .agg(
            *(text.str.contains(pattern).any().alias(name) for name, pattern in shows.items()),
            known=text.str.contains(grammar.LOG_LINE).sum(),
            records=text.str.contains(grammar.MONITOR_RECORDS).sum(),
            total=pl.len(),
        )
    )
    by_file = {row["fid"]: row for row in found.iter_rows(named=True)}
    own = own_outputs(lines)
    families: list[Family] = []
    for fid, size in enumerate(sizes):
        if fid in own:
            families.append(Family(None, own[fid]))
            continue
        row = by_file.get(fid)
        name = None if row is None else _name(row)
        if name is None:
            file_lines = lines.filter(pl.col("fid") == fid).get_column("text")
            families.append(_snapshot(file_lines, sniffed(size)))
        elif name == RECORDS:
            assert row is not None
            families.append(_mostly(name, row["records"], row["total"], "monitor records",
                                    sniffed(size)))  # fmt: skip
        else:
            assert row is not None
            families.append(_mostly(name, row["known"], row["total"], "log lines", sniffed(size)))
    return families


def _name(shows: dict[str, Any]) -> str | None:
    """The run family a file's lines show (None: none of them)."""
    if shows["records"]:
        return RECORDS
    if shows["human"]:
        return HUMAN
    if shows["monitor"]:
        return "monitor"
    if shows["output"] or (shows["running"] and shows["date"]):
        return "console" if shows["running"] else "run_batt"
    return None


def _snapshot(lines: pl.Series, seen: str) -> Family:
    """Thread snapshots: counts in a form ``ps`` or ``threading`` prints, no run_card run."""
    found = snapshot_lines(lines).filter(pl.col("text").str.strip_chars() != "")
    text = found.get_column("text")
    if text.str.contains(grammar.RUNNING_RUN_BATT).any():
        return Family(None, f"a Running: line but no date line or run_batt output in {seen}")
    if found.get_column("source").is_null().all():
        prompts = found.filter(pl.col("prompt")).get_column("text")
        named = prompts.str.contains(grammar.SNAPSHOT_COMMAND).any()
        return Family(None, (NO_COUNT if named else NO_STRUCTURE).format(sniffed=seen))
    explained = found.get_column("explained")
    return _mostly(
        "snapshot", int(explained.sum()), len(explained), "prompts, dates or thread counts", seen
    )


def _mostly(name: str, known: int, total: int, what: str, seen: str) -> Family:
    """The family, if most non-blank lines are explained; else why the file is not a log."""
    if known > LOG_LINE_SHARE * total:
        return Family(name)
    return Family(
        None,
        f"not a log: {known:,} of {total:,} non-blank lines in {seen} are {what} "
        "(a document quoting them?)",
    )
