"""The plan's model: what every output reads of an SLO, its windows and alert pairs, and how each
window is read (see the package's docs)."""

from dataclasses import dataclass
from decimal import Decimal

from .. import durations, names, periods, sli as kinds
from ..spec import SLI, Settings

MINUTE = durations.UNITS["m"]
SCRAPES_PER_WINDOW = 4
# Long windows up to this read raw series, exact at every instant: the Workbook's fastest page window,
# a read that every SLO tool pays for its fastest window.
RAW_LIMIT = durations.UNITS["h"]
HOUR = durations.UNITS["h"]
# Periods this long are counted in clock hours: the hour read in part is under 1% of the period.
HOURLY_FROM = 7 * durations.UNITS["d"]
# Alert long windows this long are counted from the hourly counts where the SLO records them: a few
# dozen hourly samples cost less to read than a day of rates recorded at every evaluation.
COUNTED_FROM = durations.UNITS["d"]


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
    labels: tuple[tuple[str, str], ...]  # labels of the tier's alert rules (`route_labels`), severity included
    annotations: tuple[tuple[str, str], ...]  # the SLO's alerting annotations, the tier's over them
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
    annotations: tuple[tuple[str, str], ...]
    routes: tuple[TierRoute, ...]
    position: int  # index among the service's SLOs by name: places its panels in the dashboard
    dashboard_url: str
    missing_data: MissingData | None
    min_events: int | None = None  # the low-traffic guard: events a long window must count for its pair to fire
    # evaluations by which a read of a series recorded earlier in the same evaluation trails it:
    # 0 on Prometheus, 1 on vmalert (see `engine`)
    read_delay: int = 0
    scrape_interval: int = 0  # ms between scrapes of the raw series (the settings')
    # A calendar period: its records count from the period's start; `period` (30d, 7d, 90d) sizes the alerts.
    calendar: periods.Calendar | None = None

    @property
    def period_text(self) -> str:
        return durations.to_text(self.period)

    @property
    def period_name(self) -> str:
        """The period as people say it: `30d`, or `calendar month (Europe/Berlin)`."""
        if self.calendar is None:
            return self.period_text
        return f"calendar {self.calendar.noun} ({self.calendar.timezone})"

    @property
    def this_period(self) -> str:
        """The period in a title: `over 30d`, or `this month` for a calendar period."""
        return f"this {self.calendar.noun}" if self.calendar else f"over {self.period_text}"

    @property
    def period_ratio(self) -> str:
        """The record of the period's error ratio: over the rolling window, or since the calendar period's start."""
        return names.PERIOD_ERROR_RATIO if self.calendar else names.error_ratio(self.period_text)

    @property
    def records_hours(self) -> bool:
        """Whether the rules record hourly event counts: a period counted in hours, or a calendar one."""
        return self.counts_hours(self.period) or self.calendar is not None

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

    @property
    def sli_kind(self) -> kinds.Kind:
        return kinds.of(self.sli.kind)

    def ramp(self, scrape: int, window: int | None = None) -> int:
        """Scrapes over which a window read from raw series (the base window by default) follows a
        change of traffic: the steps of a counter's rate, or the samples of a 0/1 gauge in the
        window, one more."""
        return (window or self.base) // scrape + (1 if self.sli_kind.counts_samples else 0)

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

    def counts_window(self, window: int) -> bool:
        """Whether an alert long window is counted from the hourly counts that the period records (see
        the package's docs): from COUNTED_FROM up, in whole hours, where the lag is a whole number of
        evaluations (so the count and the corrected mean of the rates are the same number) and every
        read is of the same evaluation (Prometheus; on vmalert the counts would trail the rates they
        come from). The timing model follows such a window at the rule interval, at two of them (the
        running count still finds its last value) and at one an hour, each evaluation its own hour,
        as the days tests evaluate (the count at the window's start is then found within the 5m
        lookback); scrapes at most two rule intervals apart keep the modelled intervals to those."""
        return (window >= COUNTED_FROM and window % HOUR == 0 and self.corrects(window)
                and self.counts_hours(self.period) and self.lag % self.rule_interval == 0
                and self.lag <= 5 * MINUTE and not self.read_delay
                and self.scrape_interval <= 2 * self.rule_interval and HOUR % max(self.scrape_interval, 1) == 0)

    @property
    def lag(self) -> int:
        """Milliseconds a mean of the recorded base rates trails the traffic."""
        return (self.base - self.rule_interval) // 2

    def trail(self, window: int) -> int:
        """Evaluations by which an alert's reading of `window`'s ratio trails the same reading in
        Prometheus: the engine's `read_delay` for the alert's read of the ratio, and once more where
        the ratio reads the recorded base rates rather than raw series."""
        return self.read_delay * (1 if self.reads_raw(window) else 2)

    def derived_range(self, window: int) -> int:
        """The range of a derived window's mean: the window, less the lag where it is corrected, in
        whole evaluations, less half an evaluation, so that no sample sits on its boundary whether the
        Prometheus version includes a sample there (2.x) or not (3.x)."""
        return self.mean_range(window - (self.lag if self.corrects(window) else 0))

    def mean_range(self, covered: int) -> int:
        """The range over which a mean of the recorded base rates covers `covered` (see derived_range)."""
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
