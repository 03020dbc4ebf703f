"""docker-compose.yml describes a host that can actually start: every Rollwright service's command exists
and parses, the config it mounts loads, and every variable it references is documented in the README."""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

import worker
from deployconfig import load_config
from operator_cli.main import build_parser as cli_parser

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
ROLLWRIGHT_SERVICES = {name: spec for name, spec in COMPOSE["services"].items() if name.startswith("rollwright-")}
PARSERS: dict[str, argparse.ArgumentParser] = {"worker.py": worker.build_parser(), "starter.py": cli_parser()}


def test_compose_runs_worker_pulumi_worker_and_webhook() -> None:
    commands = {name: spec["command"] for name, spec in ROLLWRIGHT_SERVICES.items()}
    assert set(commands) == {"rollwright-worker", "rollwright-pulumi-worker", "rollwright-webhook"}
    assert "--pulumi" in commands["rollwright-pulumi-worker"]
    assert "webhook" in commands["rollwright-webhook"]


@pytest.mark.parametrize("name", sorted(ROLLWRIGHT_SERVICES))
def test_service_command_exists_and_parses(name: str) -> None:
    command: list[str] = ROLLWRIGHT_SERVICES[name]["command"]
    assert command[0] == "python"
    script = command[1]
    assert (ROOT / script).is_file(), f"{name} runs {script}, which is not in the repository"
    args = PARSERS[script].parse_args(command[2:])
    config_path = Path(args.config)
    # The compose file mounts deploy/ at /etc/rollwright; check the very file the service will read.
    mounts = {m.split(":")[1]: m.split(":")[0] for m in ROLLWRIGHT_SERVICES[name].get("volumes", [])}
    host_file = Path(mounts[str(config_path)])
    assert load_config(ROOT / host_file).services


def _referenced_variables(node: Any) -> set[str]:
    text = yaml.safe_dump(node)
    return set(re.findall(r"\$\{([A-Z0-9_]+)", text))


def test_every_referenced_variable_is_documented() -> None:
    readme = (ROOT / "README.md").read_text()
    variables = _referenced_variables(COMPOSE)
    assert variables, "compose references no variables at all?"
    undocumented = sorted(v for v in variables if f"`{v}`" not in readme)
    assert not undocumented, f"not documented in README.md: {undocumented}"
