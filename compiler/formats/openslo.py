"""OpenSLO: `openslo/v1` objects of every kind, and `openslo/v1alpha` SLOs as Sloth reads them.

Every object of a file is validated; SLO objects become v1 SLOs, grouped into one v1 service per
OpenSLO service. Objects an SLO refers to (SLI, DataSource, Service) are looked up in the same
file. What the compiler cannot measure with multi-window burn-rate rules (timeslices, calendar
windows, sources other than Prometheus, composite SLOs, alert policies) is refused.
"""

import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import (AfterValidator, BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, StrictStr,
                      create_model, model_validator)

from .. import fields, names, promql
from ..problems import Problem
from ..yamlpos import Document
from .convert import Draft, percent, sloth_query, unsupported

V1, V1ALPHA = "openslo/v1", "openslo/v1alpha"
KINDS = {V1: ("SLO", "SLI", "Service", "DataSource", "AlertPolicy", "AlertCondition", "AlertNotificationTarget"),
         V1ALPHA: ("SLO", "Service")}
MAX_DESCRIPTION = 1050
_PERIOD_UNITS = {"m": "m", "h": "h", "d": "d", "w": "w"}  # M, Q, Y are calendar lengths, not durations
_QUERY_KEYS = ("query", "promql")
_V1ALPHA_UNITS = {"Minute": "m", "Hour": "h", "Day": "d", "Week": "w"}

Number = StrictFloat | StrictInt


def _description(text: str) -> str:
    if len(text) > MAX_DESCRIPTION:
        raise ValueError(f"must be at most {MAX_DESCRIPTION} characters, got {len(text)}")
    return text


Description = Annotated[StrictStr, AfterValidator(_description)]


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Metadata(Model):
    name: StrictStr
    display_name: StrictStr | None = Field(None, alias="displayName")
    namespace: StrictStr | None = None
    labels: dict[str, StrictStr | list[StrictStr]] = {}
    annotations: dict[str, StrictStr] = {}


class Object(Model):
    api_version: StrictStr = Field(alias="apiVersion")
    kind: StrictStr
    metadata: Metadata


class ServiceSpec(Model):
    description: Description = ""


class DataSourceSpec(Model):
    description: Description = ""
    type: StrictStr
    connection_details: dict | list | None = Field(None, alias="connectionDetails")


class NotificationTargetSpec(Model):
    description: Description = ""
    target: StrictStr


class Condition(Model):
    kind: Literal["burnrate"]
    op: Literal["lte", "gte", "lt", "gt"] | None = None
    threshold: Number
    lookback_window: StrictStr = Field(alias="lookbackWindow")
    alert_after: StrictStr = Field(alias="alertAfter")


class AlertConditionSpec(Model):
    description: Description = ""
    severity: StrictStr
    condition: Condition


class _RefOrInline(Model):
    """A reference to another object by name, or that object written inline (kind, metadata, spec)."""

    _ref: str = ""  # the field holding the reference
    _needs: str = ""  # what a valid item holds, for the message
    metadata: Metadata | None = None

    @model_validator(mode="after")
    def _one(self) -> "_RefOrInline":
        inline = (self.kind, self.metadata, self.spec)
        by_ref = getattr(self, self._ref) is not None
        if not (by_ref and all(part is None for part in inline) or not by_ref and None not in inline):
            raise ValueError(f"needs {self._needs} with metadata and spec")
        return self


class ConditionItem(_RefOrInline):
    _ref, _needs = "condition_ref", "conditionRef, or kind: AlertCondition"
    condition_ref: StrictStr | None = Field(None, alias="conditionRef")
    operator: StrictStr | None = None
    kind: Literal["AlertCondition"] | None = None
    spec: AlertConditionSpec | None = None


class TargetItem(_RefOrInline):
    _ref, _needs = "target_ref", "targetRef, or kind: AlertNotificationTarget"
    target_ref: StrictStr | None = Field(None, alias="targetRef")
    kind: Literal["AlertNotificationTarget"] | None = None
    spec: NotificationTargetSpec | None = None


def _exactly_one(what: str, least: int = 1):
    def check(items: list) -> list:
        if not least <= len(items) <= 1:
            raise ValueError(f"must list {'exactly' if least else 'at most'} one {what}, got {len(items)}")
        return items
    return AfterValidator(check)


class AlertPolicySpec(Model):
    description: Description = ""
    alert_when_breaching: StrictBool = Field(True, alias="alertWhenBreaching")
    alert_when_resolved: StrictBool = Field(False, alias="alertWhenResolved")
    alert_when_no_data: StrictBool = Field(False, alias="alertWhenNoData")
    conditions: Annotated[list[ConditionItem], _exactly_one("condition")]
    notification_targets: Annotated[list[TargetItem], Field(min_length=1)] = Field(alias="notificationTargets")


