"""The timing model: when an alert pair fires and resets, evaluation by evaluation, as the rules
compute their windows (read from raw series, or derived from the recorded base rates)."""

from decimal import Decimal
from functools import lru_cache

from .model import Pair, SLOPlan

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


def _reading(slo: SLOPlan, window: int, interval: int, scrape: int) -> tuple[int, int, Decimal, int]:
    """(ramp, samples, weight) of `_ratios` for a window evaluated every `interval`, and the
    evaluations by which the alert's reading of it trails (see `SLOPlan.trail`)."""
    delay = slo.trail(window)
    if window == slo.base or slo.reads_raw(window):
        return slo.ramp(scrape, window), 1, Decimal(0), delay
    samples = slo.derived_range(window) // interval + 1
    weight = Decimal(slo.lag) / window if slo.corrects(window) else Decimal(0)
    if slo.counts_window(window):
        # The counts add a rule interval's worth of each rate however far apart the evaluations are,
        # and the latest rate counts for the lag: lag / window at the rule interval, more at an hour.
        weight = Decimal(slo.lag) / (slo.lag + samples * slo.rule_interval)
    return slo.ramp(scrape), samples, weight, delay


def _delayed(values: list[Decimal], delay: int) -> list[Decimal]:
    """The ratios as read `delay` evaluations late: before the change, the steady value of evaluation 0."""
    return [values[0]] * delay + values[:len(values) - delay]


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
           error_ratio: Decimal, ends: bool, ties: bool = False) -> int:
    """The first evaluation at which the pair fires after a constant `error_ratio` starts at
    evaluation 0, or with `ends`, stops firing after it ends there; with `ties`, a window exactly at
    the threshold counts as above it. Cached: SLOs with the same windows and budget share the
    figure, and computing it walks every evaluation of the long window.
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
            if ties:
                return long >= pair.error_ratio and short >= pair.error_ratio
            return long > pair.error_ratio and short > pair.error_ratio
    # By then both windows read only the new traffic.
    evaluations = pair.long // interval + max(long_reading[0], short_reading[0]) + 2 + max(
        long_reading[3], short_reading[3])
    long, short = (_delayed(_ratios(*reading[:3], interval, scrape, evaluations, error_at), reading[3])
                   for reading in (long_reading, short_reading))
    return next(e for e in range(evaluations + 1) if done(long[e], short[e]))


def time_to_fire(slo: SLOPlan, pair: Pair, error_ratio: Decimal, interval: int, scrape: int,
                 ties: bool = False) -> int | None:
    """Milliseconds from the start of a constant error ratio, after clean traffic, until the pair's
    alert fires, with rules evaluated every `interval` over series scraped every `scrape`; None
    when it never fires. With `ties`, the earliest it may fire: a window exactly at the threshold
    (a plain mean of whole evaluations can land there) is above it or not by the engine's rounding.

    This is the Workbook's detection time plus what measuring adds: the evaluation that sees the
    crossing, the scrapes a rate needs to see a change, and `for` rounded up to whole evaluations.
    """
    if error_ratio <= pair.error_ratio:
        return None
    interval = model_interval(interval, scrape)
    pending = _first(*_readings(slo, pair, interval, scrape), pair, interval, scrape, error_ratio, False, ties)
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
