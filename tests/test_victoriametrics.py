"""`engine: victoriametrics`: rules that vmalert accepts and runs with the timing the plan models.

vmalert stores recording results by remote write after its evaluation, so for it the rule builders
read every series recorded earlier in the same group one evaluation back; these tests check those reads
on the parsed expressions, vmalert's own check of every example, and promtool's run of the generated
tests (whose expected times include that lag) on the same rules.
"""

import subprocess

import promql_parser
import pytest
import yaml

from compiler import durations, names, pipeline
from compiler.targets import prometheus as rules_target
from conftest import SLOS, shared, write_spec

VM_SETTINGS = "engine: victoriametrics\n"


def _compile(slo, tmp_path, slos, settings_text: str, name: str):
    settings = write_spec(tmp_path, f"{name}-settings.yaml", settings_text)
    out = tmp_path / name
    result = slo("compile", "--slos", slos, "--out", out, "--settings", settings)
    assert result.code == 0, result.err
    return out, settings


def _groups(path) -> list[dict]:
    return yaml.safe_load(path.read_text())["groups"]


def _selectors(expr: str) -> list[tuple[str, int]]:
    """(metric name, offset in ms) of every vector selector, in the order the parser walks them."""
    found = []

    def visit(node):
        if isinstance(node, promql_parser.VectorSelector):
            offset = node.offset.total_seconds() * 1000 if node.offset is not None else 0
            found.append((node.name, int(offset)))
    promql_parser.walk(promql_parser.parse(expr), visit)
    return found


def test_a_wrong_engine_is_one_line_naming_the_setting(slo, tmp_path):
    settings = write_spec(tmp_path, "slo-settings.yaml", "engine: victoria\n")
    result = slo("compile", "--slos", SLOS, "--out", tmp_path / "out", "--settings", settings)
    assert result.code == 1
    assert result.err.strip().splitlines() == [
        f"{settings}:1:9: engine: must be 'prometheus' or 'victoriametrics', got 'victoria'"]
    assert not (tmp_path / "out").exists()


def _name(rule: dict) -> str:
    return rule.get("record", rule.get("alert"))


def _trails(before: dict, after: dict, lag: int) -> int:
    """Checks that `after` is the group `before` with every read of a series recorded earlier in it `lag`
    further back, and nothing else changed but vmalert's `params`; returns how many reads moved."""
    assert {k: v for k, v in after.items() if k not in ("rules", "params")} == {
        k: v for k, v in before.items() if k != "rules"}
    assert [_name(r) for r in after["rules"]] == [_name(r) for r in before["rules"]]
    earlier: set[str] = set()
    moved = 0
    for old, new in zip(before["rules"], after["rules"]):
        expected = [(name, offset + lag if name in earlier else offset) for name, offset in _selectors(old["expr"])]
        assert _selectors(new["expr"]) == expected, old["expr"]
        moved += sum(name in earlier for name, _ in expected)
        assert {k: v for k, v in new.items() if k != "expr"} == {k: v for k, v in old.items() if k != "expr"}
        earlier.add(old.get("record", ""))
    return moved


@pytest.mark.parametrize("interval", ["1m", "30s"])
def test_reads_of_series_recorded_earlier_in_the_group_trail_one_evaluation(slo, tmp_path, interval):
    """The groups of the plan for vmalert as Prometheus would read them (no read delay), against what
    vmalert loads. (The plan reads some windows otherwise for vmalert: the 1d and 3d windows that
    Prometheus counts from hourly counts stay a mean of the rates, see `SLOPlan.counts_window`.)"""
    prom, _ = _compile(slo, tmp_path, SLOS, f"rule_interval: {interval}\n", "prometheus")
    vm, settings = _compile(slo, tmp_path, SLOS, f"rule_interval: {interval}\n{VM_SETTINGS}", "vm")
    assert not list((vm / "prometheus").glob("*.rules.yml")) and not list((prom / "vmalert").glob("*"))
    the_plan = pipeline.build_plan(SLOS, settings)
    moved = 0
    for service in the_plan.services:
        loaded = _groups(vm / names.output_path(names.VMALERT_RULES, service=service.name))
        for slo_plan, after in zip(service.slos, loaded, strict=True):
            assert after["params"] == {"nocache": ["1"]}
            moved += _trails(rules_target.group(slo_plan, interval), after, durations.parse(interval))
    assert moved > 20  # every ratio, burn rate and alert of four SLOs