class MetricSource(Model):
    metric_source_ref: StrictStr | None = Field(None, alias="metricSourceRef")
    type: StrictStr | None = None
    spec: dict | None = None


class Metric(Model):
    metric_source: MetricSource = Field(alias="metricSource")


class RatioMetric(Model):
    counter: StrictBool = False
    good: Metric | None = None
    bad: Metric | None = None
    raw_type: Literal["success", "failure"] | None = Field(None, alias="rawType")
    raw: Metric | None = None
    total: Metric | None = None

    @model_validator(mode="after")
    def _parts(self) -> "RatioMetric":
        if self.raw is not None:
            if self.good or self.bad or self.raw_type is None:
                raise ValueError("raw needs rawType (success or failure) and no good or bad")
        elif self.total is None or (self.good is None) == (self.bad is None):
            raise ValueError("needs total and exactly one of good and bad (or raw with rawType)")
        return self


class SLISpec(Model):
    description: Description = ""
    threshold_metric: Metric | None = Field(None, alias="thresholdMetric")
    ratio_metric: RatioMetric | None = Field(None, alias="ratioMetric")


class InlineSLI(Model):
    metadata: Metadata
    spec: SLISpec


class CalendarSpec(Model):
    start_time: StrictStr | datetime.datetime = Field(alias="startTime")  # YAML reads `2022-01-01 12:00:00` as a time
    time_zone: StrictStr = Field(alias="timeZone")


class TimeWindow(Model):
    duration: StrictStr
    is_rolling: StrictBool = Field(False, alias="isRolling")
    calendar: CalendarSpec | None = None


class Objective(Model):
    display_name: StrictStr | None = Field(None, alias="displayName")
    op: StrictStr | None = None
    value: Number | None = None
    target: Number | None = None
    target_percent: Number | None = Field(None, alias="targetPercent")
    time_slice_target: Number | None = Field(None, alias="timeSliceTarget")
    time_slice_window: StrictStr | None = Field(None, alias="timeSliceWindow")
    indicator: InlineSLI | None = None
    indicator_ref: StrictStr | None = Field(None, alias="indicatorRef")
    composite_weight: Number | None = Field(None, alias="compositeWeight")


class SLOSpec(Model):
    description: Description = ""
    service: StrictStr
    indicator: InlineSLI | None = None
    indicator_ref: StrictStr | None = Field(None, alias="indicatorRef")
    time_window: Annotated[list[TimeWindow], _exactly_one("time window")] = Field(alias="timeWindow")
    budgeting_method: Literal["Occurrences", "Timeslices", "RatioTimeslices"] = Field(alias="budgetingMethod")
    objectives: Annotated[list[Objective], Field(min_length=1)]
    alert_policies: list[StrictStr | dict] | None = Field(None, alias="alertPolicies")


class AlphaQuery(Model):
    source: StrictStr
    query_type: StrictStr = Field(alias="queryType")
    query: StrictStr


class AlphaRatio(Model):
    good: AlphaQuery
    total: AlphaQuery


class AlphaObjective(Model):
    display_name: StrictStr | None = Field(None, alias="displayName")
    ratio_metrics: AlphaRatio | None = Field(None, alias="ratioMetrics")
    target: Number
    op: StrictStr | None = None
    value: Number | None = None


class AlphaWindow(Model):
    count: StrictInt
    unit: StrictStr
    is_rolling: StrictBool = Field(True, alias="isRolling")
    calendar: dict | None = None


class AlphaSLOSpec(Model):
    service: StrictStr
    description: StrictStr = ""
    budgeting_method: StrictStr = Field("Occurrences", alias="budgetingMethod")
    objectives: Annotated[list[AlphaObjective], Field(min_length=1)]
    # Sloth gives an SLO without one its default period: here the settings' default_window.
    time_windows: Annotated[list[AlphaWindow], _exactly_one("time window", least=0)] = Field([], alias="timeWindows")


def _kind(spec: type[BaseModel]) -> type[Object]:
    return create_model(spec.__name__.removesuffix("Spec"), __base__=Object, spec=(spec, ...))


MODELS = {
    (V1, "SLO"): _kind(SLOSpec), (V1, "SLI"): _kind(SLISpec), (V1, "Service"): _kind(ServiceSpec),
    (V1, "DataSource"): _kind(DataSourceSpec), (V1, "AlertPolicy"): _kind(AlertPolicySpec),
    (V1, "AlertCondition"): _kind(AlertConditionSpec), (V1, "AlertNotificationTarget"): _kind(NotificationTargetSpec),
    (V1ALPHA, "SLO"): _kind(AlphaSLOSpec), (V1ALPHA, "Service"): _kind(ServiceSpec),
}


