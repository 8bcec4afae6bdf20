"""The SLO spec (v1) and the project settings: pydantic models, the single source of truth.

Validation, defaults, error messages and the JSON Schema (`slo schema`) all come from here.
"""

import math
import re
import urllib.parse
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import (AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, StrictBool,
                      StrictStr, WithJsonSchema, model_validator)

from . import durations, names, promql

NAME_PATTERN = r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$"
_NAME = re.compile(NAME_PATTERN)
_LABEL = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
_ALERT = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
MAX_NAME = 63
MAX_SLOS = 100  # per service file: a bound on the rules one file can generate
# Prometheus durations are Go time.Duration (292 years at most); a decade keeps every window
# and every sum of windows far inside that.
MAX_DURATION = durations.parse("3650d")


class FieldError(ValueError):
    """A check across fields, raised at the field `path` (under the model) that the user should change."""

    def __init__(self, path: tuple, message: str):
        super().__init__(message)
        self.path = path


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def _name(value: str) -> str:
    if len(value) > MAX_NAME or not _NAME.match(value):
        raise ValueError(f"must be lower-case letters, digits and inner dashes (at most {MAX_NAME}), "
                         f"got {value!r}")
    return value


def _label_name(value: str) -> str:
    if not _LABEL.match(value):
        raise ValueError(f"is not a valid Prometheus label name: {value!r}")
    if value.startswith("__"):
        raise ValueError(f"label names starting with __ are reserved by Prometheus: {value!r}")
    if value in names.RESERVED_LABELS:
        raise ValueError(f"label {value!r} is set by the compiler and cannot be set here")
    return value


def _label_value(value: str) -> str:
    if not value:
        raise ValueError("must not be empty: Prometheus drops a label whose value is empty")
    return value


def _alert_name(value: str) -> str:
    if not _ALERT.match(value):
        raise ValueError(f"must be a valid alert name (letters, digits, _), got {value!r}")
    return value


def _duration(value: object) -> int:
    if not isinstance(value, str):
        raise ValueError(f"must be a Prometheus duration such as 5m or 30d, got {value!r}")
    ms = durations.parse(value)
    if ms <= 0:
        raise ValueError(f"must be longer than zero, got {value!r}")
    if ms > MAX_DURATION:
        raise ValueError(f"must be at most {durations.to_text(MAX_DURATION)}, got {value!r}")
    return ms


def _number(value: object) -> Decimal:
    # Through the shortest repr, so that 99.9 stays 99.9 and never becomes 99.900000000000005684...
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"must be a number, got {value!r}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"must be a finite number, got {value!r}")
    return Decimal(repr(value))


def _objective(value: object) -> Decimal:
    number = _number(value)
    if not 0 < number < 100:
        raise ValueError(f"must be above 0 and below 100, got {value}")
    return number


def _threshold(value: object) -> Decimal:
    number = Decimal(durations.parse(value)) / 1000 if isinstance(value, str) else _number(value)
    if number <= 0:
        raise ValueError(f"must be above 0 seconds, got {value}")
    return number


def _percent(value: object) -> Decimal:
    number = _number(value)
    if not 0 < number <= 100:
        raise ValueError(f"must be above 0 and at most 100, got {value}")
    return number


def _tier_switch(value: object) -> object:
    if value is False:
        return None
    if value is True:
        return {}
    if value is None:
        raise ValueError("write false to turn this tier off, or a mapping to configure it")
    return value


def _link_base(value: str) -> str:
    # These URLs are written into every alert: credentials in them would be published.
    if "@" in urllib.parse.urlsplit(value).netloc:
        raise ValueError("must not contain credentials (user:password@): this URL is written into every alert")
    return value


def _selector(value: str) -> str:
    return str(promql.selector(value))


_DURATION_SCHEMA = {"type": "string", "pattern": r"^([0-9]+(ms|s|m|h|d|w|y))+$"}
Name = Annotated[StrictStr, AfterValidator(_name), WithJsonSchema({"type": "string", "pattern": NAME_PATTERN})]
LabelName = Annotated[StrictStr, AfterValidator(_label_name)]
Labels = dict[LabelName, Annotated[StrictStr, AfterValidator(_label_value)]]
# Held as milliseconds, written as the text users write: also the defaults in `slo schema --settings`.
Duration = Annotated[int, BeforeValidator(_duration), PlainSerializer(durations.to_text, when_used="json"),
                     WithJsonSchema(_DURATION_SCHEMA)]
