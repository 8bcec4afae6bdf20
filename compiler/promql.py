"""Parsing user PromQL, and printing selectors in one canonical, correctly escaped form.

promql-parser checks the syntax; printing is ours because its printer does not escape label
values (a `"` inside a value would come out unquoted).
"""

import json
import re
import re._parser as sre  # the standard library's regex parser, to read repetition counts
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

import promql_parser

from . import durations

WINDOW_PLACEHOLDER = "$window"
COUNTER_SUFFIXES = ("_total", "_count", "_bucket", "_sum")

# MatchOp is not hashable; its int value is.
_OPS = {int(promql_parser.MatchOp.Equal): "=", int(promql_parser.MatchOp.NotEqual): "!=",
        int(promql_parser.MatchOp.Re): "=~", int(promql_parser.MatchOp.NotRe): "!~"}


@dataclass(frozen=True)
class Matcher:
    name: str
    op: str
    value: str

    def __str__(self) -> str:
        # A JSON string literal is a valid PromQL string literal for every character, escapes included.
        return f"{self.name}{self.op}{json.dumps(self.value, ensure_ascii=False)}"


@dataclass(frozen=True)
class Selector:
    """A vector selector: metric name (may be empty) and label matchers; a range (ms) makes it a range
    vector selector, an offset (ms) reads it that far back."""

    metric: str
    matchers: tuple[Matcher, ...]
    range: int = 0
    offset: int = 0

    def with_metric(self, metric: str) -> "Selector":
        return Selector(metric, self.matchers, self.range, self.offset)

    def with_matcher(self, *matchers: Matcher) -> "Selector":
        return Selector(self.metric, self.matchers + matchers, self.range, self.offset)

    def over(self, range_: int) -> "Selector":
        return Selector(self.metric, self.matchers, range_, self.offset)

    def back(self, offset: int) -> "Selector":
        """The selector read `offset` further back."""
        return Selector(self.metric, self.matchers, self.range, self.offset + offset) if offset else self

    def __str__(self) -> str:
        inner = ", ".join(map(str, self.matchers))
        text = f"{self.metric}{{{inner}}}" if inner or not self.metric else self.metric
        if self.range:
            text += f"[{durations.to_text(self.range)}]"
        return f"{text} offset {durations.to_text(self.offset)}" if self.offset else text


def equal(metric: str, labels) -> Selector:
    """The selector of `metric` (may be empty) whose labels equal the (name, value) pairs `labels`."""
    return Selector(metric, tuple(Matcher(name, "=", value) for name, value in labels))


# Prometheus' regular expressions (Go RE2) refuse a repetition count above 1000, also as the
# product of nested counts; the parser used here accepts them, so promtool would fail later.
RE2_MAX_REPEAT = 1000
_REPEATS = (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT)


def _repeat_fits(items, budget: int) -> bool:
    for op, arg in items:
        if op in _REPEATS:
            low, high, inner = arg
            count = low if high == sre.MAXREPEAT else high
            if count > budget:
                return False
            if not _repeat_fits(inner, budget // count if count else budget):
                return False
        elif op is sre.SUBPATTERN and not _repeat_fits(arg[-1], budget):
            return False
        elif op is sre.BRANCH and not all(_repeat_fits(branch, budget) for branch in arg[1]):
            return False
        elif op is sre.ATOMIC_GROUP and not _repeat_fits(arg, budget):
            return False
    return True


def _check_regexes(node: promql_parser.Expr) -> None:
    matchers = []

    def visit(expr: promql_parser.Expr) -> None:
        if isinstance(expr, promql_parser.VectorSelector):
            every = [*expr.matchers.matchers, *(m for group in expr.matchers.or_matchers for m in group)]
            matchers.extend(m for m in every
                            if int(m.op) in (int(promql_parser.MatchOp.Re), int(promql_parser.MatchOp.NotRe)))
    promql_parser.walk(node, visit)
    for m in matchers:
        try:
            fits = _repeat_fits(sre.parse(m.value), RE2_MAX_REPEAT)
        except re.error:  # syntax Python's parser lacks; the PromQL parser has accepted it
            continue
        if not fits:
            raise ValueError(f"regular expression {m.value!r} repeats more than {RE2_MAX_REPEAT} times, "
                             f"which Prometheus refuses")


def check(expr: str) -> promql_parser.Expr:
    """Parse PromQL; ValueError with the parser's message when it is not valid."""
    try:
        node = promql_parser.parse(expr)
    except (ValueError, RuntimeError) as exc:
        raise ValueError(f"invalid PromQL: {exc}") from None
    if "~" in expr:  # a regular expression matcher is =~ or !~; walking every tree would double the cost
        _check_regexes(node)
    return node


@lru_cache(maxsize=None)
def emitted(expr: str) -> str:
    """An expression the compiler writes, checked once however many targets write it: it parses, or
    compiling fails loudly."""
    check(expr)
    return expr


@lru_cache(maxsize=None)
def selector(text: str) -> Selector:
    """Read an instant vector selector such as `http_requests_total{job="api"}`."""
    node = check(text)
    if isinstance(node, promql_parser.MatrixSelector):
        raise ValueError("must be an instant vector selector, without a [range]: the compiler adds the windows")
    if not isinstance(node, promql_parser.VectorSelector):
        raise ValueError("must be a vector selector such as metric{label=\"value\"}, not an expression; "
                         "use the `events` SLI for free PromQL")
    if node.offset is not None or node.at is not None:
        raise ValueError("offset and @ modifiers are not allowed in an SLI selector")
    if node.matchers.or_matchers:
        raise ValueError("`or` inside a selector is not supported; use a regular expression matcher")
    return from_node(node)


def from_node(node: promql_parser.VectorSelector) -> Selector:
    """Our form of a parsed vector selector, whose values print escaped."""
    metric = node.name or ""
    matchers = []
    for m in node.matchers.matchers:
        if not metric and m.name == "__name__" and m.op == promql_parser.MatchOp.Equal:
            metric = m.value
        else:
            matchers.append(Matcher(m.name, _OPS[int(m.op)], m.value))
    return Selector(metric, tuple(matchers))


def window_expr(text: str) -> str:
    """Check a free PromQL expression that uses `$window`; returns it unchanged."""
    if WINDOW_PLACEHOLDER not in text:
        raise ValueError(f"must use {WINDOW_PLACEHOLDER} as the range of its rate, e.g. rate(x[$window])")
    node = check(with_window(text, "5m"))
    if isinstance(node, (promql_parser.MatrixSelector, promql_parser.SubqueryExpr, promql_parser.StringLiteral)):
        raise ValueError("must return an instant vector, not a range or a string")
    return text


def with_window(text: str, window: str) -> str:
    return text.replace(WINDOW_PLACEHOLDER, window)


def canonical(text: str) -> str:
    """A whitespace-insensitive form for comparing two expressions."""
    return str(check(text))


def number(value: Decimal) -> str:
    """A decimal as PromQL and people write it: `0.001`, `14.4`, `3`, never `1E+1`."""
    return format(value.normalize(), "f")


def sum_by(labels: tuple[str, ...], inner: str) -> str:
    return f"sum by ({', '.join(labels)}) ({inner})" if labels else f"sum({inner})"
