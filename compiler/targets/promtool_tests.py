"""promtool unit tests that prove each alert tier fires at its burn rate and stays quiet below.

For every SLO the input is synthetic traffic at a constant error ratio, built to match the SLI's
own selectors (a label value is derived from each matcher, regular expressions included). The
expected alerts follow from the plan alone: at a burn rate v, exactly the pairs whose threshold
is below v fire, once their `for` has passed.
"""

import math
import re
import re._parser as sre  # the standard library's own regex parser, to derive matching examples
from decimal import Decimal

import promql_parser

from .. import durations, names, promql, serialize
from ..plan import Plan, ServicePlan, SLOPlan, number
from . import prometheus

TRAFFIC = Decimal(100)  # events per input interval
GROUP_VALUE = "example"
_FALLBACKS = ("200", "ok", "0", "x", "1", "")


class Unsupported(Exception):
    """The SLO's queries are beyond what synthetic input can be derived for."""


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


def _regex_example(pattern: str) -> str | None:
    """A short string that the whole regular expression matches, or None."""
    def walk(items) -> str:
        out = ""
        for op, arg in items:
            if op is sre.LITERAL:
                out += chr(arg)
            elif op is sre.ANY:
                out += "0"
            elif op is sre.IN:
                out += _class_member(arg)
            elif op in (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT):
                out += walk(arg[2]) * arg[0]
            elif op is sre.SUBPATTERN:
                out += walk(arg[-1])
            elif op is sre.ATOMIC_GROUP:
                out += walk(arg)
            elif op is sre.BRANCH:
                out += walk(arg[1][0])
            elif op is not sre.AT:
                raise Unsupported(op)
        return out
    try:
        example = walk(sre.parse(pattern))
    except (Unsupported, re.error):
        return None
    return example if re.fullmatch(pattern, example, re.DOTALL) else None


def _class_member(items) -> str:
    for op, arg in items:
        if op is sre.LITERAL:
            return chr(arg)
        if op is sre.RANGE:
            return chr(arg[0])
        if op is sre.CATEGORY:
            return {sre.CATEGORY_DIGIT: "0", sre.CATEGORY_WORD: "a", sre.CATEGORY_SPACE: " "}.get(arg, "a")
    raise Unsupported("negated class")


def _satisfies(m: promql.Matcher, value: str) -> bool:
    if m.op in ("=", "!="):
        return (value == m.value) == (m.op == "=")
    try:
        return bool(re.fullmatch(m.value, value, re.DOTALL)) == (m.op == "=~")
    except re.error:
        return False


def _matchers(sel: promql.Selector) -> tuple[promql.Matcher, ...]:
    named = (promql.Matcher("__name__", "=", sel.metric),) if sel.metric else ()
    return named + sel.matchers


def _matches(sel: promql.Selector, labels: dict[str, str]) -> bool:
    return all(_satisfies(m, labels.get(m.name, "")) for m in _matchers(sel))


def _assign(matchers: tuple[promql.Matcher, ...], groups: tuple[str, ...]) -> dict[str, str]:
    """Labels satisfying every matcher, with a value for each group label."""
    labels = {g: GROUP_VALUE for g in groups}
    for name in dict.fromkeys(m.name for m in matchers):
        mine = [m for m in matchers if m.name == name]
        candidates = [m.value for m in mine if m.op == "="] + \
                     [_regex_example(m.value) for m in mine if m.op == "=~"] + [GROUP_VALUE, *_FALLBACKS]
        value = next((c for c in candidates if c is not None and all(_satisfies(m, c) for m in mine)), None)
        if value is None:
            raise Unsupported(f"no label value satisfies the matchers on {name}")
        labels[name] = value
    return {k: v for k, v in labels.items() if v}


def _counters(errors: promql.Selector, total: promql.Selector, groups: tuple[str, ...],
              ratio: Decimal) -> list[tuple[dict, Decimal]]:
    """Counter series (labels, increase per interval) whose errors / total is `ratio`."""
    try:
        bad = _assign(_matchers(errors) + _matchers(total), groups)
    except Unsupported:
        bad = None
    if bad is not None:
        # Errors are a subset of total (same metric, more matchers): add good events beside them,
        # in the same group.
        for name in (m.name for m in errors.matchers if m.name not in groups):
            for value in [m.value for m in total.matchers if m.name == name] + list(_FALLBACKS):
                good = {k: v for k, v in {**bad, name: value}.items() if v}
                if _matches(total, good) and not _matches(errors, good):
                    return [(bad, ratio * TRAFFIC), (good, (1 - ratio) * TRAFFIC)]
        raise Unsupported("cannot build a series that total selects and errors does not")
    bad, all_ = _assign(_matchers(errors), groups), _assign(_matchers(total), groups)
    if _matches(total, bad) or _matches(errors, all_):
        raise Unsupported("errors and total select overlapping series in a way synthetic input cannot follow")
    if any(bad.get(g) != all_.get(g) for g in groups):
        raise Unsupported("errors and total select different values of a group_by label")
    return [(bad, ratio * TRAFFIC), (all_, TRAFFIC)]


