"""Parsing on a Dask cluster and from an object store: the same tables and summary.json as
a local run, a worker killed mid-job, a real S3 server on loopback, one-line errors."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import cloudpickle
import pandas as pd
import pytest
import s3fs
from click.testing import CliRunner
from distributed import Client, LocalCluster, WorkerPlugin
from moto.server import ThreadedMotoServer

from poolwatch import api
from poolwatch.cli import main
from poolwatch.errors import PoolwatchError, UsageError
from poolwatch.ingest import cluster as cluster_module
from poolwatch.ingest.cluster import Cluster, ClusterError, units
from poolwatch.ingest.discover import Source
from poolwatch.ingest.parse import Ingest
from poolwatch.ingest.remote import RemoteError
from poolwatch.ingest.tables import TABLES
from poolwatch.simulate import simulate, simulate_hosts

BUCKET = "fleet-logs"
_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
    "AWS_CONFIG_FILE": "/nonexistent",
}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small simulated fleet, a gzip copy of one console log among it (a content
    duplicate under another name), and a run log cut short."""
    folder = tmp_path_factory.mktemp("corpus") / "logs"
    simulate("overloaded", folder, instances=4, runs=3, seed=3)
    console = folder / "run_card_1.log"
    (folder / "run_card_1.copy.log.gz").write_bytes(gzip.compress(console.read_bytes()))
    cut = folder / "tmp_batt_cut_run.log"
    cut.write_bytes(console.read_bytes()[:40_000])
    return folder


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    """A real S3 server (moto's) on loopback, reached through AWS_ENDPOINT_URL, set
    before the cluster starts so that its workers reach it too."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    saved = {name: os.environ.get(name) for name in [*_ENV, "AWS_ENDPOINT_URL"]}
    os.environ.update(_ENV, AWS_ENDPOINT_URL=f"http://{host}:{port}")
    yield os.environ["AWS_ENDPOINT_URL"]
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    server.stop()


@pytest.fixture(scope="module")
def dask_cluster(s3_endpoint: str) -> Iterator[LocalCluster]:
    """Two worker processes of one thread each."""
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    ) as local:
        yield local


@pytest.fixture(scope="module")
def local_tables(corpus: Path) -> Ingest:
    return api.read([str(corpus)])


def assert_same_tables(left: Ingest, right: Ingest) -> None:
    """Every table `parse --out DIR/` writes, equal (dtypes, values, order)."""
    for name in TABLES:
        pd.testing.assert_frame_equal(left.table(name), right.table(name), obj=name)


def test_cluster_tables_equal_a_local_run(
    corpus: Path, dask_cluster: LocalCluster, local_tables: Ingest
) -> None:
    remote = api.read([str(corpus)], cluster=Cluster(scheduler=dask_cluster.scheduler_address))
    assert_same_tables(local_tables, remote)
    statuses = set(remote.files["status"])
    assert {"read", "duplicate"} <= statuses  # tee copies and the gzip copy counted once
    assert remote.locations == local_tables.locations


def test_cluster_summary_json_equals_a_local_run(
    corpus: Path, dask_cluster: LocalCluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1764547200")
    on = Cluster(scheduler=dask_cluster.scheduler_address)
    for name, where in (("local", None), ("cluster", on)):
        findings = api.report([str(corpus)], command="poolwatch report", cluster=where)
        api.write(findings, api.targets(tmp_path / name, ("json",)))
    local = (tmp_path / "local" / "summary.json").read_bytes()
    assert (tmp_path / "cluster" / "summary.json").read_bytes() == local


@pytest.fixture(scope="module")
def hosts_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three hosts' fleets side by side, one tmp_batt_<id> on all three."""
    folder = tmp_path_factory.mktemp("hosts") / "shipped"
    simulate_hosts(folder, 3, instances=2, runs=2, seed=5)
    return folder