class _File:
    """The OpenSLO objects of one file, by kind and name, for following references."""

    def __init__(self, objects: list[tuple[Document, Object]]):
        self.objects = objects

    def find(self, kind: str, name: str) -> tuple[Document, Object] | None:
        return next(((d, o) for d, o in self.objects if o.kind == kind and o.metadata.name == name), None)


def convert(objects: list[tuple[Document, Object]]) -> tuple[list[Draft], list[Problem]]:
    """One v1 draft per OpenSLO service that has SLOs in this file, and what cannot be honoured."""
    file = _File(objects)
    drafts: dict[str, Draft] = {}
    problems: list[Problem] = []
    for doc, obj in objects:
        if obj.kind != "SLO":
            continue
        slos, found = _alpha_slos(doc, obj) if obj.api_version == V1ALPHA else _v1_slos(doc, obj, file)
        if found:
            problems += found
            continue
        draft = drafts.get(obj.spec.service)
        if draft is None:
            draft = drafts[obj.spec.service] = Draft(doc, f"OpenSLO {obj.api_version}")
            draft.put(("service",), obj.spec.service, ("spec", "service"))
            found = file.find("Service", obj.spec.service)
            if found and found[1].spec.description:
                draft.put(("description",), found[1].spec.description, ("spec", "service"))
        for put in slos:
            put(draft, len(draft.data.setdefault("slos", [])))
    return list(drafts.values()), problems


def _percent(objective) -> Decimal | None:
    if getattr(objective, "target_percent", None) is not None:
        return Decimal(repr(objective.target_percent))
    if objective.target is not None:
        return Decimal(repr(objective.target)) * 100
    return None


# OpenSLO's calendar durations that are the compiler's calendar periods.
_CALENDAR = {"1M": "calendar-month", "1Q": "calendar-quarter", "1w": "calendar-week"}


def _window(doc: Document, window: TimeWindow) -> tuple[str | None, list[Problem]]:
    at = ("spec", "timeWindow", 0)
    if window.calendar is not None or not window.is_rolling:
        if window.duration not in _CALENDAR or window.calendar is None or window.is_rolling:
            return None, [unsupported(doc, at, f"a calendar time window of {window.duration}",
                                      f"calendar periods are {', '.join(_CALENDAR)} with isRolling: false and a "
                                      f"calendar; or set isRolling: true and remove calendar")]
        return _CALENDAR[window.duration], []
    unit = window.duration[-1:]
    if unit not in _PERIOD_UNITS or not window.duration[:-1].isdigit():
        return None, [unsupported(doc, at + ("duration",), f"time window duration {window.duration!r}",
                                  "write it in minutes, hours, days or weeks (28d, 4w): months, quarters and "
                                  "years have no fixed length")]
    return window.duration, []


def _calendar(draft: Draft, to: tuple, doc: Document, calendar: CalendarSpec) -> None:
    """Notes on an OpenSLO calendar, and its time zone, which the settings' calendar_timezone must equal."""
    at = ("spec", "timeWindow", 0, "calendar")
    draft.note(to + ("window",), f"OpenSLO calendar in {calendar.time_zone}: the settings' calendar_timezone must "
                                 f"be {calendar.time_zone}; periods start at midnight on the first day (a Monday for "
                                 f"weeks), whatever startTime ({calendar.start_time}) says")
    draft.timezones[to] = (calendar.time_zone, doc, at + ("timeZone",))


def _v1_slos(doc: Document, obj: Object, file: _File) -> tuple[list, list[Problem]]:
    spec, at = obj.spec, ("spec",)
    problems = []
    if spec.budgeting_method != "Occurrences":
        problems.append(unsupported(doc, at + ("budgetingMethod",), f"budgeting method {spec.budgeting_method}",
                                    "only Occurrences (good events / all events) is measured"))
    period, found = _window(doc, spec.time_window[0])
    problems += found
    if spec.alert_policies:
        problems.append(unsupported(doc, at + ("alertPolicies",), "alertPolicies",
                                    "the compiler's multi-window burn-rate tiers alert on every SLO; remove "
                                    "alertPolicies (and set the tiers in the settings)"))
    if any(o.composite_weight is not None or o.indicator or o.indicator_ref for o in spec.objectives):
        problems.append(unsupported(doc, at + ("objectives",), "a composite SLO", "each SLO has one indicator"))
    sli, sli_doc, sli_at = _indicator(doc, spec, file, problems)
    sli_v1 = None
    if sli is not None:
        sli_v1 = _v1_sli(sli_doc, sli, sli_at, file, problems)
    for i, objective in enumerate(spec.objectives):
        if _percent(objective) is None:
            problems.append(doc.problem(at + ("objectives", i), "needs target (0 to 1) or targetPercent"))
    if problems:
        return [], problems
    name, many = obj.metadata.name, len(spec.objectives) > 1
    puts = []
    for i, objective in enumerate(spec.objectives):
        puts.append(_slo_put(doc, f"{name}-{i}" if many else name, spec.description, objective, at + ("objectives", i),
                             (period, ("spec", "timeWindow", 0)), sli_v1, alerts=True, calendar=spec.time_window[0].calendar,
                             labels=obj.metadata.labels))
    return puts, []


