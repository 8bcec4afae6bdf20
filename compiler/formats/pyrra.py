"""Pyrra `pyrra.dev/v1alpha1` ServiceLevelObjective objects.

One object is one SLO; it becomes a service of that name with one SLO of the same name, so that
two objects never clash. Pyrra's windows and burn rates differ from the compiler's tiers: the
docs/migrating.md puts them side by side.
"""

from decimal import Decimal, InvalidOperation

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr

from .. import durations, names, plan, promql
from ..problems import Problem
from ..spec import Settings
from ..yamlpos import Document
from .convert import Draft, percent, unsupported

API_VERSION, KIND = "pyrra.dev/v1alpha1", "ServiceLevelObjective"
PYRRA_ALERT = "ErrorBudgetBurn"  # Pyrra's alert name when the object sets none
PYRRA_FACTORS = (14, 7, 2, 1)  # Pyrra's burn-rate factors, fast to slow, at any period
LABEL_PREFIX = "pyrra.dev/"  # Pyrra copies object labels with this prefix onto its rules


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Metric(Model):
    metric: StrictStr


class Ratio(Model):
    errors: Metric
    total: Metric
    grouping: list[StrictStr] = []


class Latency(Model):
    success: Metric
    total: Metric
    grouping: list[StrictStr] = []


class LatencyNative(Model):
    latency: StrictStr
    total: Metric
    grouping: list[StrictStr] = []


class BoolGauge(Model):
    metric: StrictStr
    grouping: list[StrictStr] = []


class Indicator(Model):
    ratio: Ratio | None = None
    latency: Latency | None = None
    latency_native: LatencyNative | None = Field(None, alias="latencyNative")
    bool_gauge: BoolGauge | None = None


class Severities(Model):
    fast_burn: StrictStr | None = Field(None, alias="fastBurn")
    medium_burn: StrictStr | None = Field(None, alias="mediumBurn")
    slow_burn: StrictStr | None = Field(None, alias="slowBurn")
    long_term_burn: StrictStr | None = Field(None, alias="longTermBurn")
    absent: StrictStr | None = None


class Alerting(Model):
    name: StrictStr | None = None
    disabled: StrictBool = False
    burnrates: StrictBool = True
    absent: StrictBool | None = None
    absent_name: StrictStr | None = Field(None, alias="absentName")
    severities: Severities = Severities()


class Spec(Model):
    description: StrictStr = ""
    target: StrictStr | float | int
    window: StrictStr
    indicator: Indicator
    alerting: Alerting = Alerting()
    performance_over_accuracy: StrictBool = Field(False, alias="performanceOverAccuracy")
    partial_response_strategy: StrictStr | None = None
    rule_output: dict | None = Field(None, alias="ruleOutput")


class Metadata(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)  # Kubernetes metadata: not ours to police
    name: StrictStr
    namespace: StrictStr = ""
    labels: dict[str, StrictStr] = {}


class ServiceLevelObjective(Model):
    api_version: StrictStr = Field(alias="apiVersion")
    kind: StrictStr
    metadata: Metadata
    spec: Spec
    status: dict = {}


def _target(doc: Document, value: object) -> tuple[int | float | None, list[Problem]]:
    try:
        return percent(Decimal(str(value))), []
    except InvalidOperation:
        return None, [doc.problem(("spec", "target"), f"must be a percentage such as '99.9', got {value!r}")]


