"""SLI kinds: each is one module in one registry, and a new kind needs nothing else.

The toy kind `good` (tests/data/good_kind.py) is registered before the spec is built, in a fresh
interpreter as a user's would be; the registry then carries it through load, rules, promtool
tests, lint and dashboards.
"""

import json
import os
import subprocess
import sys

import pytest
import yaml

from compiler import sli, spec
from conftest import ROOT, write_spec
from test_lint import URLS

# Compiles, then lints, the specs of a folder, in a fresh interpreter that registers the kind first.
RUN = """\
import sys, good_kind
from compiler.cli import main
slos, settings, out = sys.argv[1:]
paths = ["--slos", slos, "--settings", settings]
sys.exit(main(["compile", *paths, "--out", out]) or main(["lint", *paths]))
"""
SPEC = """\
service: shop
slos:
  - name: checkout
    objective: 99
    sli:
      good:
        good: app_good_total{job="shop"}
        total: app_requests_total{job="shop"}
"""


@pytest.fixture(scope="module")
def good_kind(tmp_path_factory) -> tuple:
    """(output folder, lint's stderr) of two services of the `good` kind, one of them linted wrong."""
    work = tmp_path_factory.mktemp("good-kind")
    write_spec(work / "slos", "shop.yaml", SPEC)
    write_spec(work / "slos", "same.yaml", SPEC.replace("shop", "same").replace("app_good_total", "app_requests_total"))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "tests" / "data"), str(ROOT)])}
    # Settings that name where runbooks and Grafana live, so that lint reports only the SLOs' findings.
    settings = write_spec(work, "slo-settings.yaml", URLS)
    result = subprocess.run([sys.executable, "-c", RUN, work / "slos", settings, work / "out"],
                            capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
    assert result.returncode == 0, result.stderr
    return work / "out", result.stderr


def test_a_kind_in_its_own_module_gives_the_rules_and_dashboards_their_queries(good_kind):
    out, _ = good_kind
    rules = yaml.safe_load((out / "prometheus/shop.rules.yml").read_text())["groups"][0]["rules"]
    records = {r.get("record"): r["expr"] for r in rules}
    assert records["slo:sli_errors:rate5m"] == ('sum(rate(app_requests_total{job="shop"}[5m])) - '
                                                'sum(rate(app_good_total{job="shop"}[5m]))')
    dashboard = json.loads((out / "grafana/dashboards/shop.json").read_text())
    rates = next(p for p in dashboard["panels"] if p["title"].startswith("Events and errors"))
    assert rates["fieldConfig"]["defaults"]["unit"] == "reqps"


def test_the_kinds_synthetic_traffic_makes_each_tier_fire_at_its_burn_rate_under_promtool(good_kind, promtool):
    out, _ = good_kind
    tests = out / "prometheus/tests/shop"
    [tiers] = tests.glob("*.tiers.test.yml")
    assert "app_good_total" in tiers.read_text()
    result = subprocess.run([promtool, "test", "rules", tiers.name], cwd=tests, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_a_kind_brings_its_own_lint_check_at_its_field(good_kind):
    out, lint = good_kind
    assert lint.splitlines() == [
        f"{out.parent / 'slos' / 'same.yaml'}:7:15: slos[0].sli.good.good: warning good-same-metric: good and total "
        f"read one metric; fix: count good events in a counter of their own"]


def test_without_the_kind_registered_the_spec_refuses_it(tmp_path, slo):
    write_spec(tmp_path / "slos", "shop.yaml", SPEC)
    result = slo("compile", "--slos", tmp_path / "slos", "--settings", tmp_path / "none.yaml", "--out", tmp_path / "o")
    assert result.code == 1
    assert "shop.yaml:6:7: slos[0].sli.good: unknown key" in result.err
    assert not (tmp_path / "o").exists()


def test_the_spec_accepts_exactly_the_registered_kinds_in_order():
    assert tuple(spec.SLI.model_fields) == tuple(sli.KINDS) == sli.BUILTIN


def test_an_unknown_kind_fails_loudly_and_none_is_registered_once_the_spec_is_built():
    with pytest.raises(LookupError, match="no SLI kind 'histogram' is registered"):
        sli.of("histogram")
    with pytest.raises(RuntimeError, match="after the spec models were built"):
        sli.register(sli.of("ratio"))
