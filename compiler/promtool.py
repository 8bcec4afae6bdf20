"""promtool, through subprocess: the real checker of every rule file and unit test we write."""

import shutil
import subprocess
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
    failures = []
    for args in (["check", "rules", *rules], ["test", "rules", *test_files] if test_files else None):
        if args:
            ok, output = _run(args, out)
            if not ok:
                failures.append(output)
    return failures


