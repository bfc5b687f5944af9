"""Short plain-text summaries for the terminal."""

from __future__ import annotations

import pandas as pd

from poolwatch.analyze.hosts import hosts
from poolwatch.analyze.hosts import name as host_name
from poolwatch.config import TRENDED, metric
from poolwatch.errors import shown
from poolwatch.findings import Findings
from poolwatch.ingest.grammar import KINDS
from poolwatch.ingest.hosts import NO_HOST
from poolwatch.ingest.own import OWN_OUTPUT
from poolwatch.ingest.parse import Ingest
from poolwatch.render.formats import host_line
from poolwatch.states import FileStatus, Verdict


def input_notes(files: pd.DataFrame, *, own_outputs: bool = True, each: bool = False) -> list[str]:
    """One line per input not used (``skipped``) or read with a problem (``warning``):
    its name and why, escaped for a terminal (poolwatch's own outputs only with
    ``own_outputs``). More than ``NAMED_EACH`` inputs with one reason share a line
    naming the first of them, unless ``each``."""
    noted = files[files["reason"].notna() & files["status"].isin(_NOTED)]
    if not own_outputs:
        noted = noted[~noted["reason"].astype(str).str.startswith(OWN_OUTPUT)]
    notes: list[str] = []
    by_reason = noted.groupby(["status", "reason"], observed=True, sort=False)["path"]
    for (status, reason), paths in by_reason:
        shared = len(paths) > NAMED_EACH and not each
        for path in paths.iloc[:1] if shared else paths:
            notes.append(shown(_NOTED[FileStatus(str(status))].format(path=path, reason=reason)))
        if shared:
            notes[-1] += shown(f" (and {len(paths) - 1:,} more for the same reason; -v names each)")
    return notes


#: More inputs than this with one reason share one line.
NAMED_EACH = 5
#: The line of an input not used, or read with a problem.
_NOTED = {
    FileStatus.SKIPPED: "poolwatch: skipped {path}: {reason}",
    FileStatus.READ: "poolwatch: warning: {path}: {reason}",
}


def parse_summary(result: Ingest) -> str:
    """What ``parse`` read: files, lines, events by kind, unparsed lines."""
    files = result.files
    status = files["status"].value_counts()
    read = files[files["status"] == FileStatus.READ]
    lines = int(read["lines"].sum())
    unparsed = int(read["unparsed"].sum())
    out = [
        f"files: {int(status.get('read', 0))} read, {int(status.get('skipped', 0))} skipped, "
        f"{int(status.get('duplicate', 0))} duplicate",
        *_hosts_line(result),
        f"lines: {lines:,} ({unparsed:,} unparsed)",
        f"runs: {len(result.runs):,}  tasks: {len(result.tasks):,}  "
        f"monitor records: {len(result.monitor):,}  poolwatch monitor samples: "
        f"{len(result.host_samples):,} ({len(result.samples):,} process readings)",
        "events:",
    ]
    counts = result.events["kind"].value_counts()
    width = max(len(k) for k in KINDS)
    out += [f"  {kind:<{width}}  {int(counts[kind]):>9,}" for kind in KINDS if counts.get(kind)]
    return "\n".join(out)


#: Hosts named one by one in parse's summary, at most.
_HOSTS_SHOWN = 10


def _hosts_line(result: Ingest) -> list[str]:
    """The hosts the files read come from, with their instances (no line for one host's
    logs, whose files name no host)."""
    named_hosts = [host for host in hosts(result) if host != NO_HOST]
    if not named_hosts:
        return []
    instances = result.runs.groupby("host", observed=True)["instance"].nunique()
    named = [f"{host} ({int(instances.get(host, 0))} instances)" for host in named_hosts]
    more = len(named) - _HOSTS_SHOWN
    shown_hosts = ", ".join(named[:_HOSTS_SHOWN]) + (f", and {more} more" if more > 0 else "")
    return [f"hosts: {len(named_hosts)}: {shown_hosts}"]


