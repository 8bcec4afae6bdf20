"""Sloth's own examples and integration inputs, compiled here and run beside Sloth's golden rules.

For each input that needs no Go plugin, one promtool test loads our rules (with `sloth_labels`)
and Sloth's golden rules (record names renamed `sloth_golden:` so the two sets never read each
other's series) over the same synthetic traffic, whose error ratio changes half-way
so that each window sees its own mix. At the end, for every SLO and every alert window,
our `slo:sli_error:ratio_rate<W>` must be within 2% of Sloth's, and both must raise the same
page and ticket alerts as the tier maths says.

Sloth's alerts have no `for`; ours are compiled with the same tiers minus `for` so that the
comparison is about windows and thresholds.
"""

import os
import re
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from compiler import durations, pipeline, write
from conftest import SHARED, needs_shared, write_spec

SLOTH = SHARED / "conformance" / "sloth"
EXAMPLES, TESTDATA = SLOTH / "examples", SLOTH / "test" / "integration" / "prometheus" / "testdata"
pytestmark = needs_shared("conformance", "sloth")

MINUTES = 180  # history of every test; the error ratio changes after 90 minutes
CHANGE = 90
TOLERANCE = 0.02
# Error ratios (first half, second half) of the request counters and of the wifi clients. Our long
# windows sum the base window's recorded rates, so they reach about half a base window (2.5m)
# further back than a raw rate over the window: the contrast between the halves is kept moderate
# so that this shift stays within the 2% where the change falls inside a window. The last
# scenario is quiet: below every tier of most SLOs, above some of the strictest.
SCENARIOS = [{"requests": (Decimal("0.35"), Decimal("0.5")), "wifi": (Decimal("0.35"), Decimal("0.5"))},
             {"requests": (Decimal("0.5"), Decimal("0.35")), "wifi": (Decimal("0.5"), Decimal("0.35"))},
             {"requests": (Decimal("0.0005"), Decimal("0.0005")), "wifi": (Decimal("0.025"), Decimal("0.025"))}]
EVALUATION = "2m"  # of both rule sets: half the work of 1m, and every window still holds many samples
TIERS_WITHOUT_FOR = """\
tiers:
  - {severity: page, budget_spent: 2, long: 1h, short: 5m}
  - {severity: page, budget_spent: 5, long: 6h, short: 30m}
  - {severity: ticket, budget_spent: 10, long: 1d, short: 2h}
  - {severity: ticket, budget_spent: 10, long: 3d, short: 6h}
"""
# Sloth's 7d catalog (test/integration/prometheus/windows/7d.yaml) written as our tiers.
SLOTH_7D_TIERS = """\
default_window: 7d
tiers_period: 7d
tiers:
  - {severity: page, budget_spent: 8, long: 1h, short: 5m}
  - {severity: page, budget_spent: 12.5, long: 6h, short: 30m}
  - {severity: ticket, budget_spent: 20, long: 1d, short: 2h}
  - {severity: ticket, budget_spent: 42, long: 3d, short: 6h}
"""


@dataclass(frozen=True)
class Case:
    spec: Path
    golden: Path
    settings: str = TIERS_WITHOUT_FOR
    alerts: bool = True  # False where Sloth was run with --disable-alerts


def _examples(*names: str) -> list[Case]:
    return [Case(EXAMPLES / n, EXAMPLES / "_gen" / n) for n in names]


