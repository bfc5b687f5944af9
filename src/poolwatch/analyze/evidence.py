"""The log lines behind a finding: a few, first ones first, with file and line number."""

from __future__ import annotations

import numpy as np
import pandas as pd

from poolwatch.analyze.runs import Fleet, run_keys
from poolwatch.findings import Excerpt, Ref
from poolwatch.ingest.excerpts import Lines, excerpts
from poolwatch.states import FileStatus

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
    found = fleet.of_kind(kind).iloc[_first_in(fleet.run_keys_of(kind), runs, fleet, limit)]
    return tuple(
        Ref(str(f), int(line), text)
        for f, line, text in zip(found["file"], found["line"], fleet.text_of(found), strict=True)
    )


def _first_in(keys: np.ndarray, runs: pd.DataFrame, fleet: Fleet, limit: int) -> list[int]:
    """The first ``limit`` positions of ``keys`` (events' runs) that are among ``runs``,
    looked for in blocks that double: a finding cites a few of millions of events."""
    wanted = run_keys(runs, fleet.files)
    found: list[int] = []
    start, block = 0, 1024
    while start < len(keys) and len(found) < limit:
        hits = np.flatnonzero(np.isin(keys[start : start + block], wanted))
        found.extend(int(start + hit) for hit in hits[: limit - len(found)])
        start, block = start + block, block * 2
    return found


#: Excerpts in the report's evidence appendix, at most, and lines shown each side.
APPENDIX = 30
CONTEXT = 2


def appendix(fleet: Fleet, cited: tuple[tuple[str, tuple[Ref, ...]], ...]) -> tuple[Excerpt, ...]:
    """The lines behind the findings with their context, most important finding first.

    ``cited`` is (finding, its refs) in rank order; a line cited by several findings
    appears once, with all of them. At most ``APPENDIX`` lines are shown.
    """
    by_line: dict[tuple[str, int], tuple[Ref, list[str]]] = {}
    for finding, lines in cited:
        for ref in lines:
            key = (ref.file, ref.line)
            if key in by_line:
                by_line[key][1].append(finding)
            elif len(by_line) < APPENDIX:
                by_line[key] = (ref, [finding])
    wanted: dict[str, list[int]] = {}
    for name, line in by_line:
        wanted.setdefault(name, []).append(line)
    files = fleet.result.files
    read = files[files["status"] == FileStatus.READ]
    where = fleet.result.locations
    paths = {str(p): where.get(str(p)) for p in read["path"].astype(str)}
    around = excerpts(wanted, paths, CONTEXT)
    return tuple(_excerpt(ref, sorted(set(names), key=names.index), around.get(key))
                 for key, (ref, names) in by_line.items())  # fmt: skip


def _excerpt(ref: Ref, names: list[str], found: Lines | None) -> Excerpt:
    """One appendix entry; only the cited line itself when the file cannot be read again."""
    if found is None:
        return Excerpt(ref, (), (), tuple(names))
    at = ref.line - found.first
    return Excerpt(
        Ref(ref.file, ref.line, found.lines[at] if at < len(found.lines) else ref.text),
        found.lines[:at],
        found.lines[at + 1 :],
        tuple(names),
    )
