"""The generated timing tests (SRE Workbook behaviour) for every SLI kind and period, run by promtool.

Each generated file checks, to the evaluation, when each tier fires after clean traffic, that a full
outage pages and each page stops when the plan says, that nothing fires at half the lowest burn rate
over three days, that a burn rate of 2 opens a ticket and never pages, and that vanished series
open a ticket. Here they run for every SLI kind (ratio, latency, bool, events) over 30d, 28d and
7d that slos/ does not already cover, and a rule that fires too early or too late makes them fail.
"""

import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml

from conftest import write_spec

KINDS = {
    "ratio": """ratio:
        errors: http_requests_total{job="api", code=~"5.."}
        total: http_requests_total{job="api"}
        group_by: [route]""",
    "latency": """latency:
        histogram: http_request_duration_seconds{job="api"}
        threshold: 300ms""",
    "bool": """bool:
        metric: probe_success{job="blackbox"}""",
    "events": """events:
        errors: sum(rate(jobs_failed_total[$window]))
        total: sum(rate(jobs_total[$window]))""",
}
PERIODS = ("30d", "28d", "7d")
# slos/ already covers these, and test_compile runs its generated tests.
IN_SLOS = {("ratio", "30d"), ("latency", "28d"), ("bool", "30d"), ("events", "7d")}
COMBINATIONS = [(k, p) for k in KINDS for p in PERIODS if (k, p) not in IN_SLOS]


@pytest.fixture(scope="module")
def matrix(tmp_path_factory) -> Path:
    """One service per SLI kind and period, so that each test file evaluates one rule group."""
    from compiler.cli import main
    work = tmp_path_factory.mktemp("matrix")
    for kind, period in COMBINATIONS:
        write_spec(work / "slos", f"{kind}-{period}.yaml", f"""\
service: {kind}-{period}
slos:
  - name: objective
    objective: 99.5
    window: {period}
    sli:
      {KINDS[kind]}
""")
    assert main(["compile", "--slos", str(work / "slos"), "--out", str(work / "out"),
                 "--settings", str(work / "none")]) == 0
    return work / "out"


def promtool_test(promtool: str, files: list[Path]) -> list[str]:
    """promtool test rules on each file, two at a time; the output of every failure."""
    def run(path: Path) -> str | None:
        result = subprocess.run([promtool, "test", "rules", str(path)], capture_output=True, text=True)
        return None if result.returncode == 0 else f"{path.name}: {result.stdout}{result.stderr}"
    with ThreadPoolExecutor(2) as pool:
        return [failure for failure in pool.map(run, files) if failure]


def scenario_files(out: Path) -> list[Path]:
    return sorted(p for p in (out / "prometheus" / "tests").rglob("*.test.yml") if re.search(r"\.(timing|days)\.", p.name))


def test_every_kind_and_period_behaves_as_the_workbook_says(matrix, promtool):
    files = scenario_files(matrix)
    assert len(files) == 2 * len(COMBINATIONS)
    titles = [t["name"] for f in files for t in yaml.safe_load(f.read_text())["tests"]]
    for kind, period in COMBINATIONS:
        mine = [t for t in titles if t.startswith(f"{kind}-{period}/")]
        # Every tier's detection, the outage and resets, traffic stopping, vanished series, the
        # quiet three days and the slow burn.
        assert len(mine) == 4 + 5, (kind, period, mine)
    assert promtool_test(promtool, files) == []


@pytest.mark.parametrize("change, why", [
    (("> 13.44", "> 12"), "a page threshold below its burn rate fires before the plan says"),
    (("for: 2m", "for: 4m"), "a longer `for` fires after the plan says"),
    (("> 5.6\n", "> 7\n"), "a page that never sees its burn rate misses the outage it should catch"),
])
def test_the_timing_tests_fail_when_the_rules_misbehave(matrix, promtool, tmp_path, change, why):
    # The tests load the SLO's group alone, from the rule file beside them.
    shutil.copytree(matrix / "prometheus" / "tests" / "ratio-28d", tmp_path / "prometheus" / "tests" / "ratio-28d")
    [rule_file] = (tmp_path / "prometheus" / "tests" / "ratio-28d").glob("*.rules.yml")
    rules = rule_file.read_text()
    old, new = change
    assert old in rules
    rule_file.write_text(rules.replace(old, new))
    assert promtool_test(promtool, scenario_files(tmp_path)), why
