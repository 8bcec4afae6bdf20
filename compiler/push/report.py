"""What a push did, or would do: one line per change, each failure named, one summary line."""

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from .http import Denied, Failure

CREATED, UPDATED, DELETED, UNCHANGED, FAILED = "created", "updated", "deleted", "unchanged", "failed"
ACTIONS = (CREATED, UPDATED, DELETED, UNCHANGED, FAILED)
CHANGES = (CREATED, UPDATED, DELETED)
_PLANNED = {CREATED: "to create", UPDATED: "to update", DELETED: "to delete"}
_WOULD = {CREATED: "would create", UPDATED: "would update", DELETED: "would delete"}

Task = tuple[str, Callable[[], str]]  # (what it is about, work that returns the action taken)


@dataclass(frozen=True)
class Outcome:
    action: str
    thing: str  # "dashboard slo-payments", "rule group payments/slo_payments_api"
    detail: str = ""  # why it failed


def attempt(thing: str, work: Callable[[], str]) -> Outcome:
    """The outcome of one piece of work. Denied is not caught: no other call would fare better."""
    try:
        return Outcome(work(), thing)
    except Denied:
        raise
    except Failure as exc:
        return Outcome(FAILED, thing, str(exc))


def run(tasks: list[Task], concurrency: int) -> list[Outcome]:
    """Every task, at most `concurrency` at a time, outcomes in the order of the tasks."""
    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        return list(pool.map(lambda task: attempt(*task), tasks))


def changes(outcomes: list[Outcome], dry_run: bool) -> list[str]:
    """One line per change made (or planned, in a dry run); unchanged objects are not listed."""
    verbs = _WOULD if dry_run else {a: a for a in _WOULD}
    return [f"{verbs[o.action]} {o.thing}" for o in outcomes if o.action in verbs]


def failures(target: str, outcomes: list[Outcome]) -> list[str]:
    return [f"{target}: failed: {o.thing}: {o.detail}" for o in outcomes if o.action == FAILED]


def summary(target: str, outcomes: list[Outcome], dry_run: bool) -> str:
    counts = {action: sum(o.action == action for o in outcomes) for action in ACTIONS}
    if dry_run:
        parts = [f"{counts[a]} {_PLANNED.get(a, a)}" for a in ACTIONS]
        return f"{target} (dry run, nothing changed): {', '.join(parts)}"
    return f"{target}: {', '.join(f'{counts[a]} {a}' for a in ACTIONS)}"