#: Monitoring-plugin status words and exit codes, by verdict.
STATUS: dict[Verdict, tuple[str, int]] = {
    Verdict.HEALTHY: ("OK", 0),
    Verdict.WARNING: ("WARNING", 1),
    Verdict.CRITICAL: ("CRITICAL", 2),
    Verdict.UNKNOWN: ("UNKNOWN", 3),
}
UNKNOWN = ("UNKNOWN", 3)


def plugin_line(findings: Findings) -> str:
    """The monitoring-plugin status line: ``POOLWATCH <STATUS> - <summary> | <perfdata>``."""
    status, _ = STATUS[findings.verdict]
    return f"POOLWATCH {status} - {_one_line(findings.summary)} | {perfdata(findings)}"


def perfdata(findings: Findings) -> str:
    """The metrics as plugin performance data: ``label=value[UOM];warn;crit;min;max``."""
    parts = []
    for row in findings.metrics:
        value = "U" if row.value is None else f"{round(row.value, 2):g}"
        unit, bounds = ("%", ";0;100") if row.unit == "%" else ("", ";0;")
        parts.append(f"{row.name}={value}{unit};{row.warning:g};{row.critical:g}{bounds}")
    runs = findings.runs
    parts.append(f"runs={runs.total};;;0;")
    parts.append(f"timeouts={runs.timed_out + runs.hung};;;0;")
    return " ".join(parts)


def check_report(findings: Findings) -> str:
    """The plugin line, then a short table for a person reading the terminal."""
    rows = [("metric", "value", "grade", "limits (warning/critical)")]
    for row in findings.metrics:
        value = (
            "-"
            if row.value is None
            else f"{row.value:.0f}{'' if row.unit == 'threads' else row.unit}"
        )
        rows.append((row.name, value, row.grade, f"{row.warning:g}/{row.critical:g}"))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    table = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    runs = findings.runs
    lines = [plugin_line(findings), ""]
    if findings.hosts:
        worst = host_name(findings.hosts[0].host)
        lines += [f"hosts, worst first (what follows is {worst}'s):"]
        lines += [f"  {host_line(host)}" for host in findings.hosts] + [""]
    lines += [
        f"verdict: {findings.verdict}   instances: {findings.instances}   runs: {runs.total} "
        f"({runs.completed} completed, {runs.exited} exited, {runs.timed_out} timed out, "
        f"{runs.hung} hung, {runs.incomplete} running)",
        "",
        *table,
    ]
    if findings.pattern is not None:
        lines += ["", f"pattern: {findings.pattern.text}"]
    if findings.actions:
        lines += ["", "actions:", *(f"  - {a.text}: {a.reason}" for a in findings.actions)]
    if findings.monitor is not None and findings.monitor.blind:
        lines += ["", f"monitor: blind: {findings.monitor.reason}"]
    return "\n".join(lines)


def _one_line(text: str) -> str:
    """Text safe for the plugin's first line (no newline, no ``|``)."""
    return " ".join(text.split()).replace("|", "/")


#: The trend table's columns: the store's names and their headings.
_TREND = (
    ("day", "day"),
    ("verdict", "verdict"),
    *((m.id, m.heading) for m in map(metric, ("runs", *(t.id for t in TRENDED)))),
    ("mix_process", "process %"),
    ("mix_sequential", "sequential %"),
)


def trend_table(trend: pd.DataFrame) -> str:
    """The recorded days as an aligned table, oldest first."""
    rows = [tuple(heading for _, heading in _TREND)]
    days = trend.assign(day=pd.to_datetime(trend["day"]).dt.date)
    for record in days.to_dict("records"):
        rows.append(tuple(_cell(record.get(name)) for name, _ in _TREND))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.rjust(w) if i > 1 else c.ljust(w)
                               for i, (c, w) in enumerate(zip(row, widths, strict=True))).rstrip()
                      for row in rows)  # fmt: skip


def hosts_line(hosts: tuple[str, ...]) -> str:
    """``hosts recorded: web1, web2`` (or that none is)."""
    return f"hosts recorded: {', '.join(map(repr, hosts))}" if hosts else "no host recorded"


def _cell(value: object) -> str:
    """A trend value: a number without decimals, a dash when unknown."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):  # type: ignore[call-overload]
        return "-"
    if isinstance(value, float):
        return f"{value:.0f}"
    return str(value)
