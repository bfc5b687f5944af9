"""Several hosts' logs in one place: each file's host told by its path (the default rule
and ``--host-from``), a ``host`` column in every table, and instances kept apart by host
when two hosts run the same ``tmp_batt_<id>`` and write the same ``run_card_1.log``."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Mapping
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from conftest import LOGS
from poolwatch import api
from poolwatch.cli import main
from poolwatch.errors import NoUsableInputError, UsageError
from poolwatch.ingest.hosts import host_pattern, hosts_below, is_date
from poolwatch.ingest.parse import Ingest
from poolwatch.ingest.tables import TABLES
from poolwatch.simulate import HOST_SCENARIOS, simulate, simulate_hosts

ROOT = Path(__file__).parent.parent
CONSOLE = (LOGS / "console_two_runs.log").read_text()
RUN_LOG = (LOGS / "tmp_batt_Xa3k9Q_run.log").read_text()
#: The same instance on another host: other tasks, another day.
OTHER_CONSOLE = CONSOLE.replace("a1b2c3d", "f9e8d7c").replace("Oct 14", "Oct 15")
OTHER_RUN_LOG = RUN_LOG.replace("a1b2c3d", "f9e8d7c")
PROGRESS = "run_batt.py:428: demo[2] - 3a1b2c3d - 7\n"


def tree(root: Path, files: Mapping[str, str]) -> Path:
    """Write ``files`` (path under ``root``: text) and return ``root``."""
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def read(*paths: Path | str, host_from: str | None = None) -> Ingest:
    return api.read([str(p) for p in paths], host_from=host_from)


def hosts_of(result: Ingest, table: str = "files") -> dict[str, str]:
    """Each file's host, by its name below the tree (``web1/run_card_1.log``)."""
    frame = result.table(table)
    key = "path" if table == "files" else "file"
    return {
        "/".join(Path(str(name)).parts[-2:]): str(host)
        for name, host in zip(frame[key], frame["host"], strict=True)
    }


