"""Pyrra's examples: every one compiles and passes promtool, and docs/migrating.md sets Pyrra's
windows and burn rates next to ours for every period the examples use (checked here, so it cannot go stale)."""

import re
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from compiler import durations, load, plan
from compiler.spec import Settings
from conftest import ROOT, SHARED, write_spec

PYRRA = SHARED / "conformance" / "pyrra"
pytestmark = pytest.mark.skipif(not PYRRA.is_dir(), reason=f"the Pyrra conformance corpus is not at {PYRRA}")
MINUTE = durations.UNITS["m"]


def examples() -> list[Path]:
    return sorted((PYRRA / "examples").rglob("*.yaml")) if PYRRA.is_dir() else []


def pyrra_windows(period: int) -> list[tuple[str, int, int, int]]:
    """Pyrra's alert windows for an SLO period (its slo.Windows): fractions of 28 days, rounded to
    the minute, with burn-rate factors 14, 7, 2, 1."""
    def at(fraction: Decimal) -> int:
        minutes = Decimal(period) * fraction / MINUTE
        return int(minutes.quantize(Decimal(1), rounding="ROUND_HALF_UP")) * MINUTE
    day = Decimal(1) / 28
    return [("page", at(day / 24), at(day / 24 / 12), 14), ("page", at(day / 4), at(day / 48), 7),
            ("ticket", at(day), at(day / 12), 2), ("ticket", at(day * 4), at(day / 4), 1)]


def test_every_pyrra_example_compiles_and_passes_promtool(tmp_path, slo, promtool):
    files = examples()
    assert len(files) >= 40
    services = {}
    for path in files:
        specs = load.spec_documents(path.name, path.read_text())
        the_plan = plan.build(specs, Settings())  # raises with every problem if it does not compile
        for service in the_plan.services:
            services.setdefault(service.name, path)
    # The kubernetes, webhook and openshift folders hold the same objects (only the namespace differs):
    # one file per object name compiles into one output that promtool checks and tests.
    for path in sorted(set(services.values())):
        write_spec(tmp_path / "slos", f"{path.stem}.yaml", path.read_text())
    out = tmp_path / "output"
    result = slo("compile", "--slos", tmp_path / "slos", "--out", out, "--settings", tmp_path / "none")
    assert (result.code, result.err) == (0, "")
    # Lint may refuse some of Pyrra's examples (a tier that never fires); promtool must pass them all.
    result = slo("check", "--out", out, "--slos", tmp_path / "slos", "--settings", tmp_path / "none")
    assert re.search(r"; all passed in \d+s$", result.lines[-1]), result.err


def test_pyrra_kinds_map_to_the_v1_kinds(slo):
    kinds = {}
    for path in examples():
        result = slo("import", path)
        assert result.code == 0, result.err
        for doc in yaml.safe_load_all(result.out):
            for one in doc["slos"]:
                kinds[path.name] = next(iter(one["sli"]))
    assert kinds["caddy-response-latency.yaml"] == "latency"  # success and total pick the same histogram
    assert kinds["prometheus-probe-success.yaml"] == "bool"
    assert kinds["thanos-grpc.yaml"] == "ratio"
    assert kinds["pyrra-connect-latency.yaml"] == "events"  # native histogram, through histogram_fraction


def _doc_rows() -> dict[str, list[list[str]]]:
    text = (ROOT / "docs" / "migrating.md").read_text()
    section = text.split("## Pyrra's windows and ours", 1)[1].split("\n#", 1)[0]
    rows: dict[str, list[list[str]]] = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and re.fullmatch(r"\d+[dw]", cells[0]):
            rows.setdefault(cells[0], []).append(cells[1:])
    return rows


def test_docs_set_pyrra_windows_and_burn_rates_next_to_ours_for_every_example_period():
    periods = {yaml.safe_load_all(p.read_text()).__next__()["spec"]["window"] for p in examples()}
    rows = _doc_rows()
    assert {durations.to_text(durations.parse(p)) for p in periods} == \
        {durations.to_text(durations.parse(p)) for p in rows}
    for period_text, table in rows.items():
        period = durations.parse(period_text)
        ours = plan.tiers(period, Decimal("0.001"), Settings(), {"page", "ticket"})
        expected = [[tier, durations.to_text(long), durations.to_text(short), str(factor),
                     durations.to_text(p.long), durations.to_text(p.short), plan.number(p.burn_rate)]
                    for (tier, long, short, factor), p in zip(pyrra_windows(period), ours)]
        assert table == expected, period_text
