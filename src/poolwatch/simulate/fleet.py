"""The fleet: instances taking turns, their consoles and run logs written as they go."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from poolwatch.simulate.numbers import (
    CARD_SECONDS,
    CATCH_UP_CHANCE,
    INSTANCE_STAGGER_SECONDS,
    KILLED_GAP_SECONDS,
    LATER_FORM_SHARE,
    LATER_VERSION_SHARE,
    LIVE_AFTER,
    LIVE_MARGIN_SECONDS,
    LOKY_WARNING_SHARE,
    LOOP_GAP_SECONDS,
    RUN_TASKS,
    TERM_MESSAGE_SHARE,
    TIMING_SHARE,
)
from poolwatch.simulate.phrases import ID_CHARS, PATHS, TERM_LINE
from poolwatch.simulate.pieces import ArcTask, arc_tasks, date_line, uniform
from poolwatch.simulate.profiles import FIRST, LATER, PROFILES, Profile, Version, roles
from poolwatch.simulate.run import (
    Counts,
    Run,
    begin,
    complete_run,
    deadlock_run,
    exit_run,
    hang_run,
    long_run,
)
from poolwatch.simulate.truth import RunTruth

# --- The fleet -------------------------------------------------------------------------------


@dataclass
class _TailRun:
    """What the monitor's ``tail -100`` needs of one run of a lone instance."""

    python_start: float
    marks_t: list[float]
    marks_n: list[int]
    kept: int
    processpool_failed: list[int]
    threadpool_failed: list[int]
    overloads: list[int]


@dataclass
class Instance:
    """One run_card.sh loop: its files, its habits and where its clock stands."""

    number: int
    iid: str
    role: str
    rng: random.Random
    later_form: bool
    timing: bool
    loky: bool
    clock: float  # seconds after start of its next `date` line
    first_start: float
    console_path: Path
    version: Version = FIRST
    end: float = 0.0
    runs: int = 0
    pending: str = ""  # console text owed before the next `date` line
    run_log_text: str = ""  # tee's copy of its latest run
    run_starts: list[float] = field(default_factory=list)  # when each run's python started
    tail: list[_TailRun] = field(default_factory=list)
    tail_starts: list[float] = field(default_factory=list)
    queue: list[ArcTask] = field(default_factory=list)  # ARC tasks not yet dealt

    @property
    def console(self) -> str:
        """File name of its console log."""
        return self.console_path.name

    @property
    def run_log(self) -> str:
        """File name of its run log (tee's copy of the latest run)."""
        return f"tmp_batt_{self.iid}_run.log"

    @property
    def snapshot_file(self) -> str:
        """File name of the thread snapshots an operator pasted for it."""
        return f"threads_tmp_batt_{self.iid}.txt"

    def header(self, count: int) -> str:
        """What run_card.sh echoes after `date` for one iteration."""
        command = (
            f"timeout -k 5s {self.version.timeout(count)}s python run_batt.py"
            if self.later_form
            else "python run_batt.py"
        )
        return (
            "=== NO GPU - CPU MODE ===\n"
            "Card.py: Generating standard batt for CPU\n"
            "Timeout: 10.0s\n"
            f"Generating batt: python card.py -c 32 -f tmp_batt_{self.iid}_run.py\n"
            f"Running: {command} -t 10.0 -c {count} -b tmp_batt_{self.iid}_run\n"
        )


class Writer:
    """Appends text to files in large writes, counting bytes and lines."""

    FLUSH_BYTES = 1 << 20

    def __init__(self, progress: Callable[[int], None] | None) -> None:
        """Starts with no files; ``progress`` receives the size of every write."""
        self.progress = progress
        self.files: list[Path] = []
        self.pending: dict[Path, list[bytes]] = {}
        self.pending_size: dict[Path, int] = {}
        self.ends_open: dict[Path, bool] = {}
        self.bytes = 0
        self.lines = 0

    def create(self, path: Path) -> None:
        """Truncates (or creates) one file and starts tracking it."""
        path.write_bytes(b"")
        self.files.append(path)
        self.pending[path] = []
        self.pending_size[path] = 0
        self.ends_open[path] = False

    def append(self, path: Path, text: str) -> None:
        """Queues text for one file, writing once enough has piled up."""
        if not text:
            return
        data = text.encode("utf-8")
        self.bytes += len(data)
        self.lines += data.count(b"\n")
        self.ends_open[path] = not data.endswith(b"\n")
        self.pending[path].append(data)
        self.pending_size[path] += len(data)
        if self.pending_size[path] >= self.FLUSH_BYTES:
            self.flush(path)

    def flush(self, path: Path) -> None:
        """Writes what is queued for one file."""
        data = b"".join(self.pending[path])
        if data:
            with path.open("ab") as handle:
                handle.write(data)
            if self.progress is not None:
                self.progress(len(data))
        self.pending[path] = []
        self.pending_size[path] = 0

    def close(self) -> None:
        """Writes everything still queued and counts unfinished last lines."""
        for path in self.files:
            self.flush(path)
        self.lines += sum(self.ends_open.values())


