"""What reading gives for each input, before the tables are published."""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from poolwatch.ingest.assemble import RunFile
from poolwatch.ingest.discover import Source
from poolwatch.ingest.sampled import Records


@dataclass
class Assembly:
    """The frames of one assembly: a large file, or a batch of small files (their
    results share it)."""

    run: RunFile
    unparsed: pl.DataFrame
    """The first few unparsed lines of each file (``file``, ``line``, ``text``)."""


@dataclass
class FileResult:
    """One input as it comes out of reading: its facts and its parsed frames."""

    source: Source
    family: str = "none"
    status: str = "read"
    reason: str | None = None
    facts: dict[str, object] = field(default_factory=dict)
    part: Assembly | None = None
    """The run_batt or console frames it is in (with those of its batch)."""
    monitor: pl.DataFrame | None = None
    snapshot: pl.DataFrame | None = None
    records: Records | None = None
    """poolwatch monitor's samples (its records, or its human log)."""
    unparsed: int = 0
    pending: bytes | None = None
    """A small file's content, until its batch is read."""

    @property
    def label(self) -> str:
        """How tables name the file."""
        return self.source.label

    def drop(self, status: str, reason: str) -> None:
        """Not counted after all (a duplicate): its frames are let go of."""
        self.status, self.reason = status, reason
        self.part = self.monitor = self.snapshot = self.records = None
