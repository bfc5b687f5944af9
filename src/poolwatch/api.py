"""poolwatch as Python functions: what ``parse``, ``report``, ``check`` and ``daily`` do,
without a command line. The CLI parses arguments and calls these; so can a script::

    from pathlib import Path
    from poolwatch import api

    findings = api.report(["logs/"])
    print(findings.verdict, findings.summary)
    api.write(findings, api.targets(Path("out"), ("html", "json")))

Nothing here prints, prompts or exits. Every failure a user can fix is a
:class:`~poolwatch.errors.PoolwatchError` whose message names what is wrong, and whose
``exit_code`` is the one the command exits with. The pipeline's modules are imported by
the function that needs them: ``parse`` reads logs while pandas loads beside it (and
``report`` and ``check`` while the diagnosis's modules do), and ``poolwatch --help``
loads nothing of the pipeline.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, suppress
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, tzinfo
from functools import partial
from pathlib import Path
from threading import Thread
from typing import TYPE_CHECKING

from poolwatch.errors import NoUsableInputError, PoolwatchError, UsageError
from poolwatch.ingest.discover import STDIN
from poolwatch.states import FileStatus

if TYPE_CHECKING:
    import pandas as pd

    from poolwatch.config import Config
    from poolwatch.deliver.mail import Smtp
    from poolwatch.findings import Findings, History
    from poolwatch.history.store import DayMetrics, Store
    from poolwatch.ingest.cluster import Cluster
    from poolwatch.ingest.discover import Source
    from poolwatch.ingest.hosts import HostPattern
    from poolwatch.ingest.parse import Ingest
    from poolwatch.ingest.publish import RunsWanted

#: Shows a step's progress: ``steps("reading", total, "B")`` opens a display of it and
#: gives the function to tell how much more is done (a terminal's progress bar, say).
Steps = Callable[[str, int, str], AbstractContextManager[Callable[[int], None]]]
#: Told a warning, one line.
Warn = Callable[[str], None]

#: Report formats and the file each writes.
FORMATS = {
    "html": "report.html",
    "pdf": "report.pdf",
    "json": "summary.json",
    "md": "ticket.md",
}


def cluster_of(scheduler: str | None = None, workers: int | None = None) -> Cluster | None:
    """Where to read the files: the Dask scheduler at ``scheduler`` (``tcp://HOST:8786``;
    default: ``POOLWATCH_SCHEDULER``), or a local cluster of ``workers`` processes; None
    (neither): here, in threads. Dask is imported only once files are read there."""
    from poolwatch.ingest.cluster import Cluster

    return Cluster.of(scheduler, workers)


def host_pattern(text: str | None) -> HostPattern | None:
    """``host_from`` checked and compiled (None: hosts told by the default rule): a glob
    with one ``{host}`` field, such as ``logs/{host}/*`` (a ``UsageError`` otherwise)."""
    from poolwatch.ingest.hosts import host_pattern as compiled

    return None if text is None else compiled(text)


def read(
    paths: Sequence[str],
    *,
    steps: Steps | None = None,
    seen: Callable[[Ingest], None] | None = None,
    cluster: Cluster | None = None,
    host_from: str | None = None,
    wanted: RunsWanted | None = None,
) -> Ingest:
    """Read every input the paths name (files, directories, globs, ``s3://`` URLs, ``-``
    for standard input) into the published tables, on a Dask ``cluster`` if one is given
    (with ``wanted``, only the tasks and events of the runs it chooses, and of no run).
    Each file's host is the one its path names: the first directory under an input that
    holds several hosts' directories, or the ``{host}`` field of ``host_from``
    (``logs/{host}/*``; a file it does not match is skipped). ``seen`` is shown the
    tables before they are checked, so that a caller can list what was skipped; fails
    when nothing is usable."""
    from poolwatch.ingest.discover import discover
    from poolwatch.ingest.parse import ingest

    pattern = host_pattern(host_from)
    if list(paths).count(STDIN) > 1:
        raise UsageError("'-' (standard input) can be given only once")
    if steps is None:
        result = ingest(paths, cluster=cluster, host_from=pattern, wanted=wanted)
    else:
        found = discover(paths, pattern).sources
        total = sum(_size(source) for source in found)
        with steps("reading", total, "B") as advance:
            result = ingest(
                paths, progress=advance, cluster=cluster, host_from=pattern, wanted=wanted
            )
    if seen is not None:
        seen(result)
    if not (result.files["status"] == FileStatus.READ).any():
        raise NoUsableInputError(_nothing_usable(result))
    return result


def _size(source: Source) -> int:
    """A source's bytes as listed (an object in a store) or on disk (0: a stream)."""
    if source.size is not None:
        return source.size
    return source.path.stat().st_size if source.path is not None else 0


def _nothing_usable(result: Ingest) -> str:
    """Why no input could be used, naming the first path skipped and its reason."""
    skipped = result.files[result.files["status"] == FileStatus.SKIPPED]
    if skipped.empty:
        return "no usable input"
    first = skipped.iloc[0]
    more = f" (and {len(skipped) - 1} more skipped)" if len(skipped) > 1 else ""
    return f"no usable input: {first['path']}: {first['reason']}{more}"


def config(path: Path | None = None) -> Config:
    """The thresholds and settings in effect: the guide's, overridden by ``path`` (or by
    ./poolwatch.toml when it exists)."""
    from poolwatch.config import load

    return load(path)


def now() -> datetime:
    """Now, or ``SOURCE_DATE_EPOCH`` (seconds since 1970) when the environment sets it:
    the date reports carry, so that they can be made reproducibly."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if not epoch:
        return datetime.now(UTC)
    try:
        return datetime.fromtimestamp(int(epoch), UTC)
    except ValueError as err:
        raise UsageError(f"SOURCE_DATE_EPOCH={epoch!r}: not a number of seconds") from err


#: The module the diagnosis starts from (its imports: 0.07 s after reading, measured).
_DIAGNOSIS = "poolwatch.analyze.diagnose"


def _import_beside(module: str) -> None:
    """Import a module needed once the files are read, in a thread while they are read
    (the scanning leaves the interpreter free most of the time). An import that fails
    here (or meets the main thread's import of the same module) is done again, and
    any error reported, where the module is needed."""

    def load() -> None:
        with suppress(ImportError, RuntimeError):
            importlib.import_module(module)

    Thread(target=load, name="import", daemon=True).start()


def diagnose(result: Ingest, settings: Config | None = None, *, command: str = "") -> Findings:
    """Everything a report shows about the fleet the tables come from (``command``: the
    command line that asked, for the report's provenance)."""
    from poolwatch.analyze.diagnose import diagnose as findings_of

    return findings_of(result, settings or config(), now=now(), command=command)


def report(
    paths: Sequence[str],
    *,
    settings: Config | None = None,
    baseline: Sequence[str] = (),
    baseline_days: int | None = None,
    store: Path | None = None,
    command: str = "",
    steps: Steps | None = None,
    seen: Callable[[Ingest], None] | None = None,
    warn: Warn | None = None,
    cluster: Cluster | None = None,
    host_from: str | None = None,
) -> Findings:
    """The findings of the logs at ``paths`` (read on ``cluster``, if given, their hosts
    told as ``read`` tells them); with ``baseline`` (earlier logs) or
    ``baseline_days`` (the median of that many days of the history ``store``) a
    before/after comparison too: a post-deployment review."""
    if baseline and baseline_days:
        raise UsageError("give --baseline or --baseline-days, not both")
    settings = settings or config()
    _import_beside(_DIAGNOSIS)
    findings = diagnose(read(paths, steps=steps, seen=seen, cluster=cluster,
                             host_from=host_from), settings, command=command)  # fmt: skip
    if baseline:
        before = diagnose(read(baseline, steps=steps, seen=seen, cluster=cluster,
                               host_from=host_from), settings)  # fmt: skip
        return against_logs(findings, before, baseline, settings, warn=warn)
    if baseline_days:
        return against_store(findings, baseline_days, store, settings)
    return findings


def against_logs(
    findings: Findings,
    before: Findings,
    paths: Sequence[str],
    settings: Config,
    *,
    warn: Warn | None = None,
) -> Findings:
    """The findings with a before/after section against ``before``, the findings of the
    logs at ``paths`` (a baseline ending after these logs begin is warned about)."""
    from poolwatch.history.compare import baseline, of_host, values

    source = "the logs at " + ", ".join(paths)
    ended, starts = before.window[1], findings.window[0]
    if ended is not None and starts is not None and ended > starts:
        source += (f" (they end {ended:%Y-%m-%d %H:%M} UTC, after these logs begin: before "
                   "and after may be swapped)")  # fmt: skip
        if warn is not None:
            warn(f"the baseline {', '.join(paths)} ends after these logs begin "
                 "(before and after may be swapped)")  # fmt: skip
    compared = baseline(values(before), before.executor_mix, findings, settings, source)
    earlier = {h.host: h.findings for h in before.hosts}
    hosts = tuple(
        replace(h, findings=replace(h.findings, baseline=baseline(
            values(was), was.executor_mix, h.findings, settings, of_host(source, h.host)
        )))
        if (was := earlier.get(h.host)) is not None else h
        for h in findings.hosts
    )  # fmt: skip
    return replace(findings, baseline=compared, hosts=hosts)


def against_store(findings: Findings, days: int, store: Path | None, settings: Config) -> Findings:
    """The findings with a before/after section against the median of the days recorded
    in the history ``store`` before the logs' window; each host's against its own days."""
    from poolwatch.history.store import Store

    start = findings.window[0]
    end = (start.date() if start else datetime.now(UTC).date()) - timedelta(days=1)
    recorded = Store(store or default_store())
    trend = recorded.trend(days, end)
    if trend.empty:
        raise PoolwatchError(f"no day recorded in the store in the {days} days up to "
                             f"{end} (run poolwatch daily first)")  # fmt: skip
    hosts = tuple(
        h if (own := recorded.trend(days, end, h.host)).empty
        else replace(h, findings=_against_median(own, h.findings, settings, h.host))
        for h in findings.hosts
    )  # fmt: skip
    return replace(_against_median(trend, findings, settings), hosts=hosts)


def _against_median(
    trend: pd.DataFrame, findings: Findings, settings: Config, host: str | None = None
) -> Findings:
    """The findings with a before/after section against the median of ``trend``'s days
    (the store's rows: the fleet's, or ``host``'s)."""
    from poolwatch.history.compare import baseline, median_of, of_host

    before, mix, source = median_of(trend)
    source = source if host is None else of_host(source, host)
    return replace(findings, baseline=baseline(before, mix, findings, settings, source))


def default_store() -> Path:
    """The history store's default place: $XDG_DATA_HOME/poolwatch (~/.local/share)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "poolwatch"


def history(store: Path | None = None, *, warn: Warn | None = None) -> Store:
    """The history store at ``store`` (or the default place), its unreadable rows warned
    of; reading it creates nothing."""
    from poolwatch.history.store import Store

    return Store(store or default_store(), warn=warn)


def targets(out: Path, formats: Sequence[str] = tuple(FORMATS)) -> dict[str, Path]:
    """The file each of the formats writes in ``out``."""
    unknown = [name for name in formats if name not in FORMATS]
    if unknown:
        raise UsageError(f"unknown format {unknown[0]!r} (one or more of: {', '.join(FORMATS)})")
    return {name: out / FORMATS[name] for name in formats}


def refuse(files: Sequence[Path], paths: Sequence[str]) -> None:
    """Refuse to write any of ``files`` over one of the inputs the ``paths`` name
    (poolwatch's own earlier outputs may be rewritten): checked before anything is read."""
    from poolwatch.render.output import OutputError, refuse_inputs

    try:
        refuse_inputs(files, paths)
    except OutputError as err:
        raise UsageError(str(err)) from err


def inside_inputs(out: Path, paths: Sequence[str]) -> str | None:
    """A warning when ``out`` is inside an input directory (poolwatch skips its own
    outputs there, but reports are better kept apart from logs)."""
    target = out.resolve()
    for given in paths:
        folder = Path(given)
        if given != STDIN and folder.is_dir() and target.is_relative_to(folder.resolve()):
            return (f"--out {out} is inside the input {given}: poolwatch skips its own "
                    "outputs there; keep reports apart from logs")  # fmt: skip
    return None


def write(
    findings: Findings,
    files: dict[str, Path],
    *,
    paper: str = "a4",
    steps: Steps | None = None,
) -> None:
    """Write the report files (``targets``), in ``paper`` size (a4 or letter)."""
    from poolwatch.render.report import write_reports

    with (steps or _unshown)("rendering", len(files), "file") as advance:
        write_reports(findings, files, paper=paper, progress=advance)


@contextmanager
def _unshown(_what: str, _total: int, _unit: str) -> Iterator[Callable[[int], None]]:
    """Steps shown nowhere."""
    yield lambda _done: None


def check(
    paths: Sequence[str],
    settings: Config | None = None,
    *,
    cluster: Cluster | None = None,
    host_from: str | None = None,
) -> Findings:
    """The findings a monitoring-plugin check reports (``status`` gives its exit code;
    ``cluster`` and ``host_from`` as ``read`` takes them)."""
    _import_beside(_DIAGNOSIS)
    return diagnose(read(paths, cluster=cluster, host_from=host_from), settings)


def status(findings: Findings) -> int:
    """A check's exit code: 0 OK (healthy), 1 WARNING, 2 CRITICAL, 3 UNKNOWN."""
    from poolwatch.render.terminal import STATUS

    return STATUS[findings.verdict][1]


def daily(
    paths: Sequence[str],
    *,
    day: date,
    zone: tzinfo,
    out: Path,
    store: Store | Path | None = None,
    keep: int | None = None,
    formats: Sequence[str] = tuple(FORMATS),
    settings: Config | None = None,
    command: str = "",
    steps: Steps | None = None,
    seen: Callable[[Ingest], None] | None = None,
    warn: Warn | None = None,
    cluster: Cluster | None = None,
    host_from: str | None = None,
) -> Findings:
    """Summarise one ``day`` (in ``zone``) of the logs: write its report under
    ``out/<day>/`` with its changes against the day before and the trailing median,
    rewrite ``out/index.html``, then record the day in the history ``store`` (a path, or
    one opened with ``history``; pruned to ``keep`` days). Nothing is recorded unless
    every file was written. ``cluster`` and ``host_from``: where the logs are read and
    how their hosts are told (``read``)."""
    from poolwatch.analyze.days import days_in, only_day, runs_on
    from poolwatch.analyze.diagnose import assess
    from poolwatch.history.record import day_metrics, host_metrics
    from poolwatch.history.store import Store, pruned, with_day
    from poolwatch.render.index import write_index

    settings = settings or config()
    folder = out / day.isoformat()
    files = targets(folder, formats)
    refuse([*files.values(), out / "index.html"], paths)
    if warn is not None and (inside := inside_inputs(out, paths)):
        warn(inside)
    # A store it cannot read fails before the logs are read; nothing is created yet.
    recorded = store if isinstance(store, Store) else history(store, warn=warn)
    # Only the day's runs' tasks and events are published: a month of logs is not held.
    result = read(paths, steps=steps, seen=seen, cluster=cluster, host_from=host_from,
                  wanted=partial(runs_on, day=day, zone=zone))  # fmt: skip
    held = days_in(result, zone)
    if day not in held:
        shown_days = ", ".join(str(d) for d in held[-7:]) or "none"
        raise PoolwatchError(f"no run or monitor record on {day} in the logs "
                             f"(days they hold: {shown_days}); see --day and --tz")  # fmt: skip
    result = only_day(result, day, zone)  # the other days' tables are freed here
    assessed = assess(result, settings, now=now(), command=command)
    metrics = day_metrics(day, assessed.findings, assessed.runs)
    each = host_metrics(day, assessed.findings, assessed.runs)
    # The reports show the store as it will be; the day is recorded once they are written.
    every_day = with_day(recorded.every_day(), metrics)
    findings = replace(
        assessed.findings,
        history=_history(recorded, None, metrics, settings),
        hosts=tuple(
            replace(
                h,
                findings=replace(
                    h.findings, history=_history(recorded, h.host, each[h.host], settings)
                ),
            )
            for h in assessed.findings.hosts
        ),
    )
    write(findings, files, steps=steps)
    write_index(out, every_day if keep is None else pruned(every_day, keep, day), settings)
    recorded.record(day, metrics, assessed.runs, each)
    if keep is not None:
        recorded.prune(keep, day)
    return findings


def _history(store: Store, host: str | None, row: DayMetrics, settings: Config) -> History:
    """``row``'s day against the days before it in ``store`` (the fleet's, or ``host``'s),
    the store as it will be once the day is recorded."""
    from poolwatch.history.compare import TREND_DAYS, history
    from poolwatch.history.store import with_day

    return history(with_day(store.trend(TREND_DAYS, row.day, host), row), row.day, settings)


def mail(
    findings: Findings,
    folder: Path,
    *,
    smtp: Smtp,
    to: Sequence[str],
    sender: str | None = None,
) -> None:
    """Mail the report written in ``folder``: ticket.md as the body, report.pdf attached
    when it was written."""
    from poolwatch.deliver.mail import MailError, deliver
    from poolwatch.render.markdown import render

    pdf = folder / "report.pdf"
    subject = f"poolwatch: {findings.verdict.upper()}: {findings.summary}"[:200]
    try:
        deliver(smtp=smtp, to=tuple(to), sender=sender, subject=subject,
                body=render(findings), attachments=[pdf] if pdf.is_file() else [])  # fmt: skip
    except (MailError, ValueError) as err:
        raise PoolwatchError(f"mail not sent: {err}") from err
