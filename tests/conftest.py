import re
import shutil
import time
from pathlib import Path

import pytest

import realprom
from compiler import pipeline, write
from compiler.cli import main

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"


RETRYING = re.compile(r"; retry \d+ of \d+ in [\d.]+s$")


class Result:
    def __init__(self, code: int, out: str, err: str):
        self.code, self.out, self.err = code, out, err
        self.lines = err.splitlines()
        self.reported = [line for line in self.lines if not RETRYING.search(line)]  # less the progress of retries


@pytest.fixture
def slo(capsys):
    """Run the `slo` command line in-process; returns exit code, stdout and stderr."""
    def run(*args: str) -> Result:
        try:
            code = main([str(a) for a in args])
        except SystemExit as exc:  # argparse usage errors and --help
            code = exc.code
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)
    return run


@pytest.fixture(scope="session")
def promtool() -> str:
    path = shutil.which("promtool")
    if path is None:
        pytest.fail("promtool is needed: run `make test` (installs it as root) or apt-get install prometheus")
    return path


def tree(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` with its bytes, for comparing whole outputs."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def write_spec(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text)
    return path


@pytest.fixture(scope="session")
def slo_prometheus(tmp_path_factory, promtool):
    """A real Prometheus running the rules compiled from slos/ over two hours of backfilled history
    (realprom.synthetic_history), evaluating every second; yields (server, plan, output folder)."""
    work = tmp_path_factory.mktemp("prometheus")
    settings = write_spec(work, "slo-settings.yaml", "rule_interval: 1s\n")
    the_plan = pipeline.build_plan(ROOT / "slos", settings)
    write.write(work / "output", pipeline.render(the_plan))
    realprom.backfill(promtool, realprom.synthetic_history(the_plan, int(time.time()) - 30), work / "data")
    rule_files = sorted((work / "output" / "prometheus").glob("*.rules.yml"))
    with realprom.running(work, rule_files, work / "data") as server:
        time.sleep(5)  # a few evaluations of every group at 1s
        yield server, the_plan, work / "output"
