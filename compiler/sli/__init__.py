"""SLI kinds: each kind is one module of this package, registered in `KINDS`.

A kind holds all that depends on how its SLI is measured: its spec fields, its error and total
rates over a window, the synthetic traffic the generated tests feed it, its own lint checks and
its dashboard unit. Windows, tiers, alerts and dashboards are the same for every kind and reach a
kind only through `Kind`.

A new kind is a module here defining `KIND`, named in `BUILTIN` (whose order is the spec's), or a
`Kind` registered with `register` before `compiler.spec` is imported: the spec's `sli` models are
built from this registry, so the spec accepts exactly the registered kinds.
"""

import abc
import importlib
from dataclasses import dataclass
from typing import Callable, Iterator, NamedTuple, Protocol

from pydantic import BaseModel

BUILTIN = ("ratio", "latency", "bool", "events", "raw")


class Rates(NamedTuple):
    """An SLI's PromQL over one window, by its group labels."""

    errors: str
    total: str
    errors_may_be_absent: bool  # an error counter often has no series before the first error


@dataclass(frozen=True)
class Check:
    """A finding of a kind's own lint check, at `path` under the SLO's `sli.<kind>`."""

    path: tuple
    severity: str
    code: str
    message: str
    fix: str


class Server(Protocol):
    def query(self, expr: str) -> list[dict]: ...


# A synthetic input series: labels, its value (or increase) in each phase, whether it is a counter.
Series = tuple[dict[str, str], list, bool]
# `each(per_ratio, quiet)`: per series, its value in each phase, where `per_ratio(ratio)` gives one
# value per series at an error ratio and `quiet` is its value in a phase without events.
Each = Callable[[Callable, object], list[list]]


class Kind(abc.ABC):
    name: str  # its key under `sli:` in the spec
    spec: type[BaseModel]  # its fields
    rate_unit: str  # the Grafana unit of its events per second
    queries: tuple[tuple, tuple]  # the fields, under `sli.<kind>`, of its errors and total expressions
    counts_samples: bool = False  # each sample is an event: a window has one more, and no rate to wait for
    gives_ratio: bool = False  # `errors` is the error ratio itself, and `total` one event per sample

    @abc.abstractmethod
    def rates(self, sli: BaseModel, window: str, by: tuple[str, ...]) -> Rates:
        """Errors and total over `window` (a duration such as 5m), summed by the labels `by`."""

    @abc.abstractmethod
    def synthetic(self, sli: BaseModel, by: tuple[str, ...], each: Each) -> tuple[list[Series], tuple[str, ...]]:
        """(input series that the SLI reads, their group labels) for the generated tests;
        `synthetic.Unsupported` when its queries are beyond what synthetic input can follow."""

    def checks(self, sli: BaseModel, by: tuple[str, ...]) -> Iterator[Check]:
        """Findings that only this kind can have."""
        return iter(())

    def live(self, sli: BaseModel, server: Server, lookback: str) -> list[Check] | None:
        """Findings against a running Prometheus in place of the generic check that each selector
        matches series in the last `lookback`; None to run the generic one."""
        return None


KINDS: dict[str, Kind] = {}
_sealed = False


def register(kind: Kind) -> Kind:
    if _sealed:
        raise RuntimeError(f"SLI kind {kind.name!r} registered after the spec models were built from the registry")
    if kind.name in KINDS:
        raise ValueError(f"SLI kind {kind.name!r} is already registered")
    for attribute in ("name", "spec", "rate_unit", "queries"):
        if not hasattr(kind, attribute):
            raise TypeError(f"SLI kind {type(kind).__name__} lacks {attribute}")
    KINDS[kind.name] = kind
    return kind


def of(name: str) -> Kind:
    """The registered kind; LookupError for any other, never a fallback."""
    try:
        return KINDS[name]
    except KeyError:
        raise LookupError(f"no SLI kind {name!r} is registered") from None


def seal() -> dict[str, type[BaseModel]]:
    """{kind: its spec model} for building the spec; no kind may be registered after."""
    global _sealed
    _sealed = True
    return {name: kind.spec for name, kind in KINDS.items()}


for _module in BUILTIN:
    register(importlib.import_module(f"{__name__}.{_module}").KIND)