def _simple_events(expr: str) -> tuple[promql.Selector, tuple[str, ...]]:
    """The selector of `sum [by (...)] (rate|increase(selector[$window]))`, else Unsupported."""
    node = promql.check(promql.with_window(expr, "5m"))
    if not (isinstance(node, promql_parser.AggregateExpr) and str(node.op) == "sum"
            and isinstance(node.expr, promql_parser.Call) and node.expr.func.name in ("rate", "increase")
            and isinstance(node.expr.args[0], promql_parser.MatrixSelector)):
        raise Unsupported("events expression is not sum(rate(selector[$window]))")
    modifier = node.modifier
    if modifier is not None and str(modifier.type) != "AggModifierType.By":
        raise Unsupported("events expression aggregates with `without`")
    vector = node.expr.args[0].vector_selector
    return promql.from_node(vector), tuple(modifier.labels) if modifier else ()


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


def synthetic(slo: SLOPlan, ratio: Decimal, samples: int) -> tuple[list[dict], dict[str, str]]:
    """(input_series, group labels of the resulting alerts) for a constant error ratio."""
    return phased(slo, [(ratio, samples)])


def phased(slo: SLOPlan, phases: list[tuple[Decimal | str | None, int]]) -> tuple[list[dict], dict[str, str]]:
    """Like `synthetic`, for consecutive phases of (error ratio, QUIET or GONE; steps)."""
    sli = slo.sli

    def each(per_ratio, quiet):
        """Per series: the phases' values; `per_ratio(ratio)` gives one value per series."""
        columns = [per_ratio(Decimal(0) if r in (QUIET, GONE) else r) for r, _ in phases]
        return [[(None if r is GONE else quiet if r is QUIET else column[i], n) for column, (r, n)
                 in zip(columns, phases)] for i in range(len(columns[0]))]

    if sli.kind == "raw":
        raise Unsupported("a raw SLI's query gives a ratio, not events that synthetic input can follow")
    if sli.kind == "bool":
        labels = _assign(_matchers(promql.selector(sli.bool.metric)), slo.group_by)
        series = [(labels, steps, False) for steps in each(lambda r: [1 - r], None)]
        groups = slo.group_by
    elif sli.kind == "latency":
        hist = promql.selector(sli.latency.histogram)
        labels = _assign(hist.matchers, slo.group_by)
        metric = hist.metric
        le = number(sli.latency.threshold)
        names_ = [{**labels, "__name__": metric + "_bucket", "le": le},
                  {**labels, "__name__": metric + "_bucket", "le": "+Inf"}, {**labels, "__name__": metric + "_count"}]
        increases = each(lambda r: [(1 - r) * TRAFFIC, TRAFFIC, TRAFFIC], Decimal(0))
        series = [(labels_, steps, True) for labels_, steps in zip(names_, increases)]
        groups = slo.group_by
    else:
        if sli.kind == "ratio":
            errors, total = promql.selector(sli.ratio.errors), promql.selector(sli.ratio.total)
            groups = slo.group_by
        else:
            (errors, groups), (total, total_groups) = _simple_events(sli.events.errors), _simple_events(sli.events.total)
            if groups != total_groups:
                raise Unsupported("events errors and total aggregate by different labels")
        labels_ = [labels for labels, _ in _counters(errors, total, groups, Decimal(0))]
        increases = each(lambda r: [inc for _, inc in _counters(errors, total, groups, r)], Decimal(0))
        series = [(labels, steps, True) for labels, steps in zip(labels_, increases)]
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


def _case(slo: SLOPlan, title: str, burn: Decimal, interval: int, eval_time: int) -> dict:
    """A test at constant burn rate `burn` from time 0, checked at `eval_time`.

    A rate needs two samples, so a pair becomes pending at the second evaluation (one interval);
    a bool SLI counts samples and is pending from the first. It fires once its `for` has passed.
    """
    pending = 0 if slo.sli.kind == "bool" else interval
    firing = [p for p in slo.pairs if p.burn_rate < burn and p.for_ <= eval_time - pending]
    series, group_labels = synthetic(slo, burn * slo.budget, eval_time // interval + 1)
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
            out.append(_case(slo, title, burn, interval, 2 * interval + pair.for_))
    lowest = min(p.burn_rate for p in slo.pairs)
    quiet_until = 2 * interval + max(p.for_ for p in slo.pairs)
    out.append(_case(slo, f"at {number(lowest / 2)}x the budget, below every tier, nothing fires",
                     lowest / 2, interval, quiet_until))
    pages = [p.for_ for p in slo.pairs if p.tier == "page"]
    if pages:
        outage_time = 2 * interval + min(pages)
        out.append(_case(slo, f"a full outage pages within {durations.human(outage_time)}",
                         1 / slo.budget, interval, outage_time))
    return out


def unsupported(slo: SLOPlan) -> str | None:
    """Why no synthetic traffic can be built for the SLO's SLI, or None when it can."""
    try:
        synthetic(slo, Decimal(0), 2)
    except Unsupported as exc:
        return str(exc)
    return None


