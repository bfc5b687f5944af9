"""The monitor's JSON records: their schema, how they are appended, how to read them.

``poolwatch monitor`` appends one JSON object per line (JSON Lines, ASCII, keys in the
order below) to its ``--log``: a ``sample`` record per sample, then an ``alert`` record
per alert of that sample; a monitor running in the foreground also writes a ``start``
record before its first sample and a ``stop`` record when it is asked to stop. Each
record is one ``write(2)`` of a whole line to a file opened for appending, so a monitor
killed at any moment leaves whole lines, and at worst a final line cut short (disk
full); a line cut short is followed by a newline before the next record is appended, so
it never swallows one. :func:`read_records` skips a final line without its newline and
any line that is not a JSON object, and says how many it skipped.

Schema version 1; within it, fields are never renamed or removed, and new fields may
appear. ``counts`` is an object ``{"overload": int, "processpool_failed": int,
"threadpool_failed": int}``: lines containing ``System overloaded`` (not a monitor's
``ALERT:`` line), ``ProcessPoolExecutor failed`` and ``ThreadPoolExecutor also failed``.

The fields (the table :data:`FIELDS` makes, put in here at import, so that the two never
differ; docs/monitor.md has the same table):

SCHEMA
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from poolwatch.monitor.alerts import Alert
from poolwatch.monitor.sample import Sample
from poolwatch.monitor.settings import MonitorError

SCHEMA_VERSION = 1

#: Every field of every record: (records, field, type, meaning). ``[]`` marks the items
#: of a list; ``counts`` is the object described above.
FIELDS: tuple[tuple[str, str, str, str], ...] = (
    ("all", "schema", "int", "the schema version: 1"),
    ("all", "record", "string", "`sample`, `alert`, `start` or `stop`"),
    ("all", "time", "string", "local time of the sample, ISO 8601 with the UTC offset and "
     "milliseconds (`2026-11-28T11:35:50.123+01:00`)"),
    ("all", "zone", "string", "the host's zone abbreviation at that time (`CET`, `UTC`)"),
    ("all", "hostname", "string", "the host's name"),
    ("all", "monitor_pid", "int", "the monitor's process id"),
    ("sample, alert", "sample", "int", "the sample's number: 1 for the first of the state "
     "file, one more at each sample (a gap: records lost)"),
    ("sample, alert", "window", "float or null", "seconds since the previous sample: the "
     "window the counts cover (null for the first sample of the state)"),
    ("sample", "duration", "float", "seconds the sample took"),
    ("sample", "runs", "int", "runs in progress: run_batt.py processes that are not workers"),
    ("sample", "skipped_processes", "int", "run_batt.py processes that ended or could not be "
     "read during the sample (left out)"),
    ("sample", "host.threads", "int", "threads of every process on the host (`ps -eLf | wc "
     "-l` prints one more: its header)"),
    ("sample", "host.processes", "int", "processes on the host"),
    ("sample", "host.memory_available", "int", "bytes of memory available (MemAvailable)"),
    ("sample", "host.memory_total", "int", "bytes of memory"),
    ("sample", "host.load", "[float, float, float]", "load averages over 1, 5 and 15 minutes"),
    ("sample", "host.cpus", "int", "logical CPUs"),
    ("sample", "processes[].pid", "int", "a run_batt.py process"),
    ("sample", "processes[].ppid", "int", "its parent"),
    ("sample", "processes[].instance", "string or null", "`tmp_batt_<id>` from its `-b "
     "tmp_batt_<id>_run` (null without `-b`)"),
    ("sample", "processes[].worker", "bool", "forked by a run_batt.py process of the same "
     "instance (a ProcessPool worker), not a run"),
    ("sample", "processes[].threads", "int", "its threads, as `ps -o nlwp <pid>` shows them"),
    ("sample", "processes[].rss", "int", "resident memory, bytes"),
    ("sample", "processes[].age", "float", "seconds since it started"),
    ("sample", "instances[].instance", "string", "`tmp_batt_<id>`: every instance with a "
     "process or a log file in this sample, sorted by name"),
    ("sample", "instances[].pids", "[int]", "its runs in progress (empty: none runs)"),
    ("sample", "instances[].processes", "int", "its run_batt.py processes, workers included"),
    ("sample", "instances[].threads", "int or null", "its run's thread count (the highest if "
     "several; null when none runs): the guide's \"Active threads per instance\""),
    ("sample", "instances[].fallbacks", "counts", "fallback lines its logs gained in the "
     "window, counted once (see `counted_from`)"),
    ("sample", "instances[].counted_from", "string or null", "`console` (a console among "
     "the files names the instance), `run_log` (else), null (no log file)"),
    ("sample", "instances[].fallbacks_total", "counts", "its fallbacks since the state file "
     "was created (the Prometheus counters)"),
    ("sample", "fallbacks", "counts", "the window's fallbacks over every instance"),
    ("sample", "logs.patterns", "[string]", "the `--logs` globs"),
    ("sample", "logs.unmatched", "[string]", "the globs that matched no file (not an error)"),
    ("sample", "logs.files[].path", "string", "a file read (absolute; each file once, by "
     "device and inode; the monitor's own files are never read)"),
    ("sample", "logs.files[].kind", "string", "`run_log` (named `tmp_batt_<id>_run.log`) or "
     "`console` (any other file)"),
    ("sample", "logs.files[].instance", "string or null", "a run log's instance; a console's "
     "latest `Running:` line's (null before one is seen)"),
    ("sample", "logs.files[].start", "int", "byte offset read from"),
    ("sample", "logs.files[].end", "int", "byte offset read to (the end of its last whole "
     "line); the next sample reads from here"),
    ("sample", "logs.files[].reset", "string or null", "why it was not read from the last "
     "sample's `end`: `new` (never seen: a run log from 0, a console from its last "
     "`Running:` line), `replaced` (another inode), `truncated` (shorter: tee began a new "
     "run), `rewritten` (its first bytes or those before the offset changed); null"),
    ("sample", "logs.files[].lines", "int", "lines read"),
    ("sample", "logs.files[].fallbacks", "counts", "fallback lines among them"),
    ("sample", "logs.files[].counted", "bool", "whether its counts went to its instance "
     "(false: a run log whose console is read too, or lines of no instance)"),
    ("sample", "logs.errors[].path", "string", "a file matched but not readable"),
    ("sample", "logs.errors[].error", "string", "why"),
    ("sample", "alerts", "int", "alert records that follow this one"),
    ("alert", "rule", "string", "`overload` (more than 5 `System overloaded` lines in the "
     "window) or `threadpool` (more than 3 `ThreadPoolExecutor also failed`)"),
    ("alert", "severity", "string", "`warning` (overload) or `critical` (threadpool)"),
    ("alert", "instance", "string", "the instance whose window count passed the threshold"),
    ("alert", "kind", "string", "the fallback kind counted: `overload`, `threadpool_failed`"),
    ("alert", "count", "int", "its count in the window"),
    ("alert", "threshold", "int", "the count it is more than: 5, 3"),
    ("alert", "message", "string", "the alert in the guide's words"),
    ("alert", "delivery.syslog", "string or null", "`sent`, `failed: <why>`, null (no "
     "`--syslog`)"),
    ("alert", "delivery.command", "string or null", "`exit <code>`, `failed: <why>`, "
     "`timed out`, null (no `--on-alert`)"),
    ("start", "interval", "float", "seconds between samples"),
    ("start", "patterns", "[string]", "the `--logs` globs"),
    ("start", "textfile", "string or null", "the `--textfile`"),
    ("start", "version", "string", "poolwatch's version"),
    ("stop", "reason", "string", "the signal that stopped it: `SIGTERM`, `SIGINT`"),
    ("stop", "samples", "int", "samples this run of the monitor took"),
)  # fmt: skip


def describe() -> str:
    """The schema as a Markdown table (docs/monitor.md's and this module's)."""
    rows = ["| record | field | type | meaning |", "|---|---|---|---|"]
    rows += [f"| {r} | `{f}` | {t} | {m} |" for r, f, t, m in FIELDS]
    return "\n".join(rows)


__doc__ = (__doc__ or "").replace("SCHEMA", describe())

Record = dict[str, Any]
"""A JSON record as written and read (the schema above)."""


def header(kind: str, now: float) -> Record:
    """The fields every record starts with."""
    local = datetime.fromtimestamp(now).astimezone()
    return {
        "schema": SCHEMA_VERSION,
        "record": kind,
        "time": local.isoformat(timespec="milliseconds"),
        "zone": local.tzname() or "",
        "hostname": socket.gethostname(),
        "monitor_pid": os.getpid(),
    }


def sample_record(sample: Sample) -> Record:
    """A ``sample`` record."""
    host = sample.census.host
    return {
        **header("sample", sample.now),
        "sample": sample.number,
        "window": _seconds(sample.window),
        "duration": round(sample.duration, 4),
        "runs": len(sample.census.runs),
        "skipped_processes": sample.census.skipped,
        "host": {"threads": host.threads, "processes": host.processes,
                 "memory_available": host.memory_available, "memory_total": host.memory_total,
                 "load": [round(x, 2) for x in host.load], "cpus": host.cpus},
        "processes": [
            {"pid": p.pid, "ppid": p.ppid, "instance": p.instance, "worker": p.worker,
             "threads": p.threads, "rss": p.rss, "age": round(p.age, 1)}
            for p in sample.census.processes
        ],
        "instances": [
            {"instance": row.instance, "pids": list(row.pids), "processes": row.processes,
             "threads": row.threads, "fallbacks": row.fallbacks.as_dict(),
             "counted_from": row.counted_from, "fallbacks_total": row.totals.as_dict()}
            for row in sample.instances
        ],
        "fallbacks": sample.fallbacks.as_dict(),
        "logs": {
            "patterns": list(sample.patterns),
            "unmatched": list(sample.unmatched),
            "files": [
                {"path": r.path, "kind": r.kind, "instance": r.instance, "start": r.start,
                 "end": r.end, "reset": r.reset, "lines": r.lines,
                 "fallbacks": r.fallbacks.as_dict(), "counted": r.path in sample.counted}
                for r in sample.readings
            ],
            "errors": [{"path": path, "error": error} for path, error in sample.errors],
        },
        "alerts": len(sample.alerts),
    }  # fmt: skip


def alert_record(sample: Sample, alert: Alert, delivery: Mapping[str, str | None]) -> Record:
    """An ``alert`` record of ``sample``, with how it was delivered."""
    return {
        **header("alert", sample.now),
        "sample": sample.number,
        "window": _seconds(sample.window),
        "rule": alert.rule.name,
        "severity": alert.rule.severity,
        "instance": alert.instance,
        "kind": alert.rule.kind,
        "count": alert.count,
        "threshold": alert.rule.threshold,
        "message": alert.message,
        "delivery": {"syslog": delivery.get("syslog"), "command": delivery.get("command")},
    }


def _seconds(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def encode(record: Record) -> bytes:
    """One record as one line: ASCII JSON (no raw newline can appear) and ``\\n``."""
    return (
        json.dumps(record, ensure_ascii=True, allow_nan=False, separators=(",", ":")).encode(
            "ascii"
        )
        + b"\n"
    )


class Appender:
    """A file that whole lines are appended to, each with one ``write(2)``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self._fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as err:
            raise MonitorError(f"{path}: cannot write: {err.strerror or err}") from err
        size = os.fstat(self._fd).st_size
        self.empty = size == 0
        if size and os.pread(self._fd, 1, size - 1) != b"\n":
            self._write(b"\n")  # a line cut short keeps to itself

    def append(self, lines: Iterable[bytes]) -> None:
        """Append each line (ending in a newline) with a write of its own."""
        for line in lines:
            self._write(line)

    def _write(self, data: bytes) -> None:
        view = memoryview(data)
        try:
            while view:
                view = view[os.write(self._fd, view) :]
        except OSError as err:
            raise MonitorError(f"{self.path}: cannot write: {err.strerror or err}") from err

    def close(self) -> None:
        """Close the file."""
        os.close(self._fd)


@dataclass(frozen=True)
class Read:
    """The records of a monitor log, and what was skipped."""

    records: list[Record]
    partial: bool
    """The file ended in a line without its newline (being written, or cut): skipped."""
    invalid: int
    """Whole lines that were not a JSON object with a ``record`` field: skipped."""


def read_records(path: Path) -> Read:
    """Every whole record of a monitor log; a final line without its newline is skipped
    (it may still be being written), as is any line that is not a record."""
    data = path.read_bytes()
    lines = data.split(b"\n")
    partial = lines.pop() != b""
    records: list[Record] = []
    invalid = 0
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            record = None
        if isinstance(record, dict) and "record" in record:
            records.append(record)
        elif line.strip():
            invalid += 1
    return Read(records, partial, invalid)