def convert(doc: Document, slo: ServiceLevelObjective) -> tuple[Draft, list[Problem]]:
    """The v1 draft of one Pyrra objective, and what cannot be honoured."""
    draft = Draft(doc, "Pyrra ServiceLevelObjective")
    name, spec = slo.metadata.name, slo.spec
    draft.put(("service",), name, ("metadata", "name"))
    labels = {k.removeprefix(LABEL_PREFIX): v for k, v in slo.metadata.labels.items() if k.startswith(LABEL_PREFIX)}
    if labels:
        draft.put(("labels",), labels, ("metadata", "labels"))
    if len(labels) < len(slo.metadata.labels):
        draft.note(("service",), f"Kubernetes labels without the {LABEL_PREFIX} prefix are not copied to the "
                                 f"rules, as in Pyrra")
    to = ("slos", 0)
    draft.put(to + ("name",), name, ("metadata", "name"))
    if spec.description:
        draft.put(to + ("description",), spec.description, ("spec", "description"))
    objective, problems = _target(doc, spec.target)
    if objective is not None:
        draft.put(to + ("objective",), objective, ("spec", "target"))
    draft.put(to + ("window",), spec.window, ("spec", "window"))
    if objective is not None and not (spec.alerting.disabled or not spec.alerting.burnrates):
        _burn_rates(spec.window, objective, to, draft)
    problems += _indicator(doc, spec.indicator, to + ("sli",), draft)
    problems += _alerting(doc, slo, to, draft)
    if spec.performance_over_accuracy:
        draft.note(to, "performanceOverAccuracy dropped: every window here is cheap and exact")
    if spec.partial_response_strategy:
        draft.note(to, "partial_response_strategy dropped: it only applies to Thanos Ruler")
    if spec.rule_output:
        problems.append(unsupported(doc, ("spec", "ruleOutput"), "ruleOutput",
                                    "labels of the PrometheusRule resources are not set per SLO"))
    return draft, problems


def _indicator(doc: Document, indicator: Indicator, to: tuple, draft: Draft) -> list[Problem]:
    at = ("spec", "indicator")
    kinds = [k for k, f in Indicator.model_fields.items() if getattr(indicator, k) is not None]
    if len(kinds) != 1:
        listed = ", ".join(f.alias or k for k, f in Indicator.model_fields.items())
        return [doc.problem(at, f"needs exactly one of {listed}; got {', '.join(kinds) or 'none'}")]
    if indicator.ratio is not None:
        ratio = indicator.ratio
        draft.put(to + ("ratio", "errors"), ratio.errors.metric, at + ("ratio", "errors", "metric"))
        draft.put(to + ("ratio", "total"), ratio.total.metric, at + ("ratio", "total", "metric"))
        _grouping(ratio.grouping, to + ("ratio",), at + ("ratio",), draft)
        return []
    if indicator.bool_gauge is not None:
        draft.put(to + ("bool", "metric"), indicator.bool_gauge.metric, at + ("bool_gauge", "metric"))
        _grouping(indicator.bool_gauge.grouping, to + ("bool",), at + ("bool_gauge",), draft)
        return []
    if indicator.latency is not None:
        return _latency(doc, indicator.latency, to, at + ("latency",), draft)
    try:
        return _latency_native(indicator.latency_native, to, at + ("latencyNative",), draft)
    except ValueError as exc:
        return [doc.problem(at + ("latencyNative", "latency"), str(exc))]


def _grouping(grouping: list[str], to: tuple, at: tuple, draft: Draft) -> None:
    if grouping:
        draft.put(to + ("group_by",), list(grouping), at + ("grouping",))


def _latency(doc: Document, latency: Latency, to: tuple, at: tuple, draft: Draft) -> list[Problem]:
    """A classic histogram: v1 `latency` when both selectors pick the same series, else `events`."""
    try:
        success, total = promql.selector(latency.success.metric), promql.selector(latency.total.metric)
    except ValueError as exc:
        return [doc.problem(at, str(exc))]
    le = [m for m in success.matchers if m.name == "le"]
    base = success.metric.removesuffix("_bucket")
    same = (len(le) == 1 and le[0].op == "=" and success.metric.endswith("_bucket")
            and total.metric == base + "_count"
            and set(total.matchers) == {m for m in success.matchers if m.name != "le"})
    if same:
        try:
            threshold = float(le[0].value)
        except ValueError:
            same = False
    if same:
        hist = promql.Selector(base, total.matchers)
        draft.put(to + ("latency", "histogram"), str(hist), at + ("total", "metric"))
        draft.put(to + ("latency", "threshold"), threshold, at + ("success", "metric"))
        _grouping(latency.grouping, to + ("latency",), at, draft)
        return []
    by = f" by ({', '.join(latency.grouping)})" if latency.grouping else ""
    total_q = f"sum{by}(rate({latency.total.metric}[$window]))"
    draft.put(to + ("events", "errors"), f"{total_q} - sum{by}(rate({latency.success.metric}[$window]))",
              at + ("success", "metric"))
    draft.put(to + ("events", "total"), total_q, at + ("total", "metric"))
    draft.note(to + ("events",), "Pyrra latency SLI whose success and total select different series: written as "
                                 "events, errors = total - success")
    return []