CASES = _examples("getting-started.yml", "home-wifi.yml", "raw-home-wifi.yml", "kubernetes-apiserver.yml",
                  "multifile.yml", "no-alerts.yml", "slo-plugin-getting-started.yml", "slo-plugin-k8s-getting-started.yml",
                  "k8s-getting-started.yml",
                  "k8s-home-wifi.yml", "k8s-multifile.yml",
                  "openslo-getting-started.yml", "openslo-kubernetes-apiserver.yml") + [
    Case(TESTDATA / "in-base.yaml", TESTDATA / "out-base.yaml.tpl"),
    Case(TESTDATA / "in-base-k8s.yaml", TESTDATA / "out-base-k8s.yaml.tpl"),
    Case(TESTDATA / "in-multifile.yaml", TESTDATA / "out-multifile.yaml.tpl"),
    Case(TESTDATA / "in-multifile-k8s.yaml", TESTDATA / "out-multifile-k8s.yaml.tpl"),
    Case(TESTDATA / "in-openslo.yaml", TESTDATA / "out-openslo.yaml.tpl"),
    Case(TESTDATA / "in-base.yaml", TESTDATA / "out-base-extra-labels.yaml.tpl"),
    Case(TESTDATA / "in-base.yaml", TESTDATA / "out-base-no-alerts.yaml.tpl", alerts=False),
    Case(TESTDATA / "in-base.yaml", TESTDATA / "out-base-28d.yaml.tpl", "default_window: 28d\n" + TIERS_WITHOUT_FOR),
    Case(TESTDATA / "in-base.yaml", TESTDATA / "out-base-custom-windows-7d.yaml.tpl", SLOTH_7D_TIERS),
]
# Inputs that need a Go plugin (or one of Sloth's built-in plugins we cannot run), and what the refusal says.
NEEDS_PLUGIN = {
    EXAMPLES / "plugin-getting-started.yml": "Sloth SLI plugin 'getting_started_availability' is not supported",
    # Its alert tiers are spelt page_alert in a CRD, which Sloth silently ignores; refused before the plugin.
    EXAMPLES / "plugin-k8s-getting-started.yml": "page_alert: unknown key; did you mean 'pageAlert'?",
    EXAMPLES / "contrib-slo-plugins.yml": "Sloth SLO plugin 'sloth.dev/contrib/info_labels/v1' is not supported",
    EXAMPLES / "victoria-metrics.yml": "Sloth SLO plugin 'sloth.dev/contrib/validate_victoria_metrics/v1' is not supported",
    # It scales each window's ratio by that window's traffic over the period's: another quantity.
    EXAMPLES / "contrib-denominator-corrected.yaml": "Sloth SLO plugin 'sloth.dev/contrib/denominator_corrected_rules/v1' is not supported",
    TESTDATA / "in-sli-plugin.yaml": "Sloth SLI plugin 'integration_test' is not supported",
    TESTDATA / "in-slo-plugin.yaml": "Sloth SLO plugin 'integration-tests/plugin1' is not supported",
    TESTDATA / "in-slo-plugin-k8s.yaml": "Sloth SLO plugin 'integration-tests/plugin1' is not supported",
}
# Sloth's --disable-recordings output: its alerts read recorded series that it did not write.
NOT_SELF_CONTAINED = {TESTDATA / "out-base-no-recordings.yaml.tpl"}


def test_every_input_of_the_corpus_is_covered():
    inputs = {p for p in EXAMPLES.glob("*.y*ml")} | set(TESTDATA.glob("in-*.yaml"))
    covered = {c.spec for c in CASES} | set(NEEDS_PLUGIN) | {TESTDATA / "in-invalid-version.yaml"}
    assert inputs == covered
    goldens = set(TESTDATA.glob("out-*.tpl")) | set((EXAMPLES / "_gen").glob("*.y*ml"))
    assert goldens - {c.golden for c in CASES} - NOT_SELF_CONTAINED == \
        {EXAMPLES / "_gen" / p.name for p in NEEDS_PLUGIN if p.parent == EXAMPLES} | \
        {TESTDATA / "out-sli-plugin.yaml.tpl", TESTDATA / "out-slo-plugin.yaml.tpl",
         TESTDATA / "out-slo-plugin-k8s.yaml.tpl"}


def present(cases: list) -> list:
    """The cases; without the corpus only the first, to skip once for all."""
    return cases if SLOTH.is_dir() else cases[:1]


@pytest.mark.parametrize("spec", present(sorted(NEEDS_PLUGIN)), ids=lambda p: p.name)
def test_an_input_that_needs_a_plugin_is_refused_naming_it(spec, tmp_path, slo):
    write_spec(tmp_path / "slos", "spec.yaml", spec.read_text())
    result = slo("compile", "--slos", tmp_path / "slos", "--out", tmp_path / "out", "--settings", tmp_path / "none")
    assert result.code == 1 and not (tmp_path / "out").exists()
    assert any(NEEDS_PLUGIN[spec] in line for line in result.lines), result.err
    assert all(re.match(re.escape(f"{tmp_path}/slos/spec.yaml") + r":\d+:\d+: \S+: ", line)
               for line in result.lines), result.err


