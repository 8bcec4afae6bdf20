"""The SLO spec (v1) and the project settings: pydantic models, the single source of truth.

Validation, defaults, error messages and the JSON Schema (`slo schema`) all come from here; the
field types are in `fields`, each SLI kind's fields in its module under `sli/`.
"""

from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, StrictBool, StrictInt, StrictStr, create_model, model_validator

from . import durations, names, sli
from .fields import (AlertName, Duration, FieldError, KubernetesLabels, KubernetesNamespace, LabelName, Labels,
                     LinkBase, Model, Name, Objective, Percent, TimeZone, Window)

MAX_SLOS = 100  # per service file: a bound on the rules one file can generate


class OneKind(Model):
    """Exactly one of the kinds."""

    @model_validator(mode="after")
    def _exactly_one(self) -> "OneKind":
        kinds = [k for k in type(self).model_fields if getattr(self, k) is not None]
        if len(kinds) != 1:
            listed = ", ".join(type(self).model_fields)
            raise ValueError(f"needs exactly one of {listed}; got {', '.join(kinds) or 'none'}")
        return self

    @property
    def kind(self) -> str:
        return next(k for k in type(self).model_fields if getattr(self, k) is not None)

    @property
    def body(self) -> Model:
        """The fields of its kind."""
        return getattr(self, self.kind)

    @property
    def group_by(self) -> tuple[str, ...]:
        return tuple(getattr(self.body, "group_by", ()))


# One optional field per registered kind, in the registry's order.
SLI = create_model("SLI", __base__=OneKind, __doc__=OneKind.__doc__,
                   **{name: (model | None, None) for name, model in sli.seal().items()})


def _tier_switch(value: object) -> object:
    if value is False:
        return None
    if value is True:
        return {}
    return value


class Tier(Model):
    labels: Labels = {}
    annotations: dict[LabelName, StrictStr] = Field(
        {}, description="Annotations of this tier's alerts, over the SLO's alerting annotations.")


TierSwitch = Annotated[Tier | None, BeforeValidator(_tier_switch)]


class Alerting(Model):
    name: AlertName | None = Field(
        None, description="Alert name; default CamelCase of service and SLO name plus BudgetBurn.")
    labels: Labels = {}
    annotations: dict[LabelName, StrictStr] = Field(
        {}, description="Extra annotations; values are Prometheus templates, as in any alert rule.")
    page: TierSwitch = Tier()
    ticket: TierSwitch = Tier()
    missing_data: StrictBool = Field(True, description="Ticket when the SLI's total series are absent for "
                                                       "`missing_data_for` (settings).")
    min_events: Annotated[StrictInt, Field(ge=1)] | None = Field(
        None, description="Low-traffic guard: an alert pair fires only when its long window counted at least this "
                          "many events (ratio, latency and events SLIs); none: no guard.")


class SLO(Model):
    name: Name
    description: StrictStr = ""
    objective: Objective = Field(description="Percent of good events, strictly between 0 and 100.")
    window: Window | None = Field(None, description="SLO period: a rolling duration, or calendar-month, "
                                                    "calendar-week (from Monday) or calendar-quarter in the "
                                                    "settings' calendar_timezone; default from settings (30d).")
    labels: Labels = Field({}, description="Added to every rule and alert of this SLO, after the service's.")
    sli: SLI
    alerting: Alerting = Alerting()

    @model_validator(mode="after")
    def _events_to_count(self) -> "SLO":
        if self.alerting.min_events is not None and self.sli.kind in ("bool", "raw"):
            raise FieldError(("alerting", "min_events"), f"a {self.sli.kind} SLI has no events to count "
                                                         f"({'0/1 samples' if self.sli.kind == 'bool' else 'its query gives a ratio'}); "
                                                         f"min_events applies to ratio, latency and events SLIs")
        return self


class Service(Model):
    """One file under slos/: a service and its SLOs."""

    service: Name
    description: StrictStr = ""
    owner: StrictStr = ""
    labels: Labels = {}
    slos: Annotated[list[SLO], Field(min_length=1, max_length=MAX_SLOS)]


class TierSpec(Model):
    """One alert tier pair, with windows as they are for the reference period (30d)."""

    severity: Literal[names.PAGE, names.TICKET]
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
    rows = [(names.PAGE, 2, "1h", "5m", "2m"), (names.PAGE, 5, "6h", "30m", "15m"),
            (names.TICKET, 10, "1d", "2h", "1h"), (names.TICKET, 10, "3d", "6h", "3h")]
    return [TierSpec(severity=s, budget_spent=b, long=l, short=sh, **{"for": f}) for s, b, l, sh, f in rows]


Receiver = Annotated[StrictStr, Field(min_length=1)]


