"""The command line's memory settings: Arrow on the system's heap, glibc's mmap threshold
fixed, and a choice made in the environment kept."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pytest

from poolwatch import allocators

ROOT = Path(__file__).resolve().parent.parent

#: Runs a command through the CLI's own entry point, then says which pool Arrow uses.
_POOL_AFTER = """
import sys
from poolwatch.cli import main
main.main(sys.argv[1:], standalone_mode=False)
import pyarrow
print(pyarrow.default_memory_pool().backend_name)
"""


def _pool_after(args: list[str], pool: str | None) -> str:
    """The pool Arrow uses after the command ran (``pool``: the environment's choice)."""
    env = {k: v for k, v in os.environ.items() if k != "ARROW_DEFAULT_MEMORY_POOL"}
    if pool is not None:
        env["ARROW_DEFAULT_MEMORY_POOL"] = pool
    done = subprocess.run(
        [sys.executable, "-c", _POOL_AFTER, *args],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        cwd=ROOT,
    )
    return done.stdout.strip().splitlines()[-1]


def test_a_command_reads_with_arrow_on_the_system_heap(tmp_path: Path) -> None:
    out = tmp_path / "tables"
    args = ["parse", str(ROOT / "sample_logs" / "healthy"), "--out", f"{out}/", "-q"]
    assert _pool_after(args, None) == "system"
    assert (out / "events.parquet").exists()


def test_a_pool_chosen_in_the_environment_is_kept(tmp_path: Path) -> None:
    out = tmp_path / "tables"
    args = ["parse", str(ROOT / "sample_logs" / "healthy"), "--out", f"{out}/", "-q"]
    assert _pool_after(args, "mimalloc") == "mimalloc"


def test_once_pyarrow_is_loaded_the_pool_is_set_directly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ARROW_DEFAULT_MEMORY_POOL", raising=False)
    monkeypatch.setenv("MALLOC_MMAP_THRESHOLD_", "131072")  # the threshold left alone here
    before = pa.default_memory_pool()
    try:
        allocators.settle()
        assert pa.default_memory_pool().backend_name == "system"
    finally:
        pa.set_memory_pool(before)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_glibc_takes_the_fixed_threshold() -> None:
    assert allocators.fix_mmap_threshold()