def test_cluster_tables_of_several_hosts_equal_a_local_run(
    hosts_corpus: Path, dask_cluster: LocalCluster
) -> None:
    on = Cluster(scheduler=dask_cluster.scheduler_address)
    for pattern in (None, "shipped/{host}/*"):
        local = api.read([str(hosts_corpus)], host_from=pattern)
        remote = api.read([str(hosts_corpus)], cluster=on, host_from=pattern)
        assert_same_tables(local, remote)
        per_host = remote.runs.groupby("host", observed=True)["instance"].nunique()
        assert per_host.to_dict() == {"host1": 2, "host2": 2, "host3": 2}


class _KillOnce(WorkerPlugin):
    """Ends the worker process the first time any worker starts reading a unit (a
    marker file makes it once across processes)."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def transition(self, key: Any, start: str, finish: str, **kwargs: Any) -> None:
        if finish != "executing" or "read_unit" not in str(key):
            return
        try:
            os.close(os.open(self.marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            return
        os._exit(1)


def test_a_worker_killed_mid_job_loses_and_doubles_nothing(
    corpus: Path, local_tables: Ingest, tmp_path: Path
) -> None:
    marker = tmp_path / "killed"
    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    try:
        with (
            LocalCluster(
                n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
            ) as local,
            Client(local) as client,
        ):
            client.register_plugin(_KillOnce(str(marker)))
            remote = api.read([str(corpus)], cluster=Cluster(scheduler=local.scheduler_address))
    finally:
        cloudpickle.unregister_pickle_by_value(sys.modules[__name__])
    assert marker.exists()  # a worker did die while reading
    assert_same_tables(local_tables, remote)


def test_embedded_local_cluster_through_the_cli(
    corpus: Path, local_tables: Ingest, tmp_path: Path
) -> None:
    out = tmp_path / "tables"
    done = CliRunner().invoke(main, ["parse", str(corpus), "--workers", "2", "--out", f"{out}/"])
    assert done.exit_code == 0, done.output
    assert "files: " in done.stdout
    assert (out / "runs.parquet").is_file()


def _upload(corpus: Path, prefix: str) -> None:
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    for path in sorted(corpus.iterdir()):
        s3.put_object(
            Bucket=BUCKET,
            Key=f"{prefix}/{path.name}",
            Body=path.read_bytes(),
            Metadata={"mtime": repr(path.stat().st_mtime)},  # as rclone keeps it
        )


def _upload_tree(corpus: Path, prefix: str) -> None:
    """Every file under ``corpus`` as an object of the same path under ``prefix``."""
    s3 = boto3.client("s3")
    for path in sorted(p for p in corpus.rglob("*") if p.is_file()):
        key = f"{prefix}/{path.relative_to(corpus).as_posix()}"
        s3.put_object(Bucket=BUCKET, Key=key, Body=path.read_bytes(),
                      Metadata={"mtime": repr(path.stat().st_mtime)})  # fmt: skip


def _relabel(frame: pd.DataFrame, old: str, new: str) -> pd.DataFrame:
    """The frame with every file name's ``old`` prefix written ``new``."""
    out = frame.copy()
    for name in out.columns:
        column = out[name]
        if isinstance(column.dtype, pd.CategoricalDtype):
            if column.cat.categories.dtype.kind in "OUT":
                out[name] = column.cat.rename_categories(
                    [str(c).replace(old, new) for c in column.cat.categories]
                )
        elif pd.api.types.is_string_dtype(column.dtype):
            out[name] = column.str.replace(old, new, regex=False)
    return out


@pytest.fixture(scope="module")
def uploaded(corpus: Path, s3_endpoint: str) -> str:
    _upload(corpus, "hosts/a")
    return f"s3://{BUCKET}/hosts/a"


def _clear_s3_cache() -> None:
    s3fs.S3FileSystem.clear_instance_cache()


