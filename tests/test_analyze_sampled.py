"""The monitor's samples read in the guide's words, at the boundaries of its shares, and
its files read once (records, human log, state, lock)."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from conftest import GUIDE, read
from poolwatch.analyze.diagnose import diagnose
from poolwatch.analyze.sampled import thread_count
from poolwatch.ingest.sampled import parse_records
from poolwatch.simulate import simulate

CASES = Path(__file__).parent / "cases"
NOW = datetime(2026, 12, 1, tzinfo=UTC)


def _readings(*threads: int) -> pd.DataFrame:
    return pd.DataFrame({"file": "m.jsonl", "line": range(1, len(threads) + 1),
                         "threads": list(threads)})  # fmt: skip


@pytest.mark.parametrize(
    ("threads", "value", "grade"),
    [
        ([10] * 7 + [90] * 3, 10, "healthy"),  # over 80 in exactly 30 %: not frequently
        ([10] * 6 + [90] * 4, 90, "critical"),  # in 40 %: frequently
        ([60] * 7 + [90] * 3, 60, "warning"),  # never below 50, over 80 not frequently
        ([40] * 5 + [60] * 5, 60, "warning"),  # below 50 in exactly 50 %: not most of the time
        ([40] * 6 + [60] * 4, 40, "healthy"),  # in 60 %: most of the time
    ],
)
def test_thread_count_shares_at_their_boundaries(
    threads: list[int], value: int, grade: str
) -> None:
    got, source = thread_count(_readings(*threads), GUIDE)
    assert got == value
    assert GUIDE.bands.thread_count.grade(got) == grade
    assert source.startswith(
        "poolwatch monitor samples (10 readings of runs in 10 samples with a run going): "
    )


def test_a_record_cut_short_is_left_out_and_counted() -> None:
    result = read(CASES / "samples-truncated-last-line" / "poolwatch-monitor.jsonl")
    assert len(result.host_samples) == 5
    assert result.samples["threads"].max() == 10
    files = result.files
    assert files[["family", "status", "unparsed", "last_line_cut"]].values.tolist() == [
        ["monitor_records", "read", 1, True]
    ]


def _human_log(records: Path, target: Path) -> Path:
    """The human log the same monitor writes beside its records (3 samples of 2 runs)."""
    target.write_text(
        "=== poolwatch monitor: Monitoring Started ===\n"
        "Fri Oct 24 10:01:30 CEST 2025\n"
        + "".join(
            f"2025-10-24 10:0{m}:30 | Threads: Python={fq} System=161 | Fails: Process=0 "
            f"Thread=0 Overload=0 | Runs: 2 | Instances: tmp_batt_8NqKHz threads={nq} Process=0 "
            f"Thread=0 Overload=0; tmp_batt_fqR0jj threads={fq} Process=0 Thread=0 Overload=0 "
            "| Zone: CEST +0200\n"
            for m, fq, nq in ((1, 11, 9), (2, 14, 10), (3, 19, 9))
        )
    )
    return target


def test_the_human_log_alone_fills_the_samples(tmp_path: Path) -> None:
    human = _human_log(CASES / "samples-leak" / "poolwatch-monitor.jsonl",
                       tmp_path / "poolwatch-monitor.log")  # fmt: skip
    result = read(human)
    assert result.files["family"].tolist() == ["monitor_human"]
    assert result.host_samples["host_threads"].tolist() == [160, 160, 160]
    assert str(result.host_samples["timestamp"].iloc[0]) == "2025-10-24 08:01:30+00:00"
    fq = result.samples[result.samples["instance"] == "tmp_batt_fqR0jj"]
    assert fq["threads"].tolist() == [11, 14, 19]
    assert fq["pid"].isna().all()


def test_the_human_log_beside_its_records_is_counted_once(tmp_path: Path) -> None:
    shutil.copy(CASES / "samples-leak" / "poolwatch-monitor.jsonl", tmp_path)
    _human_log(tmp_path / "poolwatch-monitor.jsonl", tmp_path / "poolwatch-monitor.log")
    (tmp_path / "poolwatch-monitor.lock").write_text("3101\n")
    (tmp_path / "poolwatch-monitor.state.json").write_text(
        '{"version":1,"samples":21,"last_time":1761292890.2,"files":{},"totals":{}}'
    )
    result = read(tmp_path)
    status = dict(zip(result.files["path"].map(lambda p: Path(p).name),
                      result.files["status"], strict=True))  # fmt: skip
    assert status == {
        "poolwatch-monitor.jsonl": "read",
        "poolwatch-monitor.lock": "skipped",
        "poolwatch-monitor.log": "duplicate",
        "poolwatch-monitor.state.json": "skipped",
    }
    assert len(result.host_samples) == 5
    assert result.events.empty  # the lock's PID is no thread count


def test_beside_the_guide_s_monitor_the_report_says_which_measured_what() -> None:
    found = diagnose(read(CASES / "samples-beside-guide-monitor"), GUIDE, now=NOW)
    assert found.monitor is not None and found.monitor.blind
    assert "GNU tail rejects `tail -100 tmp_batt_*_run.log`" in (found.monitor.reason or "")
    assert found.sampling is not None
    assert found.sampling.measured == ("thread_count", "threads_per_instance")
    assert found.sampling.text.endswith(
        "the guide's monitor_week6b.sh log beside them measured neither: its Python= counts a "
        "freshly started interpreter's threads (always 1) and its System= every thread on the host"
    )


@pytest.mark.parametrize("block_bytes", [1, 700, 5000])
def test_records_read_a_block_at_a_time_are_the_records_read_at_once(
    tmp_path: Path, block_bytes: int
) -> None:
    """Blocks end at line ends: the line numbers, the lines not records (a blank one, a
    text line, invalid UTF-8, a record cut short) and the last line still being written
    come out the same whatever the block size."""
    simulate("timeouts", tmp_path / "fleet", instances=2, runs=2, seed=4)
    whole = (tmp_path / "fleet" / "poolwatch-monitor.jsonl").read_bytes().splitlines(True)
    assert len(whole) > 20
    raw = b"".join([*whole[:5], b"\n", b"not a record\n", b'{"record":"sam\xff\n', *whole[5:9],
                    whole[9][:40] + b"\n", *whole[10:], whole[3][:-30]])  # fmt: skip
    at_once = parse_records("m.jsonl", raw, block_bytes=len(raw) + 1)
    in_blocks = parse_records("m.jsonl", raw, block_bytes=block_bytes)
    assert at_once.samples.height > 0
    assert in_blocks.samples.equals(at_once.samples)
    assert in_blocks.host.equals(at_once.host)
    assert (in_blocks.lines, in_blocks.skipped, in_blocks.last_line_cut) == (
        len(whole) + 4, 4, True
    )  # fmt: skip
    assert (at_once.lines, at_once.skipped) == (in_blocks.lines, in_blocks.skipped)
    assert in_blocks.host.get_column("line").to_list()[4:7] == [5, 9, 10]