def test_an_unknown_sloth_version_is_refused(tmp_path, slo):
    write_spec(tmp_path / "slos", "spec.yaml", (TESTDATA / "in-invalid-version.yaml").read_text())
    result = slo("compile", "--slos", tmp_path / "slos", "--out", tmp_path / "out", "--settings", tmp_path / "none")
    assert result.lines == [f"{tmp_path}/slos/spec.yaml:1:10: version: unknown spec version 'prometheus/v999'; "
                            "Sloth specs are version: prometheus/v1"]


# --- Sloth's golden rules ------------------------------------------------------------------------

_GO_ESCAPE = re.compile(r'\{\{"(\{\{.*?\}\})"\}\}')
_RECORD = re.compile(r"(?<![\w:])slo:")


def golden_groups(path: Path) -> list[dict]:
    """Sloth's rule groups (Prometheus rule files or PrometheusRule objects), records renamed."""
    text = path.read_text()
    if path.suffix == ".tpl":  # Go templates of the integration tests
        text = _GO_ESCAPE.sub(r"\1", text.replace("{{ .version }}", "dev"))
    groups = []
    for doc in yaml.safe_load_all(text):
        if doc:
            groups += doc["spec"]["groups"] if doc.get("kind") == "PrometheusRule" else doc["groups"]
    for group in groups:
        for rule in group["rules"]:
            if "record" in rule:
                rule["record"] = _RECORD.sub("sloth_golden:", rule["record"])
            rule["expr"] = _RECORD.sub("sloth_golden:", str(rule["expr"]))
    return groups


# --- Synthetic traffic ---------------------------------------------------------------------------

REQUESTS = 1000  # events per minute
CLIENTS = 40  # wifi clients, each a 0/1 satisfaction gauge


def _ratio(scenario, minute: int) -> Decimal:
    return scenario[0] if minute < CHANGE else scenario[1]


def _counter(per_minute) -> str:
    total, values = Decimal(0), []
    for minute in range(MINUTES + 1):
        values.append(str(total))
        total += per_minute(minute)
    return " ".join(values)


def input_series(scenario: dict) -> list[dict]:
    """Every metric the corpus reads, at the scenario's error ratios."""
    bad = lambda m: _ratio(scenario["requests"], m) * REQUESTS  # noqa: E731
    good = lambda m: REQUESTS - bad(m)  # noqa: E731
    series = {
        'http_request_duration_seconds_count{job="%s", code="500"}': bad,
        'http_request_duration_seconds_count{job="%s", code="200"}': good,
    }
    out = [{"series": s % job, "values": _counter(f)} for job in ("myservice", "myapp") for s, f in series.items()]
    out += [{"series": 'apiserver_request_total{code="500"}', "values": _counter(bad)},
            {"series": 'apiserver_request_total{code="200"}', "values": _counter(good)},
            {"series": 'apiserver_request_duration_seconds_count{verb="GET"}', "values": _counter(lambda m: REQUESTS)}]
    out += [{"series": f'apiserver_request_duration_seconds_bucket{{verb="GET", le="{le}"}}', "values": _counter(good)}
            for le in ("0.4", "5")]
    for client in range(CLIENTS):
        values = ["0" if client < _ratio(scenario["wifi"], m) * CLIENTS else "1" for m in range(MINUTES + 1)]
        out.append({"series": f'unifipoller_client_satisfaction_ratio{{client="c{client:02d}"}}',
                    "values": " ".join(values)})
    return out


