"""The period a report covers: a calendar month, quarter or week, or whole days from one date to
another, in the settings' `calendar_timezone`."""

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from .. import durations, periods

HOUR = durations.UNITS["h"]
QUARTER_HOUR = 15 * durations.UNITS["m"]  # every timezone's midnight falls on one (India +5:30, Nepal +5:45)
_MONTH = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")
_QUARTER = re.compile(r"(\d{4})-Q([1-4])")
_WEEK = re.compile(r"(\d{4})-W(0[1-9]|[1-4]\d|5[0-3])")
FORMS = "a month YYYY-MM (2026-11), a quarter YYYY-Qn (2026-Q4) or an ISO week YYYY-Www (2026-W48, from Monday)"


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


def _midnight(day: date, tz) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=tz)


def calendar(text: str, tz: str) -> Period:
    """The calendar month `YYYY-MM`, quarter `YYYY-Qn` or ISO week `YYYY-Www` in the timezone;
    ValueError for any other text."""
    if found := _MONTH.fullmatch(text):
        window, first = "calendar-month", date(int(found[1]), int(found[2]), 1)
    elif found := _QUARTER.fullmatch(text):
        window, first = "calendar-quarter", date(int(found[1]), 3 * int(found[2]) - 2, 1)
    elif found := _WEEK.fullmatch(text):
        try:
            window, first = "calendar-week", date.fromisocalendar(int(found[1]), int(found[2]), 1)
        except ValueError:
            raise ValueError(f"{text}: {found[1]} has no ISO week {int(found[2])}") from None
    else:
        raise ValueError(f"must be {FORMS}, got {text!r}")
    zone = periods.zone(tz)
    return Period(text, _midnight(first, zone), _midnight(periods.following(window, first), zone), tz)


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
    zone = periods.zone(tz)
    return Period(f"{first} to {last}", _midnight(first, zone), _midnight(last + timedelta(days=1), zone), tz)


def label(window: str, day: date) -> str:
    """The name of the calendar period (`calendar-month`, `-quarter` or `-week`) that holds the day:
    `2026-11`, `2026-Q4`, `2026-W48`."""
    if window == "calendar-week":
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    if window == "calendar-quarter":
        return f"{day.year}-Q{(day.month - 1) // 3 + 1}"
    return f"{day.year}-{day.month:02d}"


def last(window: str, now: float, tz: str) -> Period:
    """The last whole calendar period of the kind before `now` (s) in the timezone."""
    current = calendar(label(window, datetime.fromtimestamp(now, periods.zone(tz)).date()), tz)
    return calendar(label(window, current.start.date() - timedelta(days=1)), tz)
