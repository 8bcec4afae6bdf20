"""The calendar boundary, run in a real Prometheus and compared with Python's zoneinfo.

The compiler writes the zone's UTC offset and the period's number as PromQL (see compiler.periods).
Range queries evaluate them at every hour around every change of offset, month and week of several
years (month lengths, leap days and daylight saving included), and each hour is compared with what
zoneinfo and the calendar say of that instant.
"""

import datetime
import zoneinfo

import pytest

from compiler import periods
from tests import realprom

DST = {"Europe/Berlin", "America/New_York", "Australia/Sydney"}  # Sydney: southern summer, over the new year
ZONES = [*sorted(DST), "Asia/Tokyo", "UTC"]
YEARS = range(2024, 2030)  # two leap years
HOUR = 3600


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    work = tmp_path_factory.mktemp("calendar-prometheus")
    with realprom.running(work, [], work / "data") as prometheus:
        yield prometheus


def _local(zone: str, at: int) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(at, zoneinfo.ZoneInfo(zone))


def _reading(local: datetime.datetime) -> dict[str, float]:
    """What the expressions must give at a local time, by zoneinfo and the calendar."""
    week = (local.date() - datetime.date(1970, 1, 1)).days  # days, counted to the Monday that starts the week
    return {"offset": local.utcoffset().total_seconds(), "month": local.year * 12 + local.month - 1,
            "quarter": local.year * 4 + (local.month - 1) // 3,
            "week": (week - local.weekday() + 3) // 7}


def _changes(zone: str, years: range, key) -> list[int]:
    """Every hour of `years` at which `key` of the local time changes."""
    start = int(datetime.datetime(years[0], 1, 1, tzinfo=datetime.timezone.utc).timestamp())
    end = int(datetime.datetime(years[-1] + 1, 1, 1, tzinfo=datetime.timezone.utc).timestamp())
    return [at for at in range(start, end, HOUR) if key(_local(zone, at)) != key(_local(zone, at - HOUR))]


def _check_around(server, zone: str, changes: list[int], kinds: tuple[str, ...]) -> None:
    """The expressions of `kinds` at every hour from two before to two after each change."""
    offset = f"({periods.utc_offset(periods.zone_rule(zone))})"
    expr = " or ".join(f'label_replace({offset if what == "offset" else periods.index(f"calendar-{what}", offset)}, '
                       f'"what", "{what}", "", "")' for what in kinds)
    for change in changes:
        body = server.get("/api/v1/query_range", query=expr, start=change - 2 * HOUR, end=change + 2 * HOUR,
                          step=HOUR)
        assert body["status"] == "success", body
        assert {s["metric"]["what"] for s in body["data"]["result"]} == set(kinds)
        for series in body["data"]["result"]:
            what = series["metric"]["what"]
            for at, value in series["values"]:
                assert float(value) == _reading(_local(zone, int(at)))[what], (zone, what, _local(zone, int(at)))


@pytest.mark.parametrize("zone", ZONES)
def test_offset_month_and_quarter_equal_zoneinfo_around_every_change(server, zone):
    changes = _changes(zone, YEARS, lambda local: (local.utcoffset(), local.month))
    assert len(changes) in {len(YEARS) * (12 + (2 if zone in DST else 0)) + extra for extra in (0, 1)}
    _check_around(server, zone, changes, ("offset", "month", "quarter"))


@pytest.mark.parametrize("zone", sorted(DST))
def test_week_changes_at_local_monday_midnight(server, zone):
    changes = _changes(zone, YEARS[:2], lambda local: local.isocalendar()[:2])
    assert all(_local(zone, at).weekday() == 0 and _local(zone, at).hour == 0 for at in changes)
    _check_around(server, zone, changes, ("week",))


def test_next_period_start_by_zoneinfo():
    at = datetime.datetime(2026, 3, 29, 12, tzinfo=datetime.timezone.utc)  # a Sunday, Berlin summer time since 01:00
    berlin = periods.Calendar("calendar-month", "Europe/Berlin")
    assert periods.start(berlin, at) == datetime.datetime(2026, 3, 31, 22, tzinfo=datetime.timezone.utc)
    week = periods.Calendar("calendar-week", "America/New_York")
    assert periods.start(week, at) == datetime.datetime(2026, 3, 30, 4, tzinfo=datetime.timezone.utc)
    quarter = periods.Calendar("calendar-quarter", "UTC")
    assert periods.start(quarter, datetime.datetime(2026, 12, 31, 23, tzinfo=datetime.timezone.utc)) == \
        datetime.datetime(2027, 1, 1, tzinfo=datetime.timezone.utc)


@pytest.mark.parametrize(("zone", "said"), [
    ("Asia/Kolkata", "Asia/Kolkata cannot hold calendar periods: its UTC offset (IST-5:30) is not a whole number "
                     "of hours"),
    ("Australia/Lord_Howe", "Australia/Lord_Howe cannot hold calendar periods: its UTC offset"),
    ("America/Santiago", "America/Santiago cannot hold calendar periods: its daylight-saving change at 24 is not a "
                         "whole hour of the same day"),
    ("Europe/Berln", "unknown time zone 'Europe/Berln'; did you mean Europe/Berlin?"),
])
def test_zones_it_cannot_express_are_refused_in_one_sentence(zone, said):
    with pytest.raises(ValueError) as refused:
        periods.zone_rule(zone)
    assert str(refused.value).startswith(said)