def window_ratio(scenario, window_ms: int) -> Decimal:
    """The exact error ratio over the window ending at the last minute."""
    minutes = min(window_ms // durations.UNITS["m"], MINUTES)
    first = MINUTES - minutes
    before = max(0, CHANGE - first)
    return (before * scenario[0] + (minutes - before) * scenario[1]) / minutes


# --- The comparison ------------------------------------------------------------------------------

def sloth_duration(ms: int) -> str:
    """A window as Sloth names its records (Prometheus' duration format): 28d is `4w`, 7d is `1w`,
    30d stays `30d` (years and weeks only where they divide exactly)."""
    text = ""
    for unit in ("y", "w", "d", "h", "m", "s", "ms"):
        if unit in ("y", "w") and ms % durations.UNITS[unit]:
            continue
        count, ms = divmod(ms, durations.UNITS[unit])
        text += f"{count}{unit}" if count else ""
    return text


def _state(selector: str) -> str:
    return f'(count(ALERTS{{alertstate="firing", {selector}}}) or vector(0)) > bool 0'


def _family(slo) -> str:
    return "wifi" if "unifipoller" in slo.sli.model_dump_json() else "requests"


def checks(the_plan, scenario: dict, alerts: bool) -> list[dict]:
    tests = []
    for service in the_plan.services:
        for slo in service.slos:
            sid = f'sloth_id="{service.name}-{slo.name}"'
            windows = sorted({slo.period, *(w for p in slo.pairs for w in (p.long, p.short))})
            for window in windows:
                expr = (f"count(abs(slo:sli_error:ratio_rate{durations.to_text(window)}{{{sid}}} / on (sloth_id) "
                        f"sloth_golden:sli_error:ratio_rate{sloth_duration(window)}{{{sid}}} - 1) <= {TOLERANCE})")
                tests.append({"expr": expr, "eval_time": f"{MINUTES}m", "exp_samples": [{"value": 1}]})
            if not alerts:
                continue
            for tier in ("page", "ticket"):
                ours = _state(f'{sid}, slo_severity="{tier}"')
                golden = _state(f'{sid}, sloth_severity="{tier}", slo_name=""')
                tests.append({"expr": f"({ours}) - ({golden})", "eval_time": f"{MINUTES}m",
                              "exp_samples": [{"value": 0}]})
                expected = _expected(slo, scenario[_family(slo)], tier)
                if expected is not None:
                    tests.append({"expr": ours, "eval_time": f"{MINUTES}m", "exp_samples": [{"value": int(expected)}]})
    return tests


def _expected(slo, scenario, tier: str) -> bool | None:
    """Whether the tier fires by the maths; None when a window is within 10% of its threshold."""
    fired = False
    for pair in (p for p in slo.pairs if p.tier == tier):
        threshold = pair.burn_rate * slo.budget
        ratios = [window_ratio(scenario, w) for w in (pair.long, pair.short)]
        if any(threshold and abs(r / threshold - 1) < Decimal("0.1") for r in ratios):
            return None
        fired |= all(r > threshold for r in ratios)
    return fired


def prepare(case: Case, work: Path) -> Path:
    """Our rules and Sloth's for one case, and the promtool test that runs them side by side."""
    write_spec(work / "slos", "spec.yaml", case.spec.read_text())
    settings = write_spec(work, "slo-settings.yaml", f"sloth_labels: true\nrule_interval: {EVALUATION}\n" + case.settings)
    the_plan = pipeline.build_plan(work / "slos", settings)
    out = work / "output"
    write.write(out, pipeline.render(the_plan))
    (work / "golden.yml").write_text(yaml.safe_dump({"groups": golden_groups(case.golden)}))
    rule_files = [str(p) for p in sorted((out / "prometheus").glob("*.rules.yml"))] + [str(work / "golden.yml")]
    tests = [{"name": f"error ratios {scenario}", "interval": "1m", "input_series": input_series(scenario),
              "promql_expr_test": checks(the_plan, scenario, case.alerts)} for scenario in SCENARIOS]
    assert all(t["promql_expr_test"] for t in tests)
    (work / "conformance.test.yml").write_text(yaml.safe_dump(
        {"rule_files": rule_files, "evaluation_interval": EVALUATION, "tests": tests}, width=1 << 16))
    return work / "conformance.test.yml"


@pytest.fixture(scope="module")
def promtool_runs(tmp_path_factory, promtool):
    """Every case's promtool test, run on all cores at once (each test then waits for its own)."""
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        runs = {}
        for i, case in enumerate(CASES):
            test_file = prepare(case, tmp_path_factory.mktemp(f"sloth{i}"))
            runs[case] = pool.submit(subprocess.run, [promtool, "test", "rules", str(test_file)],
                                     capture_output=True, text=True, timeout=600)
        yield runs


@pytest.mark.parametrize("case", present(CASES), ids=lambda c: c.golden.name)
def test_same_error_ratios_and_alerts_as_sloths_golden_rules(case, promtool_runs):
    result = promtool_runs[case].result()
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
