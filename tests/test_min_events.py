"""The low-traffic guard `alerting.min_events`: a pair fires only when its long window counted that many
events. The generated promtool tests prove both sides, and they fail against rules without the guard."""

import re
import subprocess

from conftest import ROOT, write_spec

SPEC = """\
service: shop
slos:
  - name: availability
    objective: 99.9
    sli:
      ratio:
        errors: http_requests_total{job="shop", code="500"}
        total: http_requests_total{job="shop"}
        group_by: [route]
    alerting:
      min_events: 1000
"""


def test_the_generated_tests_prove_silence_at_low_traffic_and_fail_without_the_guard(slo, tmp_path, promtool):
    write_spec(tmp_path / "slos", "shop.yaml", SPEC)
    out = tmp_path / "out"
    assert slo("compile", "--slos", tmp_path / "slos", "--out", out, "--settings", tmp_path / "none").code == 0
    slo_rules, tiers = (out / "prometheus" / "tests" / "shop" / f"availability.{part}.yml" for part in ("rules", "tiers.test"))
    rules = slo_rules.read_text()
    # Every pair reads the recorded 5m total rate over its long window, never the raw series.
    assert len(re.findall(r'avg_over_time\(slo:sli_total:rate5m\{[^}]*\}\[[0-9dhms]+\]\) \* \d+ >= 1000', rules)) == 4
    tests = tiers.read_text()
    assert "a full outage at 0.115 events per 1m, fewer than 1000 in every long window, fires nothing" in tests
    test_files = sorted(str(p) for p in (out / "prometheus" / "tests" / "shop").glob("*.test.yml"))
    for test_file in test_files:
        result = subprocess.run([promtool, "test", "rules", test_file], capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr
    unguarded = re.sub(r"\n\s+and\n\s+avg_over_time\(slo:sli_total[^\n]+", "", rules)
    assert ">= 1000" not in unguarded
    slo_rules.write_text(unguarded)  # what the SLO's tests load
    result = subprocess.run([promtool, "test", "rules", str(tiers)],
                            capture_output=True, text=True)
    assert result.returncode != 0 and "fires nothing" in result.stdout + result.stderr


def test_explain_and_the_runbooks_show_the_guard(slo, tmp_path):
    write_spec(tmp_path / "slos", "shop.yaml", SPEC)
    explained = slo("explain", "shop/availability", "--slos", tmp_path / "slos", "--settings", tmp_path / "none")
    assert explained.out.splitlines()[2] == ("low-traffic guard: a pair fires only when its long window counted at "
                                             "least 1000 events (the mean recorded 5m rate times the window)")
    assert slo("compile", "--slos", tmp_path / "slos", "--out", tmp_path / "out", "--settings", tmp_path / "none").code == 0
    for tier in ("page", "ticket"):
        runbook = (tmp_path / "out" / "runbooks" / "shop" / f"shop-availability-budget-burn-{tier}.md").read_text()
        assert "Low-traffic guard: a pair fires only when its long window counted at least 1000 events" in runbook
    write_spec(tmp_path / "slos", "shop.yaml", SPEC.replace("    alerting:\n      min_events: 1000\n", ""))
    plain = slo("explain", "shop/availability", "--slos", tmp_path / "slos", "--settings", tmp_path / "none")
    assert "low-traffic" not in plain.out


def test_a_guard_without_events_to_count_is_refused_at_its_place(slo, tmp_path):
    write_spec(tmp_path / "slos", "probe.yaml", """\
service: probe
slos:
  - name: up
    objective: 99
    sli:
      bool:
        metric: probe_success{job="blackbox"}
    alerting:
      min_events: 10
  - name: zero
    objective: 99
    sli:
      ratio:
        errors: a_total{code="500"}
        total: a_total
    alerting:
      min_events: 0
""")
    result = slo("compile", "--slos", tmp_path / "slos", "--out", tmp_path / "out", "--settings", tmp_path / "none")
    assert result.code == 1 and not (tmp_path / "out").exists()
    assert [line.removeprefix(f"{tmp_path}/") for line in result.lines] == [
        "slos/probe.yaml:9:19: slos[0].alerting.min_events: a bool SLI has no events to count (0/1 samples); "
        "min_events applies to ratio, latency and events SLIs",
        "slos/probe.yaml:17:19: slos[1].alerting.min_events: must be greater than or equal to 1, got 0",
    ]


def test_the_documented_spec_compiles_with_the_guard(slo, tmp_path):
    blocks = re.findall(r"```yaml\n(.*?)```", (ROOT / "docs" / "alertmanager.md").read_text(), re.S)
    spec = next(b for b in blocks if "min_events" in b and "service:" in b)
    write_spec(tmp_path / "slos", "checkout.yaml", spec)
    assert slo("compile", "--slos", tmp_path / "slos", "--out", tmp_path / "out", "--settings", tmp_path / "none").code == 0
    assert (tmp_path / "out" / "prometheus" / "checkout.rules.yml").read_text().count(">= 1000") == 4
