"""How a report was made: poolwatch's version, the command, the inputs, the thresholds."""

from __future__ import annotations

import pandas as pd

from poolwatch import __version__
from poolwatch.config import Config, in_effect
from poolwatch.findings import InputFile, Provenance, Threshold
from poolwatch.ingest.parse import Ingest
from poolwatch.states import FileStatus

#: Inputs listed, at most (skipped and duplicate ones first: they need a reader's eye).
LISTED = 200


def provenance(result: Ingest, config: Config, command: str) -> Provenance:
    """The report's provenance."""
    files = result.files
    rank = files["status"].astype(str).map({"skipped": 0, "duplicate": 1}).fillna(2)
    listed = files.assign(rank=rank).sort_values(["rank", "path"], kind="stable").head(LISTED)
    return Provenance(
        version=__version__,
        command=command,
        files=tuple(_file(row) for row in listed.itertuples()),
        files_omitted=max(0, len(files) - LISTED),
        thresholds=tuple(Threshold(*row) for row in in_effect(config)),
    )


def _file(row: object) -> InputFile:
    """One input's row."""

    def get(name: str) -> object:
        value = getattr(row, name)
        return None if value is None or pd.isna(value) else value

    family, reason, size, lines = get("family"), get("reason"), get("bytes"), get("lines")
    return InputFile(
        path=str(get("path")),
        family=None if family in (None, "none") else str(family),
        status=FileStatus(str(get("status"))),
        reason=None if reason is None else str(reason),
        bytes=None if size is None else int(size),  # type: ignore[call-overload]
        lines=None if lines is None else int(lines),  # type: ignore[call-overload]
    )
