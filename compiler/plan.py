"""All SLO math, in pure functions: periods, windows, burn-rate tiers, thresholds and names.

Renderers read the plan and never recompute a number.

Tier windows are written for a reference period (30d). A different period keeps each tier's
share of budget spent and scales its windows by period / reference, so the burn rates stay near
those of the SRE Workbook (14.4, 6, 3, 1) and an alert means the same thing for every period.
Scaled windows are rounded to the nearest readable duration (5m, 1h30m, 6h, 3d), and burn rates
are then derived from them exactly, so a 28d period gets Sloth's windows and burn rates (1h at
13.44, ...).
A short window below 4x the scrape interval is raised to that floor (it only sets how fast an alert
resets), while a long window below it is an error, since the tier could not be measured.
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from . import durations, names
from .problems import InputError, Problem
from .spec import SLI, Service, Settings
from .yamlpos import Document

MINUTE = durations.UNITS["m"]
SCRAPES_PER_WINDOW = 4
# Below a few minutes of full outage per period, one bad deploy spends the whole budget before
# the fastest page (1h/5m for 2m) has even fired.
SHORT_BUDGET = 5 * MINUTE
BURN_RATE_PLACES = Decimal("0.001")


def number(value: Decimal) -> str:
    """A decimal as PromQL and people write it: `0.001`, `14.4`, `3`, never `1E+1`."""
    return format(value.normalize(), "f")


@dataclass(frozen=True)
class Pair:
    """One alert rule: a tier's long and short window, and the burn rate both must exceed."""

    tier: str  # page | ticket
    budget_spent: Decimal  # percent of the period's budget spent at `burn_rate` over `long`
    long: int  # ms
    short: int
    for_: int  # ms; 0 means none
    burn_rate: Decimal
    error_ratio: Decimal  # burn_rate x error budget: the error ratio at which it fires

    @property
    def long_text(self) -> str:
        return durations.to_text(self.long)

    @property
    def short_text(self) -> str:
        return durations.to_text(self.short)

    @property
    def for_text(self) -> str:
        return durations.to_text(self.for_)


@dataclass(frozen=True)
class TierRoute:
    tier: str
    labels: tuple[tuple[str, str], ...]  # alert labels of the tier, severity included
    runbook_url: str


@dataclass(frozen=True)
class SLOPlan:
    service: str
    name: str
    source: str
    description: str
    owner: str
    objective: Decimal  # ratio, 0.999
    objective_percent: Decimal  # 99.9
    budget: Decimal  # 1 - objective
    period: int  # ms
    sli: SLI
    group_by: tuple[str, ...]
    base: int  # the one window measured from raw series; all others derive from it
    windows: tuple[int, ...]  # every ratio window, ascending, period included
    pairs: tuple[Pair, ...]
    alert: str
    labels: tuple[tuple[str, str], ...]  # service labels, on every series and alert
    alert_labels: tuple[tuple[str, str], ...]
    annotations: tuple[tuple[str, str], ...]
    routes: tuple[TierRoute, ...]
    position: int  # index among the service's SLOs by name: places its panels in the dashboard
    dashboard_url: str

    @property
    def period_text(self) -> str:
        return durations.to_text(self.period)

    @property
    def base_text(self) -> str:
        return durations.to_text(self.base)

    @property
    def budget_time(self) -> int:
        """Milliseconds of full outage the error budget allows per period (43.2 min for 99.9% over 30d)."""
        return int(self.budget * self.period)

    @property
    def identity(self) -> tuple[tuple[str, str], ...]:
        return ((names.SERVICE, self.service), (names.SLO, self.name))

    @property
    def tiers(self) -> tuple[str, ...]:
        """The tiers that have alert pairs, in the order of their first pair."""
        return tuple(dict.fromkeys(p.tier for p in self.pairs))

    def route(self, tier: str) -> TierRoute:
        return next(r for r in self.routes if r.tier == tier)


@dataclass(frozen=True)
class ServicePlan:
    name: str
    source: str
    description: str
    owner: str
    slos: tuple[SLOPlan, ...]


@dataclass(frozen=True)
class Plan:
    services: tuple[ServicePlan, ...]
    settings: Settings
    # {template name: source} read from the settings' `runbook_templates` folder; the rest ship inside.
    runbook_templates: tuple[tuple[str, str], ...] = ()

    def slo(self, service: str, name: str) -> SLOPlan | None:
        return next((s for sp in self.services if sp.name == service for s in sp.slos if s.name == name), None)


_HOUR, _DAY = durations.UNITS["h"], durations.UNITS["d"]
_READABLE = tuple(
    [m * MINUTE for m in (1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 30, 40, 45)]
    + [int(h * _HOUR) for h in (1, 1.5, 2, 3, 4, 6, 8, 12, 18)]
    + [d * _DAY for d in range(1, 731)])


def readable(ms: Decimal) -> int:
    """The readable duration nearest to `ms` by ratio; 0 for under half a minute."""
    if ms < MINUTE / 2:
        return 0
    return min(_READABLE, key=lambda c: max(c / ms, ms / c))


