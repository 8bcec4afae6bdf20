"""The SLO specs and settings as they are at a git ref, copied out of git's object store.

Only objects are read (`git rev-parse`, `git ls-tree`, `git cat-file`): the working tree, the index
and HEAD are never touched, so `slo diff` is safe in the middle of an edit.
"""

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from .load import SPEC_SUFFIXES

_BLOB_MODES = {"100644", "100755"}


class Refused(Exception):
    """Wrong usage: the folder is not in a git repository, or the ref names no commit."""


class Missing(Exception):
    """git is not installed."""


@dataclass(frozen=True)
class Snapshot:
    ref: str
    commit: str
    slos: Path  # a temporary folder with the spec files of that commit
    settings: Path  # the settings file of that commit; absent when the commit has none


def _git(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    binary = shutil.which("git")
    if binary is None:
        raise Missing("git not found: install git (Debian/Ubuntu: apt-get install git) or put it on PATH")
    return subprocess.run([binary, "-C", str(cwd), *args], capture_output=True, timeout=60)


def _reason(result: subprocess.CompletedProcess) -> str:
    lines = result.stderr.decode(errors="replace").strip().splitlines()
    return lines[-1].removeprefix("fatal: ") if lines else f"git exited with {result.returncode}"


def _existing(path: Path) -> Path:
    """The folder itself, or its nearest ancestor that exists (a folder deleted since BASE is valid)."""
    while not path.is_dir() and path != path.parent:
        path = path.parent
    return path


def toplevel(path: Path) -> Path:
    result = _git(_existing(path), "rev-parse", "--show-toplevel")
    if result.returncode:
        raise Refused(f"{path} is not inside a git repository ({_reason(result)})")
    return Path(result.stdout.decode().strip()).resolve()


def commit(top: Path, ref: str) -> str:
    result = _git(top, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}")
    if not ref or result.returncode:
        raise Refused(f"{ref!r} is not a commit in the repository at {top} (a shallow clone may lack it: "
                      f"fetch it first)")
    return result.stdout.decode().strip()


def _inside(path: Path, top: Path) -> str | None:
    """`path` relative to the repository root, in git's spelling, or None when it lies outside."""
    try:
        return path.relative_to(top).as_posix()
    except ValueError:
        return None


def _tree(commit: str, rel: str) -> str:
    """git's name of a folder at a commit: `<commit>:<path>`, `<commit>:` for the root."""
    return f"{commit}:{'' if rel == '.' else rel}"


def _blob(top: Path, oid: str) -> bytes:
    result = _git(top, "cat-file", "blob", oid)
    if result.returncode:
        raise Refused(f"cannot read object {oid}: {_reason(result)}")
    return result.stdout


def _entries(top: Path, treeish: str) -> list[tuple[str, str, str]]:
    """(mode, object id, name) of each entry of a tree; none when the path is no folder at that commit."""
    result = _git(top, "ls-tree", "-z", treeish)
    if result.returncode:
        return []
    entries = []
    for record in result.stdout.decode().split("\0"):
        if record:
            meta, name = record.split("\t", 1)
            mode, _, oid = meta.split(" ")
            entries.append((mode, oid, name))
    return entries


def snapshot(ref: str, slos_dir: Path, settings_file: Path, into: Path) -> Snapshot:
    """Write the spec files of `slos_dir` and the settings file as of `ref` under `into`.

    The specs keep their folder's name, so that problems and sources read `slos/payments.yaml` on both
    sides. A settings file outside the repository is not versioned: both sides use it as it is.
    """
    slos_dir, settings_file = slos_dir.resolve(), settings_file.resolve()
    top = toplevel(slos_dir)
    found = commit(top, ref)
    rel = _inside(slos_dir, top)
    if rel is None:
        raise Refused(f"{slos_dir} is not inside the repository at {top}")
    specs = into / slos_dir.name
    specs.mkdir(parents=True)
    for mode, oid, name in _entries(top, _tree(found, rel)):
        if mode in _BLOB_MODES and name.endswith(SPEC_SUFFIXES):
            (specs / name).write_bytes(_blob(top, oid))
    settings_rel = _inside(settings_file, top)
    if settings_rel is None:
        return Snapshot(ref, found, specs, settings_file)
    settings = into / "settings" / settings_file.name
    entry = [e for e in _entries(top, _tree(found, Path(settings_rel).parent.as_posix()))
             if e[2] == settings_file.name and e[0] in _BLOB_MODES]
    if entry:
        settings.parent.mkdir()
        settings.write_bytes(_blob(top, entry[0][1]))
    return Snapshot(ref, found, specs, settings)


def file_at(ref: str, path: Path) -> bytes | None:
    """The bytes of a file as of `ref`; None when that commit has no such file."""
    path = path.resolve()
    top = toplevel(path.parent)
    found = commit(top, ref)
    rel = _inside(path, top)
    if rel is None:
        raise Refused(f"{path} is not inside the repository at {top}")
    result = _git(top, "cat-file", "blob", f"{found}:{rel}")
    return None if result.returncode else result.stdout
