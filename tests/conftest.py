"""Shared fixtures: the hand-written logs and a helper to ingest paths."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from poolwatch.ingest.parse import Ingest, ingest

LOGS = Path(__file__).parent / "logs"


@pytest.fixture
def logs(tmp_path: Path) -> Path:
    """A private copy of the hand-written logs (tests may add files beside them)."""
    target = tmp_path / "logs"
    shutil.copytree(LOGS, target)
    return target


def read(*paths: Path | str) -> Ingest:
    """Ingest paths the way the CLI does."""
    return ingest([str(p) for p in paths])
