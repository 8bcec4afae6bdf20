"""What the engine that evaluates the rules changes in them: a stage between the rule groups that
`targets/prometheus` builds and the files written for that engine.

Prometheus stores each recording rule's result before it evaluates the next rule of its group, so
a rule reads what an earlier rule recorded at the same evaluation. vmalert does not: it sends the
results to VictoriaMetrics by remote write, a few seconds later, so such a read finds the previous
evaluation's sample, or, if a flush falls between two rules, the new one. For vmalert every read of
a series recorded earlier in the same group is therefore moved back one evaluation (`offset`), so
that it reads a sample stored an interval ago, the same on both engines: each level of the chain
(raw series, base rates, ratios, alerts) then trails the one below by one evaluation, which the plan
models (`plan.SLOPlan.read_delay`), so that `slo explain` and the generated timing tests stay exact,
and promtool tests the very expressions vmalert runs.

vmalert's other difference is the group parameter `nocache=1`: without it VictoriaMetrics answers
queries near now as of 30 s earlier (`-search.latencyOffset`), and `time()`, which the hourly counts
read, would turn the hour half a minute late.
"""

import re

from . import durations, names, promql
from .spec import Settings

# What loads the rule files of each engine, as people call it.
LOADER = {names.PROMETHEUS: "Prometheus", names.VICTORIAMETRICS: "vmalert"}
# Query parameters of every group for vmalert: answers as of the evaluation time, not 30 s before it.
VMALERT_PARAMS = {"nocache": ["1"]}


def read_delay(settings: Settings) -> int:
    """Evaluations by which a read of a series recorded earlier in the same evaluation trails it."""
    return 1 if settings.engine == names.VICTORIAMETRICS else 0


def prometheus_form(group: dict, settings: Settings, interval: int | None = None) -> dict:
    """The group as Prometheus and promtool read it, with the reads the engine needs, for evaluations
    every `interval` (by default the rule interval; the generated tests of days use a coarser one)."""
    lag = read_delay(settings) * (interval or settings.rule_interval)
    if not lag:
        return group
    recorded: set[str] = set()
    rules = []
    for rule in group["rules"]:
        rules.append({**rule, "expr": promql.emitted(delayed(rule["expr"], frozenset(recorded), lag))}
                     if recorded else rule)
        if "record" in rule:
            recorded.add(rule["record"])
    return {**group, "rules": rules}


def engine_form(group: dict, settings: Settings) -> dict:
    """The group as the engine loads it: the Prometheus form, and vmalert's query parameters."""
    staged = prometheus_form(group, settings)
    if settings.engine != names.VICTORIAMETRICS:
        return staged
    at = list(staged).index("rules")  # keys in a fixed order: name, interval, params, rules
    items = list(staged.items())
    return dict(items[:at] + [("params", VMALERT_PARAMS)] + items[at:])


# The tokens of PromQL that matter here; anything else is copied as it is.
_TOKENS = re.compile(r"""(?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)
                        |(?P<name>[A-Za-z_:][A-Za-z0-9_:]*)
                        |(?P<open>[{\[(])|(?P<close>[}\])])""", re.VERBOSE)
_LABEL_LISTS = {"by", "without", "on", "ignoring", "group_left", "group_right"}
_OFFSET = re.compile(r"\s*offset\s+(?P<duration>[0-9a-z]+)")


def delayed(expr: str, names_: frozenset[str], lag: int) -> str:
    """`expr` with every selector of a metric in `names_` read `lag` earlier: its offset, if any, grows."""
    out, pos = [], 0
    stack: list[str] = []  # open brackets, "L" for a label list's parenthesis
    previous = ""
    for match in _TOKENS.finditer(expr):
        kind, text = match.lastgroup, match.group()
        if kind == "open":
            stack.append("L" if text == "(" and previous in _LABEL_LISTS else text)
        elif kind == "close":
            stack.pop()
        elif kind == "name" and text in names_ and not (stack and stack[-1] in ("{", "L")) \
                and not expr[match.end():].lstrip().startswith("("):
            end = _selector_end(expr, match.end())
            offset = _OFFSET.match(expr, end)
            shifted = lag + (durations.parse(offset["duration"]) if offset else 0)
            out.append(expr[pos:end] + f" offset {durations.to_text(shifted)}")
            pos = offset.end() if offset else end
            previous = "offset"
            continue
        if kind != "string":
            previous = text
    out.append(expr[pos:])
    return "".join(out)


def _selector_end(expr: str, at: int) -> int:
    """Where the selector whose metric name ends at `at` ends: after its matchers and its range."""
    for opening, closing in (("{", "}"), ("[", "]")):
        rest = len(expr[at:]) - len(expr[at:].lstrip())
        if expr[at + rest:at + rest + 1] == opening:
            at = _closing(expr, at + rest, closing)
    return at


def _closing(expr: str, at: int, closing: str) -> int:
    """The index after the bracket `closing` that matches the one at `at`, strings skipped."""
    for match in _TOKENS.finditer(expr, at + 1):
        if match.group() == closing:
            return match.end()
    raise ValueError(f"unbalanced {expr[at]} in {expr!r}")
