"""Prometheus durations as whole milliseconds, parsed and printed in one canonical form."""

import re
from functools import lru_cache

UNITS = {"y": 365 * 86_400_000, "w": 7 * 86_400_000, "d": 86_400_000, "h": 3_600_000,
         "m": 60_000, "s": 1000, "ms": 1}
# Weeks and years are accepted on input but never printed: `7d` reads better in a record name
# than `1w`, and `365d` is exact where Prometheus' `1y` is not a calendar year.
_PRINTED = ("d", "h", "m", "s", "ms")
_DURATION = re.compile(r"(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?")
_ORDER = ("y", "w", "d", "h", "m", "s", "ms")


def parse(text: str) -> int:
    """Milliseconds of a Prometheus duration such as `30d` or `1h30m`; ValueError otherwise."""
    match = _DURATION.fullmatch(text)
    if not text or match is None:
        raise ValueError(f"must be a Prometheus duration such as 5m, 1h30m or 30d, got {text!r}")
    return sum(int(n) * UNITS[unit] for n, unit in zip(match.groups(), _ORDER) if n)


@lru_cache(maxsize=4096)  # a few windows and intervals, printed hundreds of thousands of times
def to_text(ms: int) -> str:
    """The canonical text of a duration: `30d`, `5h36m`, `0s` for zero."""
    parts = []
    for unit in _PRINTED:
        count, ms = divmod(ms, UNITS[unit])
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts) or "0s"


def human(ms: int) -> str:
    """A duration for people: at most two units, e.g. `2d 19h` or `4m 30s`."""
    if ms >= 1000:
        ms -= ms % 1000
    parts = []
    for unit in _PRINTED:
        count, ms = divmod(ms, UNITS[unit])
        if count:
            parts.append(f"{count}{unit}")
    return " ".join(parts[:2]) or "0s"
