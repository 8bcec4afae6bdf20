"""vmalert, through subprocess: `vmalert -dryRun` reads rule files as vmalert would load them,
with the group keys (`params`) that promtool refuses."""

import shutil
import subprocess
from pathlib import Path

INSTALL_HINT = "vmalert not found: install VictoriaMetrics' tools (Debian/Ubuntu: apt-get install victoria-metrics)"


def binary() -> str | None:
    return shutil.which("vmalert")


def dry_run(paths: list[str], cwd: Path) -> str | None:
    """vmalert's complaint about the rule files, or None when it accepts them all."""
    found = binary()
    if found is None:
        raise FileNotFoundError(INSTALL_HINT)
    result = subprocess.run([found, "-dryRun", *(f"-rule={p}" for p in paths)], cwd=cwd, capture_output=True,
                            text=True, timeout=600)
    if result.returncode == 0:
        return None
    # Its log lines are "time<TAB>level<TAB>source<TAB>message"; the fatal one says why.
    lines = [line.split("\t")[-1] for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    return next((line for line in reversed(lines) if line), f"exit code {result.returncode}")
