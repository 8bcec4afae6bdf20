"""Synthetic request counters for the evaluation benchmark: history as OpenMetrics, live as /metrics.

Each SLO (the service `job(index)` of Sloth's example, renamed) has `series` raw counters: half of
them, rounded down, count its bad requests (code 500), the rest its good ones (code 200), each of
them an equal share, so that an SLO serves the same traffic whatever its number of series. Even SLOs
serve steady traffic at 0.2% errors; odd SLOs alternate a busy hour at 0.1% errors with a quiet
hour, at a hundredth of the traffic, at 5% errors (the uneven traffic that biases an average of
ratios). Counters are a closed-form function of the minute, so the live exporter continues the
backfilled history exactly.
"""

import http.server
import threading
from dataclasses import dataclass
from pathlib import Path

METRIC = "http_request_duration_seconds_count"  # the metric of Sloth's example
JOB = "bench"
BUSY_PER_MINUTE = 600.0  # requests per unit of traffic and minute in a busy (or steady) hour
UNITS = 10  # units of traffic per SLO
STEADY_ERRORS, BUSY_ERRORS, QUIET_ERRORS, QUIET_SHARE = 0.002, 0.001, 0.05, 0.01


@dataclass(frozen=True)
class Shape:
    slos: int
    series: int  # raw series per SLO

    @property
    def bad(self) -> int:
        return self.series // 2

    @property
    def good(self) -> int:
        return self.series - self.bad


def job(index: int) -> str:
    """The service (and job) name of the SLO `index`."""
    return f"svc{index:04d}"


def index(service: str) -> int:
    return int(service.removeprefix("svc"))


def _per_minute(index: int, hour: int) -> tuple[float, float]:
    """(good, bad) requests per unit of traffic in one minute of `hour`."""
    if index % 2 == 0:
        return BUSY_PER_MINUTE * (1 - STEADY_ERRORS), BUSY_PER_MINUTE * STEADY_ERRORS
    if hour % 2 == 0:
        return BUSY_PER_MINUTE * (1 - BUSY_ERRORS), BUSY_PER_MINUTE * BUSY_ERRORS
    quiet = BUSY_PER_MINUTE * QUIET_SHARE
    return quiet * (1 - QUIET_ERRORS), quiet * QUIET_ERRORS


def counters(index: int, minute: int) -> tuple[float, float]:
    """(good, bad) requests of one unit of traffic up to the start of `minute` (minutes since the epoch)."""
    hours, rest = divmod(minute, 60)
    pairs, odd = divmod(hours, 2)
    even_hour, odd_hour = _per_minute(index, 0), _per_minute(index, 1)
    good = pairs * 60 * (even_hour[0] + odd_hour[0])
    bad = pairs * 60 * (even_hour[1] + odd_hour[1])
    if odd:
        good, bad = good + 60 * even_hour[0], bad + 60 * even_hour[1]
    current = _per_minute(index, hours)
    return round(good + rest * current[0], 3), round(bad + rest * current[1], 3)


def exact_ratio(index: int, start_minute: int, end_minute: int) -> float:
    """The true error ratio of one SLO's traffic between two minutes."""
    good0, bad0 = counters(index, start_minute)
    good1, bad1 = counters(index, end_minute)
    return (bad1 - bad0) / (bad1 - bad0 + good1 - good0)


def _series(shape: Shape, index: int) -> list[tuple[str, int, float]]:
    """(label text, which counter: 0 good, 1 bad, its share of the SLO's traffic) of one SLO's raw series."""
    return [(f'{METRIC}{{code="{code}",instance="i{n:03d}",job="{job(index)}"}}', which, UNITS / count)
            for code, which, count in (("200", 0, shape.good), ("500", 1, shape.bad)) for n in range(count)]


def _value(counter: float, share: float) -> float:
    return round(counter * share, 3)


def write_openmetrics(shape: Shape, first_minute: int, last_minute: int, path: Path) -> int:
    """One sample a minute of every raw series; returns the number of samples written."""
    samples = 0
    with path.open("w") as out:
        for index in range(shape.slos):
            values = [counters(index, m) for m in range(first_minute, last_minute + 1)]
            # "value timestamp" lines of the good and the bad counters, shared by the series of each.
            tails = {(which, share): [f" {_value(v[which], share)} {(first_minute + i) * 60}\n"
                                      for i, v in enumerate(values)]
                     for _, which, share in _series(shape, index)}
            for labels, which, share in _series(shape, index):
                out.write(labels.join([""] + tails[which, share]))
                samples += len(values)
        out.write("# EOF\n")
    return samples


def exposition(shape: Shape, minute: int) -> bytes:
    """The /metrics page of every raw series at `minute`."""
    lines = [f"# TYPE {METRIC} counter"]
    for index in range(shape.slos):
        value = counters(index, minute)
        lines += [f"{labels} {_value(value[which], share)}" for labels, which, share in _series(shape, index)]
    return ("\n".join(lines) + "\n").encode()


class Exporter:
    """Serves the counters at the current minute on 127.0.0.1, so that the data reaches `now`."""

    def __init__(self, shape: Shape, clock):
        def handler(*args):
            return _Handler(shape, clock, *args)
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.target = f"127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "Exporter":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


class _Handler(http.server.BaseHTTPRequestHandler):
    def __init__(self, shape: Shape, clock, *args):
        self.shape, self.clock = shape, clock
        super().__init__(*args)

    def do_GET(self) -> None:  # noqa: N802 (the name http.server calls)
        body = exposition(self.shape, int(self.clock() // 60))
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass
