"""The error budget: the alert pairs that spend it at the rates of the settings' tier catalog, and
its time."""

from bisect import bisect_left
from decimal import ROUND_HALF_UP, Decimal

from .. import durations
from ..promql import number
from ..spec import Settings
from .model import MINUTE, SCRAPES_PER_WINDOW, Pair

# Below a few minutes of full outage per period, one bad deploy spends the whole budget before
# the fastest page (1h/5m for 2m) has even fired.
SHORT_BUDGET = 5 * MINUTE
BURN_RATE_PLACES = Decimal("0.001")

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


def _windows(period: int, settings: Settings, spec) -> tuple[int, int, str | None]:
    """A tier's long and short windows scaled to a period, and why they cannot be measured, if so."""
    scale = Decimal(period) / Decimal(settings.tiers_period)
    floor = SCRAPES_PER_WINDOW * settings.scrape_interval
    long = readable(spec.long * scale)
    short = max(readable(spec.short * scale), floor)
    least = (f"{SCRAPES_PER_WINDOW} scrape intervals ({SCRAPES_PER_WINDOW} x "
             f"{durations.to_text(settings.scrape_interval)} = {durations.to_text(floor)})")
    if long < floor:
        return long, short, f"{durations.to_text(long) if long else 'under a minute'}, shorter than {least}"
    if short >= long:
        return long, short, (f"{durations.to_text(long)}, no longer than its short window, which is at least "
                             f"{least}")
    return long, short, None


def _shortest_period(settings: Settings, enabled: set[str]) -> str:
    """The shortest readable period at which every enabled tier keeps measurable windows."""
    specs = [s for s in settings.tiers if s.severity in enabled]
    for period in _READABLE:
        if not any(_windows(period, settings, s)[2] for s in specs):
            return durations.to_text(period)
    return f"over {durations.to_text(_READABLE[-1])}"


def tiers(period: int, budget: Decimal, settings: Settings, enabled: set[str]) -> tuple[Pair, ...]:
    """The alert pairs of a period; ValueError when a tier cannot be measured at this period."""
    scale = Decimal(period) / Decimal(settings.tiers_period)
    pairs = []
    for spec in settings.tiers:
        if spec.severity not in enabled:
            continue
        long, short, why = _windows(period, settings, spec)
        if why:
            raise ValueError(
                f"a {durations.to_text(period)} period is too short for the {spec.severity} tier "
                f"{durations.to_text(spec.long)}/{durations.to_text(spec.short)} (written for "
                f"{durations.to_text(settings.tiers_period)}): scaled to {durations.to_text(period)}, its long "
                f"window would be {why}; the shortest period these tiers allow is "
                f"{_shortest_period(settings, enabled)}; use a longer window or adapt `tiers` in the settings")
        burn = (spec.budget_spent / 100 * period / long).quantize(BURN_RATE_PLACES, rounding=ROUND_HALF_UP)
        for_ = readable((spec.for_ or 0) * scale)
        pairs.append(Pair(spec.severity, spec.budget_spent, long, short, for_, burn.normalize(),
                          (burn * budget).normalize()))
    return tuple(sorted(pairs, key=lambda p: (p.long, p.short)))


def budget_spent(duration: int, error_ratio: Decimal, budget: Decimal, period: int) -> Decimal:
    """Share (0..) of the period's error budget spent by `duration` at `error_ratio`."""
    return error_ratio * duration / (budget * period)


def exhaustion(burn_rate: Decimal, period: int) -> int:
    """Milliseconds until a whole period's budget is gone at a constant burn rate."""
    return int(period / burn_rate)


def budget_time(budget: Decimal, period: int, share: Decimal = Decimal(1)) -> int:
    """Milliseconds of full outage that spend `share` (0..1) of the period's error budget."""
    return int(budget * period * share)
