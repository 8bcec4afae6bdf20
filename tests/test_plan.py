"""The SLO math: the SRE Workbook's tiers for 30d, and what other periods derive from them."""

from decimal import Decimal

import pytest

from compiler import durations, plan
from compiler.spec import Settings

D = durations.parse


def pairs(period: str, **settings) -> list[tuple]:
    found = plan.tiers(D(period), Decimal("0.001"), Settings(**settings), {"page", "ticket"})
    return [(p.tier, durations.to_text(p.long), durations.to_text(p.short), str(p.burn_rate),
             f"{p.budget_spent}%") for p in found]


def test_30d_reproduces_the_sre_workbook_table():
    assert pairs("30d") == [
        ("page", "1h", "5m", "14.4", "2%"),
        ("page", "6h", "30m", "6", "5%"),
        ("ticket", "1d", "2h", "3", "10%"),
        ("ticket", "3d", "6h", "1", "10%"),
    ]


def test_28d_keeps_the_windows_and_derives_the_burn_rates_from_budget_spent():
    # 2% of a 28d budget in 1h is a burn rate of 0.02 * 672h / 1h = 13.44 (Sloth's figure too).
    assert pairs("28d") == [
        ("page", "1h", "5m", "13.44", "2%"),
        ("page", "6h", "30m", "5.6", "5%"),
        ("ticket", "1d", "2h", "2.8", "10%"),
        ("ticket", "3d", "6h", "0.933", "10%"),
    ]


def test_7d_scales_windows_down_and_keeps_each_tier_share_of_budget():
    found = plan.tiers(D("7d"), Decimal("0.001"), Settings(), {"page", "ticket"})
    assert [durations.to_text(p.long) for p in found] == ["15m", "1h30m", "6h", "18h"]
    for pair in found:
        spent = pair.burn_rate * pair.long / D("7d") * 100
        assert abs(spent - pair.budget_spent) < Decimal("0.01"), pair


def test_short_windows_are_raised_to_four_scrape_intervals():
    found = plan.tiers(D("7d"), Decimal("0.001"), Settings(), {"page"})
    assert durations.to_text(found[0].short) == "4m"  # 5m * 7/30 would be 70s


def test_a_period_too_short_for_the_scrape_interval_is_an_error_that_says_so():
    with pytest.raises(ValueError, match=r"1d period is too short .* 4x the scrape interval \(4m\)"):
        plan.tiers(D("1d"), Decimal("0.001"), Settings(), {"page", "ticket"})


def test_a_faster_scrape_interval_allows_shorter_periods():
    found = plan.tiers(D("1d"), Decimal("0.001"), Settings(scrape_interval="10s"), {"page"})
    assert [durations.to_text(p.long) for p in found] == ["2m", "12m"]


def test_disabled_tiers_are_left_out():
    found = plan.tiers(D("30d"), Decimal("0.001"), Settings(), {"page"})
    assert {p.tier for p in found} == {"page"}


def test_threshold_is_burn_rate_times_budget_without_float_noise():
    found = plan.tiers(D("30d"), Decimal("0.001"), Settings(), {"page"})
    assert str(found[0].error_ratio) == "0.0144"


def test_full_outage_pages_within_minutes_and_spends_a_few_percent_of_budget():
    page = plan.tiers(D("30d"), Decimal("0.001"), Settings(), {"page"})[0]
    fire = plan.time_to_fire(page, Decimal("0.001"), Decimal(1))
    assert fire < D("3m")
    assert plan.budget_spent(fire, Decimal(1), Decimal("0.001"), D("30d")) < Decimal("0.07")


def test_sre_workbook_detection_time_at_the_threshold_rate():
    # At 10x the page burn rate, the 1h window reaches its threshold in a tenth of an hour.
    page = plan.tiers(D("30d"), Decimal("0.001"), Settings(), {"page"})[0]
    assert plan.time_to_fire(page, Decimal("0.001"), Decimal("0.144")) == D("6m") + page.for_
    assert plan.time_to_fire(page, Decimal("0.001"), Decimal("0.0144")) is None


@pytest.mark.parametrize("text, ms", [("5m", 300_000), ("1h30m", 5_400_000), ("30d", 2_592_000_000),
                                      ("1w", 604_800_000), ("250ms", 250)])
def test_durations_parse_and_print_canonically(text, ms):
    assert durations.parse(text) == ms
    assert durations.parse(durations.to_text(ms)) == ms


@pytest.mark.parametrize("text", ["", "5", "m5", "1.5h", "5m1h", "-5m"])
def test_invalid_durations_are_refused(text):
    with pytest.raises(ValueError):
        durations.parse(text)
