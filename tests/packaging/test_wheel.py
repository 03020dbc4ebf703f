"""Acceptance for the wheel: `pip wheel --no-deps .` holds exactly rollwright/, workflows/, activities/, worker.py
and starter.py (and its dist-info), every file of those (package data included) and nothing of the test and demo
aids; installed alone into a fresh virtualenv, its entry points run from a directory that is not the checkout.

Nothing is downloaded: the wheel is built without build isolation (the dev extra pins the setuptools the build
needs), installed with `--no-index --no-deps`, and the fresh venv reaches the third-party dependencies through a
`.pth` line naming this venv's site-packages, which a `.pth` line only appends to sys.path. So the venv's own copy
of Rollwright comes first, and the checkout (found here through the editable install's import hook, which that
line does not run) is out of reach; the test proves both."""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
PACKAGES = {"rollwright", "workflows", "activities"}
MODULES = {"worker.py", "starter.py"}
AIDS = {"tests", "devstack", "demo", "bench"}
# Not sources: the build works on a copy without them, so no build/ or egg-info lands in (or leaks from) the checkout.
NOT_SOURCES = shutil.ignore_patterns(
    ".venv", ".git", ".demo", "build", "*.egg-info", "__pycache__", "*.pyc", ".*_cache", ".hypothesis", "dist"
)


# Prints `name=origin` for each module named on the command line (`None` when it cannot be imported).
WHERE_FROM = """
import importlib.util, sys
for name in sys.argv[1:]:
    spec = importlib.util.find_spec(name)
    print(f"{name}={spec.origin if spec else None}")
"""


@dataclass(frozen=True)
class Installed:
    python: Path
    bin: Path
    site_packages: Path
    workdir: Path

    def run(self, *argv: str | Path) -> subprocess.CompletedProcess[str]:
        environment = {
            key: value for key, value in os.environ.items() if key not in {"PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME"}
        }
        environment["PATH"] = f"{self.bin}{os.pathsep}{environment['PATH']}"
        return subprocess.run(
            [str(arg) for arg in argv],
            cwd=self.workdir,
            env=environment,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    (requirement,) = [Requirement(r) for r in PYPROJECT["build-system"]["requires"] if r.startswith("setuptools")]
    have = importlib.metadata.version("setuptools")
    assert requirement.specifier.contains(have), (
        f"the build needs {requirement}, this venv has setuptools {have}: run `make tools` (dev extra)"
    )
    source = tmp_path_factory.mktemp("source") / "rollwright"
    shutil.copytree(ROOT, source, ignore=NOT_SOURCES)
    out = tmp_path_factory.mktemp("wheelhouse")
    pip_wheel = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "--quiet"]
    built = subprocess.run(
        [*pip_wheel, str(source), "--wheel-dir", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert built.returncode == 0, built.stderr
    (path,) = out.glob("rollwright-*.whl")
    return path


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Installed:
    venv = tmp_path_factory.mktemp("fresh") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    pip_install = [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index"]
    subprocess.run(
        [*pip_install, "--quiet", str(wheel)],
        check=True,
        timeout=300,
    )
    site_packages = Path(
        subprocess.run(
            [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    (site_packages / "third_party_from_the_test_venv.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    workdir = tmp_path_factory.mktemp("elsewhere")
    return Installed(python=python, bin=venv / "bin", site_packages=site_packages, workdir=workdir)


def _names(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as archive:
        return archive.namelist()


def test_the_wheel_holds_exactly_the_product(wheel: Path) -> None:
    top = {name.split("/")[0] for name in _names(wheel)}
    dist_info = {name for name in top if name.endswith(".dist-info")}
    assert dist_info == {f"rollwright-{PYPROJECT['project']['version']}.dist-info"}
    assert top - dist_info == PACKAGES | MODULES


def test_nothing_of_the_aids_is_in_the_wheel(wheel: Path) -> None:
    leaked = [name for name in _names(wheel) if AIDS & set(name.split("/")[:-1])]
    assert not leaked


def test_every_file_of_the_packages_is_in_the_wheel_package_data_included(wheel: Path) -> None:
    # A non-Python file (a template, a YAML file) is left out unless [tool.setuptools.package-data] names it.
    sources = {
        path.relative_to(ROOT).as_posix()
        for package in PACKAGES
        for path in (ROOT / package).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    }
    missing = sorted(sources - set(_names(wheel)))
    assert not missing, f"not in the wheel (add them to [tool.setuptools.package-data]): {missing}"


def test_the_installed_wheel_is_what_runs_not_the_checkout(installed: Installed) -> None:
    names = sorted({*PACKAGES, "worker", "starter", *AIDS})
    result = installed.run(installed.python, "-c", WHERE_FROM, *names)
    assert result.returncode == 0, result.stderr
    origins = dict(line.split("=", 1) for line in result.stdout.splitlines())
    for name in sorted({*PACKAGES, "worker", "starter"}):
        assert Path(origins[name]).is_relative_to(installed.site_packages), (name, origins[name])
    assert {name: origins[name] for name in AIDS} == dict.fromkeys(AIDS, "None")


def test_rollwright_help_runs_from_the_installed_console_script(installed: Installed) -> None:
    script = installed.bin / "rollwright"
    assert script.is_file()
    result = installed.run(script, "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: rollwright")
    assert "deploy" in result.stdout


def test_python_m_worker_help_runs_from_the_installed_module(installed: Installed) -> None:
    result = installed.run(installed.python, "-m", "worker", "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: worker.py")
    assert "--pulumi" in result.stdout


def test_python_m_starter_is_the_same_cli(installed: Installed) -> None:
    result = installed.run(installed.python, "-m", "starter", "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: rollwright")
