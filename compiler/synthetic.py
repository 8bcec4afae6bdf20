"""Synthetic series that an SLI's selectors read: label values derived from each matcher, regular
expressions included, and counters split into errors and the rest at a given error ratio."""

import re
import re._parser as sre  # the standard library's own regex parser, to derive matching examples
from decimal import Decimal

import promql_parser

from . import promql
from .sli import Each, Series

TRAFFIC = Decimal(100)  # events per input interval
GROUP_VALUE = "example"
_FALLBACKS = ("200", "ok", "0", "x", "1", "")


class Unsupported(Exception):
    """The SLO's queries are beyond what synthetic input can be derived for."""


def regex_example(pattern: str) -> str | None:
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


def matchers_of(sel: promql.Selector) -> tuple[promql.Matcher, ...]:
    named = (promql.Matcher("__name__", "=", sel.metric),) if sel.metric else ()
    return named + sel.matchers


def matches(sel: promql.Selector, labels: dict[str, str]) -> bool:
    return all(_satisfies(m, labels.get(m.name, "")) for m in matchers_of(sel))


def assign(matchers: tuple[promql.Matcher, ...], groups: tuple[str, ...]) -> dict[str, str]:
    """Labels satisfying every matcher, with a value for each group label."""
    labels = {g: GROUP_VALUE for g in groups}
    for name in dict.fromkeys(m.name for m in matchers):
        mine = [m for m in matchers if m.name == name]
        candidates = [m.value for m in mine if m.op == "="] + \
                     [regex_example(m.value) for m in mine if m.op == "=~"] + [GROUP_VALUE, *_FALLBACKS]
        value = next((c for c in candidates if c is not None and all(_satisfies(m, c) for m in mine)), None)
        if value is None:
            raise Unsupported(f"no label value satisfies the matchers on {name}")
        labels[name] = value
    return {k: v for k, v in labels.items() if v}


def counters(errors: promql.Selector, total: promql.Selector, groups: tuple[str, ...],
              ratio: Decimal) -> list[tuple[dict, Decimal]]:
    """Counter series (labels, increase per interval) whose errors / total is `ratio`."""
    try:
        bad = assign(matchers_of(errors) + matchers_of(total), groups)
    except Unsupported:
        bad = None
    if bad is not None:
        # Errors are a subset of total (same metric, more matchers): add good events beside them,
        # in the same group.
        for name in (m.name for m in errors.matchers if m.name not in groups):
            for value in [m.value for m in total.matchers if m.name == name] + list(_FALLBACKS):
                good = {k: v for k, v in {**bad, name: value}.items() if v}
                if matches(total, good) and not matches(errors, good):
                    return [(bad, ratio * TRAFFIC), (good, (1 - ratio) * TRAFFIC)]
        raise Unsupported("cannot build a series that total selects and errors does not")
    bad, all_ = assign(matchers_of(errors), groups), assign(matchers_of(total), groups)
    if matches(total, bad) or matches(errors, all_):
        raise Unsupported("errors and total select overlapping series in a way synthetic input cannot follow")
    if any(bad.get(g) != all_.get(g) for g in groups):
        raise Unsupported("errors and total select different values of a group_by label")
    return [(bad, ratio * TRAFFIC), (all_, TRAFFIC)]


def simple_events(expr: str) -> tuple[promql.Selector, tuple[str, ...]]:
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


def counter_pair(errors: promql.Selector, total: promql.Selector, groups: tuple[str, ...],
                 each: Each) -> list[Series]:
    """Counter series for an SLI of two counters, errors and total (see `sli.Kind.synthetic`)."""
    labels = [labels for labels, _ in counters(errors, total, groups, Decimal(0))]
    increases = each(lambda r: [inc for _, inc in counters(errors, total, groups, r)], Decimal(0))
    return [(labels_, steps, True) for labels_, steps in zip(labels, increases)]
