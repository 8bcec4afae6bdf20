"""A real Prometheus for tests (the runner shared with the benchmarks), and the history tests backfill it with."""

import contextlib
import re
import shutil
import subprocess
import time
from decimal import Decimal
from pathlib import Path
from typing import Iterator

import pytest

from compiler import plan as planning
from compiler.targets import promtool_tests
from harness.prometheus import Prometheus, backfill, free_port, running, stop, wait_ready

__all__ = ["Prometheus", "backfill", "free_port", "running", "stop", "wait_ready", "synthetic_history", "BURN",
           "HISTORY_MINUTES", "alertmanager"]

# Backfilled history: every SLO burns at 10x its budget for two hours.
BURN = Decimal(10)
HISTORY_MINUTES = 120
_EXPANDING = re.compile(r"(?P<start>[-\d.]+)\+(?P<step>[-\d.]+)x(?P<count>\d+)")


def backfill_counters(promtool: str, series: list[str], data: Path, minutes: int, step: int) -> None:
    """Counters (or gauges) rising by `step` a minute over the last `minutes`, up to 30 s ago."""
    end = int(time.time()) - 30
    lines = [f"{s} {i * step} {end - (minutes - i) * 60}" for s in sorted(series) for i in range(minutes + 1)]
    backfill(promtool, "\n".join(lines) + "\n# EOF\n", data)


def synthetic_history(the_plan: planning.Plan, end: int) -> str:
    """Every SLO's synthetic input (the same series its promtool tests use), one sample a minute,
    as OpenMetrics text ending at `end` (Unix seconds)."""
    lines = []
    for service in the_plan.services:
        for slo in service.slos:
            series, _ = promtool_tests.synthetic(slo, BURN * slo.budget, HISTORY_MINUTES)
            for item in series:
                match = _EXPANDING.fullmatch(item["values"])
                start, step = float(match["start"]), float(match["step"])
                for i in range(HISTORY_MINUTES + 1):
                    ts = end - (HISTORY_MINUTES - i) * 60
                    lines.append(f"{item['series']} {start + step * i} {ts}")
    return "\n".join(sorted(lines, key=lambda line: (line.rsplit(" ", 2)[0], int(line.rsplit(" ", 1)[1])))) \
        + "\n# EOF\n"


@contextlib.contextmanager
def alertmanager(work: Path, config: Path) -> Iterator[str]:
    """A real Alertmanager (Debian package `prometheus-alertmanager`) with this configuration on a free
    port of 127.0.0.1, without clustering, stopped on exit whatever happens; yields its base URL."""
    binary = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
    if binary is None:
        pytest.fail("alertmanager is needed: run `make test` (installs it as root) or "
                    "apt-get install prometheus-alertmanager")
    port = free_port()
    log_path = work / "alertmanager.log"
    with log_path.open("w") as log:
        process = subprocess.Popen([binary, f"--config.file={config}", f"--storage.path={work / 'am-data'}",
                                    f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address="],
                                   stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_ready(f"http://127.0.0.1:{port}/-/ready", process, log_path)
            yield f"http://127.0.0.1:{port}"
        finally:
            stop(process)
