"""Logs of several hosts: each host is the guide's fleet of one machine, diagnosed on its
own, so that its thresholds, its instances at once and its actions are never summed
across hosts (20 hosts of 8 instances run 8 at once each, not 160)."""

from __future__ import annotations

from dataclasses import fields, replace
from datetime import datetime
from typing import Any

import pandas as pd

from poolwatch.findings import Findings, HostFindings, Inputs, Provenance
from poolwatch.ingest.hosts import NO_HOST
from poolwatch.ingest.parse import Ingest
from poolwatch.order import natural
from poolwatch.states import FileStatus, Verdict

#: Worst first: what the report and the check lead with. A host with no finished run
#: has nothing to judge: it comes last, and the fleet is unknown only when every host is.
WORST_FIRST = (Verdict.CRITICAL, Verdict.WARNING, Verdict.HEALTHY, Verdict.UNKNOWN)
#: The verdicts of a host that is not healthy: the summary names it, the report shows its
#: sections.
NOT_HEALTHY = (Verdict.CRITICAL, Verdict.WARNING)
#: How a report names the files that come from no host (``ingest.hosts.NO_HOST``),
#: beside hosts that do.
UNNAMED = "(no host)"
_TABLES = tuple(f.name for f in fields(Ingest) if f.name != "locations")


def hosts(result: Ingest) -> tuple[str, ...]:
    """The hosts the files read come from, in natural order (``host2`` before
    ``host10``); ``""`` for files that name no host."""
    files = result.files
    read = files.loc[files["status"] == FileStatus.READ, "host"]
    return tuple(sorted({str(host) for host in read.dropna()}, key=natural))


def of_host(result: Ingest, host: str) -> Ingest:
    """The tables of one host's files, as if its directory had been read alone."""
    tables: dict[str, Any] = {name: _rows_of(result.table(name), host) for name in _TABLES}
    return replace(result, **tables)


def worst_first(each: list[HostFindings]) -> tuple[HostFindings, ...]:
    """The hosts by verdict, worst first, then in their natural order."""
    return tuple(
        sorted(each, key=lambda h: (WORST_FIRST.index(h.findings.verdict), natural(h.host)))
    )


def unwell(ranked: tuple[HostFindings, ...]) -> tuple[HostFindings, ...]:
    """The hosts that are not healthy (critical or warning), in the order given."""
    return tuple(h for h in ranked if h.findings.verdict in NOT_HEALTHY)


def name(host: str) -> str:
    """A host as reports name it."""
    return UNNAMED if host == NO_HOST else host


def summary(ranked: tuple[HostFindings, ...]) -> str:
    """One sentence: which hosts are not healthy, then the worst host's own summary, and
    the hosts with no finished run to judge."""
    worst = ranked[0]
    unhealthy = unwell(ranked)
    idle = [name(h.host) for h in ranked if h.findings.verdict == Verdict.UNKNOWN]
    judged = len(ranked) - len(idle)
    if not judged:
        return f"No finished run on any of the {len(ranked)} hosts: nothing to judge yet."
    nothing = f" No finished run to judge on {', '.join(idle)}." if idle else ""
    if not unhealthy:
        lead = (
            f"All {judged} hosts healthy"
            if not idle
            else f"{judged} of {len(ranked)} hosts healthy"
        )
        return f"{lead}. {name(worst.host)}: {worst.findings.summary}{nothing}"
    named = ", ".join(f"{name(h.host)} {h.findings.verdict}" for h in unhealthy)
    return (
        f"{len(unhealthy)} of {len(ranked)} hosts not healthy: {named}. "
        f"The worst, {name(worst.host)}: {worst.findings.summary}{nothing}"
    )


def fleet_of_hosts(
    ranked: tuple[HostFindings, ...],
    inputs: Inputs,
    window: tuple[datetime | None, datetime | None],
    provenance: Provenance,
) -> Findings:
    """The findings of several hosts: the worst host's, with every host's ``inputs``,
    ``window`` and ``provenance``, a summary naming the hosts, and each host's own."""
    return replace(
        ranked[0].findings,
        inputs=inputs,
        window=window,
        provenance=provenance,
        summary=summary(ranked),
        hosts=ranked,
    )


def _rows_of(frame: pd.DataFrame, host: str) -> pd.DataFrame:
    """A table's rows of one host, its categories those the host's rows use."""
    kept = frame.loc[frame["host"] == host].reset_index(drop=True)
    for column in kept.columns:
        if isinstance(kept[column].dtype, pd.CategoricalDtype):
            kept[column] = kept[column].cat.remove_unused_categories()
    return kept
