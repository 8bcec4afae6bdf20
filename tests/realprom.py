"""A real Prometheus for tests (the runner shared with the benchmarks), and the history tests backfill it with."""

import contextlib
import shutil
import subprocess
import time
from pathlib import Path
from typing import Iterator

import pytest

from harness.prometheus import (REMOTE_WRITE_ARGS, Prometheus, backfill, free_port, remote_write, running, serving,
                                stop, wait_ready)

__all__ = ["Prometheus", "backfill", "free_port", "running", "stop", "wait_ready", "history", "backfill_counters",
           "wait_evaluated", "alertmanager", "remote_write", "REMOTE_WRITE_ARGS"]


def history(counters: dict[str, int], gauges: dict[str, float], minutes: int, end: int) -> str:
    """OpenMetrics text of one sample a minute for `minutes` up to `end` (Unix seconds): each counter
    grows by its given increase a minute, each gauge keeps its value."""
    at = [(i, end - (minutes - i) * 60) for i in range(minutes + 1)]
    lines = [f"{series} {step * i} {ts}" for series, step in sorted(counters.items()) for i, ts in at]
    lines += [f"{series} {value} {ts}" for series, value in sorted(gauges.items()) for _, ts in at]
    return "\n".join(lines) + "\n# EOF\n"


def backfill_counters(promtool: str, series: list[str], data: Path, minutes: int, step: int) -> None:
    """Counters (or gauges) rising by `step` a minute over the last `minutes`, up to 30 s ago."""
    backfill(promtool, history(dict.fromkeys(series, step), {}, minutes, int(time.time()) - 30), data)


def wait_evaluated(server: Prometheus, rounds: int, timeout: float = 60) -> None:
    """Poll until every rule group has been seen evaluated `rounds` times (distinct last evaluations)."""
    deadline = time.monotonic() + timeout
    seen: dict[str, set[str]] = {}
    while True:
        groups = server.get("/api/v1/rules")["data"]["groups"]
        for group in groups:
            if not group["lastEvaluation"].startswith("0001"):  # Go's zero time: not evaluated yet
                seen.setdefault(group["name"], set()).add(group["lastEvaluation"])
        if groups and all(len(seen.get(g["name"], ())) >= rounds for g in groups):
            return
        if time.monotonic() > deadline:
            pytest.fail(f"the rule groups were not evaluated {rounds} times within {timeout}s: {seen}")
        time.sleep(0.2)


@contextlib.contextmanager
def alertmanager(work: Path, config: Path) -> Iterator[str]:
    """A real Alertmanager (Debian package `prometheus-alertmanager`) with this configuration on a free
    port of 127.0.0.1, without clustering, stopped on exit whatever happens; yields its base URL."""
    binary = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
    if binary is None:
        pytest.fail("alertmanager is needed: run `make test` (installs it as root) or "
                    "apt-get install prometheus-alertmanager")
    with serving(lambda address: [binary, f"--config.file={config}", f"--storage.path={work / 'am-data'}",
                                  f"--web.listen-address={address}", "--cluster.listen-address="],
                 work / "alertmanager.log", "/-/ready") as base:
        yield base
