"""poolwatch's own outputs, told by their content: a report written under the log
directory and read back is skipped as what it is, never counted as logs."""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq

from poolwatch.ingest.tables import TABLES

#: Every reason an own output is skipped with starts so (the CLI keeps them quiet).
OWN_OUTPUT = "poolwatch's own output"

#: (pattern a line of the file's start matches, what the file is).
_SIGNS: tuple[tuple[str, str], ...] = (
    (r'<meta name="generator" content="poolwatch\b', "a report page"),
    (r"^## poolwatch: ", "a ticket"),
    (r'^\s*"schema_version": \d+,$', "a summary.json"),
    # The monitor's state file, as monitor/state.py writes it.
    (r'^\{"version":\d+,"samples":\d+,"last_time":', "the monitor's state file"),
    *(
        ("^" + re.escape(",".join(c.name for c in columns)) + "$", f"the {name} table")
        for name, columns in TABLES.items()
    ),
)
#: How many of the first non-blank lines are looked at, in how many bytes of a file.
_HEAD = 40
_HEAD_BYTES = 16 << 10


def own_outputs(lines: pl.DataFrame) -> dict[int, str]:
    """Why each file (``fid``) whose first lines (``text``) show it is poolwatch's own
    output (a report, ticket, summary or table) is no log; the others are left out."""
    text = pl.col("text")
    head = (
        lines.filter(text.str.strip_chars() != "").group_by("fid", maintain_order=True).head(_HEAD)
    )
    reasons: dict[int, str] = {}
    for pattern, what in _SIGNS:
        for fid in head.filter(text.str.contains(pattern)).get_column("fid").unique().to_list():
            reasons.setdefault(int(fid), f"{OWN_OUTPUT} ({what}), not a log")
    return reasons


def own_output(lines: pl.Series) -> str | None:
    """Why the file of these first lines is poolwatch's own output, or None."""
    frame = pl.DataFrame({"fid": pl.Series([0] * len(lines), dtype=pl.UInt32), "text": lines})
    return own_outputs(frame).get(0)


def is_own_file(path: Path) -> bool:
    """Whether the file at ``path`` is one poolwatch wrote: a text output told by its
    first lines, a Parquet table by its columns, a PDF by the poolwatch text outputs
    beside it (its own metadata is compressed)."""
    try:
        if path.suffix == ".parquet":
            names = pq.read_schema(path).names
            return any(names == [c.name for c in columns] for columns in TABLES.values())
        if path.suffix == ".pdf":
            return any(is_own_file(p) for p in path.parent.glob("*.*")
                       if p.suffix in {".html", ".json", ".md"})  # fmt: skip
        with path.open("rb") as handle:
            head = handle.read(_HEAD_BYTES).decode("utf-8", "replace")
    except (OSError, ValueError):
        return False
    return own_output(pl.Series(head.splitlines(), dtype=pl.String)) is not None


def binary_own_reason(path: Path | None) -> str | None:
    """Why a binary file is skipped when it is poolwatch's own (a PDF, a table), or None."""
    if path is None or path.suffix not in {".pdf", ".parquet"} or not is_own_file(path):
        return None
    what = "a report PDF" if path.suffix == ".pdf" else "a Parquet table"
    return f"{OWN_OUTPUT} ({what}), not a log"


def monitor_lock_reason(path: Path | None) -> str | None:
    """Why a file is the monitor's lock (``x.lock``, holding its PID, beside the
    ``x.jsonl`` records or the ``x.state.json`` state of the same monitor), or None:
    its number is no thread count."""
    if path is None or path.suffix != ".lock":
        return None
    stem = path.name.removesuffix(".lock")
    if any(path.with_name(stem + suffix).is_file() for suffix in (".jsonl", ".state.json")):
        return f"{OWN_OUTPUT} (the monitor's lock), not a log"
    return None
