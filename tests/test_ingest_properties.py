"""Properties: arbitrary bytes, file names and directory trees never crash ingest, every
file is read or skipped with a reason, and fallback counts equal real ``grep -c``."""

from __future__ import annotations

import gzip
import os
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import LOGS, read
from poolwatch.errors import shown
from poolwatch.ingest.grammar import RUN_RULES
from poolwatch.ingest.parse import Ingest
from poolwatch.simulate import SCENARIOS, simulate

#: The phrase an operator greps for, by event kind (from the grammar's own table).
PHRASES = {rule.kind: rule.grep for rule in RUN_RULES if rule.grep}
ALERT = "ALERT: System overloaded detected"


def grep_count(phrase: str, files: list[Path | str | None]) -> int:
    """What ``grep -c -F phrase`` counts over the files (C locale: bytes, as operators run
    it; ``zgrep`` for gzip files)."""
    total = 0
    for path in files:
        assert isinstance(path, Path)
        gzipped = path.read_bytes()[:2] == b"\x1f\x8b"
        done = subprocess.run(
            ["zgrep" if gzipped else "grep", "-c", "-F", "-a", "--", phrase, path],
            capture_output=True,
            text=True,
            env={**os.environ, "LC_ALL": "C"},
            check=False,
        )
        assert done.returncode in (0, 1), done.stderr
        total += int(done.stdout)
    return total


def assert_counts_match_grep(directory: Path, result: Ingest | None = None) -> None:
    """Every fallback kind's count equals grep -c over the kept run and console logs."""
    result = read(directory) if result is None else result
    files = result.files
    kept = files[(files["status"] == "read") & files["family"].isin(["console", "run_batt"])]
    paths = [result.locations[p] for p in kept["path"]]
    counts = result.events["kind"].value_counts()
    for kind, phrase in PHRASES.items():
        expected = grep_count(phrase, paths)
        if kind == "overload":
            expected -= grep_count(ALERT, paths)
        assert int(counts.get(kind, 0)) == expected, (kind, expected)


FRAGMENTS = st.sampled_from(
    [
        "run_batt.py:539: ",
        "-- System overloaded (65 threads), using sequential processing",
        "-- ProcessPoolExecutor failed (OSError: [Errno 12] Cannot allocate memory), trying",
        "-- ThreadPoolExecutor also failed (can't start new thread), using sequential",
        "-- Parallel execution failed (boom), falling back to sequential",
        "ALERT: System overloaded detected 6 times in last 100 lines",
        "System overloaded",
        "ProcessPoolExecutor failed",
        "ThreadPoolExecutor also failed",
        "Parallel execution failed",
        "demo[0] - 0a1b2c3d - 32",
        "-- 0a1b2c3d - 3 start --",
        "-- 0a1b2c3d - 3 done - 4 candidates scored",
        "Running: python run_batt.py -c -32 -b tmp_batt_x_run",
        "Tue Oct 14 09:36:08 CEST 2025",
        "32 tasks - 3 timeouts",
        "Traceback (most recent call last):",
        "\x1b[31m",
        "\x1b[0m",
        "\r",
        "\t",
        " ",
        "]",
        "(",
        "é",
    ]
)
JUNK = st.binary(max_size=6).filter(lambda b: b"\n" not in b and b"\x00" not in b)
LINE = st.lists(st.one_of(FRAGMENTS.map(str.encode), JUNK), max_size=5).map(b"".join)
TEXT = st.lists(LINE, min_size=1, max_size=40).map(b"\n".join)


