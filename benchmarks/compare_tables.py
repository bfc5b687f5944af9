"""Whether two versions of poolwatch parse the same logs into the same tables.

Usage: ``python benchmarks/compare_tables.py BEFORE_DIR AFTER_DIR``, each written by
``poolwatch parse LOGS --out DIR/``. Every table of BEFORE_DIR is compared with its
namesake in AFTER_DIR by ``pandas.testing.assert_frame_equal`` (columns, dtypes and
values); the files table without its modification times, which depend on when the
logs were copied. Exits 1 on the first table that differs.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

#: Columns that say when a file was looked at, not what it holds.
_WHEN = {"files": ["mtime"]}


def main(before: Path, after: Path) -> int:
    """Compare every table; print one line each."""
    names = sorted(p.stem for p in before.glob("*.parquet"))
    if not names:
        print(f"no tables in {before}")
        return 1
    for name in names:
        old = pd.read_parquet(before / f"{name}.parquet").drop(columns=_WHEN.get(name, []))
        new = pd.read_parquet(after / f"{name}.parquet").drop(columns=_WHEN.get(name, []))
        try:
            pd.testing.assert_frame_equal(old, new)
        except AssertionError as error:
            print(f"{name}: differs\n{error}")
            return 1
        print(f"{name}: identical ({len(new):,} rows, {new.shape[1]} columns)")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2])))
