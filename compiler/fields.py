"""The value types of the spec and settings fields: names, labels, durations, numbers, selectors.

Each validates and describes itself (error message, JSON Schema), so that a model, whichever module
holds it (`spec`, an SLI kind under `sli/`), declares a field by its type alone.
"""

import math
import re
import urllib.parse
from decimal import Decimal
from typing import Annotated

from pydantic import (AfterValidator, BaseModel, BeforeValidator, ConfigDict, PlainSerializer, StrictStr,
                      WithJsonSchema)

from . import durations, names, periods, promql

NAME_PATTERN = r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$"
_NAME = re.compile(NAME_PATTERN)
_LABEL = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
_ALERT = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
MAX_NAME = 63
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


def label_name(value: str) -> str:
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


def _window(value: object) -> int | str:
    if isinstance(value, str) and value.startswith("calendar-"):
        if value not in periods.WINDOWS:
            raise ValueError(f"must be a duration or one of {', '.join(periods.WINDOWS)}, got {value!r}")
        return value
    return _duration(value)


def _timezone(value: str) -> str:
    periods.zone_rule(value)
    return value


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


_DECIMAL_DURATION = re.compile(r"^(\d+\.\d+)(ms|s|m|h)$")
MAX_BARE_SECONDS = 60  # above this, a number without a unit is likely milliseconds


def _threshold(value: object) -> Decimal:
    """Seconds: a duration (300ms, 1m30s; also 2.5s, as histograms' buckets are decimal seconds) or a number."""
    decimal = _DECIMAL_DURATION.match(value) if isinstance(value, str) else None
    if decimal:
        number = Decimal(decimal[1]) * durations.UNITS[decimal[2]] / 1000
    elif isinstance(value, str):
        number = Decimal(durations.parse(value)) / 1000
    else:
        number = _number(value)
        if isinstance(value, int) and number > MAX_BARE_SECONDS:
            raise ValueError(f"a number is seconds, and {value} seconds is over a minute: did you mean "
                             f"{value}ms? Write the unit (300ms, 2.5s)")
    if number <= 0:
        raise ValueError(f"must be above 0 seconds, got {value}")
    return number


def _percent(value: object) -> Decimal:
    number = _number(value)
    if not 0 < number <= 100:
        raise ValueError(f"must be above 0 and at most 100, got {value}")
    return number


def _link_base(value: str) -> str:
    # These URLs are written into every alert: credentials in them would be published.
    if "@" in urllib.parse.urlsplit(value).netloc:
        raise ValueError("must not contain credentials (user:password@): this URL is written into every alert")
    return value


def _selector(value: str) -> str:
    return str(promql.selector(value))


_DURATION_SCHEMA = {"type": "string", "pattern": r"^([0-9]+(ms|s|m|h|d|w|y))+$"}
Name = Annotated[StrictStr, AfterValidator(_name), WithJsonSchema({"type": "string", "pattern": NAME_PATTERN})]
LabelName = Annotated[StrictStr, AfterValidator(label_name)]
Labels = dict[LabelName, Annotated[StrictStr, AfterValidator(_label_value)]]
# Held as milliseconds, written as the text users write: also the defaults in `slo schema --settings`.
Duration = Annotated[int, BeforeValidator(_duration), PlainSerializer(durations.to_text, when_used="json"),
                     WithJsonSchema(_DURATION_SCHEMA)]
# A rolling duration, or a calendar period (its name) in the settings' calendar_timezone.
Window = Annotated[int | str, BeforeValidator(_window),
                   PlainSerializer(lambda v: v if isinstance(v, str) else durations.to_text(v), when_used="json"),
                   WithJsonSchema({"oneOf": [_DURATION_SCHEMA, {"enum": list(periods.WINDOWS)}]})]
TimeZone = Annotated[StrictStr, AfterValidator(_timezone)]
Objective = Annotated[Decimal, BeforeValidator(_objective),
                      WithJsonSchema({"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 100})]
Seconds = Annotated[Decimal, BeforeValidator(_threshold),
                    WithJsonSchema({"oneOf": [{"type": "number", "exclusiveMinimum": 0}, _DURATION_SCHEMA,
                                              {"type": "string", "pattern": _DECIMAL_DURATION.pattern}]})]
Percent = Annotated[Decimal, BeforeValidator(_percent),
                    WithJsonSchema({"type": "number", "exclusiveMinimum": 0, "maximum": 100})]
Selector = Annotated[StrictStr, AfterValidator(_selector)]
LinkBase = Annotated[StrictStr, AfterValidator(_link_base)]
AlertName = Annotated[StrictStr, AfterValidator(_alert_name)]
WindowExpr = Annotated[StrictStr, AfterValidator(promql.window_expr)]
GroupBy = Annotated[list[LabelName], AfterValidator(lambda v: _unique(v, "group_by"))]


def _unique(values: list, what: str) -> list:
    seen = [v for i, v in enumerate(values) if v in values[:i]]
    if seen:
        raise ValueError(f"{what} lists {seen[0]!r} twice")
    return values


# Kubernetes' own rules for a namespace (a DNS-1123 label) and for label keys and values.
_K8S_NAMESPACE = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
_K8S_LABEL_KEY = re.compile(r"([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
                            r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?")
_K8S_LABEL_VALUE = re.compile(r"([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?")


def _k8s(pattern: re.Pattern, what: str, may_be_empty: bool = True):
    def check(value: str) -> str:
        if (value or not may_be_empty) and not pattern.fullmatch(value):
            raise ValueError(f"must be {what}, got {value!r}")
        return value
    return AfterValidator(check)


_SIMPLE = "letters, digits, '-', '_' and '.' inside, at most 63"
KubernetesLabels = dict[
    Annotated[StrictStr, _k8s(_K8S_LABEL_KEY, f"a Kubernetes label key: an optional DNS prefix "
                                                                   f"and '/', then {_SIMPLE}", may_be_empty=False)],
    Annotated[StrictStr, _k8s(_K8S_LABEL_VALUE, f"a Kubernetes label value: {_SIMPLE}")]]
KubernetesNamespace = Annotated[StrictStr, _k8s(_K8S_NAMESPACE, "a Kubernetes namespace: lower-case letters, digits "
                                                                "and inner dashes, at most 63")]
