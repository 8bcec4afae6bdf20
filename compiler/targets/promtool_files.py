"""The promtool test files of each SLO, beside a rule file of that SLO's group alone.

Each test file loads only its SLO's group, so that a test evaluates one SLO's rules however many
SLOs its service has: checking costs the same per SLO, and the SLOs of a service check in parallel.
Suites: `tiers` (each tier fires at its burn rate, see promtool_tests), `timing` and `days` (the
alerts over time, see alert_timing_tests). An SLO whose SLI gets synthetic traffic always gets
tests: a compile that would write none for an SLO, without saying why in its files, fails.
"""

from collections.abc import Callable
from functools import partial
from pathlib import PurePosixPath

from .. import durations, engine, names, serialize
from ..plan import Plan, ServicePlan, SLOPlan
from ..problems import InputError, Problem
from ..synthetic import Unsupported
from . import alert_timing_tests, calendar_tests, prometheus, promtool_tests

TIERS = "tiers"


def rule_file(service: ServicePlan, slo: SLOPlan, plan: Plan, interval: int | None = None,
              records: frozenset[str] | None = None) -> bytes:
    """The SLO's group alone, as in its service's rule file, in the form Prometheus reads; for an engine
    whose reads trail by an evaluation, as evaluated every `interval` (see `engine.read_offset`);
    only the rules that record `records` where given."""
    rules = names.output_path(names.engine_rules(plan.settings.engine), service=service.name)
    loader = engine.LOADER[plan.settings.engine]
    every = f", as evaluated every {durations.to_text(interval)}" if interval else ""
    header = prometheus.HEADER.format(source=service.source) + (
        f"# The group of {slo.name} in {rules}, alone, for its tests{every}; {loader} loads that file.\n")
    group = prometheus.group(slo, durations.to_text(plan.settings.rule_interval),
                             engine.read_offset(plan.settings, interval or plan.settings.rule_interval))
    if records is not None:
        group = {**group, "rules": [r for r in group["rules"] if r.get("record") in records]}
        header += "# Only the records its tests read.\n"
    return serialize.to_yaml({"groups": [group]}, header)


def suite_rules(plan: Plan, suite: str, interval: int) -> str | None:
    """The suite that needs a rule file of its own: where reads trail by an evaluation, one evaluated
    at an interval other than the rules'."""
    return suite if engine.read_delay(plan.settings) and interval != plan.settings.rule_interval else None


def test_file(service: ServicePlan, slo: SLOPlan, interval: int, tests: list[dict], why: str | None,
              suite: str | None = None) -> bytes:
    """A promtool test file of one SLO that loads its group alone; where no tests could be built it says why."""
    rules = names.suite_rules_path(service.name, slo.name, suite) if suite else names.slo_rules_path(
        service.name, slo.name)
    doc = {"rule_files": [PurePosixPath(rules).name],
           "evaluation_interval": durations.to_text(interval), "tests": tests}
    note = f"# {slo.name}: no synthetic test ({why}); cover it with your own test file.\n" if why else ""
    return serialize.to_yaml(doc, prometheus.HEADER.format(source=service.source) + note)


def _built(build: Callable[[], list[dict]]) -> tuple[list[dict], str | None]:
    try:
        return build(), None
    except Unsupported as exc:
        return [], str(exc)


def render(plan: Plan) -> dict[str, tuple[bytes, str]]:
    out, empty = {}, []
    interval = plan.settings.rule_interval
    for service in plan.services:
        for slo in service.slos:
            out[names.slo_rules_path(service.name, slo.name)] = (rule_file(service, slo, plan), service.source)
            suites = {TIERS: (interval, partial(promtool_tests.cases, slo, interval)),
                      **alert_timing_tests.suites(slo, plan), **calendar_tests.suites(slo, plan)}
            written, said_why = 0, False
            for suite, (every, build) in suites.items():
                tests, why = _built(build)
                written, said_why = written + len(tests), said_why or why is not None
                records = calendar_tests.records(slo) if suite == calendar_tests.SUITE else None
                own = suite_rules(plan, suite, every) or (suite if records else None)
                if own:
                    out[names.suite_rules_path(service.name, slo.name, suite)] = (
                        rule_file(service, slo, plan, every, records), service.source)
                out[names.tests_path(service.name, slo.name, suite)] = (
                    test_file(service, slo, every, tests, why, own), service.source)
            if not written and not said_why and promtool_tests.unsupported(slo) is None:
                empty.append(Problem(service.source, 1, 1, f"{service.name}/{slo.name}",
                                     "no promtool test was written although its SLI gets synthetic traffic; "
                                     "this is a bug of the compiler, please report it"))
    if empty:
        raise InputError(empty)
    return out