def without_host(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.drop(columns="host").reset_index(drop=True)
    for name in out.columns:  # categories that only the other host's rows used
        if isinstance(out[name].dtype, pd.CategoricalDtype) and name not in ("kind", "end"):
            out[name] = out[name].astype(str)
    return out


@pytest.fixture
def two_hosts(tmp_path: Path) -> Path:
    """Two hosts, each running tmp_batt_Xa3k9Q and writing run_card_1.log, each with the
    tee copy of its own last run."""
    return tree(
        tmp_path / "shipped",
        {
            "web1/run_card_1.log": CONSOLE,
            "web1/tmp_batt_Xa3k9Q_run.log": RUN_LOG,
            "web2/run_card_1.log": OTHER_CONSOLE,
            "web2/tmp_batt_Xa3k9Q_run.log": OTHER_RUN_LOG,
        },
    )


def test_every_table_has_a_host_column_documented() -> None:
    for name, columns in TABLES.items():
        assert [c.name for c in columns].count("host") == 1, name
        column = next(c for c in columns if c.name == "host")
        assert column.dtype == "category"
        assert f"| `host` | category | {column.doc} |" in (ROOT / "docs" / "tables.md").read_text()


def test_one_instance_id_on_two_hosts_is_two_instances(two_hosts: Path) -> None:
    result = read(two_hosts)
    for name in TABLES:
        assert isinstance(result.table(name)["host"].dtype, pd.CategoricalDtype), name
    runs = result.runs
    per_instance = runs.groupby(["host", "instance"], observed=True).size().to_dict()
    assert per_instance == {("web1", "tmp_batt_Xa3k9Q"): 3, ("web2", "tmp_batt_Xa3k9Q"): 3}
    assert hosts_of(result) == {
        "web1/run_card_1.log": "web1",
        "web1/tmp_batt_Xa3k9Q_run.log": "web1",
        "web2/run_card_1.log": "web2",
        "web2/tmp_batt_Xa3k9Q_run.log": "web2",
    }
    files = result.files.set_index("path")
    for host in ("web1", "web2"):
        log = files.loc[str(two_hosts / host / "tmp_batt_Xa3k9Q_run.log")]
        assert log["status"] == "duplicate"
        assert log["reason"].startswith(f"tee copy of {two_hosts / host / 'run_card_1.log'}:")
    assert set(result.events["host"]) == {"web1", "web2"}
    assert set(result.tasks.loc[result.tasks["host"] == "web2", "task"]) == {
        "0f9e8d7c", "1f9e8d7c", "2f9e8d7c", "3f9e8d7c",
    }  # fmt: skip


def test_each_host_s_rows_are_those_of_its_logs_read_alone(two_hosts: Path) -> None:
    both = read(two_hosts)
    for host in ("web1", "web2"):
        alone = read(two_hosts / host)
        for name in ("events", "tasks", "runs", "files", "unparsed"):
            mine = both.table(name)[both.table(name)["host"] == host]
            assert set(alone.table(name)["host"]) <= {""}
            pd.testing.assert_frame_equal(
                without_host(mine), without_host(alone.table(name)), obj=f"{host} {name}"
            )


def test_a_tee_copy_is_matched_on_its_own_host_only(tmp_path: Path) -> None:
    # web2's run log holds the same notable lines as web1's last console run (one progress
    # line more: not the same bytes). Another host's run: kept, not a tee copy.
    files = {"web1/run_card_1.log": CONSOLE, "web2/tmp_batt_Xa3k9Q_run.log": RUN_LOG + PROGRESS}
    result = read(tree(tmp_path / "logs", files))
    assert result.files["status"].tolist() == ["read", "read"]
    runs = result.runs.groupby(["host", "instance"], observed=True).size().to_dict()
    assert runs == {("web1", "tmp_batt_Xa3k9Q"): 3, ("web2", "tmp_batt_Xa3k9Q"): 1}
    # The same two files from one host: the run log is the console's tee copy.
    flat = {"run_card_1.log": CONSOLE, "tmp_batt_Xa3k9Q_run.log": RUN_LOG + PROGRESS}
    one = read(tree(tmp_path / "flat", flat))
    assert one.files["status"].tolist() == ["read", "duplicate"]
    assert len(one.runs) == 3


def test_a_run_log_just_truncated_is_a_copy_only_beside_its_console(tmp_path: Path) -> None:
    cut = "run_batt.py:72: GPU Sup"  # tee has just truncated it for a new run
    files = {"web1/run_card_1.log": CONSOLE, "web2/tmp_batt_Xa3k9Q_run.log": cut}
    result = read(tree(tmp_path / "logs", files))
    assert result.files.set_index("host").loc["web2", "status"] == "read"
    flat = read(
        tree(tmp_path / "flat", {"run_card_1.log": CONSOLE, "tmp_batt_Xa3k9Q_run.log": cut})
    )
    assert flat.files["status"].tolist() == ["read", "duplicate"]


def test_a_byte_identical_file_on_two_hosts_is_a_copy_counted_once(tmp_path: Path) -> None:
    files = {"web1/run_card_1.log": CONSOLE, "web2/run_card_1.log": CONSOLE}
    logs = tree(tmp_path / "logs", files)
    result = read(logs)
    assert result.files["status"].tolist() == ["read", "duplicate"]
    assert result.files["reason"].iloc[1] == f"same content as {logs / 'web1/run_card_1.log'}"
    assert set(result.runs["host"]) == {"web1"}
    assert len(result.runs) == 3


def test_a_flat_directory_has_no_host(tmp_path: Path) -> None:
    simulate("healthy", tmp_path / "fleet", instances=2, runs=2, seed=1, snapshots="steady")
    result = read(tmp_path / "fleet")
    for name in TABLES:
        assert set(result.table(name)["host"]) <= {""}, name
    assert set(result.files["host"]) == {""}
    assert set(read(ROOT / "sample_logs" / "healthy").runs["host"]) == {""}


def test_two_fleets_side_by_side_are_two_hosts() -> None:
    result = read(ROOT / "sample_logs")
    per_host = result.runs.groupby("host", observed=True)["instance"].nunique().to_dict()
    assert per_host == {"healthy": 8, "overloaded": 8}
    alone = read(ROOT / "sample_logs" / "healthy")
    assert len(result.runs[result.runs["host"] == "healthy"]) == len(alone.runs)


@pytest.mark.parametrize(
    ("names", "hosts"),
    [
        # An archive split by day (or by year, month and day) under one host.
        (["2025-10-14/run_card_1.log", "2025-10-15/run_card_1.log"], ["", ""]),
        (["2025/10/14/run_card_1.log", "2025/10/15/run_card_1.log"], ["", ""]),
        (["dt=2025-10-14/a.log", "dt=20251015/a.log"], ["", ""]),
        # Hosts, each split by day; days first, then hosts.
        (["web1/2025-10-14/a.log", "web2/2025-10-14/a.log"], ["web1", "web2"]),
        (["2025-10-14/web1/a.log", "2025-10-14/web2/a.log"], ["web1", "web2"]),
        # One host's logs in a folder of their own; logs beside their rotated copies.
        (["batch/a.log", "batch/b.log"], ["", ""]),
        (["a.log", "old/a.log.1", "older/a.log.2"], ["", "", ""]),
        # A hidden file beside the hosts is not a file of the directory's own.
        ([".DS_Store", "web1/a.log", "web2/a.log"], ["", "web1", "web2"]),
        # A host's files deeper down; a file under dates only has none.
        (["web1/batch/a.log", "web2/a.log", "2025-10-14/a.log"], ["web1", "web2", ""]),
    ],
)
def test_the_default_rule(names: list[str], hosts: list[str]) -> None:
    assert hosts_below([tuple(name.split("/")) for name in names]) == hosts


def test_dates_are_not_hosts() -> None:
    for name in ("2025-10-14", "20251014", "2025.10.14", "2025_10", "2025", "10", "day=14"):
        assert is_date(name), name
    for name in ("web1", "10.0.0.5", "host-2025", "db01", "2025-10-14-web1"):
        assert not is_date(name), name


def test_hosts_under_dates_in_a_directory_given(tmp_path: Path) -> None:
    logs = tree(
        tmp_path / "archive",
        {
            "2025-10-14/web1/run_card_1.log": CONSOLE,
            "2025-10-14/web2/run_card_1.log": OTHER_CONSOLE,
        },
    )
    assert set(hosts_of(read(logs)).values()) == {"web1", "web2"}
    day = tree(
        tmp_path / "web1",
        {"2025-10-14/run_card_1.log": CONSOLE, "2025-10-15/run_card_1.log": OTHER_CONSOLE},
    )
    assert set(read(day).runs["host"]) == {""}  # one host's archive by day: one instance
    assert read(day).runs["instance"].nunique() == 1


def test_a_glob_is_split_under_the_directory_before_its_wildcard(two_hosts: Path) -> None:
    result = read(f"{two_hosts}/*/run_card_*.log")
    assert set(hosts_of(result).values()) == {"web1", "web2"}
    assert set(read(f"{two_hosts}/web1/*.log").files["host"]) == {""}
    assert set(read(two_hosts / "web2" / "run_card_1.log").files["host"]) == {""}


def test_host_from_a_pattern(tmp_path: Path) -> None:
    archive = tree(
        tmp_path / "archive",
        {
            "web1/batch/run_card_1.log": CONSOLE,
            "web2/batch/run_card_1.log": OTHER_CONSOLE,
            "web2/batch/old/run_card_1.log": OTHER_CONSOLE.replace("f9e8d7c", "e1e1e1e"),
            "README": "where the logs come from\n",
        },
    )
    absolute = read(archive, host_from=f"{archive}/{{host}}/batch/*.log")
    files = absolute.files.set_index("path")
    assert files.loc[str(archive / "web1/batch/run_card_1.log"), "host"] == "web1"
    assert files.loc[str(archive / "web2/batch/run_card_1.log"), "host"] == "web2"
    outside = f"not matched by --host-from {archive}/{{host}}/batch/*.log"
    for name in ("README", "web2/batch/old/run_card_1.log"):
        row = files.loc[str(archive / name)]
        assert (row["status"], row["reason"]) == ("skipped", outside)
    # Relative: matched against the end of the path; ** crosses directories.
    relative = read(archive, host_from="archive/{host}/batch/**")
    assert relative.runs.groupby("host", observed=True).size().to_dict() == {"web1": 3, "web2": 6}
    by_name = read(archive, host_from="{host}/run_card_1.log")
    assert set(by_name.runs["host"]) == {"batch", "old"}


def test_host_from_when_nothing_matches_is_one_line(two_hosts: Path) -> None:
    with pytest.raises(NoUsableInputError, match=r"^no usable input: .*: not matched by"):
        read(two_hosts, host_from="/elsewhere/{host}/*")
    done = CliRunner().invoke(main, ["parse", str(two_hosts), "--host-from", "/x/{host}/*"])
    assert done.exit_code == 1
    assert done.stderr.splitlines()[-1].startswith("Error: no usable input: ")
    assert "not matched by --host-from /x/{host}/*" in done.stderr


def test_many_inputs_skipped_for_one_reason_share_a_line(two_hosts: Path, tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    shutil.copytree(two_hosts, archive / "hosts")
    for k in range(7):
        tree(archive / "other", {f"notes{k}.log": CONSOLE.replace("f9e8d7c", f"{k:07d}")})
    pattern = "hosts/{host}/*"
    done = CliRunner().invoke(main, ["parse", str(archive), "--host-from", pattern])
    assert done.exit_code == 0, done.output
    skipped = [line for line in done.stderr.splitlines() if "skipped" in line]
    first = archive / "other" / "notes0.log"
    assert skipped == [
        f"poolwatch: skipped {first}: not matched by --host-from {pattern} "
        "(and 6 more for the same reason; -v names each)"
    ]
    every = CliRunner().invoke(main, ["parse", str(archive), "--host-from", pattern, "-v"])
    named = [line for line in every.stderr.splitlines() if "not matched by" in line]
    assert sorted(named) == [
        f"poolwatch: skipped {archive / 'other' / f'notes{k}.log'}: not matched by --host-from "
        f"{pattern}"
        for k in range(7)
    ]


@pytest.mark.parametrize(
    ("pattern", "said"),
    [
        ("logs/*", "no {host} field"),
        ("logs/{name}/*", "unknown field {name}"),
        ("{host}/{host}/*", "{host} given 2 times"),
        ("logs/[ab/{host}", "a [ without its ]"),
    ],
)
def test_an_invalid_pattern_is_a_usage_error(two_hosts: Path, pattern: str, said: str) -> None:
    with pytest.raises(UsageError, match=said.replace("[", r"\[").replace("{", r"\{")):
        host_pattern(pattern)
    for command in ("parse", "report"):
        args = [command, str(two_hosts), "--host-from", pattern]
        done = CliRunner().invoke(main, [*args, "--out", "out"] if command == "report" else args)
        assert done.exit_code == 2, done.output
        (error,) = [line for line in done.stderr.splitlines() if line.startswith("Error:")]
        assert error.startswith(f"Error: --host-from {pattern!r}: {said}")
    done = CliRunner().invoke(main, ["check", str(two_hosts), "--host-from", pattern])
    assert done.exit_code == 3
    assert done.stdout.startswith(f"POOLWATCH UNKNOWN - --host-from {pattern!r}: {said}")
    assert done.stdout.count("\n") == 1


def test_standard_input_follows_the_same_rules(two_hosts: Path) -> None:
    console = (two_hosts / "web1" / "run_card_1.log").read_bytes()
    command = [sys.executable, "-m", "poolwatch", "parse", "-", "--out", "t/"]
    done = subprocess.run(command, input=console, capture_output=True, check=True,
                          cwd=two_hosts.parent)  # fmt: skip
    assert set(pd.read_parquet(two_hosts.parent / "t" / "runs.parquet")["host"]) == {""}
    outside = subprocess.run([*command[:5], "--host-from", "logs/{host}/*"], input=console,
                             capture_output=True, check=False)  # fmt: skip
    assert outside.returncode == 1
    assert b"<stdin>: not matched by --host-from logs/{host}/*" in outside.stderr
    assert done.returncode == 0


def test_the_parse_summary_names_the_hosts(two_hosts: Path, logs: Path) -> None:
    done = CliRunner().invoke(main, ["parse", str(two_hosts)])
    assert "hosts: 2: web1 (1 instances), web2 (1 instances)" in done.stdout
    assert "hosts:" not in CliRunner().invoke(main, ["parse", str(logs)]).stdout


def test_simulated_hosts_parse_back_host_by_host(tmp_path: Path) -> None:
    out = tmp_path / "corpus"
    args = ["simulate", "--hosts", "5", "--instances", "3", "--runs", "2", "--seed", "4"]
    done = CliRunner().invoke(main, [*args, "--out", str(out)])
    assert done.exit_code == 0, done.output
    assert sorted(p.name for p in out.iterdir()) == [f"host{k}" for k in range(1, 6)]
    named = ", ".join(f"host{k}: {s}" for k, s in enumerate(HOST_SCENARIOS, start=1))
    assert named in done.stdout
    assert HOST_SCENARIOS == ("healthy", "overloaded", "healthy", "memory-pressure", "healthy")
    again = simulate_hosts(tmp_path / "again", 5, instances=3, runs=2, seed=4)
    for path in again.files:
        assert path.read_bytes() == (out / path.relative_to(tmp_path / "again")).read_bytes()
    result = read(out)
    runs = result.runs
    assert runs.groupby("host", observed=True)["instance"].nunique().to_dict() == {
        f"host{k}": 3 for k in range(1, 6)
    }
    shared = runs.groupby("instance", observed=True)["host"].nunique()
    assert (shared == 5).sum() == 1  # one tmp_batt_<id> on every host
    truth = Counter((r.host, r.instance) for r in again.runs)
    found = Counter(zip(runs["host"].astype(str), runs["instance"].astype(str), strict=True))
    assert found == truth
    hostnames = result.host_samples.groupby("host", observed=True)["hostname"].unique()
    assert {host: list(names) for host, names in hostnames.items()} == {
        f"host{k}": [f"host{k}"] for k in range(1, 6)
    }
    assert set(result.files.loc[result.files["status"] == "duplicate", "reason"].str[:11]) == {
        "tee copy of"
    }


def test_simulated_hosts_choose_their_scenarios(tmp_path: Path) -> None:
    one = simulate_hosts(tmp_path / "a", 2, ("deadlock",), instances=2, runs=2)
    assert {truth.host for truth in one.runs} == {"host1", "host2"}
    assert [name for _, name in one.instances].count(one.instances[0][1]) == 2
    runner = CliRunner()
    args = ["simulate", "--hosts", "2", "--instances", "2", "--runs", "1"]
    done = runner.invoke(main, [*args, "--scenario", "overloaded", "--scenario", "timeouts",
                                "--out", str(tmp_path / "b")])  # fmt: skip
    assert done.exit_code == 0, done.output
    assert "host1: overloaded, host2: timeouts" in done.stdout
    thrice = ["--scenario", "healthy"] * 3
    wrong = runner.invoke(main, [*args, *thrice, "--out", str(tmp_path / "c")])
    assert wrong.exit_code == 2
    assert "3 scenarios for 2 hosts" in wrong.stderr
    flat = runner.invoke(main, ["simulate", "--scenario", "healthy", "--scenario", "deadlock",
                                "--out", str(tmp_path / "d")])  # fmt: skip
    assert flat.exit_code == 2
    assert "give one scenario, or --hosts N" in flat.stderr


def test_a_host_is_named_as_files_are(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    for name in (b"web\xff", b"web\x1b[2J"):
        folder = logs / os.fsdecode(name)
        folder.mkdir(parents=True)
        (folder / "run_card_1.log").write_text(CONSOLE + ("" if b"\xff" in name else PROGRESS))
    result = read(logs)
    assert set(result.files["host"]) == {"web\\xff", "web\\x1b[2J"}
    assert set(result.runs["host"]) == {"web\\xff", "web\\x1b[2J"}
    pattern = read(logs, host_from="logs/{host}/*")
    assert set(pattern.runs["host"]) == {"web\\xff", "web\\x1b[2J"}
