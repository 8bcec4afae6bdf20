"""Building the plan from the specs: each SLO's plan, and the checks across SLOs and services
(unique names, alert names, group labels), each problem at its place in the YAML."""

from .. import durations, engine, names, periods
from ..problems import InputError, Problem
from ..spec import Alerting, Service, Settings
from ..yamlpos import Document
from .model import HOUR, SCRAPES_PER_WINDOW, MissingData, Pair, Plan, ServicePlan, SLOPlan, TierRoute
from .budget import tiers

def route_labels(service: Service, index: int, tier: str) -> tuple[tuple[str, str], ...]:
    """The labels an alert rule of `tier` sets: the SLO's alerting and tier labels, and the severity.

    A label the user sets wins over every default, the more specific place over the more general:
    default severity < service labels < SLO labels < alerting labels < tier labels. The service and
    SLO labels are on every series already; only the severity they may set is repeated here, since
    the alert rule's own labels override those of its series.
    """
    slo = service.slos[index]
    spec = getattr(slo.alerting, tier)
    own = {**slo.alerting.labels, **(spec.labels if spec else {})}
    chosen = {**service.labels, **slo.labels, **own}
    return tuple(sorted({**own, names.SEVERITY: chosen.get(names.SEVERITY, names.DEFAULT_SEVERITY[tier])}.items()))


def _tier_annotations(alerting: Alerting, tier: str) -> tuple[tuple[str, str], ...]:
    spec = getattr(alerting, tier)
    return tuple(sorted({**alerting.annotations, **(spec.annotations if spec else {})}.items()))


def _slo_plan(doc: Document, service: Service, index: int, settings: Settings) -> SLOPlan:
    slo = service.slos[index]
    calendar = periods.Calendar(slo.window, settings.calendar_timezone) if isinstance(slo.window, str) else None
    if calendar and HOUR % settings.rule_interval:
        raise ValueError(f"a {calendar.window} period adds up clock hours, and the rule interval "
                         f"({durations.to_text(settings.rule_interval)}) does not divide an hour")
    period = periods.WINDOWS[slo.window] if calendar else slo.window or settings.default_window
    objective = slo.objective / 100
    budget = 1 - objective
    enabled = {t for t in names.TIERS if getattr(slo.alerting, t) is not None}
    pairs = tiers(period, budget, settings, enabled)
    base = min((p.short for p in pairs), default=SCRAPES_PER_WINDOW * settings.scrape_interval)
    if base < settings.rule_interval:
        raise ValueError(f"the rule interval ({durations.to_text(settings.rule_interval)}) is longer than "
                         f"the shortest window ({durations.to_text(base)}): recorded series would miss events")
    alert = slo.alerting.name or names.default_alert(service.service, slo.name)
    routes = [TierRoute(tier, route_labels(service, index, tier), _tier_annotations(slo.alerting, tier),
                        names.repository_path(names.runbook_path(service.service, alert, tier)),
                        names.runbook_url(settings.runbook_base_url, service.service, alert, tier))
              for tier in names.TIERS]
    labels = {**service.labels, **slo.labels}
    window_labels, tier_labels = (names.WINDOW,), (names.TIER,)
    if settings.sloth_labels:
        labels.update({names.SLOTH_ID: names.sloth_id(service.service, slo.name),
                       names.SLOTH_SERVICE: service.service, names.SLOTH_SLO: slo.name})
        window_labels, tier_labels = window_labels + (names.SLOTH_WINDOW,), tier_labels + (names.SLOTH_SEVERITY,)
    position = sorted(s.name for s in service.slos).index(slo.name)
    return SLOPlan(
        service=service.service, name=slo.name, source=doc.source_name, description=slo.description,
        owner=service.owner, objective=objective.normalize(), objective_percent=slo.objective.normalize(),
        budget=budget.normalize(), period=period, sli=slo.sli, group_by=slo.sli.group_by, base=base,
        rule_interval=settings.rule_interval,
        windows=tuple(sorted({base, period, *(p.long for p in pairs), *(p.short for p in pairs)})),
        pairs=pairs, alert=alert, labels=tuple(sorted(labels.items())), window_labels=window_labels,
        tier_labels=tier_labels,
        annotations=tuple(sorted(slo.alerting.annotations.items())), routes=tuple(routes), position=position,
        dashboard_url=names.dashboard_url(settings.grafana_url, service.service,
                                          names.panel_id(position, names.BURN_RATE_PANEL)),
        missing_data=_missing_data(slo.alerting.missing_data, alert, pairs, routes, settings),
        min_events=slo.alerting.min_events, read_delay=engine.read_delay(settings), calendar=calendar,
        scrape_interval=settings.scrape_interval)


