"""`slo diff --prometheus`: the new objective against the SLI measured by a real Prometheus.

Two hours of checkout traffic are backfilled (`promtool tsdb create-blocks-from openmetrics`): 1000
requests a minute, 0.7123 of them server errors, all on route /pay, none on /list. Measured over the
period that is 99.928% (rounded down), 99.857% on /pay alone.
"""

import time

import pytest

import realprom
from gitrepo import checkout, repo  # noqa: F401 (repo is a fixture)

MINUTES = 120
PER_MINUTE = {'route="/pay",code="200"': 499.2877, 'route="/pay",code="500"': 0.7123,
              'route="/list",code="200"': 500.0}


def _openmetrics(end: int) -> str:
    lines = []
    for labels, rate in sorted(PER_MINUTE.items()):
        for i in range(MINUTES + 1):
            lines.append(f'http_requests_total{{job="checkout",{labels}}} {rate * i:.4f} {end - (MINUTES - i) * 60}')
    return "\n".join(lines) + "\n# EOF\n"


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory, promtool):
    work = tmp_path_factory.mktemp("measured")
    realprom.backfill(promtool, _openmetrics(int(time.time()) - 30), work / "data")
    with realprom.running(work, [], work / "data") as server:
        yield server


def test_a_new_objective_already_breached_today_is_warned_about(repo, prometheus):
    spec = checkout()
    spec["slos"][0]["objective"] = 99.95
    repo.write(spec)
    md = repo.markdown("--prometheus", prometheus.base)
    assert ("- ⚠️ `checkout/availability`: measured 99.928% over 30d, new objective 99.95%: the budget would be "
            "exhausted now") in md.splitlines()
    # 0.07123% errors against a 0.05% budget: 142.5% of it spent.
    assert "- measured 99.928% over 30d: 142.5% of the 99.95% objective's error budget spent" in md.splitlines()


def test_a_looser_objective_shows_the_budget_spent_without_a_warning(repo, prometheus):
    spec = checkout()
    spec["slos"][0]["objective"] = 99.5
    repo.write(spec)
    md = repo.markdown("--prometheus", prometheus.base)
    assert "- measured 99.928% over 30d: 14.2% of the 99.5% objective's error budget spent" in md.splitlines()
    assert "exhausted" not in md


def test_with_group_by_the_worst_group_is_named(repo, prometheus):
    spec = checkout()
    spec["slos"][0]["sli"]["ratio"]["group_by"] = ["route"]
    repo.write(spec)
    md = repo.markdown("--prometheus", prometheus.base)
    assert ('- ⚠️ `checkout/availability`: measured 99.857% over 30d (worst: route="/pay"), new objective 99.9%: '
            'the budget would be exhausted now') in md.splitlines()


def test_an_sli_without_traffic_is_not_measured(repo, prometheus):
    spec = checkout()
    spec["slos"][1]["objective"] = 99.5  # the latency histogram has no series
    repo.write(spec)
    md = repo.markdown("--prometheus", prometheus.base)
    assert "#### Changed `latency`" in md and "measured" not in md


def test_an_unreachable_prometheus_is_one_line_and_exit_1(repo):
    spec = checkout()
    spec["slos"][0]["objective"] = 99.95
    repo.write(spec)
    url = f"http://127.0.0.1:{realprom.free_port()}"
    result = repo.diff("--prometheus", url)
    assert result.code == 1 and result.out == "" and len(result.lines) == 1
    assert result.err.startswith(f"slo: diff: cannot query Prometheus at {url}: ")


def test_a_prometheus_url_must_be_http(repo):
    result = repo.diff("--prometheus", "file:///etc/passwd")
    assert result.code == 2 and "must be an http:// or https:// URL" in result.err
