"""promtool, through subprocess: the real checker of every rule file and unit test we write."""

import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path


INSTALL_HINT = ("promtool not found: install Prometheus' tools (Debian/Ubuntu: apt-get install prometheus) "
                "or put promtool on PATH")


class Missing(Exception):
    pass


@dataclass(frozen=True)
class Result:
    args: tuple[str, ...]
    ok: bool
    output: str


def binary() -> str:
    found = shutil.which("promtool")
    if found is None:
        raise Missing(INSTALL_HINT)
    return found


def run(runs: list[list[str]], cwd: Path, jobs: int) -> Iterator[Result]:
    """Each promtool run, `jobs` at a time, yielded as each finishes."""
    promtool = binary()

    def one(args: list[str]) -> Result:
        result = subprocess.run([promtool, *args], cwd=cwd, capture_output=True, text=True, timeout=3600)
        return Result(tuple(args), result.returncode == 0, (result.stdout + result.stderr).strip())

    with ThreadPoolExecutor(jobs) as pool:
        for future in as_completed([pool.submit(one, args) for args in runs]):
            yield future.result()


def timed(results: Iterator[Result], total: int, report: Callable[[str], None],
          every: float = 5.0) -> tuple[list[Result], float]:
    """(all results, seconds taken), reporting `done/total files, elapsed` at most every `every` seconds."""
    start = last = time.monotonic()
    out = []
    for result in results:
        out.append(result)
        now = time.monotonic()
        if now - last >= every and len(out) < total:
            report(f"{len(out)}/{total} files, {now - start:.0f}s")
            last = now
    return out, time.monotonic() - start
