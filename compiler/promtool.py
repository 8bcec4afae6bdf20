"""promtool, through subprocess: the real checker of every rule file and unit test we write."""

import os
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path


INSTALL_HINT = ("promtool not found: install Prometheus' tools (Debian/Ubuntu: apt-get install prometheus) "
                "or put promtool on PATH")


class Missing(Exception):
    pass


def _run(args: list[str], cwd: Path) -> tuple[bool, str]:
    binary = shutil.which("promtool")
    if binary is None:
        raise Missing(INSTALL_HINT)
    result = subprocess.run([binary, *args], cwd=cwd, capture_output=True, text=True, timeout=600)
    return result.returncode == 0, (result.stdout + result.stderr).strip()


def check(out: Path, tests: bool = True) -> list[str]:
    """promtool check rules and (unless `tests` is false) test rules on an output folder; the failures' output."""
    rules = sorted(str(p.relative_to(out)) for p in (out / "prometheus").glob("*.rules.yml"))
    test_files = sorted(str(p.relative_to(out)) for p in (out / "prometheus" / "tests").glob("*.test.yml")) \
        if tests else []
    if not rules:
        return [f"{out}: no rule files under prometheus/; run `slo compile` first"]
    # One promtool per test file, as many at a time as there are cores: the timing tests take seconds each.
    runs = [["check", "rules", *rules]] + [["test", "rules", test] for test in test_files]
    with ThreadPoolExecutor(os.cpu_count() or 1) as pool:
        return [output for ok, output in pool.map(lambda args: _run(args, out), runs) if not ok]


