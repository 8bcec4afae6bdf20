"""Compile time of a large SLO repository against the floor of parsing and serialising the same data.

Ours is `slo compile` end to end in its own process (interpreter start, imports, load, validate,
plan, render, promql checks, write). The floor is what no compiler of these files can avoid:
parsing the same spec files with PyYAML's C loader and serialising the same output data with
PyYAML's C dumper and json (runbooks, which are text, only encoded), timed in this process.
"""

import cProfile
import io
import json
import os
import pstats
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

_LOADER, _DUMPER = yaml.CSafeLoader, yaml.CSafeDumper


@dataclass
class Timing:
    wall: float
    cpu: float


def compile_once(slos: Path, out: Path) -> tuple[Timing, int]:
    """(time, peak resident memory in bytes) of one `slo compile` process."""
    settings = slos.parent / "no-settings.yaml"
    start = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "compiler", "compile", "--slos", str(slos),
                                "--out", str(out), "--settings", str(settings)])
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        raise RuntimeError(f"slo compile failed with exit code {process.returncode}")
    return Timing(wall, usage.ru_utime + usage.ru_stime), usage.ru_maxrss * 1024


def _outputs(out: Path) -> list[tuple[str, object]]:
    """The data of every output file, read back so that the floor serialises exactly the same."""
    data = []
    for path in sorted(p for p in out.rglob("*") if p.is_file()):
        text = path.read_text()
        if path.suffix == ".json":
            data.append((path.suffix, json.loads(text)))
        elif path.suffix in (".yml", ".yaml"):
            data.append((path.suffix, yaml.load(text, Loader=_LOADER)))
        else:  # runbooks: text, whose serialisation is its encoding
            data.append((path.suffix, text))
    return data


def floor_once(slos: Path, outputs: list[tuple[str, object]]) -> Timing:
    texts = [p.read_text() for p in sorted(slos.iterdir())]
    start, cpu = time.perf_counter(), time.process_time()
    for text in texts:
        yaml.load(text, Loader=_LOADER)
    for suffix, data in outputs:
        if suffix == ".json":
            json.dumps(data, indent=2, sort_keys=True)
        elif isinstance(data, str):
            data.encode()
        else:
            yaml.dump(data, Dumper=_DUMPER, sort_keys=False, allow_unicode=True, width=1 << 16)
    return Timing(time.perf_counter() - start, time.process_time() - cpu)


def measure(slos: Path, out: Path, repeats: int, progress) -> tuple[Timing, Timing, int, int]:
    """Best of `repeats` of each, alternated: (ours, floor, peak memory, output bytes)."""
    ours, floor, peak, outputs = [], [], 0, None
    for i in range(repeats):
        timing, memory = compile_once(slos, out)
        ours.append(timing)
        peak = max(peak, memory)
        if outputs is None:
            outputs = _outputs(out)
        floor.append(floor_once(slos, outputs))
        progress(f"  run {i + 1}/{repeats}: compile {timing.wall:.2f}s wall {timing.cpu:.2f}s CPU, "
                 f"floor {floor[-1].wall:.2f}s wall {floor[-1].cpu:.2f}s CPU")
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    best = (Timing(min(t.wall for t in ours), min(t.cpu for t in ours)),
            Timing(min(t.wall for t in floor), min(t.cpu for t in floor)))
    return best[0], best[1], peak, size


def profile(slos: Path, out: Path, top: int = 25) -> str:
    """The functions where an in-process compile spends its time, by their own time."""
    from compiler import cli
    profiler = cProfile.Profile()
    profiler.enable()
    cli.main(["compile", "--slos", str(slos), "--out", str(out), "--settings", str(slos.parent / "no-settings.yaml")])
    profiler.disable()
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(top)
    return text.getvalue()
