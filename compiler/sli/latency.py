"""The latency SLI: a classic histogram, whose events slower than a threshold are errors."""

from decimal import Decimal, InvalidOperation
from typing import Iterator

from pydantic import model_validator

from .. import promql, synthetic
from ..fields import GroupBy, Model, Seconds, Selector
from ..problems import ERROR, WARNING
from ..promql import number
from . import Check, Kind, Rates, Server

# The default buckets of the official client libraries (Go, Java, Python, Ruby), in seconds.
DEFAULT_BUCKETS = tuple(map(Decimal, ("0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5",
                                      "10")))


class LatencySLI(Model):
    """A classic histogram; events slower than `threshold` are errors."""

    histogram: Selector
    threshold: Seconds
    group_by: GroupBy = []

    @model_validator(mode="after")
    def _base_name(self) -> "LatencySLI":
        metric = promql.selector(self.histogram).metric
        if not metric:
            raise ValueError("histogram needs a metric name")
        for suffix in ("_bucket", "_count", "_sum"):
            if metric.endswith(suffix):
                raise ValueError(f"histogram names the histogram itself, without {suffix}: "
                                 f"{metric.removesuffix(suffix)}")
        return self


def le_matcher(threshold_seconds) -> promql.Matcher:
    """Matches the bucket boundary however the client printed it (`1`, `1.0`, `0.30`)."""
    text = number(threshold_seconds)
    pattern = text.replace(".", "\\.") + "0*" if "." in text else text + "(\\.0*)?"
    return promql.Matcher("le", "=~", pattern)


def _bound(le: str) -> Decimal | None:
    try:
        return Decimal(le)
    except InvalidOperation:
        return None


class Latency(Kind):
    name, spec, rate_unit = "latency", LatencySLI, "reqps"
    queries = (("histogram",), ("histogram",))

    def rates(self, sli: LatencySLI, window: str, by: tuple[str, ...]) -> Rates:
        hist = promql.selector(sli.histogram)
        count = hist.with_metric(hist.metric + "_count")
        fast = hist.with_metric(hist.metric + "_bucket").with_matcher(le_matcher(sli.threshold))
        total = promql.sum_by(by, f"rate({count}[{window}])")
        return Rates(f"{total} - {promql.sum_by(by, f'rate({fast}[{window}])')}", total, False)

    def synthetic(self, sli: LatencySLI, by, each):
        hist = promql.selector(sli.histogram)
        labels = synthetic.assign(hist.matchers, by)
        metric, le, traffic = hist.metric, number(sli.threshold), synthetic.TRAFFIC
        names = [{**labels, "__name__": metric + "_bucket", "le": le},
                 {**labels, "__name__": metric + "_bucket", "le": "+Inf"}, {**labels, "__name__": metric + "_count"}]
        increases = each(lambda r: [(1 - r) * traffic, traffic, traffic], Decimal(0))
        return [(labels_, steps, True) for labels_, steps in zip(names, increases)], by

    def checks(self, sli: LatencySLI, by: tuple[str, ...]) -> Iterator[Check]:
        if sli.threshold not in DEFAULT_BUCKETS:
            le = number(sli.threshold)
            yield Check(
                ("threshold",), WARNING, "threshold-not-default-bucket",
                f'{le}s is none of the client libraries\' default buckets: unless the histogram was given an le="{le}" '
                f"bucket, no request counts as fast enough",
                "use a bucket boundary of the histogram; `slo lint --prometheus URL` reads them")

    def live(self, sli: LatencySLI, server: Server, lookback: str) -> list[Check]:
        """The histogram's buckets on the server: the threshold must be one of them."""
        hist = promql.selector(sli.histogram)
        buckets = hist.with_metric(hist.metric + "_bucket")
        found = server.query(f"count by (le) (last_over_time({buckets}[{lookback}]))")
        bounds = sorted({b for b in map(_bound, (r["metric"].get("le", "") for r in found)) if b is not None})
        if not bounds:
            return [Check(("histogram",), ERROR, "selector-matches-nothing",
                          f"{buckets} matched no series in the last {lookback}: the SLO measures nothing",
                          "check the histogram name (without _bucket) and labels against the server")]
        if sli.threshold in bounds:
            return []
        finite = [b for b in bounds if b.is_finite()]
        near = min(finite, key=lambda b: abs(b - sli.threshold), default=None)
        return [Check(
            ("threshold",), ERROR, "missing-le-bucket",
            f"{hist.metric} has no le=\"{number(sli.threshold)}\" bucket; its buckets are "
            f"{', '.join(number(b) for b in finite) or 'only +Inf'}",
            f"set threshold to a bucket boundary{f' such as {number(near)}' if near is not None else ''}, or add the "
            f"bucket to the histogram")]


KIND = Latency()
