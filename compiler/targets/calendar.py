"""The records of a calendar period (month, week or quarter in a time zone, see `periods`).

The zone's UTC offset and the number of the current period are recorded first, at each evaluation.
The other records add up the hourly counts that every long period records: the whole clock hours of the period
so far, carried from one evaluation to the next, plus the hour under way. The carried count keeps
its value across a gap of evaluations of up to CARRY; it restarts when the period's number
(`names.PERIOD_INDEX`) differs from the one of the evaluation
before, which also holds when a gap spans the period's start. A gap longer than CARRY restarts the
count too: the period is then counted from the end of the gap. As every window, a period misses the
events of the evaluations that did not run.
"""

from .. import names, periods
from ..plan import HOUR, SLOPlan, number
from . import prometheus

CARRY = 6 * HOUR


def _so_far(slo: SLOPlan, count, delay: int) -> str:
    """Events since the period's start: its whole hours and the hour under way."""
    return prometheus.sum_of_parts({"whole": str(prometheus.series(slo, count(names.PERIOD_HOURS), delay)),
                                    "now": str(prometheus.series(slo, count(names.THIS_HOUR), delay))})


def records(slo: SLOPlan, labels: dict[str, str], delay: int) -> list[dict]:
    """The period's records, reading those recorded before them `delay` back (see `prometheus.group`)."""
    index = prometheus.series(slo, names.PERIOD_INDEX, delay)
    # The index was recorded already at this evaluation: `offset` reads the one of the evaluation before.
    same = f"{index} == last_over_time({index.over(CARRY).back(slo.rule_interval)})"
    offset = prometheus.series(slo, names.UTC_OFFSET, delay)
    rules = [prometheus._record(names.UTC_OFFSET, periods.utc_offset(slo.calendar.rule), labels),
             prometheus._record(names.PERIOD_INDEX, periods.index(slo.calendar.window, str(offset)), labels)]
    for count in (names.errors_count, names.total_count):
        # Its own value carried from earlier evaluations: no engine reads it late.
        last = f"last_over_time({prometheus.series(slo, count(names.PERIOD_HOURS)).over(CARRY)})"
        ended = str(prometheus.series(slo, count(names.LAST_HOUR), delay))
        whole = prometheus.sum_of_parts({"carried": last, "ended": ended})
        # At a period's start, zero: an absent count would let the next evaluation carry the old period's.
        rules.append(prometheus._record(count(names.PERIOD_HOURS), f"{whole}\nand on () ({same})\nor 0 * {last}",
                                        labels))
    ratio = f"{_so_far(slo, names.errors_count, delay)}\n/ ({_so_far(slo, names.total_count, delay)} > 0)"
    rules.append(prometheus._record(names.PERIOD_ERROR_RATIO, ratio,
                                   {**labels, **dict.fromkeys(slo.window_labels, slo.calendar.window)}))
    return rules


def info(slo: SLOPlan) -> dict[str, str]:
    """What `slo_info` says of a calendar period: its window and time zone."""
    return {"window": slo.calendar.window, "timezone": slo.calendar.timezone} if slo.calendar else {}
