"""Git repositories for tests of `slo diff`: slos/ and a settings file, committed on branch main."""

import copy
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

GIT = ("git", "-c", "user.name=Test", "-c", "user.email=test@example.com", "-c", "commit.gpgsign=false")

AVAILABILITY = {"name": "availability", "objective": 99.9, "sli": {"ratio": {
    "errors": 'http_requests_total{job="checkout", code=~"5.."}', "total": 'http_requests_total{job="checkout"}'}}}
LATENCY = {"name": "latency", "objective": 99, "sli": {"latency": {
    "histogram": 'http_request_duration_seconds{job="checkout"}', "threshold": "300ms"}}}
PROBE = {"name": "probe", "objective": 99.5, "sli": {"bool": {"metric": 'probe_success{job="blackbox"}'}}}


def checkout(*slos: dict) -> dict:
    return {"service": "checkout", "owner": "team-payments", "labels": {"tier": "1"},
            "slos": [copy.deepcopy(s) for s in slos or (AVAILABILITY, LATENCY)]}


class Repo:
    """A git repository with slos/ and a settings file, committed on branch main."""

    def __init__(self, root: Path, slo):
        self.root, self.slos, self.settings, self.run = root, root / "slos", root / "slo-settings.yaml", slo
        if shutil.which("git") is None:
            pytest.fail("git is needed: run `make test` (installs it as root) or apt-get install git")
        self.slos.mkdir(parents=True)
        self.git("init", "-q", "-b", "main")

    def git(self, *args: str) -> str:
        return subprocess.run([*GIT, "-C", str(self.root), *args], check=True, capture_output=True,
                              text=True).stdout

    def write(self, spec: dict) -> None:
        (self.slos / f"{spec['service']}.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))

    def commit(self, message: str = "change") -> None:
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", message)

    def diff(self, *args: str, base: str = "main"):
        return self.run("diff", base, "--slos", self.slos, "--settings", self.settings, *args)

    def markdown(self, *args: str) -> str:
        result = self.diff(*args)
        assert (result.code, result.err) == (0, ""), result.err
        return result.out


@pytest.fixture
def repo(tmp_path, slo) -> Repo:
    r = Repo(tmp_path / "repo", slo)
    r.write(checkout())
    r.commit("base")
    return r
