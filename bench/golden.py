"""Sloth's own generated rules, the baseline of the evaluation benchmark.

Sloth's golden output for its getting-started example (the conformance corpus of ../shared, made by
Sloth itself) and the Sloth spec it came from are copied to as many services as the benchmark runs,
by renaming the service: the job its selectors read, its `sloth_id` and `sloth_service`, and the
labels that carry the name. `slo compile` reads the renamed specs through the Sloth reader, so both
rule sets come from the same spec, each copy over its own raw series.
"""

from pathlib import Path

import yaml

SPEC = Path("conformance/sloth/examples/getting-started.yml")
GOLDEN = Path("conformance/sloth/examples/_gen/getting-started.yml")
ORIGINAL = "myservice"  # the name the example's service, job, sloth_id and repo label share
WINDOW = "sloth_window"
IDENTITY = "sloth_id"


class Unfaithful(Exception):
    """A renamed copy that is not the original under a one-to-one rename."""


def default_shared() -> Path:
    return Path(__file__).resolve().parents[1].parent / "shared"


def rename(text: str, name: str) -> str:
    """`text` with the example's service renamed to `name`, checked to be faithful: renaming back
    gives the original, and neither name occurs where the other should, so every selector and label
    that carried the old name carries the new one and nothing else changed."""
    copy = text.replace(ORIGINAL, name)
    if name in text or ORIGINAL in copy or copy.replace(name, ORIGINAL) != text:
        raise Unfaithful(f"renaming {ORIGINAL!r} to {name!r} is not one-to-one")
    return copy


def read(shared: Path) -> tuple[str, str]:
    """(Sloth spec, Sloth's golden rules) of the getting-started example."""
    return (shared / SPEC).read_text(), (shared / GOLDEN).read_text()


def groups(golden: str, name: str, interval: str) -> list[dict]:
    """The rule groups of one renamed copy, every group evaluated at `interval`."""
    return [{**g, "interval": interval} for g in yaml.safe_load(rename(golden, name))["groups"]]


def write_specs(spec: str, names: list[str], folder: Path) -> None:
    """One renamed Sloth spec file per copy, for `slo compile`."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / f"{name}.yml").write_text(rename(spec, name))