def _latency_native(native: LatencyNative, to: tuple, at: tuple, draft: Draft) -> list[Problem]:
    """A native histogram: the share above the threshold, from histogram_fraction, as events."""
    by = f" by ({', '.join(native.grouping)})" if native.grouping else ""
    metric = native.total.metric
    total_q = f"sum{by}(histogram_count(rate({metric}[$window])))"
    seconds = Decimal(durations.parse(native.latency)) / 1000
    fast = f"sum{by}(histogram_fraction(0, {seconds.normalize():f}, rate({metric}[$window])) " \
           f"* histogram_count(rate({metric}[$window])))"
    draft.put(to + ("events", "errors"), f"{total_q} - {fast}", at + ("latency",))
    draft.put(to + ("events", "total"), total_q, at + ("total", "metric"))
    draft.note(to + ("events",), "Pyrra latencyNative SLI: errors are the native histogram's count minus the "
                                 "share below the latency (histogram_fraction)")
    return []


def _burn_rates(window: str, objective: int | float, to: tuple, draft: Draft) -> None:
    """Say how Pyrra's burn-rate factors change here, with the default tiers."""
    try:
        pairs = plan.tiers(durations.parse(window), 1 - Decimal(str(objective)) / 100, Settings(), {"page", "ticket"})
    except ValueError:
        return  # compile says why the period is too short
    ours = ", ".join(f"{p.long_text}/{p.short_text} at {plan.number(p.burn_rate)}" for p in pairs)
    draft.note(to + ("window",), f"burn rates changed: Pyrra's factors {', '.join(map(str, PYRRA_FACTORS))} are "
                                 f"{ours} here with the default tiers, each firing at the same share of the budget "
                                 f"whatever the period (docs/migrating.md)")


def _alerting(doc: Document, slo: ServiceLevelObjective, to: tuple, draft: Draft) -> list[Problem]:
    alerting, at = slo.spec.alerting, ("spec", "alerting")
    problems = []
    if alerting.name is not None:
        draft.put(to + ("alerting", "name"), alerting.name, at + ("name",))
    else:
        ours = names.default_alert(slo.metadata.name, slo.metadata.name)
        draft.note(to + ("name",), f"alerts renamed: Pyrra's {PYRRA_ALERT} is {ours} here; routes and silences on "
                                   f"alertname must follow, or set alerting.name: {PYRRA_ALERT}")
    if alerting.disabled or not alerting.burnrates:
        flag = "disabled" if alerting.disabled else "burnrates"
        draft.put(to + ("alerting", names.PAGE), False, at + (flag,))
        draft.put(to + ("alerting", names.TICKET), False, at + (flag,))
        return problems
    if alerting.absent is False:
        draft.put(to + ("alerting", "missing_data"), False, at + ("absent",))
    else:
        draft.note(to + ("alerting",), "Pyrra's absent alert (on by default) is the missing-data ticket here, "
                                       "after `missing_data_for` of the settings")
    severities = alerting.severities
    for tier, (first, second), keys in ((names.PAGE, (severities.fast_burn, severities.medium_burn),
                                         ("fastBurn", "mediumBurn")),
                                        (names.TICKET, (severities.slow_burn, severities.long_term_burn),
                                         ("slowBurn", "longTermBurn"))):
        if first != second and first and second:
            problems.append(unsupported(doc, at + ("severities", keys[1]), f"different severities within the "
                                        f"{tier} tier", f"both pairs of the {tier} tier share one severity"))
        elif first or second:
            draft.put(to + ("alerting", tier, "labels"), {"severity": first or second},
                      at + ("severities", keys[0] if first else keys[1]))
    return problems