def test_s3_prefix_parses_as_the_local_files(
    corpus: Path, uploaded: str, local_tables: Ingest, dask_cluster: LocalCluster
) -> None:
    _clear_s3_cache()
    here = api.read([uploaded + "/"])
    on = api.read([uploaded], cluster=Cluster(scheduler=dask_cluster.scheduler_address))
    for name in TABLES:
        local = _relabel(local_tables.table(name), str(corpus), uploaded)
        pd.testing.assert_frame_equal(local, here.table(name), obj=name)
        pd.testing.assert_frame_equal(here.table(name), on.table(name), obj=name)
    assert here.locations[f"{uploaded}/run_card_2.log"] == f"{uploaded}/run_card_2.log"


def test_s3_keys_name_their_hosts_as_paths_do(
    hosts_corpus: Path, uploaded: str, dask_cluster: LocalCluster
) -> None:
    _upload_tree(hosts_corpus, "multi")
    _clear_s3_cache()
    url = f"s3://{BUCKET}/multi"
    local = api.read([str(hosts_corpus)])
    on = Cluster(scheduler=dask_cluster.scheduler_address)
    for given, pattern in ((url + "/", None), (url + "/*/run_card_*.log", None),
                           (url, url + "/{host}/*"), (url, "multi/{host}/*")):  # fmt: skip
        here = api.read([given], host_from=pattern)
        assert set(here.runs["host"]) == {"host1", "host2", "host3"}, given
        if given.endswith("/"):
            remote = api.read([given], cluster=on)
            for name in TABLES:
                expected = _relabel(local.table(name), str(hosts_corpus), url)
                pd.testing.assert_frame_equal(expected, here.table(name), obj=name)
                pd.testing.assert_frame_equal(here.table(name), remote.table(name), obj=name)
    only = api.read([url], host_from=url + "/host2/{host}")  # each file a host of its own
    files = only.files
    outside = files["status"] == "skipped"
    assert set(files.loc[outside, "reason"]) == {f"not matched by --host-from {url}/host2/{{host}}"}
    assert files.loc[~outside, "path"].str.startswith(url + "/host2/").all()
    assert set(files.loc[~outside, "host"]) == {p.name for p in (hosts_corpus / "host2").iterdir()}