def _indicator(doc: Document, spec: SLOSpec, file: _File, problems: list) -> tuple:
    if spec.indicator is not None:
        return spec.indicator.spec, doc, ("spec", "indicator", "spec")
    if spec.indicator_ref is None:
        problems.append(doc.problem(("spec",), "needs indicator or indicatorRef"))
        return None, None, None
    found = file.find("SLI", spec.indicator_ref)
    if found is None:
        problems.append(unsupported(doc, ("spec", "indicatorRef"), f"indicatorRef {spec.indicator_ref!r} to an SLI "
                                    f"outside this file", "put the SLI object in the same file, or inline it"))
        return None, None, None
    return found[1].spec, found[0], ("spec",)


def _v1_sli(doc: Document, sli: SLISpec, at: tuple, file: _File, problems: list) -> dict | None:
    """{kind: fields} of the v1 SLI with the source path of each field, or None with problems added."""
    if sli.ratio_metric is None:
        problems.append(unsupported(doc, at + ("thresholdMetric",), "a thresholdMetric SLI",
                                    "it needs timeslices; use a ratioMetric of good (or bad) and total events"))
        return None
    ratio, at = sli.ratio_metric, at + ("ratioMetric",)
    queries = {}
    for part in ("good", "bad", "raw", "total"):
        metric = getattr(ratio, part)
        if metric is not None:
            queries[part] = _prometheus_query(doc, metric.metric_source, at + (part, "metricSource"), file, problems)
    if None in queries.values():
        return None
    if ratio.raw is not None:
        query = queries["raw"]
        error_ratio = query if ratio.raw_type == "failure" else f"1 - ({query})"
        return {"raw": {"error_ratio": (error_ratio, doc, at + ("raw",))}}
    total = _events(queries["total"], ratio.counter)
    if ratio.bad is not None:
        errors = _events(queries["bad"], ratio.counter)
    else:
        errors = f"{total} - {_events(queries['good'], ratio.counter)}"
    return {"events": {"errors": (errors, doc, at + ("bad" if ratio.bad else "good",)),
                       "total": (total, doc, at + ("total",))}}


def _events(query: str, counter: bool) -> str:
    """A query of events per second over $window: a counter selector gets sum(rate(...))."""
    if promql.WINDOW_PLACEHOLDER in query:
        return f"({query})"
    return f"sum(rate({query}[{promql.WINDOW_PLACEHOLDER}]))" if counter else f"sum(sum_over_time({query}[$window]))"


def _prometheus_query(doc: Document, source: MetricSource, at: tuple, file: _File, problems: list) -> str | None:
    kind = source.type
    if kind is None and source.metric_source_ref:
        found = file.find("DataSource", source.metric_source_ref)
        kind = found[1].spec.type if found else None
    if (kind or "").lower() != "prometheus":
        problems.append(unsupported(doc, at, f"metric source {kind or source.metric_source_ref or 'without a type'!r}",
                                    "only Prometheus sources can be compiled into Prometheus rules"))
        return None
    # Generators of OpenSLO for Prometheus write the query as spec.query or spec.promql.
    key = next((k for k in _QUERY_KEYS if k in (source.spec or {})), _QUERY_KEYS[0])
    query = (source.spec or {}).get(key)
    if not isinstance(query, str):
        problems.append(doc.problem(at + ("spec",), f"a Prometheus source needs spec.query (or spec.promql) "
                                                    f"as text"))
        return None
    at = at + ("spec", key)
    query = sloth_query(doc, at, query, problems)
    if query is None:
        return None
    if promql.WINDOW_PLACEHOLDER not in query:
        try:
            promql.check(query)
        except ValueError as exc:
            problems.append(doc.problem(at, str(exc)))
            return None
        try:
            promql.selector(query)
        except ValueError:
            problems.append(unsupported(doc, at, "a query without a range window",
                                        "write a counter selector (with counter: true) or use {{.window}} as "
                                        "the range of its rate"))
            return None
    return query


