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

How each window is read: an alert's long window of up to RAW_LIMIT (the 1h page for a 30d period)
reads the raw series, which costs little and is exact at every instant, also right after a sharp
change of traffic. Longer windows count events as the mean of the base rates recorded at each
evaluation times the window. Those rates overlap, so the count trails the traffic by `lag`,
(base - interval) / 2. In alert long windows that lag is removed: the mean covers the window less
`lag` and the latest base rate counts for the last `lag`, so alerts fire at the Workbook's
detection time. The other windows (short windows that are no tier's long window, and the period)
are plain means: they only set how fast an alert resets and the budget, and a plain mean costs less.

A period of HOURLY_FROM or more (the budget's window, not an alert's) is counted in clock hours:
each hour's events are recorded once, when the next hour starts, and the hour under way from a
running count that restarts every hour. Reading a month of hourly counts costs a sixtieth of a
month of rates recorded every minute. The oldest hour, which the window only partly covers, counts
its share as though its events were spread evenly over it.
"""

from bisect import bisect_left
from dataclasses import dataclass
from functools import lru_cache
from decimal import ROUND_HALF_UP, Decimal

from . import durations, names
from .problems import InputError, Problem
from .spec import SLI, Service, Settings
from .yamlpos import Document

MINUTE = durations.UNITS["m"]
SCRAPES_PER_WINDOW = 4
# Long windows up to this read raw series, exact at every instant: the Workbook's fastest page window,
# a read that every SLO tool pays for its fastest window.
RAW_LIMIT = durations.UNITS["h"]
HOUR = durations.UNITS["h"]
# Periods this long are counted in clock hours: the hour read in part is under 1% of the period.
HOURLY_FROM = 7 * durations.UNITS["d"]
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
    runbook: str  # the runbook's path in the repository
    runbook_url: str  # its address, empty without runbook_base_url


@dataclass(frozen=True)
class MissingData:
    """The ticket for an SLI whose total series are absent: a broken exporter must not hide an outage."""

    alert: str
    for_: int
    tier: str  # whose runbook it links to

    @property
    def for_text(self) -> str:
        return durations.to_text(self.for_)


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
    base: int  # the window whose rates are recorded; the windows not read from raw series derive from them
    rule_interval: int  # ms between evaluations, which the derived windows' ranges assume
    windows: tuple[int, ...]  # every ratio window, ascending, period included
    pairs: tuple[Pair, ...]
    alert: str
    labels: tuple[tuple[str, str], ...]  # service and SLO labels, on every series and alert
    window_labels: tuple[str, ...]  # labels whose value is the window of an error ratio series
    tier_labels: tuple[str, ...]  # labels whose value is an alert's tier (page, ticket)
    alert_labels: tuple[tuple[str, str], ...]
    annotations: tuple[tuple[str, str], ...]
    routes: tuple[TierRoute, ...]
    position: int  # index among the service's SLOs by name: places its panels in the dashboard
    dashboard_url: str
    missing_data: MissingData | None

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

    def ramp(self, scrape: int, window: int | None = None) -> int:
        """Scrapes over which a window read from raw series (the base window by default) follows a
        change of traffic: the steps of a counter's rate, or the samples of a 0/1 gauge in the
        window, one more."""
        return (window or self.base) // scrape + (1 if self.sli.kind == "bool" else 0)

    def is_long(self, window: int) -> bool:
        """Whether `window` is a tier's long window, the one that sets when its alert fires."""
        return any(p.long == window for p in self.pairs)

    def reads_raw(self, window: int) -> bool:
        """Whether an alert long window reads raw series; the other windows derive from the base rates."""
        return window <= RAW_LIMIT and self.is_long(window)

    def corrects(self, window: int) -> bool:
        """Whether a derived window takes out the lag of the overlapping base rates: long windows do."""
        return window > RAW_LIMIT and self.is_long(window)

    def counts_hours(self, window: int) -> bool:
        """Whether `window` is a period counted from hourly event counts (see the module's docs): it
        takes whole hours, each of the same evaluations, so the interval must divide an hour."""
        return (window == self.period >= HOURLY_FROM and window % HOUR == 0 and HOUR % self.rule_interval == 0
                and not self.is_long(window))

    @property
    def lag(self) -> int:
        """Milliseconds a mean of the recorded base rates trails the traffic."""
        return (self.base - self.rule_interval) // 2

    def derived_range(self, window: int) -> int:
        """The range of a derived window's mean: the window, less the lag where it is corrected, in
        whole evaluations, less half an evaluation, so that no sample sits on its boundary whether the
        Prometheus version includes a sample there (2.x) or not (3.x)."""
        covered = window - (self.lag if self.corrects(window) else 0)
        return covered // self.rule_interval * self.rule_interval - self.rule_interval // 2

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
    # The nearest by ratio is one of the two neighbours of `ms` in the sorted candidates.
    i = bisect_left(_READABLE, ms)
    return min(_READABLE[max(i - 1, 0):i + 1], key=lambda c: max(c / ms, ms / c))


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


def _ratios(ramp: int, samples: int, weight: Decimal, interval: int, scrape: int, evaluations: int,
            error_at) -> list[Decimal]:
    """A window's recorded error ratio at evaluations 0..evaluations, as the rules compute it.

    `error_at(j)` is the error ratio of the traffic scraped at step j (`scrape` apart; evaluation 0
    is scrape step 0; steps before it count too). A rate read from raw series is the mean over the
    `ramp` scrapes it spans. A derived window is the mean of the base rates of its last `samples`
    evaluations, in which the latest base rate weighs `weight` (lag / window, where corrected); a
    window read from raw series is one sample.
    """
    every = interval // scrape
    first = -samples * every - ramp + 1  # the earliest scrape that evaluation 0's window still reads
    traffic = _running_sums(error_at(j) for j in range(first, evaluations * every + 1))

    def rate(e: int) -> Decimal:
        i = e * every - first + 1
        return (traffic[i] - traffic[i - ramp]) / ramp
    recorded = [rate(e) for e in range(-samples, evaluations + 1)]  # evaluation e at e + samples
    sums = _running_sums(recorded)
    return [(sums[e + samples + 1] - sums[e + 1]) / samples * (1 - weight) + weight * recorded[e + samples]
            for e in range(evaluations + 1)]


def _reading(slo: SLOPlan, window: int, interval: int, scrape: int) -> tuple[int, int, Decimal]:
    """(ramp, samples, weight) of `_ratios` for a window evaluated every `interval`."""
    if window == slo.base or slo.reads_raw(window):
        return slo.ramp(scrape, window), 1, Decimal(0)
    weight = Decimal(slo.lag) / window if slo.corrects(window) else Decimal(0)
    return slo.ramp(scrape), slo.derived_range(window) // interval + 1, weight


def _running_sums(values) -> list[Decimal]:
    sums = [Decimal(0)]
    for value in values:
        sums.append(sums[-1] + value)
    return sums


def model_interval(interval: int, scrape: int) -> int:
    """The evaluation interval the timing model follows: rules evaluated more often than series are
    scraped see each scrape several times, so they are modelled once per scrape (their figures are
    then right within one scrape interval), and other intervals in whole scrapes."""
    return max(interval, scrape) // scrape * scrape


@lru_cache(maxsize=None)
def _first(long_reading: tuple, short_reading: tuple, pair: Pair, interval: int, scrape: int,
           error_ratio: Decimal, ends: bool) -> int:
    """The first evaluation at which the pair fires after a constant `error_ratio` starts at
    evaluation 0, or with `ends`, stops firing after it ends there. Cached: SLOs with the same
    windows and budget share the figure, and computing it walks every evaluation of the long window.
    """
    if ends:
        def error_at(j: int) -> Decimal:
            return error_ratio if j <= 0 else Decimal(0)

        def done(long: Decimal, short: Decimal) -> bool:
            return long <= pair.error_ratio or short <= pair.error_ratio
    else:
        def error_at(j: int) -> Decimal:
            return error_ratio if j > 0 else Decimal(0)

        def done(long: Decimal, short: Decimal) -> bool:
            return long > pair.error_ratio and short > pair.error_ratio
    # By then both windows read only the new traffic.
    evaluations = pair.long // interval + max(long_reading[0], short_reading[0]) + 2
    long, short = (_ratios(*reading, interval, scrape, evaluations, error_at)
                   for reading in (long_reading, short_reading))
    return next(e for e in range(evaluations + 1) if done(long[e], short[e]))


def time_to_fire(slo: SLOPlan, pair: Pair, error_ratio: Decimal, interval: int, scrape: int) -> int | None:
    """Milliseconds from the start of a constant error ratio, after clean traffic, until the pair's
    alert fires, with rules evaluated every `interval` over series scraped every `scrape`; None
    when it never fires.

    This is the Workbook's detection time plus what measuring adds: the evaluation that sees the
    crossing, the scrapes a rate needs to see a change, and `for` rounded up to whole evaluations.
    """
    if error_ratio <= pair.error_ratio:
        return None
    interval = model_interval(interval, scrape)
    pending = _first(*_readings(slo, pair, interval, scrape), pair, interval, scrape, error_ratio, False)
    return (pending + -(-pair.for_ // interval)) * interval


def reset_time(slo: SLOPlan, pair: Pair, error_ratio: Decimal, interval: int, scrape: int) -> int | None:
    """Milliseconds from the end of a constant error ratio that filled both windows until the pair
    stops firing, or None when it never fired. The short window forgets the errors first."""
    if error_ratio <= pair.error_ratio:
        return None
    interval = model_interval(interval, scrape)
    return interval * _first(*_readings(slo, pair, interval, scrape), pair, interval, scrape, error_ratio, True)


def _readings(slo: SLOPlan, pair: Pair, interval: int, scrape: int) -> tuple[tuple, tuple]:
    return tuple(_reading(slo, w, interval, scrape) for w in (pair.long, pair.short))


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
                                names.repository_path(names.runbook_path(service.service, alert, tier)),
                                names.runbook_url(settings.runbook_base_url, service.service, alert, tier)))
    labels = {**service.labels, **slo.labels}
    window_labels, tier_labels = (names.WINDOW,), (names.TIER,)
    if settings.sloth_labels:
        labels.update({names.SLOTH_ID: names.sloth_id(service.service, slo.name),
                       names.SLOTH_SERVICE: service.service, names.SLOTH_SLO: slo.name})
        window_labels, tier_labels = window_labels + (names.SLOTH_WINDOW,), tier_labels + (names.SLOTH_SEVERITY,)
    position = sorted(s.name for s in service.slos).index(slo.name)
    return SLOPlan(
        service=service.service, name=slo.name, source=doc.file, description=slo.description,
        owner=service.owner, objective=objective.normalize(), objective_percent=slo.objective.normalize(),
        budget=budget.normalize(), period=period, sli=slo.sli, group_by=slo.sli.group_by, base=base,
        rule_interval=settings.rule_interval,
        windows=tuple(sorted({base, period, *(p.long for p in pairs), *(p.short for p in pairs)})),
        pairs=pairs, alert=alert, labels=tuple(sorted(labels.items())), window_labels=window_labels,
        tier_labels=tier_labels,
        alert_labels=tuple(sorted(slo.alerting.labels.items())),
        annotations=tuple(sorted(slo.alerting.annotations.items())), routes=tuple(routes), position=position,
        dashboard_url=names.dashboard_url(settings.grafana_url, service.service,
                                          names.panel_id(position, names.BURN_RATE_PANEL)),
        missing_data=_missing_data(slo.alerting.missing_data, alert, pairs, routes, settings))


def _missing_data(enabled: bool, alert: str, pairs: tuple[Pair, ...], routes: list[TierRoute],
                  settings: Settings) -> MissingData | None:
    if not enabled:
        return None
    # The SLO's own runbook, the ticket's where it has one: runbooks exist for tiers with alert pairs.
    tiers = {p.tier for p in pairs}
    route = next((r for r in sorted(routes, key=lambda r: r.tier != "ticket") if r.tier in tiers), routes[-1])
    return MissingData(names.missing_data_alert(alert), settings.missing_data_for, route.tier)


def build(specs: list[tuple[Document, Service]], settings: Settings) -> Plan:
    """The plan of all specs; InputError with every problem found across them."""
    problems: list[Problem] = []
    services = []
    first_service: dict[str, Document] = {}
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
            # A fixed label would give every group the same value, and their series would collide.
            fixed = {k for k, _ in (*plan.labels, *plan.alert_labels, *(kv for r in plan.routes for kv in r.labels))}
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
        services.append(ServicePlan(service.service, doc.file, service.description, service.owner,
                                    tuple(sorted(slos, key=lambda s: s.name))))
    if problems:
        raise InputError(problems)
    return Plan(tuple(services), settings)
