"""The bool SLI: a 0/1 gauge where 1 is good; each sample is one event."""

from typing import Iterator

from .. import promql, synthetic
from ..fields import GroupBy, Model, Selector
from ..problems import WARNING
from . import Check, Kind, Rates


class BoolSLI(Model):
    """A 0/1 gauge where 1 is good, such as probe_success; each sample is one event."""

    metric: Selector
    group_by: GroupBy = []


class Bool(Kind):
    name, spec, rate_unit = "bool", BoolSLI, "none"
    queries = (("metric",), ("metric",))
    counts_samples = True

    def rates(self, sli: BoolSLI, window: str, by: tuple[str, ...]) -> Rates:
        m = sli.metric
        return Rates(promql.sum_by(by, f"count_over_time({m}[{window}]) - sum_over_time({m}[{window}])"),
                     promql.sum_by(by, f"count_over_time({m}[{window}])"), False)

    def synthetic(self, sli: BoolSLI, by, each):
        labels = synthetic.assign(synthetic.matchers_of(promql.selector(sli.metric)), by)
        return [(labels, steps, False) for steps in each(lambda r: [1 - r], None)], by

    def checks(self, sli: BoolSLI, by: tuple[str, ...]) -> Iterator[Check]:
        metric = promql.selector(sli.metric).metric
        if metric.endswith(promql.COUNTER_SUFFIXES):
            yield Check(("metric",), WARNING, "bool-of-counter",
                        f"{metric} is named like a counter, but a bool SLI reads a gauge that is 0 or 1",
                        "use the ratio SLI for counters")


KIND = Bool()