@dataclass
class _Deck:
    """Run kinds dealt from shuffled decks, so a scenario's mix holds at every size."""

    cards: tuple[str, ...]
    rng: random.Random
    hand: list[str] = field(default_factory=list)

    def draw(self) -> str:
        """The next run kind."""
        if not self.hand:
            self.hand = list(self.cards)
            self.rng.shuffle(self.hand)
        return self.hand.pop()


@dataclass
class _QuotaDeck:
    """Run kinds dealt so that the whole fleet holds a mix of percentages as closely as its
    run count allows, each degraded kind never above its share (rounded down).

    The runs of the fixed rounds are one shuffled hand holding exactly that; runs beyond
    them (``size_bytes``, ``live``) are dealt one at a time, a degraded kind whenever the
    count so far owes it a run: at random soon after, at once when it owes two.
    """

    mix: tuple[tuple[str, int], ...]  # (kind, percent); the first kind takes the rest
    rng: random.Random
    hand: list[str]
    dealt: dict[str, int]
    runs: int = 0

    @classmethod
    def shuffled(
        cls, mix: tuple[tuple[str, int], ...], runs: int, rng: random.Random
    ) -> _QuotaDeck:
        """A deck whose first ``runs`` cards hold the mix, in an order drawn from ``rng``."""
        hand = [kind for kind, percent in mix[1:] for _ in range(runs * percent // 100)]
        hand += [mix[0][0]] * (runs - len(hand))
        rng.shuffle(hand)
        return cls(mix, rng, hand, dict.fromkeys((kind for kind, _ in mix), 0))

    def draw(self) -> str:
        """The next run kind."""
        self.runs += 1
        kind = self.hand.pop() if self.hand else self.owed()
        self.dealt[kind] += 1
        return kind

    def owed(self) -> str:
        """The degraded kind most owed, if it is its turn, else the first kind."""
        most, chosen = 0, self.mix[0][0]
        for kind, percent in self.mix[1:]:
            owes = self.runs * percent // 100 - self.dealt[kind]
            if owes > most:
                most, chosen = owes, kind
        if most >= 2 or (most == 1 and self.rng.random() < CATCH_UP_CHANCE):
            return chosen
        return self.mix[0][0]


@dataclass
class Fleet:
    """All instances of one simulation and what they have written so far."""

    profile: Profile
    epoch0: float
    out: Path
    arc: tuple[ArcTask, ...]
    deck: _Deck | _QuotaDeck
    instances: list[Instance]
    monitor_rng: random.Random
    writer: Writer
    extra_rng: random.Random  # for what a default simulation lacks (versions, snapshots)
    truths: list[RunTruth] = field(default_factory=list)
    host: str = ""  # the host of a corpus of several (its monitor's hostname)


def _instance_id(rng: random.Random, taken: set[str]) -> str:
    """A fresh mktemp-style id of 6 letters and digits."""
    while True:
        iid = "".join(rng.choices(ID_CHARS, k=6))
        if iid not in taken:
            taken.add(iid)
            return iid


def _chosen(rng: random.Random, count: int, share: float) -> set[int]:
    """Exactly round(count * share) distinct instance indices."""
    return set(rng.sample(range(count), round(count * share)))


def make_fleet(
    scenario: str,
    count: int,
    seed: int,
    *,
    rounds: int,
    version: str,
    epoch0: float,
    writer: Writer,
    out: Path,
    host: str = "",
    first_id: str | None = None,
) -> Fleet:
    """Instances with ids, habits, versions and staggered start times, all from the seed.

    ``rounds`` is how many runs each instance makes before any is added for size or live.
    ``first_id``: the id the first instance runs as (another host's instance's), instead
    of the one it draws (drawn all the same, so that every other byte is the seed's).
    """
    master = random.Random(seed)
    arc = arc_tasks(random.Random(master.getrandbits(64)))
    profile = PROFILES[scenario]
    deck_rng = random.Random(master.getrandbits(64))
    deck: _Deck | _QuotaDeck
    if profile.mix:
        deck = _QuotaDeck.shuffled(profile.mix, count * rounds, deck_rng)
    else:
        deck = _Deck(tuple(kind for kind, n in profile.deck for _ in range(n)), deck_rng)
    monitor_rng = random.Random(master.getrandbits(64))
    later = _chosen(master, count, LATER_FORM_SHARE)
    timing = _chosen(master, count, TIMING_SHARE)
    loky = _chosen(master, count, LOKY_WARNING_SHARE)
    taken: set[str] = set() if first_id is None else {first_id}
    instances = []
    for k, role in enumerate(roles(scenario, count)):
        first = uniform(master, (1.0, 10.0) if k == 0 else INSTANCE_STAGGER_SECONDS)
        rng = random.Random(master.getrandbits(64))
        iid = _instance_id(master, taken)
        if k == 0 and first_id is not None:
            iid = first_id
        habits = (k in later, k in timing, k in loky)
        console = out / f"run_card_{k + 1}.log"
        instances.append(
            Instance(
                k + 1, iid, role, rng, *habits, clock=first, first_start=first, console_path=console
            )
        )
    extra_rng = random.Random(master.getrandbits(64))
    for k in _later_instances(extra_rng, count, version):
        instances[k].version, instances[k].later_form = LATER, True
    return Fleet(
        profile, epoch0, out, arc, deck, instances, monitor_rng, writer, extra_rng, host=host
    )


def _later_instances(rng: random.Random, count: int, version: str) -> set[int]:
    """Indices of the instances that run the later version of run_batt.py."""
    if version == "later":
        return set(range(count))
    return _chosen(rng, count, LATER_VERSION_SHARE) if version == "mixed" else set()


def _build(fleet: Fleet, inst: Instance) -> tuple[Run, float, int]:
    """Builds the next run of one instance; returns it, its seconds and its task count arg."""
    kind = fleet.deck.draw() if inst.role == "deck" else inst.role
    count = 0 if kind == "long" else -RUN_TASKS
    run = Run(inst.rng, fleet.profile, fleet.profile.recipes[kind], inst.version, count)
    begin(run, inst.loky)
    if kind == "long":
        return run, long_run(run, fleet.arc, inst.timing), count
    tasks = _sampled_tasks(inst, fleet.arc)
    if kind == "hang":
        seconds = hang_run(run, tasks)
    elif kind == "deadlock":
        seconds = deadlock_run(run, tasks)
    elif kind == "exit":
        seconds = exit_run(run, tasks)
    else:
        seconds = complete_run(run, tasks, inst.timing)
    return run, _within_limit(run, seconds), count


def _within_limit(run: Run, seconds: float) -> float:
    """The run's seconds, marking it killed if its version's timeout stopped it first."""
    if run.killed or seconds <= run.limit:
        return seconds
    run.killed = True
    return run.limit


def _sampled_tasks(inst: Instance, arc: tuple[ArcTask, ...]) -> list[ArcTask]:
    """32 distinct ARC tasks for a -c -32 run, dealt from the instance's shuffled copy."""
    if len(inst.queue) < RUN_TASKS:
        inst.queue = list(arc)
        inst.rng.shuffle(inst.queue)
    tasks = inst.queue[-RUN_TASKS:]
    del inst.queue[-RUN_TASKS:]
    return tasks


def _interruption(run: Run, live_seconds: float | None) -> tuple[int, bool]:
    """Lines kept of a run and whether the last is cut: by the timeout, or by ``live_seconds``.

    A live run is caught writing a stdout line, before its closing line is whole or its
    exit line begun; a killed run never shows its closing line, and one killed while
    progressing (not hanging silently at the kill) is cut mid-write.
    """
    if live_seconds is not None:
        run.killed = False
        kept = run.kept_lines(live_seconds)
        if run.closing >= 0:
            kept = min(kept, run.closing + 1)
        if run.exit_line >= 0:
            kept = min(kept, run.exit_line)
        return run.on_stdout(kept), True
    if not run.killed:
        return len(run.lines), False
    kept = run.kept_lines(run.limit)
    if run.closing >= 0:
        kept = min(kept, run.closing)
    return kept, not run.hang or kept < len(run.lines)


def _run_once(fleet: Fleet, inst: Instance, now: float | None = None) -> bool:
    """Appends the next run of one instance to its console; True if it is the live last run."""
    run, seconds, count = _build(fleet, inst)
    started = inst.clock
    python_start = started + uniform(inst.rng, CARD_SECONDS)
    gap = uniform(inst.rng, KILLED_GAP_SECONDS if run.killed else LOOP_GAP_SECONDS)
    live = now is not None and python_start + seconds + gap + LIVE_MARGIN_SECONDS > now
    if live and now is not None:
        seconds = round(min(max(now - python_start, 0.5), seconds - 0.001), 3)
    kept, cut = _interruption(run, seconds if live else None)
    output, partial = run.text(kept, cut)
    epoch = fleet.epoch0 + started
    text = f"{date_line(epoch)}{inst.header(count)}{output}"
    termed = _append_console(fleet, inst, text, run.killed)
    inst.run_log_text = run.stdout_text(kept, partial, output)
    inst.runs += 1
    inst.run_starts.append(python_start)
    inst.end = now if live and now is not None else python_start + seconds
    inst.clock = inst.end + gap
    if len(fleet.instances) == 1:
        inst.tail.append(_tail_run(run, python_start, kept))
        inst.tail_starts.append(python_start)
    counts = run.counts(kept, partial)
    stderr = run.stderr_shown(kept) + termed
    truth = _truth(
        inst, run, counts, epoch=epoch, seconds=seconds, live=live, kept=kept, stderr=stderr,
        host=fleet.host,
    )  # fmt: skip
    fleet.truths.append(truth)
    return live


def _tail_run(run: Run, python_start: float, kept: int) -> _TailRun:
    """What ``tail -100`` of the run log sees of a run: its stdout lines only."""
    events = (run.pp_failed, run.tp_failed, run.overloads)
    marks_n, kept_n, *numbered = (run.stdout_numbers(n) for n in (run.marks_n, [kept], *events))
    return _TailRun(python_start, run.marks_t, marks_n, kept_n[0], *numbered)


def _append_console(fleet: Fleet, inst: Instance, text: str, killed: bool) -> bool:
    """Writes one iteration to the console, after whatever the previous one still owed;
    True if timeout's message (stderr) follows it."""
    fleet.writer.append(inst.console_path, inst.pending + text)
    inst.pending = "" if text.endswith("\n") else "\n"  # the next `date` starts a new line
    termed = killed and inst.rng.random() < TERM_MESSAGE_SHARE
    if termed:
        inst.pending += TERM_LINE
    return termed


def _truth(
    inst: Instance,
    run: Run,
    c: Counts,
    *,
    epoch: float,
    seconds: float,
    live: bool,
    kept: int,
    stderr: int,
    host: str,
) -> RunTruth:
    """The ground truth of the run just written: ``kept`` lines of its output were written,
    ``stderr`` of its console lines are stderr's (timeout's message included)."""
    hang = run.hang and run.killed
    return RunTruth(
        instance=f"tmp_batt_{inst.iid}",
        run=inst.runs,
        console=inst.console,
        started_at=datetime.fromtimestamp(epoch // 1, UTC),
        seconds=seconds,
        path="timeout" if run.killed else PATHS[c.path],
        tasks=c.tasks,
        overloads=c.overloads,
        processpool_failed=c.processpool_failed,
        threadpool_failed=c.threadpool_failed,
        parallel_failed=c.parallel_failed,
        sample_timeouts=c.sample_timeouts,
        sample_failures=c.sample_failures,
        killed=run.killed,
        hang=hang,
        incomplete=live,
        max_threads=c.max_threads,
        exited=run.exit_line >= 0 and not live,
        stuck_task=run.stuck_task if hang and run.stuck_line < kept else None,
        silent=hang and run.silent,
        version=inst.version.name,
        timeout_seconds=run.timeout or None,
        overload_above=inst.version.overload_above,
        stderr_lines=stderr,
        host=host,
    )


def _next_start(inst: Instance) -> float:
    """When the instance prints its next `date`, in seconds after start."""
    return inst.clock


def run_fleet(fleet: Fleet, runs: int, size_bytes: int | None, live: bool) -> float:
    """Runs the instances in turn; returns the end of the window, seconds after start.

    After ``runs`` rounds, runs are added to whichever instance is furthest behind in time, so
    the instances keep running side by side (slow ones fit fewer runs) until the size is met.
    """
    for _ in range(runs - 1 if live else runs):
        for inst in fleet.instances:
            _run_once(fleet, inst)
    while size_bytes is not None and fleet.writer.bytes < size_bytes:
        _run_once(fleet, min(fleet.instances, key=_next_start))
    if not live:
        return max(inst.end for inst in fleet.instances)
    now = max(inst.clock for inst in fleet.instances) + uniform(fleet.monitor_rng, LIVE_AFTER)
    for inst in fleet.instances:
        while not _run_once(fleet, inst, now):
            pass
    return now
