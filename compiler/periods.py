"""Calendar periods: a month, week (from Monday) or quarter in a time zone, and the PromQL that
tells which period an instant falls in.

The period records advance at the rules' evaluations, and a period starts at a whole UTC hour in
every zone whose offsets are whole hours. PromQL knows only UTC calendar functions (`month()`,
`day_of_month()`, ...), so the local time is UTC plus the zone's offset, and the offset follows the
zone's current rule: the POSIX TZ string at the end of its TZif file (`CET-1CEST,M3.5.0,M10.5.0/3`),
a standard offset and, with daylight saving, the two yearly transitions `Mm.w.d/time`. Zones that
rule cannot express in whole hours are refused with one line.
"""

import calendar
import datetime
import difflib
import itertools
import re
import zoneinfo
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from . import durations

_DAY = durations.UNITS["d"]
# The rolling period each calendar period sizes its alert windows and budget time by.
WINDOWS = {"calendar-month": 30 * _DAY, "calendar-week": 7 * _DAY, "calendar-quarter": 90 * _DAY}
NOUNS = {"calendar-month": "month", "calendar-week": "week", "calendar-quarter": "quarter"}
UTC = "UTC"
_HOUR_S = 3600


@dataclass(frozen=True)
class Transition:
    """A daylight-saving change on the `week`-th (5: last) `weekday` (0: Sunday) of `month`, at
    `hour` in local standard time."""

    month: int
    week: int
    weekday: int
    hour: int


@dataclass(frozen=True)
class ZoneRule:
    std: int  # seconds east of UTC
    save: int = 0  # seconds added in daylight-saving time; 0: none
    start: Transition | None = None
    end: Transition | None = None


@dataclass(frozen=True)
class Calendar:
    window: str  # calendar-month | calendar-week | calendar-quarter
    timezone: str

    @property
    def noun(self) -> str:
        return NOUNS[self.window]

    @property
    def rule(self) -> ZoneRule:
        return zone_rule(self.timezone)


_NAME = r"(?:[A-Za-z]{3,}|<[+\-A-Za-z0-9]+>)"
_OFFSET = r"[+-]?\d{1,3}(?::\d{2}){0,2}"
_DATE = r"M(\d{1,2})\.(\d)\.(\d)(?:/([+-]?\d{1,3}(?::\d{2}){0,2}))?"
_POSIX = re.compile(rf"({_NAME})({_OFFSET})(?:({_NAME})({_OFFSET})?(?:,{_DATE},{_DATE})?)?")


def _seconds(text: str) -> int:
    sign = -1 if text.startswith("-") else 1
    parts = [int(p) for p in text.lstrip("+-").split(":")]
    return sign * sum(p * s for p, s in zip(parts, (3600, 60, 1)))


def _tzif_footer(name: str) -> str:
    """The POSIX TZ string that ends the zone's TZif file: its rule after the last listed change."""
    for folder in zoneinfo.TZPATH:
        path = Path(folder) / name
        if path.is_file():
            return path.read_bytes().rstrip(b"\n").rsplit(b"\n", 1)[-1].decode("ascii")
    raise ValueError(f"no TZif file of {name} in {', '.join(zoneinfo.TZPATH)}")


def parse_rule(posix: str) -> ZoneRule:
    """The rule of a POSIX TZ string, in whole hours; ValueError saying what cannot be expressed."""
    match = _POSIX.fullmatch(posix)
    if match is None:
        raise ValueError(f"its rule {posix!r} is not of the forms the compiler reads (M-dates only)")
    _, std_text, dst, dst_text, *dates = match.groups()
    std = -_seconds(std_text)  # POSIX counts west of UTC
    if std % _HOUR_S:
        raise ValueError(f"its UTC offset ({posix}) is not a whole number of hours, and periods start at whole "
                         f"UTC hours")
    if dst is None:
        return ZoneRule(std)
    if dates[0] is None:
        raise ValueError(f"its rule {posix!r} has daylight saving without transition dates")
    save = (-_seconds(dst_text) if dst_text else std + _HOUR_S) - std
    if save % _HOUR_S or save <= 0:
        raise ValueError(f"its daylight-saving shift ({posix}) is not a positive whole number of hours")
    start, end = (_transition(dates[i:i + 4], shift) for i, shift in ((0, 0), (4, save)))
    return ZoneRule(std, save, start, end)


