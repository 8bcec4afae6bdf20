"""The ratio SLI: two counters, errors and all events."""

from typing import Iterator

from pydantic import model_validator

from .. import promql, synthetic
from ..fields import GroupBy, Model, Selector
from ..problems import ERROR
from . import Check, Kind, Rates


class RatioSLI(Model):
    """Two counters: errors and all events. Both are vector selectors; the compiler adds rate()."""

    errors: Selector
    total: Selector
    group_by: GroupBy = []

    @model_validator(mode="after")
    def _different(self) -> "RatioSLI":
        if self.errors == self.total:
            raise ValueError("errors and total select the same series: the error ratio would always be 1")
        return self


class Ratio(Kind):
    name, spec, rate_unit = "ratio", RatioSLI, "reqps"
    queries = (("errors",), ("total",))

    def rates(self, sli: RatioSLI, window: str, by: tuple[str, ...]) -> Rates:
        return Rates(promql.sum_by(by, f"rate({sli.errors}[{window}])"),
                     promql.sum_by(by, f"rate({sli.total}[{window}])"), True)

    def synthetic(self, sli: RatioSLI, by, each):
        return synthetic.counter_pair(promql.selector(sli.errors), promql.selector(sli.total), by, each), by

    def checks(self, sli: RatioSLI, by: tuple[str, ...]) -> Iterator[Check]:
        errors, total = promql.selector(sli.errors), promql.selector(sli.total)
        for i, name in enumerate(by):
            if {m for m in errors.matchers if m.name == name} != {m for m in total.matchers if m.name == name}:
                yield Check(
                    ("group_by", i), ERROR, "group-by-error-label",
                    f"errors and total select {name} differently, so grouping by {name} puts errors and good events "
                    f"in different groups: each group's error ratio is 0 or 1",
                    f"remove {name} from group_by")


KIND = Ratio()
