"""Short plain-text summaries for the terminal."""

from __future__ import annotations

from poolwatch.ingest.grammar import KINDS
from poolwatch.ingest.parse import Ingest


def parse_summary(result: Ingest) -> str:
    """What ``parse`` read: files, lines, events by kind, unparsed lines."""
    files = result.files
    status = files["status"].value_counts()
    read = files[files["status"] == "read"]
    lines = int(read["lines"].sum())
    unparsed = int(read["unparsed"].sum())
    out = [
        f"files: {int(status.get('read', 0))} read, {int(status.get('skipped', 0))} skipped, "
        f"{int(status.get('duplicate', 0))} duplicate",
        f"lines: {lines:,} ({unparsed:,} unparsed)",
        f"runs: {len(result.runs):,}  tasks: {len(result.tasks):,}  "
        f"monitor records: {len(result.monitor):,}",
        "events:",
    ]
    counts = result.events["kind"].value_counts()
    width = max(len(k) for k in KINDS)
    out += [f"  {kind:<{width}}  {int(counts[kind]):>9,}" for kind in KINDS if counts.get(kind)]
    return "\n".join(out)
