"""Sloth specs: `version: prometheus/v1` files and `sloth.slok.dev/v1` PrometheusServiceLevel objects.

Both hold the same service-level spec, in snake_case and in camelCase; one set of models serves
both through an alias generator. Unknown keys are errors here too (Sloth ignores them).
"""

from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, StrictStr
from pydantic.alias_generators import to_camel

from .. import names
from ..problems import Problem
from ..yamlpos import Document
from .convert import Draft, scalar_text, sloth_query, unsupported

PROMETHEUS_V1 = "prometheus/v1"
API_VERSION, KIND = "sloth.slok.dev/v1", "PrometheusServiceLevel"

# Plugins whose effect the compiler's own rules already give; any other plugin is Go code we cannot run.
_HONOURED_PLUGINS = {
    "sloth.dev/core/debug/v1": "only logs while Sloth generates",
    "sloth.dev/core/sli_rules/v1": "the compiler writes its own SLI rules",
    "sloth.dev/core/metadata_rules/v1": "the compiler writes its own metadata rules",
    "sloth.dev/core/alert_rules/v1": "the compiler writes its own alert rules",
}

Scalar = Annotated[str, BeforeValidator(lambda v: scalar_text(v) if isinstance(v, bool | int | float) else v)]


def _models(camel: bool) -> type[BaseModel]:
    """The spec models, with Sloth's YAML keys in snake_case (prometheus/v1) or camelCase (the CRD)."""
    # Only the keys of the format are accepted: snake_case in a CRD is an unknown key, as in Kubernetes.
    config = ConfigDict(extra="forbid", frozen=True, alias_generator=to_camel if camel else None)

    class Model(BaseModel):
        model_config = config

    class Plugin(Model):
        id: StrictStr
        priority: StrictInt = 0
        config: dict = {}

    class Chain(Model):
        override_previous: StrictBool = Field(False, alias="overridePrevious")
        chain: list[Plugin] = []

    class Events(Model):
        error_query: StrictStr
        total_query: StrictStr

    class Raw(Model):
        error_ratio_query: StrictStr

    class SLIPlugin(Model):
        id: StrictStr
        options: dict = {}

    class SLI(Model):
        events: Events | None = None
        raw: Raw | None = None
        plugin: SLIPlugin | None = None

    class Tier(Model):
        disable: StrictBool = False
        labels: dict[str, Scalar] = {}
        annotations: dict[str, StrictStr] = {}

    class Alerting(Model):
        name: StrictStr | None = None
        labels: dict[str, Scalar] = {}
        annotations: dict[str, StrictStr] = {}
        page_alert: Tier = Tier()
        ticket_alert: Tier = Tier()

    class SLO(Model):
        name: StrictStr
        objective: StrictFloat | StrictInt
        description: StrictStr = ""
        labels: dict[str, Scalar] = {}
        sli: SLI
        alerting: Alerting = Alerting()
        plugins: Chain | None = None

    class Spec(Model):
        service: StrictStr
        labels: dict[str, Scalar] = {}
        slos: list[SLO]
        slo_plugins: Chain | None = None

    return Spec


Spec = _models(camel=False)
CRDSpec = _models(camel=True)


class _Metadata(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)  # Kubernetes metadata: not ours to police
    name: StrictStr = ""


class PrometheusV1(Spec):
    version: StrictStr


