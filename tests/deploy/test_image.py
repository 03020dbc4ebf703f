"""The Docker image runs what it installed: its last stage holds the wheel and none of the checkout, and the build
context (.dockerignore, read with Docker's matching rules) is what the wheel is made of, never the test and demo
aids, the virtualenv, .git, caches or secrets."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WHEEL_SOURCES = {"pyproject.toml", "README.md", "rollwright", "workflows", "activities", "worker.py", "starter.py"}
# Skipped while walking the checkout: huge, and excluded by a test below anyway.
_NOT_WALKED = {".venv", ".git"}


def _stages() -> list[list[str]]:
    """The Dockerfile's instructions (continuation lines joined), one list per stage."""
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    stages: list[list[str]] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.upper().startswith("FROM "):
            stages.append([])
        if stages:
            stages[-1].append(line)
    return stages


def test_the_final_stage_installs_the_wheel_and_copies_nothing_from_the_checkout() -> None:
    *builders, final = _stages()
    copies = [line for line in final if line.upper().startswith(("COPY ", "ADD "))]
    assert copies, "the final stage copies nothing at all?"
    assert all("--from=" in line for line in copies), f"the final stage copies from the build context: {copies}"
    assert any(re.search(r"pip install .*\.whl", line) for line in final), final
    (wheel_stage,) = [stage for stage in builders if stage[0].endswith(" AS wheel")]
    assert any("pip wheel" in line and "--no-deps" in line for line in wheel_stage), wheel_stage
    workdir = [line for line in final if line.upper().startswith("WORKDIR ")][-1]
    assert workdir == "WORKDIR /var/lib/rollwright"


def _pattern(glob: str) -> re.Pattern[str]:
    """Docker's pattern syntax: `*` and `?` stay within a path segment, `**` spans any number of segments."""
    regex, i = "", 0
    while i < len(glob):
        if glob.startswith("**/", i):
            regex, i = regex + "(?:.*/)?", i + 3
        elif glob.startswith("**", i):
            regex, i = regex + ".*", i + 2
        elif glob[i] == "*":
            regex, i = regex + "[^/]*", i + 1
        elif glob[i] == "?":
            regex, i = regex + "[^/]", i + 1
        else:
            regex, i = regex + re.escape(glob[i]), i + 1
    return re.compile(regex)


def _rules() -> list[tuple[bool, re.Pattern[str]]]:
    rules = []
    for line in (ROOT / ".dockerignore").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        rules.append((negated, _pattern(line.removeprefix("!").strip("/"))))
    return rules


RULES = _rules()


def in_build_context(path: str) -> bool:
    """As Docker decides: the last rule matching the path or one of its parent directories wins."""
    parts = path.split("/")
    prefixes = ["/".join(parts[:n]) for n in range(1, len(parts) + 1)]
    excluded = False
    for negated, pattern in RULES:
        if any(pattern.fullmatch(prefix) for prefix in prefixes):
            excluded = not negated
    return not excluded


@pytest.mark.parametrize(
    "path",
    [
        ".venv/bin/python",
        ".git/HEAD",
        ".demo/rollwright.yaml",
        ".env",
        "tests/conftest.py",
        "devstack/temporal.py",
        "demo/__main__.py",
        "tools/ensure-tools.sh",
        "deploy/rollwright.yaml",
        "docker-compose.yml",
        ".mypy_cache/3.11/x.json",
        ".ruff_cache/x",
        ".pytest_cache/v/x",
        ".hypothesis/examples/x",
        "rollwright/__pycache__/x.cpython-311.pyc",
        "build/lib/rollwright/__init__.py",
        "rollwright.egg-info/PKG-INFO",
    ],
)
def test_the_aids_caches_and_secrets_stay_out_of_the_build_context(path: str) -> None:
    assert not in_build_context(path)


def test_the_build_context_is_exactly_what_the_wheel_is_made_of() -> None:
    walked = [
        path.relative_to(ROOT).as_posix()
        for top in ROOT.iterdir()
        if top.name not in _NOT_WALKED
        for path in ([top] if top.is_file() else top.rglob("*"))
        if path.is_file()
    ]
    taken = {path for path in walked if in_build_context(path)}
    assert {path.split("/")[0] for path in taken} == WHEEL_SOURCES
    sources = {path for path in walked if path.split("/")[0] in WHEEL_SOURCES and "__pycache__" not in path}
    assert sources <= taken, sorted(sources - taken)
