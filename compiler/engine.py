"""What the engine that evaluates the rules needs of them.

Prometheus stores each recording rule's result before it evaluates the next rule of its group, so
a rule reads what an earlier rule recorded at the same evaluation. vmalert does not: it sends the
results to VictoriaMetrics by remote write, a few seconds later, so such a read finds the previous
evaluation's sample, or, if a flush falls between two rules, the new one. For vmalert the rule
builders therefore read every series recorded earlier in the same group one evaluation back
(`read_offset`, an `offset` on each such selector), so that it reads a sample stored an interval
ago, the same on both engines: each level of the chain (raw series, base rates, ratios, alerts)
then trails the one below by one evaluation, which the plan models (`plan.SLOPlan.read_delay`), so
that `slo explain` and the generated timing tests stay exact, and promtool tests the very
expressions vmalert runs.

vmalert's other difference is the group parameter `nocache=1`: without it VictoriaMetrics answers
queries near now as of 30 s earlier (`-search.latencyOffset`), and `time()`, which the hourly counts
read, would turn the hour half a minute late.
"""

from . import names
from .spec import Settings

# What loads the rule files of each engine, as people call it.
LOADER = {names.PROMETHEUS: "Prometheus", names.VICTORIAMETRICS: "vmalert"}
# Query parameters of every group for vmalert: answers as of the evaluation time, not 30 s before it.
VMALERT_PARAMS = {"nocache": ["1"]}


def read_delay(settings: Settings) -> int:
    """Evaluations by which a read of a series recorded earlier in the same evaluation trails it."""
    return 1 if settings.engine == names.VICTORIAMETRICS else 0


def read_offset(settings: Settings, interval: int) -> int:
    """The offset (ms) of every read of a series recorded earlier in the same group, for a group
    evaluated every `interval` (the rule interval, or the coarser one of the generated tests of days)."""
    return read_delay(settings) * interval


def engine_form(group: dict, settings: Settings) -> dict:
    """The group as the engine loads it: for vmalert, with its query parameters."""
    if settings.engine != names.VICTORIAMETRICS:
        return group
    at = list(group).index("rules")  # keys in a fixed order: name, interval, params, rules
    items = list(group.items())
    return dict(items[:at] + [("params", VMALERT_PARAMS)] + items[at:])