class ServiceLevel(BaseModel):
    """A `sloth.slok.dev/v1` PrometheusServiceLevel object."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    api_version: StrictStr = Field(alias="apiVersion")
    kind: StrictStr
    metadata: _Metadata = _Metadata()
    spec: CRDSpec
    status: dict = {}


def _key(spec: BaseModel, field: str) -> str:
    info = type(spec).model_fields[field]
    return info.alias or field


def convert(doc: Document, model: BaseModel) -> tuple[Draft, list[Problem]]:
    """The v1 draft of one Sloth spec, and what cannot be honoured."""
    crd = isinstance(model, ServiceLevel)
    spec, root = (model.spec, ("spec",)) if crd else (model, ())
    draft = Draft(doc, "Sloth PrometheusServiceLevel" if crd else "Sloth prometheus/v1")
    problems = _plugins(doc, spec.slo_plugins, root + (_key(spec, "slo_plugins"),), draft, ("service",))
    draft.put(("service",), spec.service, root + ("service",))
    if spec.labels:
        draft.put(("labels",), dict(spec.labels), root + ("labels",))
    for i, slo in enumerate(spec.slos):
        here, to = root + ("slos", i), ("slos", i)
        problems += _plugins(doc, slo.plugins, here + ("plugins",), draft, to + ("name",))
        draft.put(to + ("name",), slo.name, here + ("name",))
        if slo.description:
            draft.put(to + ("description",), slo.description, here + ("description",))
        draft.put(to + ("objective",), slo.objective, here + ("objective",))
        if slo.labels:
            draft.put(to + ("labels",), dict(slo.labels), here + ("labels",))
        problems += _sli(doc, slo.sli, here + ("sli",), to + ("sli",), draft)
        problems += _alerting(doc, slo.alerting, here + ("alerting",), to + ("alerting",), draft)
    draft.note(("service",), f"sloth_id of each SLO: {spec.service}-<slo name>; set `sloth_labels: true` in the "
                             f"settings to keep Sloth's sloth_* labels on the rules")
    return draft, problems


def _plugins(doc: Document, chain, at: tuple, draft: Draft, note_at: tuple) -> list[Problem]:
    if chain is None:
        return []
    problems = []
    for j, plugin in enumerate(chain.chain):
        why = _HONOURED_PLUGINS.get(plugin.id)
        if why is None:
            problems.append(unsupported(doc, at + ("chain", j, "id"), f"Sloth SLO plugin {plugin.id!r}",
                                        "plugins are Go code that only Sloth runs; remove it or express its "
                                        "effect in the spec"))
        else:
            draft.note(note_at, f"Sloth plugin {plugin.id} dropped: {why}")
    return problems


def _sli(doc: Document, sli, at: tuple, to: tuple, draft: Draft) -> list[Problem]:
    if sli.plugin is not None:
        return [unsupported(doc, at + ("plugin",), f"Sloth SLI plugin {sli.plugin.id!r}",
                            "plugins are Go code that only Sloth runs; write the SLI as `events` or `raw` queries")]
    kinds = [k for k in ("events", "raw") if getattr(sli, k) is not None]
    if len(kinds) != 1:
        return [doc.problem(at, f"needs exactly one of events, raw, plugin; got {', '.join(kinds) or 'none'}")]
    if sli.events is not None:
        keys = type(sli.events).model_fields
        for ours, theirs in (("errors", "error_query"), ("total", "total_query")):
            draft.put(to + ("events", ours), sloth_query(getattr(sli.events, theirs)),
                      at + ("events", keys[theirs].alias or theirs))
        draft.note(to + ("events",), "Sloth events SLI: {{.window}} is written $window")
    else:
        key = type(sli.raw).model_fields["error_ratio_query"].alias or "error_ratio_query"
        draft.put(to + ("raw", "error_ratio"), sloth_query(sli.raw.error_ratio_query), at + ("raw", key))
        draft.note(to + ("raw",), "Sloth raw SLI: windows longer than the base window average its ratio")
    return []


def _alerting(doc: Document, alerting, at: tuple, to: tuple, draft: Draft) -> list[Problem]:
    problems = []
    if alerting.name is not None:
        draft.put(to + ("name",), alerting.name, at + ("name",))
    if alerting.labels:
        draft.put(to + ("labels",), dict(alerting.labels), at + ("labels",))
    if alerting.annotations:
        draft.put(to + ("annotations",), dict(alerting.annotations), at + ("annotations",))
    fields = type(alerting).model_fields
    for ours, theirs in ((names.PAGE, "page_alert"), (names.TICKET, "ticket_alert")):
        tier, key = getattr(alerting, theirs), fields[theirs].alias or theirs
        if tier.annotations:
            problems.append(unsupported(doc, at + (key, "annotations"), "annotations of one alert tier",
                                        "move them to alerting.annotations, which both tiers share"))
        if tier.disable:
            draft.put(to + (ours,), False, at + (key, "disable"))
        elif tier.labels:
            draft.put(to + (ours, "labels"), dict(tier.labels), at + (key, "labels"))
    draft.note(to, "Sloth's one alert per tier becomes one alert rule per window pair, labelled slo_severity "
                   "page/ticket, with `for` durations and a default severity label (critical, warning)")
    return problems
