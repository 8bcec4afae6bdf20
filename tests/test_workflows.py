"""The example GitHub workflows: valid against GitHub's workflow schema (check-jsonschema ships it, so no
network is needed), every `slo` command in them a valid command line, and secrets only from settings."""

import re
import shlex
import subprocess
import sys

import yaml

from compiler import cli
from conftest import ROOT

WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
SLO_COMMAND = re.compile(r"\.venv/bin/slo ([^|&;>\n]+)")


def lint(*paths) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows",
                           *map(str, paths)], capture_output=True, text=True)


def workflow(name: str) -> dict:
    data = yaml.safe_load((ROOT / ".github" / "workflows" / name).read_text())
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads the key `on` as true
    return data


def steps(data: dict) -> list[dict]:
    return [step for job in data["jobs"].values() for step in job["steps"]]


def test_there_is_a_pull_request_and_a_deploy_workflow():
    assert [p.name for p in WORKFLOWS] == ["slo-deploy.yml", "slo-pull-request.yml"]


def test_workflows_follow_the_github_workflow_schema():
    result = lint(*WORKFLOWS)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_check_rejects_a_broken_workflow(tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text("name: x\non: pull-request\njobs:\n  a:\n    steps:\n      - run: true\n")
    result = lint(broken)
    assert result.returncode == 1 and "broken.yml" in result.stdout


def test_every_slo_command_in_the_workflows_is_a_valid_command_line():
    parser = cli.parser()
    parsed = []
    for path in WORKFLOWS:
        for command in SLO_COMMAND.findall(path.read_text()):
            argv = shlex.split(command)
            args = parser.parse_args(argv)  # exits 2, failing the test, on a wrong command or option
            parsed.append(" ".join(argv[:2]) if args.command == "push" else argv[0])
    assert {"check", "diff", "push grafana", "push rules"} <= set(parsed)


def test_pull_requests_are_checked_and_main_is_deployed_with_secrets_from_settings():
    pull_request, deploy = workflow("slo-pull-request.yml"), workflow("slo-deploy.yml")
    assert "pull_request" in pull_request["on"] and deploy["on"]["push"]["branches"] == ["main"]
    env = {k: v for step in steps(deploy) for k, v in step.get("env", {}).items()}
    assert env["GRAFANA_TOKEN"] == "${{ secrets.GRAFANA_TOKEN }}" and env["RULER_TOKEN"] == "${{ secrets.RULER_TOKEN }}"
    assert deploy["permissions"] == {"contents": "read"}
    # Workflow expressions are never spliced into shell code, where a branch name could inject commands.
    assert not [s["run"] for wf in (pull_request, deploy) for s in steps(wf) if "${{" in s.get("run", "")]


def test_a_pull_request_that_changes_the_compiler_or_its_tests_runs_make_test():
    pull_request = workflow("slo-pull-request.yml")
    assert {"compiler/**", "tests/**"} <= set(pull_request["on"]["pull_request"]["paths"])
    changes, tests = pull_request["jobs"]["changes"], pull_request["jobs"]["tests"]
    [diff] = [s for s in changes["steps"] if s.get("id") == "diff"]
    assert "-- compiler tests " in diff["run"] and changes["outputs"]["code"] == "${{ steps.diff.outputs.code }}"
    assert tests["needs"] == "changes" and tests["if"] == "needs.changes.outputs.code == 'true'"
    assert [s["run"] for s in tests["steps"] if "run" in s][-1] == "make test"
