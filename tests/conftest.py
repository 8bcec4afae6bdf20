import os
import re
import shutil
import time
from pathlib import Path

import pytest

import realprom
from compiler import pipeline, write
from compiler.cli import main

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
# The specs the tests rely on: a copy of the repository's slos/ (user data, which tests never read,
# so that a team editing its SLOs breaks no test) and its settings.
DATA = ROOT / "tests" / "data"
SLOS, SETTINGS = DATA / "slos", DATA / "slo-settings.yaml"
# CI always has ../shared and every tool: there a skip would hide a test that did not run.
CI = os.environ.get("CI") == "true"


def _absent(path: Path) -> str:
    return f"{path} is absent: it comes from ../shared"


def shared(*parts: str) -> Path:
    """A file or folder of ../shared (examples, conformance corpora, contracts). Where it is absent
    (a plain clone) the calling test skips; in CI that skip fails the test."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(_absent(path))
    return path


def needs_shared(*parts: str) -> pytest.MarkDecorator:
    """`shared` for a module whose every test reads that part of ../shared."""
    path = SHARED.joinpath(*parts)
    return pytest.mark.skipif(not path.exists(), reason=_absent(path))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """In CI every skip, whatever raised it, is a failure."""
    report = (yield).get_result()
    if CI and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome, report.longrepr = "failed", f"skipped in CI (CI=true), where nothing may skip: {reason}"


RETRYING = re.compile(r"; retry \d+ of \d+ in [\d.]+s$")


class Result:
    def __init__(self, code: int, out: str, err: str):
        self.code, self.out, self.err = code, out, err
        self.lines = err.splitlines()
        self.reported = [line for line in self.lines if not RETRYING.search(line)]  # less the progress of retries


@pytest.fixture(autouse=True)
def _outside_the_repository(tmp_path_factory, monkeypatch):
    """Every test runs in an empty folder, so that no default path (slos/, output/, slo-settings.yaml)
    reaches the repository's own files."""
    monkeypatch.chdir(tmp_path_factory.getbasetemp())


@pytest.fixture
def slo(capsys):
    """Run the `slo` command line in-process; returns exit code, stdout and stderr."""
    def run(*args: str) -> Result:
        try:
            code = main([str(a) for a in args])
        except SystemExit as exc:  # argparse usage errors and --help
            code = exc.code
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)
    return run


@pytest.fixture(scope="session")
def promtool() -> str:
    path = shutil.which("promtool")
    if path is None:
        pytest.fail("promtool is needed: run `make test` (installs it as root) or apt-get install prometheus")
    return path


@pytest.fixture(scope="session")
def vmalert() -> str:
    """vmalert from the Debian package victoria-metrics; skips without it (a failure in CI)."""
    return shutil.which("vmalert") or pytest.skip("vmalert is needed: apt-get install victoria-metrics "
                                                 "(make test installs it as root)")


def tree(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` with its bytes, for comparing whole outputs."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def write_spec(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text)
    return path


@pytest.fixture(scope="session")
def compiled(tmp_path_factory) -> Path:
    """The output of tests/data/slos, compiled once: tests read it and never change it."""
    out = tmp_path_factory.mktemp("compiled") / "output"
    assert main(["compile", "--slos", str(SLOS), "--out", str(out), "--settings", str(SETTINGS)]) == 0
    return out


# Two hours of traffic to the test SLOs (tests/data/slos), each at 10 times its error budget, written
# out here rather than taken from the compiler: counters with their increase a minute, and gauges.
TRAFFIC_MINUTES = 120
COUNTERS = {
    # payments/api-availability, 99.9%: 1% of requests fail.
    'http_requests_total{job="payments",code="200"}': 99,
    'http_requests_total{job="payments",code="500"}': 1,
    # payments/api-latency, 99%: 10% of requests take longer than 500ms.
    'http_request_duration_seconds_bucket{job="payments",route="/pay",le="0.5"}': 90,
    'http_request_duration_seconds_bucket{job="payments",route="/pay",le="+Inf"}': 100,
    'http_request_duration_seconds_count{job="payments",route="/pay"}': 100,
    # platform/queue-delivery, 99.5%: 5% of messages are dead-lettered.
    'queue_messages_published_total{queue="orders"}': 100,
    'queue_messages_dead_lettered_total{queue="orders"}': 5,
}
# platform/ingress-probe, 99.95%: one probe of 200 fails, 0.5%.
GAUGES = {f'probe_success{{job="blackbox",instance="https://ingress.example.com",probe="{i:03}"}}': int(i > 0)
          for i in range(200)}
ERROR_RATIOS = {("payments", "api-availability"): 0.01, ("payments", "api-latency"): 0.1,
                ("platform", "queue-delivery"): 0.05, ("platform", "ingress-probe"): 0.005}


# Per module: the traffic ends when the server starts, so its short windows (4m, 5m) are empty a few
# minutes later; a server shared by the whole run would leave later modules reading no data.
@pytest.fixture(scope="module")
def slo_prometheus(tmp_path_factory, promtool):
    """A real Prometheus running the rules compiled from tests/data/slos over the traffic above,
    evaluating every second; yields (server, plan, output folder)."""
    work = tmp_path_factory.mktemp("prometheus")
    settings = write_spec(work, "slo-settings.yaml", "rule_interval: 1s\n")
    the_plan = pipeline.build_plan(SLOS, settings)
    write.write(work / "output", pipeline.render(the_plan))
    traffic = realprom.history(COUNTERS, GAUGES, TRAFFIC_MINUTES, int(time.time()) - 30)
    realprom.backfill(promtool, traffic, work / "data")
    rule_files = sorted((work / "output" / "prometheus").glob("*.rules.yml"))
    with realprom.running(work, rule_files, work / "data") as server:
        realprom.wait_evaluated(server, rounds=3)
        yield server, the_plan, work / "output"
