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
_SIGNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r'<meta name="generator" content="poolwatch\b'), "a report page"),
    (re.compile(r"^## poolwatch: "), "a ticket"),
    (re.compile(r'^\s*"schema_version": \d+,$'), "a summary.json"),
    *(
        (re.compile("^" + re.escape(",".join(c.name for c in columns)) + "$"), f"the {name} table")
        for name, columns in TABLES.items()
    ),
)
#: How many of the first non-blank lines are looked at, in how many bytes of a file.
_HEAD = 40
_HEAD_BYTES = 16 << 10


def own_output(lines: pl.Series) -> str | None:
    """Why the file is poolwatch's own output (a report, ticket, summary or table), or
    None when it is not."""
    head = lines.filter(lines.str.strip_chars() != "").head(_HEAD).to_list()
    for pattern, what in _SIGNS:
        if any(pattern.search(line) for line in head):
            return f"{OWN_OUTPUT} ({what}), not a log"
    return None


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