CALENDAR = """\
service: shop
slos:
  - name: month
    objective: 99.9
    window: calendar-month
    sli:
      ratio:
        errors: http_requests_total{job="shop", code=~"5.."}
        total: http_requests_total{job="shop"}
    alerting: {min_events: 100}
  - name: quarter
    objective: 99
    window: calendar-quarter
    sli:
      latency:
        histogram: http_request_duration_seconds{job="shop"}
        threshold: 300ms
        group_by: [route]
"""


def test_each_rule_file_of_the_tests_trails_one_evaluation_of_the_tests_that_load_it(slo, tmp_path):
    """The per-SLO rule files promtool loads, against the SLO's group as Prometheus reads it: those of the
    tests of days and of the calendar period are evaluated hourly, so their reads trail an hour. Calendar
    records, hourly counts and the low-traffic guard are among the reads."""
    slos = tmp_path / "slos"
    write_spec(slos, "shop.yaml", CALENDAR)
    out, settings = _compile(slo, tmp_path, slos, VM_SETTINGS, "vm")
    tests = out / "prometheus" / "tests" / "shop"
    every: dict[str, set[str]] = {}  # rule file: evaluation intervals of the tests that load it
    for path in tests.glob("*.test.yml"):
        suite = yaml.safe_load(path.read_text())
        for name in suite["rule_files"]:
            every.setdefault(name, set()).add(suite["evaluation_interval"])
    moved = {}
    for slo_plan in pipeline.build_plan(slos, settings).services[0].slos:
        prometheus_form = rules_target.group(slo_plan, "1m")
        for path in tests.glob(f"{slo_plan.name}.*rules.yml"):
            [after], [interval] = _groups(path), every[path.name]
            kept = {_name(r) for r in after["rules"]}  # the calendar's file keeps the records its tests read
            before = {**prometheus_form, "rules": [r for r in prometheus_form["rules"] if _name(r) in kept]}
            moved[path.name] = _trails(before, after, durations.parse(interval))
    assert set(moved) == {f"{name}{kind}.rules.yml" for name in ("month", "quarter")
                          for kind in ("", ".days", ".calendar")}
    assert all(moved.values()), moved


def test_the_vmrule_holds_what_vmalert_loads(slo, tmp_path):
    vm, _ = _compile(slo, tmp_path, SLOS, VM_SETTINGS + "kubernetes_namespace: monitoring\n", "vm")
    assert not list((vm / "kubernetes").glob("*[!e].yml"))  # no PrometheusRule
    for path in sorted((vm / "vmalert").glob("*.rules.yml")):
        service = path.name.removesuffix(".rules.yml")
        manifest = yaml.safe_load((vm / names.output_path(names.VMRULE, service=service)).read_text())
        assert (manifest["apiVersion"], manifest["kind"]) == ("operator.victoriametrics.com/v1beta1", "VMRule")
        assert manifest["metadata"]["namespace"] == "monitoring"
        assert manifest["spec"]["groups"] == _groups(path)


