"""The SLO math: the SRE Workbook's tiers for 30d, and what other periods derive from them."""

from decimal import Decimal
from pathlib import Path

import pytest

from compiler import durations, pipeline, plan
from compiler.spec import Settings
from conftest import ROOT, SHARED, write_spec

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
    with pytest.raises(ValueError, match=r"1d period is too short .* shorter than 4 scrape intervals \(4 x 1m = 4m\)"):
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


def _availability() -> plan.SLOPlan:
    return pipeline.build_plan(ROOT / "slos", ROOT / "none").slo("payments", "api-availability")


def test_full_outage_pages_within_minutes_and_spends_a_few_percent_of_budget():
    slo = _availability()
    fire = plan.time_to_fire(slo, slo.pairs[0], Decimal(1), D("1m"), D("1m"))
    # 51.8s of outage fill 1.44% of the hour: the first evaluation after them, then `for: 2m`.
    assert fire == D("3m")
    assert plan.budget_spent(fire, Decimal(1), slo.budget, slo.period) < Decimal("0.07")


def _every_slo(settings: Path) -> list[plan.SLOPlan]:
    roots = [ROOT / "slos"] + ([SHARED / "examples"] if SHARED.is_dir() else [])
    return [slo for root in roots for s in pipeline.build_plan(root, settings).services for slo in s.slos]


@pytest.mark.parametrize("interval, scrape", [("1m", "1m"), ("1m", "30s"), ("1m", "15s"), ("30s", "15s"),
                                              ("30s", "30s")])
def test_every_tier_fires_within_the_workbook_bound(tmp_path, interval, scrape):
    """The SRE Workbook's bound at 1.1x and 10x each tier's burn rate: no later than the detection
    time, long window x threshold / error ratio, plus `for` and one evaluation interval; and not an
    evaluation before it (a lag of an odd number of half evaluations is taken out over whole
    samples). A full outage may reach a derived window's threshold within the first base window,
    while the window still follows the change: it fires within that base window."""
    settings = tmp_path / "settings.yaml"
    settings.write_text(f"rule_interval: {interval}\nscrape_interval: {scrape}\n")
    checked = 0
    for slo in _every_slo(settings):
        # promtool's timeline puts a sample on both ends of a range; a 0/1 gauge counts both.
        slack = D(interval) + (D(scrape) if slo.sli.kind == "bool" else 0)
        for pair in slo.pairs:
            for ratio in (pair.error_ratio * Decimal("1.1"), pair.error_ratio * 10, Decimal(1)):
                if ratio > 1:
                    continue
                fire = plan.time_to_fire(slo, pair, ratio, D(interval), D(scrape))
                detection = pair.long * pair.error_ratio / ratio
                late = slack if ratio < 1 else max(slack, slo.base)
                assert detection - D(interval) < fire <= detection + pair.for_ + late, (slo.name, pair, ratio)
                checked += 1
    # Without ../shared (the tests skip what needs it) the repository's own SLOs still give 41 cases.
    assert checked > (100 if SHARED.is_dir() else 40)


def test_a_page_resets_within_its_short_window_after_an_outage():
    slo = _availability()
    resets = [plan.reset_time(slo, p, Decimal(1), D("1m"), D("1m")) for p in slo.pairs]
    assert resets[0] == D("5m")  # the 5m short window, less the 1.44% of it that may hold errors
    for pair, reset in zip(slo.pairs, resets):
        assert pair.short * (1 - pair.error_ratio) <= reset <= pair.short + D("5m"), pair
    assert plan.reset_time(slo, slo.pairs[0], Decimal("0.01"), D("1m"), D("1m")) is None


def test_bool_slis_follow_the_traffic_one_sample_later():
    found = pipeline.build_plan(ROOT / "slos", ROOT / "none")
    probe, ratio = found.slo("platform", "ingress-probe"), found.slo("payments", "api-availability")
    assert (probe.ramp(D("1m")), ratio.ramp(D("1m"))) == (6, 5)


@pytest.mark.parametrize("text, ms", [("5m", 300_000), ("1h30m", 5_400_000), ("30d", 2_592_000_000),
                                      ("1w", 604_800_000), ("250ms", 250)])
def test_durations_parse_and_print_canonically(text, ms):
    assert durations.parse(text) == ms
    assert durations.parse(durations.to_text(ms)) == ms


@pytest.mark.parametrize("text", ["", "5", "m5", "1.5h", "5m1h", "-5m"])
def test_invalid_durations_are_refused(text):
    with pytest.raises(ValueError):
        durations.parse(text)


def test_only_long_windows_up_to_an_hour_read_raw_series(tmp_path):
    write_spec(tmp_path / "slos", "s.yaml", """\
service: shop
slos:
  - name: tickets-only
    objective: 99.9
    sli: {ratio: {errors: 'req{code="500"}', total: req}}
    alerting: {page: false}
""")
    slo = pipeline.build_plan(tmp_path / "slos", tmp_path / "none").slo("shop", "tickets-only")
    # Without the page, the base window is the 2h short window, and no long window reads raw series.
    assert slo.base == D("2h") and [p.long for p in slo.pairs] == [D("1d"), D("3d")]
    assert not any(slo.reads_raw(w) for w in slo.windows)
    assert [w for w in _availability().windows if _availability().reads_raw(w)] == [D("1h")]


@pytest.mark.parametrize("window, interval, hourly", [
    ("30d", "1m", True), ("7d", "30s", True), ("28d", "2m30s", True),
    ("6d", "1m", False),  # short periods keep a plain sum
    ("7d30m", "1m", False),  # not whole hours
    ("30d", "3m30s", False),  # hours would not hold the same evaluations
])
def test_only_whole_hour_periods_of_a_week_or_more_are_counted_in_hours(tmp_path, window, interval, hourly):
    write_spec(tmp_path / "slos", "s.yaml", f"""\
service: shop
slos:
  - name: availability
    objective: 99.9
    window: {window}
    sli: {{ratio: {{errors: 'req{{code="500"}}', total: req}}}}
""")
    (tmp_path / "settings.yaml").write_text(f"rule_interval: {interval}\nscrape_interval: 30s\n")
    slo = pipeline.build_plan(tmp_path / "slos", tmp_path / "settings.yaml").slo("shop", "availability")
    assert slo.counts_hours(slo.period) is hourly
    assert not any(slo.counts_hours(w) for w in slo.windows if w != slo.period)
