"""The events SLI: free PromQL for errors and total, each over `$window`."""

from pydantic import model_validator

from .. import promql, synthetic
from ..fields import Model, WindowExpr
from . import Kind, Rates


class EventsSLI(Model):
    """Free PromQL for errors and total, each using $window as its range."""

    errors: WindowExpr
    total: WindowExpr

    @model_validator(mode="after")
    def _different(self) -> "EventsSLI":
        if promql.canonical(promql.with_window(self.errors, "5m")) == \
                promql.canonical(promql.with_window(self.total, "5m")):
            raise ValueError("errors and total are the same expression: the error ratio would always be 1")
        return self


class Events(Kind):
    name, spec, rate_unit = "events", EventsSLI, "ops"
    queries = (("errors",), ("total",))

    def rates(self, sli: EventsSLI, window: str, by: tuple[str, ...]) -> Rates:
        return Rates(promql.with_window(sli.errors, window), promql.with_window(sli.total, window), True)

    def synthetic(self, sli: EventsSLI, by, each):
        """Only for `sum [by (...)] (rate(selector[$window]))`: the group labels are the query's own."""
        (errors, groups), (total, total_groups) = synthetic.simple_events(sli.errors), synthetic.simple_events(sli.total)
        if groups != total_groups:
            raise synthetic.Unsupported("events errors and total aggregate by different labels")
        return synthetic.counter_pair(errors, total, groups, each), groups


KIND = Events()