def _labels(draft: Draft, to: tuple, doc: Document, labels: dict[str, str | list[str]]) -> None:
    """OpenSLO's metadata labels as the SLO's labels, where Prometheus can carry them: one value a label,
    and names that are Prometheus label names and not the compiler's own."""
    for key, value in sorted(labels.items()):
        values = [value] if isinstance(value, str) else value
        try:
            fields.label_name(key)
        except ValueError as exc:
            draft.note(to + ("name",), f"metadata label {key!r} left out: it {exc}")
            continue
        if not values:
            draft.note(to + ("name",), f"metadata label {key!r} left out: it has no value")
            continue
        draft.put(to + ("labels", key), ",".join(values), ("metadata", "labels", key), doc)
        if len(values) > 1:
            draft.note(to + ("labels", key), f"{len(values)} values joined with ',': a Prometheus label has one")


def _slo_put(doc: Document, name: str, description: str, objective, at: tuple, period: tuple[str, tuple] | None,
             sli: dict, alerts: bool, calendar: CalendarSpec | None = None, labels: dict | None = None):
    """A function that appends this SLO to a draft (the draft is known once the service is)."""
    objective_percent = _percent(objective)

    def put(draft: Draft, index: int) -> None:
        to = ("slos", index)
        draft.put(to + ("name",), name, ("metadata", "name"), doc)
        if description:
            draft.put(to + ("description",), description, ("spec", "description"), doc)
        key = "target" if objective.target is not None else "targetPercent"
        draft.put(to + ("objective",), percent(objective_percent), at + (key,), doc)
        _labels(draft, to, doc, labels or {})
        if period:
            draft.put(to + ("window",), *period, doc)
            if calendar:
                _calendar(draft, to, doc, calendar)
        else:
            draft.note(to + ("objective",), "no timeWindows: the period is the settings' default_window (30d unless "
                                            "set), as Sloth gives such an SLO its default period")
        for kind, fields in sli.items():
            for key, (value, sli_doc, came_from) in fields.items():
                draft.put(to + ("sli", kind, key), value, came_from, sli_doc)
        if not alerts:
            draft.put(to + ("alerting",), {names.PAGE: False, names.TICKET: False}, ("spec",), doc)
            draft.note(to + ("alerting",), "no alerts, as Sloth generates none for OpenSLO specs; remove this "
                                           "block to get the multi-window burn-rate alerts")
    return put


def _alpha_slos(doc: Document, obj: Object) -> tuple[list, list[Problem]]:
    spec, at = obj.spec, ("spec",)
    problems = []
    if spec.budgeting_method != "Occurrences":
        problems.append(unsupported(doc, at + ("budgetingMethod",), f"budgeting method {spec.budgeting_method}",
                                    "only Occurrences (good events / all events) is measured"))
    period = None
    for window in spec.time_windows:
        unit = _V1ALPHA_UNITS.get(window.unit)
        if window.calendar is not None or not window.is_rolling or unit is None:
            problems.append(unsupported(doc, at + ("timeWindows", 0), f"time window {window.count} {window.unit}"
                                        f"{'' if window.is_rolling else ' (calendar)'}",
                                        "SLO periods here are rolling windows of minutes, hours, days or weeks"))
        period = (f"{window.count}{unit}", at + ("timeWindows", 0))
    puts = []
    for i, objective in enumerate(spec.objectives):
        here = at + ("objectives", i)
        if objective.ratio_metrics is None:
            problems.append(unsupported(doc, here, "an objective without ratioMetrics", "Sloth reads ratioMetrics only"))
            continue
        sli = {}
        for part in ("good", "total"):
            query: AlphaQuery = getattr(objective.ratio_metrics, part)
            if query.source.lower() != "prometheus":
                problems.append(unsupported(doc, here + ("ratioMetrics", part, "source"), f"source {query.source!r}",
                                            "only Prometheus sources can be compiled into Prometheus rules"))
            came_from = here + ("ratioMetrics", part, "query")
            sli[part] = (f"({sloth_query(doc, came_from, query.query, problems)})", doc, came_from)
        events = {"errors": (f"{sli['total'][0]} - {sli['good'][0]}", doc, sli["good"][2]), "total": sli["total"]}
        # Sloth names each objective `<name>-<index>`; the same names keep its sloth_id.
        puts.append(_slo_put(doc, f"{obj.metadata.name}-{i}", spec.description, objective, here,
                             period, {"events": events}, alerts=False))
    return puts, problems
