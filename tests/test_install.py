"""Getting `slo` onto the PATH: `make install` links it, `./slo` runs it from anywhere, and `make
compile` installs only what compiling needs."""

import subprocess

from conftest import ROOT


def test_make_install_links_the_checkouts_slo_into_bindir(tmp_path):
    subprocess.run(["make", "-s", "install", f"BINDIR={tmp_path}"], cwd=ROOT, check=True, capture_output=True)
    assert (tmp_path / "slo").resolve() == (ROOT / ".venv" / "bin" / "slo").resolve()
    version = subprocess.run([tmp_path / "slo", "--version"], capture_output=True, text=True, check=True)
    assert version.stdout.startswith("slo ")


def test_the_wrapper_runs_the_checkouts_slo_in_the_current_folder(tmp_path):
    (tmp_path / "slos").mkdir()
    (tmp_path / "slos" / "shop.yaml").write_text(
        "service: shop\nslos:\n  - name: up\n    objective: 99\n    sli:\n      bool:\n        metric: up\n")
    done = subprocess.run([ROOT / "slo", "compile"], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "output" / "prometheus" / "shop.rules.yml").is_file()
    refused = subprocess.run([ROOT / "slo", "explain", "shop/down"], cwd=tmp_path, capture_output=True, text=True)
    assert refused.returncode == 1 and "shop/down" in refused.stderr


def test_compile_installs_no_test_extras_and_test_does(tmp_path):
    def plan(target: str) -> str:
        return subprocess.run(["make", "-n", target, f"VENV={tmp_path / 'venv'}"], cwd=ROOT,
                              capture_output=True, text=True, check=True).stdout
    compile_installs = [line for line in plan("compile").splitlines() if "pip install" in line]
    test_installs = [line for line in plan("test").splitlines() if "pip install" in line]
    assert len(compile_installs) == 1 and compile_installs[0].endswith(" -e .")
    assert any(line.endswith("-e '.[test]'") for line in test_installs)