def tiers(period: int, budget: Decimal, settings: Settings, enabled: set[str]) -> tuple[Pair, ...]:
    """The alert pairs of a period; ValueError when a tier cannot be measured at this period."""
    scale = Decimal(period) / Decimal(settings.tiers_period)
    floor = SCRAPES_PER_WINDOW * settings.scrape_interval
    pairs = []
    for spec in settings.tiers:
        if spec.severity not in enabled:
            continue
        long = readable(spec.long * scale)
        short = max(readable(spec.short * scale), floor)
        if long < floor or short >= long:
            raise ValueError(
                f"a {durations.to_text(period)} period is too short for the {spec.severity} tier that spends "
                f"{number(spec.budget_spent)}% of the budget: its long window would be "
                f"{durations.to_text(long)}, and no window may be shorter than {SCRAPES_PER_WINDOW}x the scrape "
                f"interval ({durations.to_text(floor)}) or its short window; use a longer window or adapt "
                f"`tiers` in the settings")
        burn = (spec.budget_spent / 100 * period / long).quantize(BURN_RATE_PLACES, rounding=ROUND_HALF_UP)
        for_ = readable((spec.for_ or 0) * scale)
        pairs.append(Pair(spec.severity, spec.budget_spent, long, short, for_, burn.normalize(),
                          (burn * budget).normalize()))
    return tuple(sorted(pairs, key=lambda p: (p.long, p.short)))


def time_to_fire(pair: Pair, budget: Decimal, error_ratio: Decimal) -> int | None:
    """Milliseconds from the start of a constant error ratio until the pair's alert fires, or None.

    The long window's ratio reaches the threshold after threshold / error_ratio of the window
    (the window was clean before); the short window is then already above it.
    """
    if error_ratio <= pair.error_ratio:
        return None
    return int(pair.long * pair.error_ratio / error_ratio) + pair.for_


def budget_spent(duration: int, error_ratio: Decimal, budget: Decimal, period: int) -> Decimal:
    """Share (0..) of the period's error budget spent by `duration` at `error_ratio`."""
    return error_ratio * duration / (budget * period)


def exhaustion(burn_rate: Decimal, period: int) -> int:
    """Milliseconds until a whole period's budget is gone at a constant burn rate."""
    return int(period / burn_rate)


def budget_time(budget: Decimal, period: int, share: Decimal = Decimal(1)) -> int:
    """Milliseconds of full outage that spend `share` (0..1) of the period's error budget."""
    return int(budget * period * share)


def _slo_plan(doc: Document, service: Service, index: int, settings: Settings) -> SLOPlan:
    slo = service.slos[index]
    period = slo.window or settings.default_window
    objective = slo.objective / 100
    budget = 1 - objective
    enabled = {t for t in ("page", "ticket") if getattr(slo.alerting, t) is not None}
    pairs = tiers(period, budget, settings, enabled)
    base = min((p.short for p in pairs), default=SCRAPES_PER_WINDOW * settings.scrape_interval)
    if base < settings.rule_interval:
        raise ValueError(f"the rule interval ({durations.to_text(settings.rule_interval)}) is longer than "
                         f"the shortest window ({durations.to_text(base)}): recorded series would miss events")
    alert = slo.alerting.name or names.default_alert(service.service, slo.name)
    routes = []
    for tier in ("page", "ticket"):
        spec = getattr(slo.alerting, tier)
        labels = {names.SEVERITY: names.DEFAULT_SEVERITY[tier], **(spec.labels if spec else {})}
        routes.append(TierRoute(tier, tuple(sorted(labels.items())),
                                names.runbook_url(settings.runbook_base_url, service.service, alert, tier)))
    position = sorted(s.name for s in service.slos).index(slo.name)
    return SLOPlan(
        service=service.service, name=slo.name, source=doc.file, description=slo.description,
        owner=service.owner, objective=objective.normalize(), objective_percent=slo.objective.normalize(),
        budget=budget.normalize(), period=period, sli=slo.sli, group_by=slo.sli.group_by, base=base,
        windows=tuple(sorted({base, period, *(p.long for p in pairs), *(p.short for p in pairs)})),
        pairs=pairs, alert=alert, labels=tuple(sorted(service.labels.items())),
        alert_labels=tuple(sorted(slo.alerting.labels.items())),
        annotations=tuple(sorted(slo.alerting.annotations.items())), routes=tuple(routes), position=position,
        dashboard_url=names.dashboard_url(settings.grafana_url, service.service,
                                          names.panel_id(position, names.BURN_RATE_PANEL)))


def build(specs: list[tuple[Document, Service]], settings: Settings) -> Plan:
    """The plan of all specs; InputError with every problem found across them."""
    problems: list[Problem] = []
    services = []
    first_service: dict[str, Document] = {}
    first_alert: dict[str, tuple[Document, tuple]] = {}
    for doc, service in sorted(specs, key=lambda s: (s[1].service, s[0].file)):
        if service.service in first_service:
            problems.append(doc.problem(("service",), f"service {service.service!r} is already defined in "
                                                      f"{first_service[service.service].file}"))
            continue
        first_service[service.service] = doc
        if service.service in names.RESERVED_SERVICES:
            problems.append(doc.problem(("service",), f"service name {service.service!r} is reserved for the "
                                                      f"overview dashboard; choose another"))
        slos = []
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
            # A fixed label would give every group the same value, and their series would collide.
            fixed = {k for k, _ in (*plan.labels, *plan.alert_labels, *(kv for r in plan.routes for kv in r.labels))}
            problems += [doc.problem(("slos", i, "sli", slo.sli.kind, "group_by", j),
                                     f"{name} is also a label the rules set to one value; it cannot group")
                         for j, name in enumerate(plan.group_by) if name in fixed]
            where = ("slos", i, "alerting", "name") if slo.alerting.name else ("slos", i, "name")
            if plan.alert in first_alert:
                other, _ = first_alert[plan.alert]
                problems.append(doc.problem(where, f"alert name {plan.alert} is already used in {other.file}; "
                                                   f"set alerting.name to tell them apart"))
            first_alert.setdefault(plan.alert, (doc, where))
            slos.append(plan)
        services.append(ServicePlan(service.service, doc.file, service.description, service.owner,
                                    tuple(sorted(slos, key=lambda s: s.name))))
    if problems:
        raise InputError(problems)
    return Plan(tuple(services), settings)
