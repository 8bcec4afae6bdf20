"""The raw SLI: a query that gives the error ratio itself (Sloth's `raw` SLI)."""

from .. import promql, synthetic
from ..fields import Model, WindowExpr
from . import Kind, Rates


class RawSLI(Model):
    """A query that returns the error ratio itself over $window (Sloth's `raw` SLI).

    The base window and an alert long window of up to an hour run it; the other windows average
    the base window's recorded values, so every base window counts alike whatever its traffic
    (see docs/migrating.md).
    """

    error_ratio: WindowExpr


class Raw(Kind):
    name, spec, rate_unit = "raw", RawSLI, "none"
    queries = (("error_ratio",), ("error_ratio",))
    gives_ratio = True

    def rates(self, sli: RawSLI, window: str, by: tuple[str, ...]) -> Rates:
        # A ratio and no events: it counts as one event per sample, so longer windows average the
        # base window's ratios (see docs/migrating.md); `>= 0` drops the NaN of an idle window.
        ratio = f"({promql.with_window(sli.error_ratio, window)}) >= 0"
        return Rates(ratio, f"0 * ({ratio}) + 1", False)

    def synthetic(self, sli: RawSLI, by, each):
        raise synthetic.Unsupported("a raw SLI's query gives a ratio, not events that synthetic input can follow")


KIND = Raw()
