"""A real Prometheus (Debian package): backfilled, on a free port of 127.0.0.1, always stopped."""

import contextlib
import json
import shutil
import socket
import struct
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Callable, Iterator


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(url: str, process: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{url} did not become ready:\n{log.read_text()[-2000:]}")
            time.sleep(0.2)


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def backfill(promtool: str, openmetrics: str, data: Path, days_per_run: int | None = None) -> None:
    """Write TSDB blocks from OpenMetrics text (`promtool tsdb create-blocks-from openmetrics`).

    promtool re-reads the whole input for every 2h block it writes, so weeks of history go in runs
    of `days_per_run` days each, side by side (their blocks do not overlap: blocks align to 2h).
    """
    parts: dict[int, list[str]] = {}
    for line in openmetrics.splitlines():
        if line != "# EOF":
            part = int(line.rsplit(" ", 1)[1]) // (days_per_run * 86400) if days_per_run else 0
            parts.setdefault(part, []).append(line)
    runs = []
    for part, lines in sorted(parts.items()):
        source = data.parent / f"{data.name}.{part}.om"
        source.write_text("\n".join(lines) + "\n# EOF\n")
        runs.append(subprocess.Popen([promtool, "tsdb", "create-blocks-from", "openmetrics", str(source), str(data)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
    for run in runs:
        _, err = run.communicate()
        if run.returncode:
            raise RuntimeError(f"promtool could not backfill {data}: {err.decode()}")


class Prometheus:
    def __init__(self, base: str):
        self.base = base

    def get(self, path: str, **params) -> dict:
        url = f"{self.base}{path}?{urllib.parse.urlencode(params)}" if params else f"{self.base}{path}"
        with urllib.request.urlopen(url, timeout=30) as response:
            return json.load(response)

    def query(self, expr: str, **params) -> list[dict]:
        body = self.get("/api/v1/query", query=expr, **params)
        assert body["status"] == "success", body
        return body["data"]["result"]


@contextlib.contextmanager
def serving(command: Callable[[str], list[str]], log_path: Path, ready: str) -> Iterator[str]:
    """The process `command(address)` listening at `address`, a free port of 127.0.0.1, its output in
    `log_path`; yields its base URL once the path `ready` answers, and stops it on exit whatever happens."""
    address = f"127.0.0.1:{free_port()}"
    with log_path.open("w") as log:
        process = subprocess.Popen(command(address), stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_ready(f"http://{address}{ready}", process, log_path)
            yield f"http://{address}"
        finally:
            stop(process)


@contextlib.contextmanager
def running(work: Path, rule_files: list[Path], data: Path, extra_config: dict | None = None,
            extra_args: tuple[str, ...] = (), retention: str = "30d") -> Iterator[Prometheus]:
    """Prometheus with these rule files over the TSDB at `data`, stopped on exit whatever happens."""
    binary = shutil.which("prometheus")
    if binary is None:
        raise RuntimeError("prometheus is needed: run `make test` (installs it as root) or apt-get install "
                           "prometheus")
    config = work / "prometheus.yml"
    config.write_text(json.dumps({"rule_files": [str(p) for p in rule_files], **(extra_config or {})}))
    with serving(lambda address: [binary, f"--config.file={config}", f"--storage.tsdb.path={data}",
                                  f"--web.listen-address={address}", f"--storage.tsdb.retention.time={retention}",
                                  *extra_args], work / "prometheus.log", "/-/ready") as base:
        yield Prometheus(base)


# Remote write (protobuf, snappy), for history that promtool would cut into thousands of 2h blocks:
# a Prometheus started with REMOTE_WRITE_ARGS keeps months in its head, where queries read it at once.
REMOTE_WRITE_ARGS = ("--web.enable-remote-write-receiver", "--storage.tsdb.min-block-duration=400d",
                     "--storage.tsdb.max-block-duration=400d")


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
    """A length-delimited protobuf field."""
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _snappy(data: bytes) -> bytes:
    """Snappy's block format with the data as one literal: valid, if not smaller."""
    return _varint(len(data)) + bytes([63 << 2]) + (len(data) - 1).to_bytes(4, "little") + data


def remote_write(base: str, series: dict[tuple[tuple[str, str], ...], list[tuple[int, float]]]) -> None:
    """Send {sorted labels, `__name__` included: [(ms, value)]} to Prometheus' remote write receiver."""
    request = b""
    for labels, samples in series.items():
        body = b"".join(_field(1, _field(1, k.encode()) + _field(2, v.encode())) for k, v in sorted(labels))
        body += b"".join(_field(2, b"\x09" + struct.pack("<d", value) + b"\x10" + _varint(ms)) for ms, value in samples)
        request += _field(1, body)
    post = urllib.request.Request(f"{base}/api/v1/write", data=_snappy(request), method="POST", headers={
        "Content-Encoding": "snappy", "Content-Type": "application/x-protobuf",
        "X-Prometheus-Remote-Write-Version": "0.1.0"})
    with urllib.request.urlopen(post, timeout=60) as response:
        assert response.status in (200, 204), response.status
