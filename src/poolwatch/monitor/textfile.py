"""The sample's figures in the Prometheus text format, for node_exporter's textfile
collector (``--textfile DIR/poolwatch.prom``).

The file is made by ``prometheus_client`` from a registry holding one collector for the
sample, and replaced atomically at each sample (written beside it under a name the
collector ignores, then renamed). Counters are the state file's running totals, so they
go on across ``--once`` runs and restart (as Prometheus expects of a counter) only with
a new state file. See docs/monitor.md for every metric.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path

from prometheus_client import CollectorRegistry, write_to_textfile
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from poolwatch.monitor.alerts import RULES
from poolwatch.monitor.fallbacks import KINDS
from poolwatch.monitor.sample import Sample
from poolwatch.monitor.settings import MonitorError
from poolwatch.monitor.state import Totals

PREFIX = "poolwatch_monitor_"


def _gauge(name: str, doc: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(PREFIX + name, doc, value=value)


class SampleCollector(Collector):
    """The metrics of one sample (and the totals behind its counters)."""

    def __init__(self, sample: Sample, totals: Mapping[str, Totals], *, up: bool) -> None:
        self.sample = sample
        self.totals = totals
        self.up = up

    def collect(self) -> Iterator[Metric]:
        """Every metric family, HELP and TYPE included by the exposition."""
        yield from self._monitor()
        yield from self._host()
        yield from self._instances()
        yield from self._counters()

    def _monitor(self) -> Iterator[Metric]:
        sample = self.sample
        yield _gauge("up", "1 while the monitor samples; 0 once it has stopped.", float(self.up))
        yield _gauge("last_sample_timestamp_seconds", "When the last sample was taken "
                     "(Unix time).", sample.now)  # fmt: skip
        yield _gauge("sample_duration_seconds", "Seconds the last sample took.", sample.duration)
        yield CounterMetricFamily(PREFIX + "samples", "Samples taken since the state file "
                                  "was created.", value=sample.number)  # fmt: skip
        yield _gauge("skipped_processes", "run_batt.py processes that ended or could not be "
                     "read during the sample.", sample.census.skipped)  # fmt: skip
        yield _gauge("unmatched_patterns", "--logs globs that matched no file.",
                     len(sample.unmatched))  # fmt: skip
        yield _gauge("runs_in_progress", "run_batt.py processes that are not ProcessPool "
                     "workers.", len(sample.census.runs))  # fmt: skip

    def _host(self) -> Iterator[Metric]:
        host = self.sample.census.host
        yield _gauge("host_threads", "Threads of every process on the host (ps -eLf | wc -l "
                     "minus its header).", host.threads)  # fmt: skip
        yield _gauge("host_memory_available_bytes", "Memory available on the host.",
                     host.memory_available)  # fmt: skip
        load = GaugeMetricFamily(PREFIX + "host_load", "Load average.", labels=["window"])
        for window, value in zip(("1m", "5m", "15m"), host.load, strict=True):
            load.add_metric([window], value)
        yield load

    def _instances(self) -> Iterator[Metric]:
        threads = GaugeMetricFamily(
            PREFIX + "instance_threads",
            "Threads of the instance's run (ps -o nlwp), while one runs.",
            labels=["instance"],
        )
        processes = GaugeMetricFamily(
            PREFIX + "instance_processes",
            "The instance's run_batt.py processes, workers included.",
            labels=["instance"],
        )
        window = GaugeMetricFamily(PREFIX + "window_fallbacks", "Fallback lines of the "
                                   "instance in the last sample window.",
                                   labels=["instance", "kind"])  # fmt: skip
        for row in self.sample.instances:
            if row.threads is not None:
                threads.add_metric([row.instance], row.threads)
            processes.add_metric([row.instance], row.processes)
            for kind in KINDS:
                window.add_metric([row.instance, kind], row.fallbacks.of(kind))
        yield from (threads, processes, window)

    def _counters(self) -> Iterator[Metric]:
        fallbacks = CounterMetricFamily(
            PREFIX + "fallbacks",
            "Fallback lines of the instance, counted once per instance.",
            labels=["instance", "kind"],
        )
        alerts = CounterMetricFamily(PREFIX + "alerts", "Alerts raised for the instance.",
                                     labels=["instance", "rule"])  # fmt: skip
        for instance, totals in sorted(self.totals.items()):
            for kind in KINDS:
                fallbacks.add_metric([instance, kind], totals.fallbacks.of(kind))
            for rule in RULES:
                alerts.add_metric([instance, rule.name], totals.alerts.get(rule.name, 0))
        yield from (fallbacks, alerts)


def write(path: Path, sample: Sample, totals: Mapping[str, Totals], *, up: bool = True) -> None:
    """Replace ``path`` with the sample's metrics."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(SampleCollector(sample, totals, up=up))
    try:
        write_to_textfile(str(path), registry)
    except OSError as err:
        raise MonitorError(f"--textfile: {path}: cannot write: {err.strerror}") from err
