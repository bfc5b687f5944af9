"""``poolwatch monitor``: one sample (``--once``, for cron) or a sample every interval in
the foreground (for a systemd service) until SIGTERM or SIGINT, which end it after the
sample under way.

Each sample appends its record and its alerts' records to the JSON log, its lines to
the human log, sends its alerts (syslog, command), replaces the textfile, then saves the
state. A monitor killed between writing a sample and saving the state counts that
window again at its next sample (each record's ``logs.files[]`` offsets show the
overlap): records are written at least once, never half.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import FrameType

import poolwatch
from poolwatch.monitor import humanlog, records, sample, state, textfile
from poolwatch.monitor.notify import Command, Syslog
from poolwatch.monitor.records import Appender, encode
from poolwatch.monitor.settings import Options

Say = Callable[[str], None]


@dataclass
class _Outputs:
    """Everything a sample writes to or sends through."""

    options: Options
    records: Appender
    human: Appender
    syslog: Syslog | None
    command: Command | None

    @classmethod
    @contextlib.contextmanager
    def opened(cls, options: Options) -> Iterator[_Outputs]:
        """The logs opened for appending and the alert sinks connected, closed after."""
        files = options.files
        with contextlib.ExitStack() as stack:
            log = stack.enter_context(contextlib.closing(Appender(files.records)))
            human = stack.enter_context(contextlib.closing(Appender(files.human)))
            syslog = None
            if options.syslog is not None:
                syslog = stack.enter_context(contextlib.closing(Syslog(options.syslog)))
            command = Command(options.on_alert) if options.on_alert else None
            yield cls(options, log, human, syslog, command)

    def own(self) -> list[tuple[int, int]]:
        """Device and inode of the monitor's own files: never read as logs."""
        files = self.options.files
        paths = [files.records, files.human, files.state, files.lock]
        if self.options.textfile is not None:
            paths.append(self.options.textfile)
        found = []
        for path in paths:
            with contextlib.suppress(OSError):
                info = path.stat()
                found.append((info.st_dev, info.st_ino))
        return found


def run(options: Options, say: Say, note: Say) -> None:
    """Run the monitor as ``options`` ask; ``say`` prints its lines, ``note`` its notices."""
    files = options.files
    with state.locked(files.lock, files.records), _Outputs.opened(options) as out:
        memory = state.load(files.state)
        if options.once:
            if out.human.empty:
                _human(out, humanlog.started(time.time()), say)
            _sample(out, memory, say, note)
        else:
            _forever(out, memory, say, note)


def _forever(out: _Outputs, memory: state.State, say: Say, note: Say) -> None:
    """A sample every interval, on a fixed schedule, until SIGTERM or SIGINT."""
    options = out.options
    with _Stopper() as stopper:
        now = time.time()
        start = {**records.header("start", now), "interval": options.interval,
                 "patterns": list(options.patterns),
                 "textfile": None if options.textfile is None else str(options.textfile),
                 "version": poolwatch.__version__}  # fmt: skip
        out.records.append([encode(start)])
        _human(out, humanlog.started(now), say)
        taken, last = 0, None
        due = time.monotonic()
        while stopper.reason is None:
            last = _sample(out, memory, say, note)
            taken += 1
            due += options.interval
            if due < time.monotonic():  # the sample took longer than the interval
                due = time.monotonic() + options.interval
            stopper.wait(due - time.monotonic())
        now = time.time()
        stop = {**records.header("stop", now), "reason": stopper.reason, "samples": taken}
        out.records.append([encode(stop)])
        _human(out, [humanlog.stopped(now, stopper.reason)], say)
        if options.textfile is not None and last is not None:
            textfile.write(options.textfile, last, memory.totals, up=False)


def _sample(out: _Outputs, memory: state.State, say: Say, note: Say) -> sample.Sample:
    """One sample: written, alerts sent, textfile replaced, state saved."""
    options = out.options
    taken = sample.take(options.patterns, memory, exclude=out.own())
    out.records.append([encode(records.sample_record(taken))])
    _human(out, [humanlog.sample_line(taken)], say)
    for alert in taken.alerts:
        delivery: dict[str, str | None] = {"syslog": None, "command": None}
        if out.syslog is not None:
            delivery["syslog"] = out.syslog.send(alert)
        if out.command is not None:
            delivery["command"] = out.command.run(records.alert_record(taken, alert, delivery))
        out.records.append([encode(records.alert_record(taken, alert, delivery))])
        _human(out, [humanlog.alert_line(taken, alert)], say)
    if options.textfile is not None:
        textfile.write(options.textfile, taken, memory.totals)
    state.save(options.files.state, memory)
    _notices(taken, note)
    return taken


def _human(out: _Outputs, lines: list[str], say: Say) -> None:
    """Lines to the human log, and to ``say``."""
    out.human.append(line.encode("utf-8", "backslashreplace") + b"\n" for line in lines)
    for line in lines:
        say(line)


def _notices(taken: sample.Sample, note: Say) -> None:
    """What an operator may want to know about the files (printed with ``-v``)."""
    for pattern in taken.unmatched:
        note(f"poolwatch monitor: --logs {pattern}: no file matches (recorded)")
    for path, error in taken.errors:
        note(f"poolwatch monitor: {path}: cannot read: {error}")
    for reading in taken.readings:
        if reading.reset is not None and reading.reset != "new":
            note(f"poolwatch monitor: {reading.path}: {reading.reset}, read again from 0")


class _Stopper:
    """SIGTERM and SIGINT, turned into a reason to stop after the sample under way; the
    wait between samples wakes at once (the handler writes to a pipe)."""

    SIGNALS = (signal.SIGTERM, signal.SIGINT)

    def __init__(self) -> None:
        self.reason: str | None = None
        self._read, self._write = os.pipe()
        os.set_blocking(self._write, False)
        self._before: dict[int, signal._HANDLER] = {}

    def __enter__(self) -> _Stopper:
        for number in self.SIGNALS:
            self._before[number] = signal.signal(number, self._handle)
        return self

    def __exit__(self, *_: object) -> None:
        for number, handler in self._before.items():
            signal.signal(number, handler)
        os.close(self._read)
        os.close(self._write)

    def _handle(self, number: int, _frame: FrameType | None) -> None:
        self.reason = signal.Signals(number).name
        with contextlib.suppress(BlockingIOError):
            os.write(self._write, b"x")

    def wait(self, seconds: float) -> None:
        """Sleep up to ``seconds``, less if a signal comes."""
        if self.reason is None and seconds > 0:
            select.select([self._read], [], [], seconds)
