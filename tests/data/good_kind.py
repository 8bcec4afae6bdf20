"""A toy SLI kind, `good`: counters of good and of all events. It lives outside the compiler and
is registered before the spec is built, the way a new kind needs nothing but its own module."""

from decimal import Decimal
from typing import Iterator

from compiler import promql, sli, synthetic
from compiler.fields import GroupBy, Model, Selector
from compiler.problems import WARNING


class GoodSLI(Model):
    good: Selector
    total: Selector
    group_by: GroupBy = []


class Good(sli.Kind):
    name, spec, rate_unit = "good", GoodSLI, "reqps"
    queries = (("good",), ("total",))

    def rates(self, body: GoodSLI, window: str, by: tuple[str, ...]) -> sli.Rates:
        total = promql.sum_by(by, f"rate({body.total}[{window}])")
        return sli.Rates(f"{total} - {promql.sum_by(by, f'rate({body.good}[{window}])')}", total, False)

    def synthetic(self, body: GoodSLI, by, each):
        labels = [synthetic.assign(synthetic.matchers_of(promql.selector(s)), by) for s in (body.good, body.total)]
        increases = each(lambda r: [(1 - r) * synthetic.TRAFFIC, synthetic.TRAFFIC], Decimal(0))
        return [(series, steps, True) for series, steps in zip(labels, increases)], by

    def checks(self, body: GoodSLI, by: tuple[str, ...]) -> Iterator[sli.Check]:
        if promql.selector(body.good).metric == promql.selector(body.total).metric:
            yield sli.Check(("good",), WARNING, "good-same-metric", "good and total read one metric",
                            "count good events in a counter of their own")


sli.register(Good())
