"""A real Prometheus for tests (the runner shared with the benchmarks), and the history tests backfill it with."""

import time
from pathlib import Path

import pytest

from harness.prometheus import Prometheus, backfill, free_port, running, stop, wait_ready

__all__ = ["Prometheus", "backfill", "free_port", "running", "stop", "wait_ready", "history", "backfill_counters",
           "wait_evaluated"]


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
