"""Every YAML and shell example of README.md and docs/*.md is exercised, so the docs cannot drift.

What a fenced block's info string means (docs/testing.md says the same for writers):

- `yaml`: a spec, compiled on its own; a first line `# slo-settings.yaml` makes it a settings file,
  compiled with the test specs (tests/data/slos); a first line `# slos/NAME.yaml` also puts it into
  the page's scratch repository, where the page's shell examples that follow run;
- `sh`: every command is run in that scratch repository (the test settings, all defaults, and the
  specs the page wrote) when it is an `slo` command that needs no server, else parsed: `slo`
  arguments against the CLI's parser, `make` targets with `make -n`, `python -m bench` against the
  bench's parser, `git` subcommands, and `source` needs its file;
- `output`: what the last command of the shell block before it prints; a line `...` stands for any
  number of lines;
- a second word `not-run` (```` ```sh not-run ````) shows a block without exercising it: the text
  around it says why.
"""

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from markdown_it import MarkdownIt

from bench.__main__ import parser as bench_parser
from compiler.cli import parser as slo_parser
from conftest import ROOT, SETTINGS, SLOS

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
NEEDS_SERVER = re.compile(r"https?://|^push$|^--prometheus(-dir)?$|^--reload-url$")
SEPARATORS = {"&&", "||", ";", "|"}


def blocks(page: Path) -> list[tuple[int, str, list[str], str]]:
    """(line, language, other info words, content) of every fenced block of a page."""
    found = []
    for token in MarkdownIt().parse(page.read_text()):
        if token.type == "fence":
            language, *words = token.info.split() or [""]
            found.append((token.map[0] + 1, language, words, token.content))
    return found


def commands(script: str) -> list[list[str]]:
    """The simple commands of a shell script, without comments, redirections and variable assignments."""
    result = []
    for line in script.replace("\\\n", " ").splitlines():
        lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|<>")
        lexer.whitespace_split, lexer.commenters = True, "#"
        current, tokens = [], iter(lexer)
        for token in tokens:
            if token in SEPARATORS:
                result.append(current)
                current = []
            elif token in (">", ">>", "<"):
                next(tokens)
            elif current or not re.fullmatch(r"[A-Z_]+=.*", token):
                current.append(token)
        result.append(current)
    return [c for c in result if c]


def runnable(command: list[str]) -> bool:
    return command[0] == "slo" and not any(NEEDS_SERVER.search(arg) for arg in command[1:])


def _accepts(parser, args: list[str]) -> None:
    try:
        parser.parse_args(args)
    except SystemExit as exc:  # --help and --version stop after printing; usage errors exit 2
        assert exc.code == 0, f"{parser.prog} refuses {args}"


def parse(command: list[str]) -> None:
    """Fails unless the command is one the project or the system knows, with arguments it accepts."""
    program, args = command[0], command[1:]
    if program == "slo":
        _accepts(slo_parser(), args)
    elif program == "make":
        targets = [a for a in args if not a.startswith("-")]
        subprocess.run(["make", "-n", *targets], cwd=ROOT, check=True, capture_output=True)
    elif program.endswith("python") and args[:2] == ["-m", "bench"]:
        _accepts(bench_parser(), args[2:])
    elif program == "git":
        usage = subprocess.run(["git", args[0], "-h"], capture_output=True, text=True)
        assert f"usage: git {args[0]}" in usage.stdout + usage.stderr, command  # some print it on stderr
    elif program == "amtool":
        subprocess.run(["amtool", args[0], "--help"], check=True, capture_output=True)
    elif program == "vmalert":
        known = subprocess.run(["vmalert", "-help"], capture_output=True, text=True).stdout
        flags = [a.lstrip("-").split("=")[0] for a in args if a.startswith("-")]
        assert all(re.search(rf"^  -{re.escape(f)}\b", known, re.M) for f in flags), command
    elif program == "source":
        assert (ROOT / args[0]).exists(), command
    else:
        pytest.fail(f"no way to check `{shlex.join(command)}`: mark the block not-run or teach this test")