def _missing_data(enabled: bool, alert: str, pairs: tuple[Pair, ...], routes: list[TierRoute],
                  settings: Settings) -> MissingData | None:
    if not enabled:
        return None
    # The SLO's own runbook, the ticket's where it has one: runbooks exist for tiers with alert pairs.
    tiers = {p.tier for p in pairs}
    route = next((r for r in sorted(routes, key=lambda r: r.tier != names.TICKET) if r.tier in tiers), routes[-1])
    return MissingData(names.missing_data_alert(alert), settings.missing_data_for, route.tier)


def _zone(doc: Document, at: tuple, slo: SLOPlan, settings: Settings, seen: set) -> list[Problem]:
    """A time zone that a converted spec's calendar names (OpenSLO), unless it is the settings' one; once per place."""
    tz, where, path = getattr(doc, "timezones", {}).get(at, (None, doc, ()))
    if slo.calendar is None or tz in (None, settings.calendar_timezone) or (where.file, path) in seen:
        return []
    seen.add((where.file, path))
    return [where.problem(path, f"time zone {tz} differs from the settings' calendar_timezone "
                                f"({settings.calendar_timezone}): every calendar period of the project is in that one "
                                f"zone; set calendar_timezone: {tz}, or write this SLO's calendar in it")]


def build(specs: list[tuple[Document, Service]], settings: Settings) -> Plan:
    """The plan of all specs; InputError with every problem found across them."""
    problems: list[Problem] = []
    seen: set = set()  # the places of time zones already reported
    services = []
    first_service: dict[str, Document] = {}
    for doc, service in sorted(specs, key=lambda s: (s[1].service, s[0].source_name)):
        if service.service in first_service:
            problems.append(doc.problem(("service",), f"service {service.service!r} is already defined in "
                                                      f"{first_service[service.service].file}"))
            continue
        first_service[service.service] = doc
        if service.service in names.RESERVED_SERVICES:
            problems.append(doc.problem(("service",), f"service name {service.service!r} is reserved for the "
                                                      f"overview dashboard; choose another"))
        slos = []
        # Alert names are unique within a service (its runbooks are named after them); across
        # services the slo_service label tells alerts apart, as with Sloth's shared alert names.
        first_alert: dict[str, str] = {}
        for i, slo in enumerate(service.slos):
            if any(other.name == slo.name for other in service.slos[:i]):
                problems.append(doc.problem(("slos", i, "name"), f"SLO {slo.name!r} is already defined "
                                                                 f"in this service"))
                continue
            try:
                plan = _slo_plan(doc, service, i, settings)
            except ValueError as exc:
                problems.append(doc.problem(("slos", i, "window"), str(exc)))
                continue
            problems += _zone(doc, ("slos", i), plan, settings, seen)
            # A fixed label would give every group the same value, and their series would collide.
            fixed = {k for k, _ in (*plan.labels, *(kv for r in plan.routes for kv in r.labels))}
            problems += [doc.problem(("slos", i, "sli", slo.sli.kind, "group_by", j),
                                     f"{name} is also a label the rules set to one value; it cannot group")
                         for j, name in enumerate(plan.group_by) if name in fixed]
            where = ("slos", i, "alerting", "name") if slo.alerting.name else ("slos", i, "name")
            claimed = ([plan.alert] if plan.pairs else []) + ([plan.missing_data.alert] if plan.missing_data else [])
            taken = next((alert for alert in claimed if alert in first_alert), None)
            if taken:  # one line: the burn-rate and missing-data names clash together
                problems.append(doc.problem(where, f"alert name {taken} is already used by SLO "
                                                   f"{first_alert[taken]!r}; set alerting.name to tell them apart"))
            for alert in claimed:
                first_alert.setdefault(alert, slo.name)
            slos.append(plan)
        services.append(ServicePlan(service.service, doc.source_name, service.description, service.owner,
                                    tuple(sorted(slos, key=lambda s: s.name))))
    if problems:
        raise InputError(problems)
    return Plan(tuple(services), settings)
