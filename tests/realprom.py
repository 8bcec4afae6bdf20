"""A real Prometheus for tests (the runner shared with the benchmarks), and the history tests backfill it with."""

import re
import time
from decimal import Decimal
from pathlib import Path

from compiler import plan as planning
from compiler.targets import promtool_tests
from harness.prometheus import Prometheus, backfill, free_port, running, stop, wait_ready

__all__ = ["Prometheus", "backfill", "free_port", "running", "stop", "wait_ready", "synthetic_history", "BURN",
           "HISTORY_MINUTES"]

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
