"""`slo check` cost: CPU per SLO as a service grows (it must stay flat: each SLO's tests load its
own rule group alone), and the wall time of a repository of several services at a given --jobs.

CPU is that of the `slo check` process and every promtool it runs (os.wait4 counts waited-for
children), so it holds on a busy machine; wall time does not.
"""

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from compiler import serialize


@dataclass
class Run:
    slos: int
    wall: float
    cpu: float

    @property
    def per_slo(self) -> float:
        return self.cpu / self.slos


def service(name: str, slos: int) -> dict:
    """A service of `slos` ratio SLOs, one per handler, with the default tiers."""
    return {"service": name, "slos": [
        {"name": f"handler-{i}", "objective": 99.9,
         "sli": {"ratio": {"errors": f'http_requests_total{{job="{name}", handler="h{i}", code=~"5.."}}',
                           "total": f'http_requests_total{{job="{name}", handler="h{i}"}}'}}}
        for i in range(slos)]}


def _slo(log: Path, *args) -> subprocess.Popen:
    with log.open("w") as stderr:
        return subprocess.Popen([sys.executable, "-m", "compiler", *map(str, args)], stderr=stderr)


def measure(work: Path, services: int, slos_per_service: int, jobs: int) -> Run:
    """Compile a repository of `services` services of `slos_per_service` SLOs, then time `slo check`."""
    slos, settings = work / "slos", work / "slo-settings.yaml"
    slos.mkdir(parents=True)
    settings.write_text("# defaults\n")
    for n in range(services):
        (slos / f"svc{n:02d}.yaml").write_bytes(serialize.to_yaml(service(f"svc{n:02d}", slos_per_service)))
    paths = ("--slos", slos, "--settings", settings, "--out", work / "output")
    log = work / "stderr.txt"
    if _slo(log, "compile", *paths).wait():
        raise RuntimeError(f"slo compile failed:\n{log.read_text()}")
    start = time.perf_counter()
    process = _slo(log, "check", *paths, "--jobs", jobs)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status):
        raise RuntimeError(f"slo check failed:\n{log.read_text()}")
    return Run(services * slos_per_service, wall, usage.ru_utime + usage.ru_stime)


def report(per_service: list[Run], repository: Run | None, services: int, jobs: int) -> list[str]:
    first = per_service[0]
    lines = [f"  {r.slos:3d} SLOs in one service: {r.cpu:7.1f}s CPU, {r.per_slo:5.2f}s per SLO "
             f"({r.per_slo / first.per_slo:.2f}x that at {first.slos}; target at most 1.25x)" for r in per_service]
    if repository:
        lines.append(f"  {repository.slos} SLOs in {services} services, --jobs {jobs}: {repository.wall:.0f}s wall, "
                     f"{repository.cpu:.0f}s CPU, {repository.per_slo:.2f}s per SLO (target under 300s wall)")
    return lines
