"""Writing the ingest tables to Parquet or CSV, atomically, never over an input."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from poolwatch.ingest.parse import Ingest
from poolwatch.ingest.tables import TABLES

_FORMATS = (".parquet", ".csv")


class OutputError(Exception):
    """The output path cannot be used; the message says why."""


def write_tables(result: Ingest, out: Path, *, given: Sequence[str]) -> list[Path]:
    """Write events to a .parquet/.csv file, or every table as Parquet into a directory."""
    as_dir = out.is_dir() or str(out).endswith(("/", os.sep)) or out.suffix == ""
    targets = [out / f"{name}.parquet" for name in TABLES] if as_dir else [out]
    if not as_dir and out.suffix not in _FORMATS:
        raise OutputError(f"--out {out}: expected a .parquet or .csv file, or a directory")
    _refuse_inputs(targets, given)
    if as_dir:
        out.mkdir(parents=True, exist_ok=True)
        for name, target in zip(TABLES, targets, strict=True):
            _write(result.table(name), target)
    else:
        _write(result.events, out)
    return targets


def _refuse_inputs(targets: list[Path], given: Sequence[str]) -> None:
    """Refuse to write over a file the user gave as input."""
    inputs = {Path(p).resolve() for p in given if p != "-" and Path(p).is_file()}
    for target in targets:
        if target.resolve() in inputs:
            raise OutputError(f"--out {target}: is one of the inputs; refusing to overwrite it")


def _write(frame: pd.DataFrame, target: Path) -> None:
    """Write one table through a temporary file renamed into place."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(handle)
    try:
        if target.suffix == ".csv":
            frame.to_csv(temp, index=False)
        else:
            frame.to_parquet(temp, index=False)
        Path(temp).replace(target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