def matches(expected: str, actual: str) -> bool:
    """The expected lines in order, `...` standing for any number of actual lines."""
    pattern = "".join(".*?\n" if line == "..." else re.escape(line) + r"\n" for line in expected.splitlines())
    return re.fullmatch(pattern.replace(".*?\n", "(?:.*\n)*?"), actual) is not None


def examples() -> list:
    return [pytest.param(page, id=str(page.relative_to(ROOT))) for page in PAGES
            if any(lang in ("yaml", "sh", "output") for _, lang, _, _ in blocks(page))]


@pytest.mark.parametrize("page", examples())
def test_every_example_of_the_page_compiles_runs_or_parses(page, tmp_path, slo):
    scratch = tmp_path / "repo"
    (scratch / "slos").mkdir(parents=True)
    shutil.copy(SETTINGS, scratch)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    last_output = None
    for line, language, words, content in blocks(page):
        where = f"{page.relative_to(ROOT)}:{line}"
        if "not-run" in words:
            continue
        if language == "yaml":
            first = content.splitlines()[0]
            if first == "# alertmanager.yml":  # not ours to compile: the page's commands read it
                yaml.safe_load(content)
                (scratch / "alertmanager.yml").write_text(content)
                continue
            named = re.fullmatch(r"# (slo-settings\.yaml|slos/[a-z0-9-]+\.yaml)", first)
            alone = tmp_path / f"block{line}"
            if named and named.group(1) == "slo-settings.yaml":
                shutil.copytree(SLOS, alone / "slos")
                (alone / "slo-settings.yaml").write_text(content)
            else:
                (alone / "slos").mkdir(parents=True)
                (alone / "slos" / "example.yaml").write_text(content)
                (alone / "slo-settings.yaml").write_text("")
            result = slo("compile", "--slos", alone / "slos", "--out", alone / "output",
                         "--settings", alone / "slo-settings.yaml")
            assert result.code == 0, f"{where}: {result.err}"
            if named:
                (scratch / named.group(1)).write_text(content)
        elif language == "sh":
            for command in commands(content):
                parse(command)
            for script in content.splitlines():
                todo = commands(script)
                if todo and all(runnable(c) for c in todo):
                    done = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=scratch, env=env,
                                          capture_output=True, text=True, timeout=300)
                    assert done.returncode == 0, f"{where}: `{script}` exited {done.returncode}: {done.stderr}"
                    last_output = done.stdout
        elif language == "output":
            assert last_output is not None, f"{where}: an output block follows no command that ran"
            assert matches(content, last_output), f"{where}: the command printed\n{last_output}"


def test_commands_split_as_the_shell_does():
    assert commands('A=1 B="x y" slo push grafana --dry-run  # comment\nslo schema > s.json && make -s diff'
                    ' BASE="origin/$X" | tee f') == [
        ["slo", "push", "grafana", "--dry-run"], ["slo", "schema"], ["make", "-s", "diff", "BASE=origin/$X"],
        ["tee", "f"]]


def test_output_blocks_match_line_by_line_with_gaps():
    assert matches("a\n...\nd\n", "a\nb\nc\nd\n")
    assert matches("a\n...\nd\n", "a\nd\n")
    assert not matches("a\nd\n", "a\nb\nd\n")
    assert not matches("a\n...\nd\n", "a\nb\nd\ne\n")


def test_every_unparsable_command_fails():
    with pytest.raises(AssertionError):
        parse(["slo", "explian", "shop/checkout"])
    with pytest.raises(AssertionError):
        parse(["python", "-m", "bench", "--only", "everything"])
    with pytest.raises(subprocess.CalledProcessError):
        parse(["make", "no-such-target"])
    with pytest.raises(pytest.fail.Exception):
        parse(["kubectl", "apply", "-f", "output/kubernetes/"])