class PageRoute(Model):
    """How pages reach people: Alertmanager's receiver and timings of the route for slo_severity="page"."""

    receiver: Receiver | None = Field(None, description="Receiver of the pages, defined in your Alertmanager "
                                                        "configuration; none: the parent route's.")
    group_wait: Duration = Field(durations.parse("30s"), description="Wait before the first notification of a "
                                                                     "group, for its other alerts to arrive.")
    group_interval: Duration = Field(durations.parse("5m"), description="Wait before notifying of alerts added "
                                                                        "to a group already notified.")
    repeat_interval: Duration = Field(durations.parse("4h"), description="Wait before notifying again of the "
                                                                         "same firing alerts.")

    @model_validator(mode="after")
    def _repeat_after_group(self) -> "PageRoute":
        if self.repeat_interval < self.group_interval:
            raise FieldError(("repeat_interval",), f"repeat_interval ({durations.to_text(self.repeat_interval)}) is "
                                                   f"shorter than group_interval "
                                                   f"({durations.to_text(self.group_interval)}): Alertmanager "
                                                   f"repeats only at a group interval")
        return self


class TicketRoute(PageRoute):
    """The same for slo_severity="ticket": tickets wait longer to gather, and repeat once a day."""

    group_wait: Duration = Field(durations.parse("5m"), description="Wait before the first notification of a "
                                                                    "group; a page of the same SLO arriving "
                                                                    "meanwhile inhibits its tickets.")
    group_interval: Duration = Field(durations.parse("1h"), description="Wait before notifying of alerts added "
                                                                        "to a group already notified.")
    repeat_interval: Duration = Field(durations.parse("1d"), description="Wait before notifying again of the "
                                                                         "same firing alerts.")


class TeamReceivers(Model):
    page: Receiver | None = Field(None, description="Receiver of this team's pages.")
    ticket: Receiver | None = Field(None, description="Receiver of this team's tickets.")

    @model_validator(mode="after")
    def _one(self) -> "TeamReceivers":
        if self.page is None and self.ticket is None:
            raise ValueError("names no receiver: set page, ticket or both")
        return self


class AlertmanagerSettings(Model):
    """The route subtree and inhibit rules written to output/alertmanager/ (see docs/alertmanager.md)."""

    page: PageRoute = PageRoute()
    ticket: TicketRoute = TicketRoute()
    team_label: LabelName | None = Field(
        None, description="Alert label whose value names the team in `teams`; none: teams are services' `owner`.")
    teams: dict[Annotated[StrictStr, Field(min_length=1)], TeamReceivers] = Field(
        {}, description="Receivers per team (an owner, or a value of team_label); the severity's receiver "
                        "for a team or severity not listed.")
    config: StrictStr = Field("", description="Your Alertmanager configuration, relative to the settings file: "
                                              "`slo alertmanager merge` and `slo push alertmanager` read it, "
                                              "`slo check` checks it merged with amtool; empty: none.")


class Settings(Model):
    """Project settings (`slo-settings.yaml` at the repo root); an absent file means all defaults."""

    default_window: Duration = Field(durations.parse("30d"), description="SLO period when an SLO sets none.")
    calendar_timezone: TimeZone = Field("UTC", description="IANA time zone of the calendar periods "
                                                          "(calendar-month, -week, -quarter).")
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
    kubernetes_namespace: KubernetesNamespace = Field(
        "", description="Namespace of the PrometheusRule manifests; empty: none, kubectl's current namespace.")
    kubernetes_labels: KubernetesLabels = Field(
        {}, description="Labels of the PrometheusRule manifests, such as the `release` label that a Prometheus "
                        "Operator's ruleSelector picks.")
    tiers_period: Duration = Field(durations.parse("30d"), description="Period the tier windows are written for.")
    tiers: Annotated[list[TierSpec], Field(min_length=1)] = Field(default_factory=_default_tiers)
    external_labels: Labels = Field({}, description="External labels of the Prometheus that evaluates the "
                                                    "rules; `slo lint` reports labels that collide with them.")
    sloth_labels: bool = Field(False, description="Also label every series and alert the way Sloth does "
                                                  "(sloth_id, sloth_service, sloth_slo, sloth_window, "
                                                  "sloth_severity), for dashboards built for Sloth's rules.")
    alertmanager: AlertmanagerSettings = AlertmanagerSettings()
    engine: Literal[names.PROMETHEUS, names.VICTORIAMETRICS] = Field(
        names.PROMETHEUS, description="What evaluates the rules: Prometheus (or Mimir, Cortex, Thanos), or vmalert "
                                      "over VictoriaMetrics, whose rules read recorded series one evaluation later "
                                      "(see docs/victoriametrics.md).")

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