@pytest.mark.parametrize("examples", ["tests", "shared"])
def test_vmalert_accepts_every_example_and_promtool_its_prometheus_form(slo, tmp_path, vmalert, promtool, examples):
    slos = SLOS if examples == "tests" else shared("examples")
    out, _ = _compile(slo, tmp_path, slos, VM_SETTINGS, "vm")
    files = sorted(str(p) for p in (out / "vmalert").glob("*.rules.yml"))
    assert len(files) == len(list(slos.glob("*.yaml")))
    run = subprocess.run([vmalert, "-dryRun", *(f"-rule={f}" for f in files)], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    per_slo = sorted(str(p) for p in (out / "prometheus" / "tests").rglob("*.rules.yml"))
    check = subprocess.run([promtool, "check", "rules", *per_slo], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    # promtool refuses vmalert's group keys: the rule files are vmalert's alone.
    assert subprocess.run([promtool, "check", "rules", files[0]], capture_output=True).returncode != 0


def test_vmalert_refusing_a_rule_file_fails_the_check(tmp_path, vmalert):
    from compiler import vmalert as vm
    (tmp_path / "a.rules.yml").write_text("groups:\n- name: g\n  params: {nocache: ['1']}\n  rules:\n"
                                          "  - record: a:b\n    expr: sum(rate(x[5m])\n")
    complaint = vm.dry_run(["a.rules.yml"], tmp_path)
    assert complaint is not None and 'invalid group "g"' in complaint and "\n" not in complaint
    (tmp_path / "a.rules.yml").write_text("groups:\n- name: g\n  params: {nocache: ['1']}\n  rules:\n"
                                          "  - record: a:b\n    expr: sum(rate(x[5m]))\n")
    assert vm.dry_run(["a.rules.yml"], tmp_path) is None


def test_check_runs_vmalert_and_the_promtool_tests_whose_times_include_the_lag(slo, tmp_path, vmalert, promtool):
    """The generated tests expect each alert the evaluations later that vmalert's reads trail: promtool
    passing them on the very expressions vmalert loads proves the timing that `slo explain` prints."""
    out, settings = _compile(slo, tmp_path, SLOS, VM_SETTINGS, "vm")
    result = slo("check", "--slos", SLOS, "--out", out, "--settings", settings, "--jobs", "2")
    assert result.code == 0, result.err
    assert "all passed" in result.err and "vmalert -dryRun accepted 2 rule files" in result.err
    assert sorted(p.name for p in (out / "prometheus" / "tests" / "payments").glob("*.days.rules.yml")) == [
        "api-availability.days.rules.yml", "api-latency.days.rules.yml"]


def test_explain_adds_the_evaluations_the_reads_trail(slo, tmp_path):
    prom = write_spec(tmp_path, "p.yaml", "")
    vm = write_spec(tmp_path, "v.yaml", VM_SETTINGS)
    rows = {}
    for name, settings in (("prometheus", prom), ("vm", vm)):
        text = slo("explain", "payments/api-availability", "--slos", SLOS, "--settings", settings).out
        header = next(line for line in text.splitlines() if line.startswith("tier"))
        start = header.index("fires at")  # the columns are padded to the widest cell: read them by place
        end = header.index("budget spent")
        rows[name] = {line.split()[1]: line[start:end].strip() for line in text.splitlines()
                      if line.startswith(("page", "ticket"))}
    # Each alert reads its ratios one evaluation late, and a ratio counted from the recorded base rates
    # reads them one more: a page fires one or two evaluations (1m) after it would on Prometheus. A full
    # outage is seen first by the 1h page's 5m short window, counted from the recorded rates: two.
    assert rows["prometheus"]["1h"] == "3m" and rows["vm"]["1h"] == "5m"
    for long in ("6h", "1d", "3d"):
        later = _duration(rows["vm"][long]) - _duration(rows["prometheus"][long])
        assert later in (durations.parse("1m"), durations.parse("2m")), (long, later)


def _duration(human: str) -> int:
    """Milliseconds of a time as explain prints it (`1h 7m`)."""
    return sum(durations.parse(part) for part in human.split())


def test_push_refuses_rules_vmalert_refuses_and_writes_nothing(slo, tmp_path, vmalert):
    out, _ = _compile(slo, tmp_path, SLOS, VM_SETTINGS, "vm")
    broken = out / "vmalert" / "payments.rules.yml"
    broken.write_text(broken.read_text().replace("sum(rate(", "sum(rate((", 1))
    folder = tmp_path / "rules"
    folder.mkdir()
    result = slo("push", "rules", "--prometheus-dir", folder, "--reload-url", "http://127.0.0.1:9/-/reload",
                 "--out", out)
    assert result.code == 1
    assert "vmalert -dryRun rejected the rules" in result.err and "payments" in result.err, result.err
    assert not list(folder.iterdir())


def test_a_ruler_push_of_vmalert_rules_is_refused_in_one_line(slo, tmp_path, monkeypatch):
    out, _ = _compile(slo, tmp_path, SLOS, VM_SETTINGS, "vm")
    monkeypatch.setenv("RULER_TOKEN", "t")
    result = slo("push", "rules", "--ruler-url", "http://127.0.0.1:9", "--tenant", "a", "--out", out)
    assert result.code == 1
    assert [line for line in result.err.splitlines() if "vmalert" in line] == [
        "ruler: the rule files are vmalert's (engine: victoriametrics), with group keys a Mimir or Cortex ruler does "
        "not know: push them with --prometheus-dir to vmalert's rule folder, or compile with engine: prometheus for "
        "a ruler"]
