"""The log lines behind a finding: a few, first ones first, with file and line number."""

from __future__ import annotations

import pandas as pd

from poolwatch.analyze.runs import Fleet
from poolwatch.findings import Ref

#: Lines cited for one finding (the report's evidence appendix shows more context).
CITED = 3
#: Cite the runs themselves (where each starts, and how it ended) rather than events.
RUNS = "run"


def refs(fleet: Fleet, kind: str | None, runs: pd.DataFrame, limit: int = CITED) -> tuple[Ref, ...]:
    """The first ``limit`` lines of ``kind`` in ``runs`` (or the runs, for ``RUNS``)."""
    if kind is None or runs.empty:
        return ()
    if kind == RUNS:
        chosen = runs.head(limit)
        return tuple(
            Ref(str(f), int(line), str(text))
            for f, line, text in zip(
                chosen["file"], chosen["last_line"], chosen["end_evidence"], strict=True
            )
        )
    events = fleet.notable
    of_kind = events[events["kind"] == kind]
    keys = runs[["file", "run"]].drop_duplicates()
    found = of_kind.merge(keys, on=["file", "run"], how="inner").head(limit)
    return tuple(
        Ref(str(f), int(line), None if pd.isna(text) else str(text))
        for f, line, text in zip(found["file"], found["line"], found["text"], strict=True)
    )
