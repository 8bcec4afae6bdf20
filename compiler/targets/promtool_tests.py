"""promtool unit tests that prove each alert tier fires at its burn rate and stays quiet below.

For every SLO the input is synthetic traffic at a constant error ratio, built to match the SLI's
own selectors (a label value is derived from each matcher, regular expressions included). The
expected alerts follow from the plan alone: at a burn rate v, exactly the pairs whose threshold
is below v fire, once their `for` has passed.
"""

import math
import re
from decimal import ROUND_DOWN, Decimal

from .. import durations, names, promql
from ..plan import Pair, SLOPlan, number
from ..synthetic import TRAFFIC, Unsupported
from . import prometheus


def humanize(value: float) -> str:
    """Prometheus' `humanize` template function (SI prefixes, 4 significant digits)."""
    if value == 0 or math.isnan(value) or math.isinf(value):
        return f"{value:.4g}"
    prefix = ""
    if abs(value) >= 1:
        for p in ("k", "M", "G", "T", "P", "E", "Z", "Y"):
            if abs(value) < 1000:
                break
            prefix, value = p, value / 1000
    else:
        for p in ("m", "u", "n", "p", "f", "a", "z", "y"):
            if abs(value) >= 1:
                break
            prefix, value = p, value * 1000
    return f"{value:.4g}{prefix}"


def _series_text(labels: dict[str, str]) -> str:
    labels = dict(labels)
    metric = labels.pop("__name__", "")
    inner = ",".join(str(promql.Matcher(k, "=", v)) for k, v in sorted(labels.items()))
    return f"{metric}{{{inner}}}" if inner or not metric else metric


QUIET = None  # a phase without events: counters stay flat, gauges have no samples
GONE = "gone"  # a phase in which the SLI's series do not exist at all


def _values(steps: list[tuple[Decimal | None, int]], counter: bool) -> str:
    """Expanding notation for consecutive (value or increase per step, steps) phases, None for no sample.

    A counter starts at 0 and each phase continues from the last value, so its rate changes exactly at
    the phase boundary; a gauge holds each phase's value.
    """
    first, out, last = True, [], Decimal(0)
    for value, count in steps:
        if value is None:
            out.append(f"_x{count}")
            continue
        start = (last + value if counter else value) if not first else (0 if counter else value)
        span = count if first else count - 1
        out.append(f"{number(Decimal(start))}+{number(value if counter else Decimal(0))}x{span}")
        last, first = Decimal(start) + (value * span if counter else 0), False
    return " ".join(out)


def traffic(slo: SLOPlan) -> Decimal:
    """Events per input step: with a low-traffic guard, twice its `min_events`, so that every long
    window (none is shorter than a step) counts enough events for its pair to fire."""
    return max(TRAFFIC, 2 * Decimal(slo.min_events or 0))


def synthetic(slo: SLOPlan, ratio: Decimal, samples: int, events: Decimal | None = None
              ) -> tuple[list[dict], dict[str, str]]:
    """(input_series, group labels of the resulting alerts) for a constant error ratio, at `events`
    per step (default: `traffic`)."""
    return phased(slo, [(ratio, samples)], events)


def phased(slo: SLOPlan, phases: list[tuple[Decimal | str | None, int]], events: Decimal | None = None
           ) -> tuple[list[dict], dict[str, str]]:
    """Like `synthetic`, for consecutive phases of (error ratio, QUIET or GONE; steps)."""
    def each(per_ratio, quiet):
        """Per series: the phases' values; `per_ratio(ratio)` gives one value per series."""
        columns = [per_ratio(Decimal(0) if r in (QUIET, GONE) else r) for r, _ in phases]
        return [[(None if r is GONE else quiet if r is QUIET else column[i], n) for column, (r, n)
                 in zip(columns, phases)] for i in range(len(columns[0]))]

    series, groups = slo.sli_kind.synthetic(slo.sli.body, slo.group_by, each)
    # The kinds count TRAFFIC events per step: counters scale to `events`, and keep their ratio.
    scale = (events or traffic(slo)) / TRAFFIC
    series = [(labels, [(v if v is None or not counter else v * scale, n) for v, n in steps], counter)
              for labels, steps, counter in series]
    # Prometheus drops a label whose value is empty, so the alerts do not carry it.
    group_labels = {g: series[0][0][g] for g in groups if series[0][0].get(g)}
    return ([{"series": _series_text(labels), "values": _values(steps, counter)} for labels, steps, counter in series],
            group_labels)


_ACTION = re.compile(r"{{\s*(.*?)\s*}}")


