"""Writing the ingest tables to Parquet or CSV, atomically, never over an input."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from poolwatch.ingest.parse import Ingest
from poolwatch.ingest.tables import TABLES
from poolwatch.render.output import OutputError, refuse_inputs, write_atomic

_FORMATS = (".parquet", ".csv")


def write_tables(result: Ingest, out: Path, *, given: Sequence[str]) -> list[Path]:
    """Write events to a .parquet/.csv file, or every table as Parquet into a directory."""
    as_dir = out.is_dir() or str(out).endswith(("/", os.sep)) or out.suffix == ""
    if not as_dir and out.suffix not in _FORMATS:
        raise OutputError(f"--out {out}: expected a .parquet or .csv file, or a directory")
    targets = [out / f"{name}.parquet" for name in TABLES] if as_dir else [out]
    refuse_inputs(targets, given)
    if as_dir:
        for name, target in zip(TABLES, targets, strict=True):
            _write(result.table(name), target)
    else:
        _write(result.events, out)
    return targets


def _write(frame: pd.DataFrame, target: Path) -> None:
    """Write one table in the format its suffix names."""
    if target.suffix == ".csv":
        write_atomic(target, lambda temp: frame.to_csv(temp, index=False))
    else:
        write_atomic(target, lambda temp: frame.to_parquet(temp, index=False))