Objective = Annotated[Decimal, BeforeValidator(_objective),
                      WithJsonSchema({"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 100})]
Seconds = Annotated[Decimal, BeforeValidator(_threshold),
                    WithJsonSchema({"oneOf": [{"type": "number", "exclusiveMinimum": 0}, _DURATION_SCHEMA]})]
Percent = Annotated[Decimal, BeforeValidator(_percent),
                    WithJsonSchema({"type": "number", "exclusiveMinimum": 0, "maximum": 100})]
Selector = Annotated[StrictStr, AfterValidator(_selector)]
LinkBase = Annotated[StrictStr, AfterValidator(_link_base)]
WindowExpr = Annotated[StrictStr, AfterValidator(promql.window_expr)]
GroupBy = Annotated[list[LabelName], AfterValidator(lambda v: _unique(v, "group_by"))]


def _unique(values: list, what: str) -> list:
    seen = [v for i, v in enumerate(values) if v in values[:i]]
    if seen:
        raise ValueError(f"{what} lists {seen[0]!r} twice")
    return values


class RatioSLI(Model):
    """Two counters: errors and all events. Both are vector selectors; the compiler adds rate()."""

    errors: Selector
    total: Selector
    group_by: GroupBy = []

    @model_validator(mode="after")
    def _different(self) -> "RatioSLI":
        if self.errors == self.total:
            raise ValueError("errors and total select the same series: the error ratio would always be 1")
        return self


class LatencySLI(Model):
    """A classic histogram; events slower than `threshold` are errors."""

    histogram: Selector
    threshold: Seconds
    group_by: GroupBy = []

    @model_validator(mode="after")
    def _base_name(self) -> "LatencySLI":
        metric = promql.selector(self.histogram).metric
        if not metric:
            raise ValueError("histogram needs a metric name")
        for suffix in ("_bucket", "_count", "_sum"):
            if metric.endswith(suffix):
                raise ValueError(f"histogram names the histogram itself, without {suffix}: "
                                 f"{metric.removesuffix(suffix)}")
        return self


class BoolSLI(Model):
    """A 0/1 gauge where 1 is good, such as probe_success; each sample is one event."""

    metric: Selector
    group_by: GroupBy = []


class EventsSLI(Model):
    """Free PromQL for errors and total, each using $window as its range."""

    errors: WindowExpr
    total: WindowExpr

    @model_validator(mode="after")
    def _different(self) -> "EventsSLI":
        if promql.canonical(promql.with_window(self.errors, "5m")) == \
                promql.canonical(promql.with_window(self.total, "5m")):
            raise ValueError("errors and total are the same expression: the error ratio would always be 1")
        return self


class RawSLI(Model):
    """A query that returns the error ratio itself over $window (Sloth's `raw` SLI).

    The base window and an alert long window of up to an hour run it; the other windows average
    the base window's recorded values, so every base window counts alike whatever its traffic
    (see docs/migrating.md).
    """

    error_ratio: WindowExpr


class SLI(Model):
    """Exactly one of the kinds."""

    ratio: RatioSLI | None = None
    latency: LatencySLI | None = None
    bool: BoolSLI | None = None
    events: EventsSLI | None = None
    raw: RawSLI | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> "SLI":
        kinds = [k for k in type(self).model_fields if getattr(self, k) is not None]
        if len(kinds) != 1:
            listed = ", ".join(type(self).model_fields)
            raise ValueError(f"needs exactly one of {listed}; got {', '.join(kinds) or 'none'}")
        return self

    @property
    def kind(self) -> str:
        return next(k for k in type(self).model_fields if getattr(self, k) is not None)

    @property
    def group_by(self) -> tuple[str, ...]:
        return tuple(getattr(getattr(self, self.kind), "group_by", ()))


class Tier(Model):
    labels: Labels = {}


TierSwitch = Annotated[Tier | None, BeforeValidator(_tier_switch)]


class Alerting(Model):
    name: Annotated[StrictStr, AfterValidator(_alert_name)] | None = Field(
        None, description="Alert name; default CamelCase of service and SLO name plus BudgetBurn.")
    labels: Labels = {}
    annotations: dict[LabelName, StrictStr] = Field(
        {}, description="Extra annotations; values are Prometheus templates, as in any alert rule.")
    page: TierSwitch = Tier()
    ticket: TierSwitch = Tier()
    missing_data: StrictBool = Field(True, description="Ticket when the SLI's total series are absent for "
                                                       "`missing_data_for` (settings).")


class SLO(Model):
    name: Name
    description: StrictStr = ""
    objective: Objective = Field(description="Percent of good events, strictly between 0 and 100.")
    window: Duration | None = Field(None, description="Rolling SLO period; default from settings (30d).")
    labels: Labels = Field({}, description="Added to every rule and alert of this SLO, after the service's.")
    sli: SLI
    alerting: Alerting = Alerting()


class Service(Model):
    """One file under slos/: a service and its SLOs."""

    service: Name
    description: StrictStr = ""
    owner: StrictStr = ""
    labels: Labels = {}
    slos: Annotated[list[SLO], Field(min_length=1, max_length=MAX_SLOS)]


class TierSpec(Model):
    """One alert tier pair, with windows as they are for the reference period (30d)."""

    severity: Literal["page", "ticket"]
    budget_spent: Percent = Field(description="Percent of the period's budget spent when it fires.")
    long: Duration
    short: Duration
    for_: Duration | None = Field(None, alias="for")

    @model_validator(mode="after")
    def _order(self) -> "TierSpec":
        if self.short >= self.long:
            raise ValueError("short window must be shorter than the long window")
        return self


def _default_tiers() -> list[TierSpec]:
    # SRE Workbook table 5-8, plus the 3d ticket at burn rate 1.
    rows = [("page", 2, "1h", "5m", "2m"), ("page", 5, "6h", "30m", "15m"),
            ("ticket", 10, "1d", "2h", "1h"), ("ticket", 10, "3d", "6h", "3h")]
    return [TierSpec(severity=s, budget_spent=b, long=l, short=sh, **{"for": f}) for s, b, l, sh, f in rows]


class Settings(Model):
    """Project settings (`slo-settings.yaml` at the repo root); an absent file means all defaults."""

    default_window: Duration = Field(durations.parse("30d"), description="SLO period when an SLO sets none.")
    scrape_interval: Duration = Field(durations.parse("1m"), description="No window may be shorter than 4x this.")
    rule_interval: Duration = Field(durations.parse("1m"), description="Evaluation interval of the rule groups.")
    runbook_base_url: LinkBase = Field("", description="Prefix of runbook links; empty: repo-relative paths.")
    grafana_url: LinkBase = Field("", description="Grafana base URL for dashboard links.")
    grafana_datasource: StrictStr = Field(
        "", description="Prometheus data source the dashboards select first (name or uid); empty: Grafana's default.")
    grafana_dashboards_dir: StrictStr = Field(
        "/var/lib/grafana/dashboards/slo", description="Where Grafana reads output/grafana/dashboards/ (mounted or "
                                                       "copied there); the provisioning file points at it.")
    runbook_templates: StrictStr = Field(
        "", description="Folder of Jinja templates that replace the shipped runbook templates, relative to "
                        "the settings file; empty: the shipped ones.")
    missing_data_for: Duration = Field(durations.parse("15m"), description="Ticket when an SLI's total "
                                       "series are absent this long (per SLO: alerting.missing_data).")
    grafana_folder: StrictStr = Field("SLOs", min_length=1, description="Title of the Grafana folder of the "
                                      "dashboards, pushed (`slo push grafana`) or provisioned.")
    ruler_namespace_prefix: Annotated[StrictStr, Field(pattern=r"^[A-Za-z0-9_.-]*$")] = Field(
        "", description="Prefix of the ruler namespace of each service (`slo push rules`).")
    tiers_period: Duration = Field(durations.parse("30d"), description="Period the tier windows are written for.")
    tiers: Annotated[list[TierSpec], Field(min_length=1)] = Field(default_factory=_default_tiers)
    external_labels: Labels = Field({}, description="External labels of the Prometheus that evaluates the "
                                                    "rules; `slo lint` reports labels that collide with them.")
    sloth_labels: bool = Field(False, description="Also label every series and alert the way Sloth does "
                                                  "(sloth_id, sloth_service, sloth_slo, sloth_window, "
                                                  "sloth_severity), for dashboards built for Sloth's rules.")

    @model_validator(mode="after")
    def _missing_data_after_an_evaluation(self) -> "Settings":
        if self.missing_data_for < self.rule_interval:
            # Blame the one the user wrote: a long rule_interval can make the default too short.
            at = "missing_data_for" if "missing_data_for" in self.model_fields_set else "rule_interval"
            raise FieldError((at,), f"missing_data_for ({durations.to_text(self.missing_data_for)}) is shorter than "
                                    f"rule_interval ({durations.to_text(self.rule_interval)}): the rules are evaluated "
                                    f"only every {durations.to_text(self.rule_interval)}, so the missing-data ticket "
                                    f"cannot wait any shorter; make missing_data_for at least "
                                    f"{durations.to_text(self.rule_interval)}")
        return self