def _expand(template: str, value: float, labels: dict[str, str]) -> str:
    """The few template forms the compiler emits; Unsupported for anything else."""
    def action(match: re.Match) -> str:
        body = match.group(1)
        if body == "$value | humanize":
            return humanize(value)
        if body.startswith("$labels."):
            return labels.get(body.removeprefix("$labels."), "")
        if body == '"{{"':
            return "{{"
        raise Unsupported(f"annotation template {{{{ {body} }}}}")
    return _ACTION.sub(action, template)


def _case(slo: SLOPlan, title: str, burn: Decimal, interval: int, eval_time: int, events: Decimal | None = None
          ) -> dict:
    """A test at constant burn rate `burn` from time 0, checked at `eval_time`, at `events` per step
    (default: `traffic`; fewer than the low-traffic guard counts, and nothing fires).

    A rate needs two samples, so a pair becomes pending at the second evaluation (one interval);
    a bool SLI counts samples and is pending from the first; on an engine whose reads trail, the
    evaluations its windows trail later (`SLOPlan.trail`). It fires once its `for` has passed.
    """
    firing = [p for p in slo.pairs if p.burn_rate < burn and p.for_ <= eval_time - _pending(slo, p, interval)
              ] if events is None else []
    series, group_labels = synthetic(slo, burn * slo.budget, eval_time // interval + 1, events)
    base = {**dict(slo.labels), **dict(slo.identity), **group_labels}
    alerts = []
    for pair in firing:
        rule = prometheus.alert(slo, pair)
        labels = {**base, **{k: _expand(v, float(burn), base) for k, v in rule["labels"].items()}}
        alerts.append({"exp_labels": dict(sorted(labels.items())),
                       "exp_annotations": {k: _expand(v, float(burn), labels) for k, v in rule["annotations"].items()}})
    return {"name": f"{slo.service}/{slo.name}: {title}", "interval": durations.to_text(interval),
            "input_series": series,
            "alert_rule_test": [{"eval_time": durations.to_text(eval_time), "alertname": slo.alert,
                                 "exp_alerts": alerts}]}


def _pending(slo: SLOPlan, pair: Pair, interval: int) -> int:
    """When a pair at a constant burn rate from time 0 becomes pending (see `_case`)."""
    return (0 if slo.sli_kind.counts_samples else interval) + _trail(slo, pair, interval)


def _trail(slo: SLOPlan, pair: Pair, interval: int) -> int:
    return interval * max(slo.trail(pair.long), slo.trail(pair.short))


def _test_burn(threshold: Decimal, budget: Decimal) -> Decimal | None:
    """A burn rate about 10% above `threshold`, rounded to 3 significant digits so that its
    humanized value is exact; None when even a full outage cannot reach the threshold."""
    if threshold * budget >= 1:
        return None
    burn = threshold * Decimal("1.1")
    rounded = burn.quantize(Decimal(1).scaleb(burn.adjusted() - 2))
    return min(rounded if rounded > threshold else burn, 1 / budget).normalize()


def cases(slo: SLOPlan, interval: int) -> list[dict]:
    if not slo.pairs:
        return []
    out = []
    for pair in slo.pairs:
        burn = _test_burn(pair.burn_rate, slo.budget)
        if burn is not None:
            title = (f"at {number(burn)}x the budget, the {pair.tier} tier {pair.long_text}/{pair.short_text} "
                     f"(burn rate {number(pair.burn_rate)}) fires")
            out.append(_case(slo, title, burn, interval, 2 * interval + _trail(slo, pair, interval) + pair.for_))
    lowest = min(p.burn_rate for p in slo.pairs)
    quiet_until = 2 * interval + max(_trail(slo, p, interval) + p.for_ for p in slo.pairs)
    out.append(_case(slo, f"at {number(lowest / 2)}x the budget, below every tier, nothing fires",
                     lowest / 2, interval, quiet_until))
    pages = [_trail(slo, p, interval) + p.for_ for p in slo.pairs if p.tier == names.PAGE]
    if pages:
        outage_time = 2 * interval + min(pages)
        out.append(_case(slo, f"a full outage pages within {durations.human(outage_time)}",
                         1 / slo.budget, interval, outage_time))
    if slo.min_events:
        # Every long window counts under half of min_events; the cases above, at `traffic`, fire.
        longest = max(p.long for p in slo.pairs)
        few = Decimal(slo.min_events) * interval / longest / 2
        few = few.quantize(Decimal(1).scaleb(few.adjusted() - 2), rounding=ROUND_DOWN).normalize()
        out.append(_case(slo, f"a full outage at {number(few)} events per {durations.to_text(interval)}, fewer "
                              f"than {slo.min_events} in every long window, fires nothing",
                         1 / slo.budget, interval, quiet_until, few))
    return out


def unsupported(slo: SLOPlan) -> str | None:
    """Why no synthetic traffic can be built for the SLO's SLI, or None when it can."""
    try:
        synthetic(slo, Decimal(0), 2)
    except Unsupported as exc:
        return str(exc)
    return None