def _transition(fields: list[str | None], save: int) -> Transition:
    month, week, weekday, at = fields
    hour = (_seconds(at) if at else 2 * _HOUR_S) - save  # in local standard time
    if hour % _HOUR_S or not 0 <= hour < 24 * _HOUR_S:
        raise ValueError(f"its daylight-saving change at {at or '02:00'} is not a whole hour of the same day "
                         f"in standard time")
    return Transition(int(month), int(week), int(weekday), hour // _HOUR_S)


@lru_cache(maxsize=None)
def zone_rule(name: str) -> ZoneRule:
    """The zone's current rule; ValueError (one sentence, with a did-you-mean) where there is none the
    compiler can express."""
    if name == UTC:
        return ZoneRule(0)
    known = zoneinfo.available_timezones()
    if name not in known:
        near = difflib.get_close_matches(name, sorted(known), n=1)
        hint = f"; did you mean {near[0]}?" if near else " (an IANA name such as Europe/Berlin)"
        raise ValueError(f"unknown time zone {name!r}{hint}")
    try:
        return parse_rule(_tzif_footer(name))
    except ValueError as exc:
        raise ValueError(f"{name} cannot hold calendar periods: {exc}") from None


def _passed(t: Transition, local: str) -> str:
    """1 from the transition of this month on, else 0, at the local standard time `local`."""
    day, weekday = f"day_of_month({local})", f"day_of_week({local})"
    first = f"(days_in_month({local}) - 6)" if t.week == 5 else str(7 * t.week - 6)
    # The latest `weekday` on or before today has the transition's date or a later one: the day has come,
    # unless it is today and the hour has not.
    latest = f"({day} - ({weekday} + {7 - t.weekday}) % 7)"
    today = f"({weekday} == bool {t.weekday}) * (hour({local}) < bool {t.hour})"
    if t.week < 5:
        today = f"({day} <= bool {7 * t.week}) * {today}"
    return f"({latest} >= bool {first}) * (1 - {today})"


def utc_offset(rule: ZoneRule) -> str:
    """PromQL of a one-sample vector: the zone's offset from UTC in seconds, now."""
    standard = f"vector({rule.std})"
    if not rule.save:
        return standard
    local = f"vector(time() + {rule.std})" if rule.std else "vector(time())"
    month, s, e = f"month({local})", rule.start, rule.end
    between = (f"({month} > bool {s.month}) * ({month} < bool {e.month})" if s.month < e.month
               else f"({month} > bool {s.month}) + ({month} < bool {e.month})")
    summer = (f"{between}\n+ ({month} == bool {s.month}) * {_passed(s, local)}\n"
              f"+ ({month} == bool {e.month}) * (1 - {_passed(e, local)})")
    return f"{standard} + {rule.save} * (\n{summer}\n)"


def index(window: str, offset: str) -> str:
    """PromQL of the number of the current period, which changes exactly when one starts, from the
    series of the zone's offset."""
    local = f"({offset} + time())"
    if window == "calendar-week":
        # 1970-01-01 was a Thursday: the Monday that starts its week is three days earlier.
        return f"floor(({local} + {3 * 86400}) / {7 * 86400})"
    if window == "calendar-quarter":
        return f"year{local} * 4 + floor((month{local} - 1) / 3)"
    return f"year{local} * 12 + month{local} - 1"


def utc_offset_at(rule: ZoneRule, at: int) -> int:
    """The rule's offset from UTC in seconds at `at` (seconds since 1970): what `utc_offset` computes in
    PromQL, for placing the generated tests at the boundary the rules see."""
    local = datetime.datetime.fromtimestamp(at + rule.std, datetime.timezone.utc)
    if not rule.save:
        return rule.std

    def passed(t: Transition) -> bool:
        days = calendar.monthrange(local.year, local.month)[1]
        span = range(days - 6, days + 1) if t.week == 5 else range(7 * t.week - 6, 7 * t.week + 1)
        day = next(d for d in span if (datetime.date(local.year, local.month, d).weekday() + 1) % 7 == t.weekday)
        return (local.day, local.hour) >= (day, t.hour)
    s, e, month = rule.start, rule.end, local.month
    between = s.month < month < e.month if s.month < e.month else month > s.month or month < e.month
    summer = between or (month == s.month and passed(s)) or (month == e.month and not passed(e))
    return rule.std + (rule.save if summer else 0)


def first_start(period: Calendar, after: int) -> int:
    """Seconds since 1970 of the first period start `after` seconds or more after 1970-01-01 00:00 UTC, by
    the zone's rule."""
    def key(at: int) -> tuple:
        day = datetime.datetime.fromtimestamp(at + utc_offset_at(period.rule, at), datetime.timezone.utc).date()
        if period.window == "calendar-week":
            return (day - datetime.timedelta(days=day.weekday()),)
        return day.year, (day.month - 1) // (3 if period.window == "calendar-quarter" else 1)
    return next(at for at in itertools.count(max(after, _HOUR_S), _HOUR_S) if key(at) != key(at - _HOUR_S))


def zone(name: str) -> datetime.tzinfo:
    return datetime.timezone.utc if name == UTC else zoneinfo.ZoneInfo(name)


def following(window: str, day: datetime.date) -> datetime.date:
    """The first day of the calendar period after the one that holds `day`."""
    if window == "calendar-week":
        return day + datetime.timedelta(days=7 - day.weekday())
    step = 3 if window == "calendar-quarter" else 1
    month = (day.month - 1) // step * step + step
    return datetime.date(day.year + month // 12, month % 12 + 1, 1)


def start(period: Calendar, at: datetime.datetime) -> datetime.datetime:
    """The start (UTC) of the period after the one `at` falls in, by the zone's full history (zoneinfo)."""
    tz = zone(period.timezone)
    day = following(period.window, at.astimezone(tz).date())
    return datetime.datetime.combine(day, datetime.time(), tz).astimezone(datetime.timezone.utc)