def test_several_hosts_summary_is_the_same_locally_on_a_cluster_and_from_s3(
    hosts_corpus: Path, uploaded: str, dask_cluster: LocalCluster,
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """Each host diagnosed alone gives the same summary.json, its hosts block too, however
    the files were read (an object's path is its URL)."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1764547200")
    _upload_tree(hosts_corpus, "summary")
    _clear_s3_cache()
    url = f"s3://{BUCKET}/summary"
    on = Cluster(scheduler=dask_cluster.scheduler_address)
    here = str(hosts_corpus)
    written = {}
    for name, given, where in (("local", here, None), ("cluster", here, on),
                               ("s3", url + "/", None), ("s3-cluster", url + "/", on)):  # fmt: skip
        findings = api.report([given], command="poolwatch report", cluster=where)
        api.write(findings, api.targets(tmp_path / name, ("json",)))
        written[name] = (tmp_path / name / "summary.json").read_text()
    assert written["cluster"] == written["local"]
    assert written["s3-cluster"] == written["s3"]
    # From S3 only the files' names differ: an object's is its URL.
    local_hosts = json.loads(written["local"].replace(here, url))["hosts"]
    assert json.loads(written["s3"])["hosts"] == local_hosts
    assert {h["host"] for h in local_hosts["hosts"]} == {"host1", "host2", "host3"}


def test_s3_glob_and_object_and_gz(uploaded: str) -> None:
    _clear_s3_cache()
    globbed = api.read([uploaded + "/run_card_*.log*"])
    assert len(globbed.files) == 5
    one = api.read([uploaded + "/run_card_1.copy.log.gz"])
    (row,) = one.files.itertuples()
    assert (row.status, row.compressed, row.family) == ("read", "gzip", "console")


def test_s3_report_cites_lines_read_again_from_the_store(
    uploaded: str, corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _clear_s3_cache()
    findings = api.report([uploaded])
    local = api.report([str(corpus)])
    with_context = [e for e in findings.evidence if e.before or e.after]
    assert len(with_context) == len([e for e in local.evidence if e.before or e.after]) > 0


def test_s3_errors_are_one_line(
    uploaded: str, s3_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _clear_s3_cache()
    with pytest.raises(RemoteError, match=r"^s3://no-such-bucket/x: no such bucket"):
        api.read(["s3://no-such-bucket/x"])
    with pytest.raises(PoolwatchError, match="no such object, prefix or glob match"):
        api.read([f"s3://{BUCKET}/nothing/here"])
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    _clear_s3_cache()
    with pytest.raises(RemoteError, match="no credentials for the store") as err:
        api.read([uploaded])
    assert "\n" not in str(err.value)


def test_s3_endpoint_that_does_not_answer(uploaded: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    _clear_s3_cache()
    with pytest.raises(RemoteError, match=r"the store does not answer .*AWS_ENDPOINT_URL"):
        api.read([uploaded])
    _clear_s3_cache()


def test_without_s3fs_the_message_says_what_to_install(
    uploaded: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "s3fs", None)
    # The module (fsspec's own attribute of that name is the mapping).
    monkeypatch.setattr(sys.modules["fsspec.registry"], "registry", {})
    with pytest.raises(RemoteError, match=r"reading s3:// needs s3fs \(pip install"):
        api.read([uploaded])


def test_unreachable_scheduler_is_one_line(corpus: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cluster_module, "CONNECT_SECONDS", 1)
    with pytest.raises(ClusterError, match=r"^--scheduler tcp://127.0.0.1:9: no scheduler"):
        api.read([str(corpus)], cluster=Cluster(scheduler="tcp://127.0.0.1:9"))
    monkeypatch.setenv("POOLWATCH_SCHEDULER", "tcp://127.0.0.1:9")
    done = CliRunner().invoke(main, ["parse", str(corpus)])
    assert done.exit_code == 1
    assert done.stderr.strip().count("\n") == 0
    assert "--scheduler tcp://127.0.0.1:9: no scheduler answers there" in done.stderr


def test_without_dask_the_message_says_what_to_install(
    corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(ClusterError, match=r"--workers needs Dask's distributed scheduler"):
        api.read([str(corpus)], cluster=Cluster(workers=2))


def test_options_checked() -> None:
    with pytest.raises(UsageError, match="not both"):
        Cluster("tcp://h:8786", 2)
    with pytest.raises(UsageError, match="tcp://HOST:PORT"):
        Cluster("h:8786")
    assert api.cluster_of() is None
    done = CliRunner().invoke(main, ["parse", "x", "--workers", "2", "--scheduler", "tcp://h:1"])
    assert done.exit_code == 2
    assert "not both" in done.stderr


def test_units_large_files_alone_small_ones_together() -> None:
    def source(name: str, size: int | None) -> Source:
        return Source(name, url=f"s3://b/{name}", size=size)

    big = 2 << 20
    given = [
        source("a", 10),
        source("b", 10),
        source("c", big),
        source("d", 10),
        Source("-"),
        *(source(f"s{i}", 10) for i in range(8)),
    ]
    plan = units(given, workers=1)
    assert [[s.name for s in u.sources] for u in plan] == [
        ["a", "b"],
        ["c"],
        ["d"],
        ["-"],
        ["s0", "s1", "s2"],
        ["s3", "s4", "s5"],
        ["s6", "s7"],
    ]
    assert [u.here for u in plan] == [False, False, False, True, False, False, False]
    assert [s for u in plan for s in u.sources] == given


@pytest.mark.parametrize(
    "code",
    [
        "import poolwatch, poolwatch.api, poolwatch.ingest.parse, poolwatch.cli",
        "from poolwatch.cli import main; main(['--help'])",
        "from poolwatch.cli import main; main(['parse', '--help'])",
    ],
)
def test_dask_and_fsspec_not_imported_unless_asked(code: str) -> None:
    probe = (
        "import atexit, sys\n"
        "atexit.register(lambda: print(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'dask', 'distributed', 'fsspec', 's3fs'}), file=sys.stderr))\n" + code
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=False, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip().splitlines()[-1] == "[]"
