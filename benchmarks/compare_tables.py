"""Whether two versions of poolwatch parse the same logs into the same tables.

Usage: ``python benchmarks/compare_tables.py BEFORE_DIR AFTER_DIR [--ignore COLUMN ...]``,
each directory written by ``poolwatch parse LOGS --out DIR/``. Every table of BEFORE_DIR
is compared with its namesake in AFTER_DIR by ``pandas.testing.assert_frame_equal``
(columns, dtypes and values); the files table without its modification times, which
depend on when the logs were copied, and every table without the columns named by
``--ignore`` (a column one version adds). Exits 1 on the first table that differs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

#: Columns that say when a file was looked at, not what it holds.
_WHEN = {"files": ["mtime"]}


def main(before: Path, after: Path, ignore: tuple[str, ...] = ()) -> int:
    """Compare every table (without the ``ignore`` columns); print one line each."""
    names = sorted(p.stem for p in before.glob("*.parquet"))
    if not names:
        print(f"no tables in {before}")
        return 1
    for name in names:
        left_out = [*_WHEN.get(name, []), *ignore]
        old = pd.read_parquet(before / f"{name}.parquet")
        new = pd.read_parquet(after / f"{name}.parquet")
        old, new = (t.drop(columns=[c for c in left_out if c in t.columns]) for t in (old, new))
        try:
            pd.testing.assert_frame_equal(old, new)
        except AssertionError as error:
            print(f"{name}: differs\n{error}")
            return 1
        print(f"{name}: identical ({len(new):,} rows, {new.shape[1]} columns)")
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Compare two parse --out directories.")
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("--ignore", action="append", default=[], metavar="COLUMN",
                        help="a column to leave out of every table (repeatable)")  # fmt: skip
    given = parser.parse_args()
    sys.exit(main(given.before, given.after, tuple(given.ignore)))
