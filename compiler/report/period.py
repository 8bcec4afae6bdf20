"""The period a report covers: a calendar month, or whole days from one date to another, in a timezone."""

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .. import durations

HOUR = durations.UNITS["h"]
QUARTER_HOUR = 15 * durations.UNITS["m"]  # every timezone's midnight falls on one (India +5:30, Nepal +5:45)
_MONTH = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")


@dataclass(frozen=True)
class Period:
    label: str  # `2026-11`, or `2026-11-01 to 2026-11-30`
    start: datetime  # aware, in the timezone
    end: datetime  # exclusive
    timezone: str

    @property
    def start_ms(self) -> int:
        return int(self.start.timestamp() * 1000)

    @property
    def end_ms(self) -> int:
        return int(self.end.timestamp() * 1000)

    @property
    def midnights(self) -> list[int]:
        """The local midnights after the start up to the end (ms): where each day of the period ends."""
        found, day = [], self.start.date()
        while True:
            day += timedelta(days=1)
            at = _midnight(day, self.start.tzinfo)
            if at > self.end:
                return found
            found.append(int(at.timestamp() * 1000))

    @property
    def step(self) -> int:
        """The step (ms) of the series read over the period: an hour, or a quarter where the timezone's
        midnights are not on whole hours."""
        edges = [self.start_ms, self.end_ms, *self.midnights]
        return HOUR if all(at % HOUR == 0 for at in edges) else QUARTER_HOUR


def timezone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"no timezone {name!r}: give an IANA name such as Europe/Berlin") from None


def _midnight(day: date, tz) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=tz)


def month(text: str, tz: str) -> Period:
    """The calendar month `YYYY-MM` in the timezone; ValueError for any other text."""
    found = _MONTH.fullmatch(text)
    if found is None:
        raise ValueError(f"must be a month as YYYY-MM, such as 2026-11, got {text!r}")
    year, number = int(found[1]), int(found[2])
    zone = timezone(tz)
    after = date(year + number // 12, number % 12 + 1, 1)
    return Period(text, _midnight(date(year, number, 1), zone), _midnight(after, zone), tz)


def day(text: str) -> date:
    """A date `YYYY-MM-DD`; ValueError for any other text."""
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            raise ValueError
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"must be a date as YYYY-MM-DD, such as 2026-11-01, got {text!r}") from None


def days(first: date, last: date, tz: str) -> Period:
    """From the start of day `first` to the end of day `last`, both included."""
    if first > last:
        raise ValueError(f"--from {first} is after --to {last}: the period would be empty")
    zone = timezone(tz)
    return Period(f"{first} to {last}", _midnight(first, zone), _midnight(last + timedelta(days=1), zone), tz)


def last_month(now: float, tz: str) -> str:
    """`YYYY-MM` of the last whole month before `now` (s) in the timezone."""
    today = datetime.fromtimestamp(now, timezone(tz))
    return f"{today.year - (today.month == 1)}-{(today.month - 2) % 12 + 1:02d}"
