"""A real VictoriaMetrics single node and vmalert (Debian package victoria-metrics): on free ports of
127.0.0.1, waited for, always stopped."""

import contextlib
import json
import shutil
import subprocess
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from .prometheus import Prometheus, free_port, serving


def _binary(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise RuntimeError(f"{name} is needed: apt-get install victoria-metrics")
    return found


def _serving(work: Path, name: str, args: list[str], ready: str):
    """`name` with `args` and -httpListenAddr on a free port, as `prometheus.serving` runs it."""
    binary = _binary(name)
    return serving(lambda address: [binary, f"-httpListenAddr={address}", *args], work / f"{name}.log", ready)


@contextlib.contextmanager
def victoria_metrics(work: Path) -> Iterator[Prometheus]:
    """VictoriaMetrics over a fresh folder; it serves Prometheus' query API and takes remote write
    (`/api/v1/write`), so `prometheus.remote_write` fills it."""
    with _serving(work, "victoria-metrics", [f"-storageDataPath={work / 'vm-data'}", "-retentionPeriod=1y"],
                  "/health") as base:
        yield Prometheus(base)


@contextlib.contextmanager
def vmalert(work: Path, rule_files: list[Path], datasource: str, *args: str) -> Iterator[Prometheus]:
    """vmalert evaluating `rule_files` against VictoriaMetrics at `datasource`, writing back to it.
    Alerts go to a port nothing listens on: the tests read them from vmalert's API and ALERTS series."""
    rules = [f"-rule={p}" for p in rule_files]
    with _serving(work, "vmalert", [*rules, f"-datasource.url={datasource}", f"-remoteWrite.url={datasource}",
                                    f"-notifier.url=http://127.0.0.1:{free_port()}", *args], "/health") as base:
        yield Prometheus(base)


def replay(work: Path, rule_files: list[Path], datasource: str, start: int, end: int, step: str) -> None:
    """`vmalert -replay` of the recording rules over [start, end] (Unix seconds), one point per `step`."""
    iso = [f"{datetime.fromtimestamp(t, timezone.utc):%Y-%m-%dT%H:%M:%SZ}" for t in (start, end)]
    done = subprocess.run([_binary("vmalert"), *(f"-rule={p}" for p in rule_files), f"-datasource.url={datasource}",
                           f"-remoteWrite.url={datasource}", f"-replay.timeFrom={iso[0]}", f"-replay.timeTo={iso[1]}",
                           f"-datasource.queryStep={step}", "-replay.rulesDelay=2s", "-remoteWrite.flushInterval=1s",
                           "-replay.disableProgressBar"], capture_output=True, text=True, timeout=300, cwd=work)
    if done.returncode:
        raise RuntimeError(f"vmalert -replay failed:\n{(done.stdout + done.stderr)[-2000:]}")


def series(server: Prometheus, selector: str, span: str) -> dict[str, list[tuple[float, float]]]:
    """{labels as JSON: [(time, value)]} of the raw samples of `selector` over the last `span`."""
    found = server.query(f"{selector}[{span}]")
    return {json.dumps(r["metric"], sort_keys=True): [(float(t), float(v)) for t, v in r["values"]] for r in found}

