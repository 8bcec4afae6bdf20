"""All SLO math, in pure functions: periods, windows, burn-rate tiers, thresholds and names.

Renderers read the plan and never recompute a number.

Tier windows are written for a reference period (30d). A different period keeps each tier's
share of budget spent and scales its windows by period / reference, so the burn rates stay near
those of the SRE Workbook (14.4, 6, 3, 1) and an alert means the same thing for every period.
Scaled windows are rounded to the nearest readable duration (5m, 1h30m, 6h, 3d), and burn rates
are then derived from them exactly, so a 28d period gets Sloth's windows and burn rates (1h at
13.44, ...).
A short window below 4x the scrape interval is raised to that floor (it only sets how fast an alert
resets), while a long window below it is an error, since the tier could not be measured.

How each window is read: an alert's long window of up to RAW_LIMIT (the 1h page for a 30d period)
reads the raw series, which costs little and is exact at every instant, also right after a sharp
change of traffic. Longer windows count events as the mean of the base rates recorded at each
evaluation times the window. Those rates overlap, so the count trails the traffic by `lag`,
(base - interval) / 2. In alert long windows that lag is removed: the mean covers the window less
`lag` and the latest base rate counts for the last `lag`, so alerts fire at the Workbook's
detection time. The other windows (short windows that are no tier's long window, and the period)
are plain means: they only set how fast an alert resets and the budget, and a plain mean costs less.

A period of HOURLY_FROM or more (the budget's window, not an alert's) is counted in clock hours:
each hour's events are recorded once, when the next hour starts, and the hour under way from a
running count that restarts every hour. Reading a month of hourly counts costs a sixtieth of a
month of rates recorded every minute. The oldest hour, which the window only partly covers, counts
its share as though its events were spread evenly over it.

Alert long windows of COUNTED_FROM or more (1d, 3d) read those counts too, where the SLO records
them: the events since the window's start are the running count now, plus the whole hours since
the hour under way at the start, less that hour's running count at the start; with the latest rate
for the lag, that is the corrected mean above to the evaluation, at a few dozen samples instead of
one per evaluation of the window.
"""


from ..promql import number
from .build import build, route_labels
from .model import (COUNTED_FROM, HOUR, HOURLY_FROM, MINUTE, RAW_LIMIT, SCRAPES_PER_WINDOW, MissingData, Pair, Plan, ServicePlan,
                    SLOPlan, TierRoute)
from .budget import BURN_RATE_PLACES, SHORT_BUDGET, budget_spent, budget_time, exhaustion, readable, tiers
from .timing import model_interval, reset_time, time_to_fire

__all__ = ["number", "build", "route_labels", "COUNTED_FROM", "HOUR", "HOURLY_FROM", "MINUTE", "RAW_LIMIT", "SCRAPES_PER_WINDOW", "MissingData",
           "Pair", "Plan", "ServicePlan", "SLOPlan", "TierRoute", "BURN_RATE_PLACES", "SHORT_BUDGET", "budget_spent",
           "budget_time", "exhaustion", "readable", "tiers", "model_interval", "reset_time", "time_to_fire"]