RUN_LOG_HEAD = b"run_batt.py:72: GPU Support: Disabled\n" + b"demo[0] - 0a1b2c3d - 32\n" * 41


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TEXT, st.booleans())
def test_fallback_counts_equal_grep(text: bytes, crlf: bool) -> None:
    if crlf:
        text = text.replace(b"\n", b"\r\n")
    with tempfile.TemporaryDirectory() as folder:
        # As many real progress lines as generated ones: the file stays mostly log lines,
        # so it is read as a run log and the comparison with grep is never vacuous.
        Path(folder, "run.log").write_bytes(RUN_LOG_HEAD + text)
        assert read(folder).files["status"].tolist() == ["read"]
        assert_counts_match_grep(Path(folder))


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=4096), st.sampled_from([b"", b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00"]))
def test_arbitrary_bytes_never_crash(data: bytes, magic: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        Path(folder, "x.log").write_bytes(magic + data)
        result = read(folder)
        assert result.files["status"].tolist()[0] in ("read", "skipped")


def test_counts_equal_grep_on_hand_written_logs(logs: Path) -> None:
    assert_counts_match_grep(logs)


@pytest.mark.parametrize("scenario", SCENARIOS)
@pytest.mark.parametrize("live", [False, True])
def test_counts_equal_grep_on_simulated_corpora(tmp_path: Path, scenario: str, live: bool) -> None:
    simulate(scenario, tmp_path, instances=3, runs=2, seed=5, live=live)
    assert_counts_match_grep(tmp_path)


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_every_simulated_run_is_read_once(tmp_path: Path, scenario: str) -> None:
    truth = simulate(scenario, tmp_path, instances=4, runs=3, seed=9, live=True)
    result = read(tmp_path)
    assert len(result.runs) == len(truth.runs)
    assert (result.files["status"] == "duplicate").sum() == 4  # every run log is a tee copy
    keys = zip(result.runs["instance"].astype(str), result.runs["run"].astype(int), strict=True)
    rows = dict(zip(keys, result.runs.itertuples(index=False), strict=True))
    last = {
        r.instance: max(x.run for x in truth.runs if x.instance == r.instance) for r in truth.runs
    }
    for run in truth.runs:
        row = rows[(run.instance, run.run)]
        assert row.started_at == run.started_at
        assert row.tasks_started == run.tasks
        if run.incomplete:
            assert row.end == "unfinished"
        elif run.killed and run.run < last[run.instance]:
            assert row.end == "killed"
        elif not run.killed:
            assert row.end in ("completed", "exited")


# File names and directory trees --------------------------------------------------------

#: Bytes of a name: anything but the separator and NUL (so not UTF-8, control characters,
#: spaces and escape sequences too).
NAME = st.one_of(
    st.binary(min_size=1, max_size=10).filter(
        lambda b: b"/" not in b and b"\x00" not in b and b not in (b".", b"..")
    ),
    st.sampled_from(
        [b"-r.log", b"--help", b"-", b" spaced name .log", b"bad\xff\xfe.log", b"a\nb.log",
         b"\x1b]0;title\x07.log", b"\x1b[31mred", b"tmp_batt_Xa3k9Q_run.log", b"*.log"]
    ),
)  # fmt: skip
FIFO = b"<fifo>"
CONTENT = st.one_of(
    TEXT.map(lambda text: RUN_LOG_HEAD + text),
    TEXT.map(lambda text: gzip.compress(RUN_LOG_HEAD + text)),
    st.just((LOGS / "console_two_runs.log").read_bytes()),
    st.just(b""),
    st.binary(max_size=64),
    st.just(FIFO),
)
#: Entries of a tree: the directories above a file, its name and its content.
TREE = st.lists(st.tuples(st.lists(NAME, max_size=2), NAME, CONTENT), min_size=1, max_size=8)


def build(root: Path, tree: list[tuple[list[bytes], bytes, bytes]]) -> dict[Path, bytes]:
    """The files of a tree made under ``root``: their paths and contents (an entry whose
    place a file or directory already holds is left out)."""
    made: dict[Path, bytes] = {}
    for folders, name, content in tree:
        path = root.joinpath(*map(os.fsdecode, folders), os.fsdecode(name))
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            if path.is_symlink() or path.exists():
                continue
            if content == FIFO:
                os.mkfifo(path)
            else:
                path.write_bytes(content)
        except (FileExistsError, NotADirectoryError):
            continue  # a directory where a file is, or the other way round
        made[path] = content
    return made


def globbed(root: Path, path: Path) -> bool:
    """Whether ``root/*`` reaches a path (a glob matches no hidden name of its own level)."""
    return not path.relative_to(root).parts[0].startswith(".")


@contextmanager
def within(seconds: float) -> Iterator[None]:
    """Fail instead of hanging (a FIFO opened by mistake blocks forever)."""

    def hung(*_: object) -> None:
        raise TimeoutError(f"ingest took more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TREE, st.booleans())
def test_any_names_and_trees_are_read_or_skipped_with_a_reason(
    tree: list[tuple[list[bytes], bytes, bytes]], as_glob: bool
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        made = build(root, tree)
        if as_glob:
            made = {path: content for path, content in made.items() if globbed(root, path)}
        with within(30):
            result = read(f"{folder}/*" if as_glob else folder)
        files = result.files
        if not made:  # a glob that matches nothing
            assert files["reason"].tolist() == ["no such file, directory or glob match"]
            return
        # Every file once, named as shown on a terminal (no control character, no
        # undecodable byte: the name is printable and UTF-8).
        assert sorted(files["path"]) == sorted(shown(str(path)) for path in made)
        for label in files["path"]:
            assert shown(label) == label
            label.encode()
        rows = files.set_index("path")
        for path, content in made.items():
            row = rows.loc[shown(str(path))]
            assert row["status"] in ("read", "skipped", "duplicate")
            if row["status"] != "read":
                assert isinstance(row["reason"], str) and row["reason"]
            if content == FIFO:
                top = as_glob and path.parent == root
                found = "matched by a glob" if top else "found in a directory"
                assert row["reason"] == f"a FIFO {found}: not read"
            elif content.startswith(RUN_LOG_HEAD):
                assert row["status"] in ("read", "duplicate")
        assert_counts_match_grep(root, result)
