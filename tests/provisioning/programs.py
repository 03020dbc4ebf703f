"""Pulumi programs only tests use: the web service with a piece missing, or with a slow resource in it."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, Resource, ResourceProvider

from rollwright.stacks import k8s_manifests, web_service
from rollwright.stacks.inputs import StackInputs
from rollwright.stacks.manifest_file import ManifestFile
from rollwright.stacks.sqlite_database import SqliteDatabase


def without_database() -> None:
    """The web service as someone might carelessly edit it: the database resource deleted from the code."""
    inputs = StackInputs.from_pulumi_config()
    settings = {**inputs.settings, "database_url": inputs.settings.get("database_url", "sqlite:///elsewhere.db")}
    web_service.render_manifests(inputs.model_copy(update={"settings": settings}), None)


class SlowProvider(ResourceProvider):
    """Announces (pid in a file) that it is creating, then takes its time: a window to kill or cancel in."""

    def create(self, props: dict[str, Any]) -> CreateResult:
        Path(props["marker"]).write_text(str(os.getpid()))
        time.sleep(float(props["seconds"]))
        return CreateResult(id_="slow", outs={k: v for k, v in props.items() if not k.startswith("__")})


class Slow(Resource, module="tests", name="Slow"):
    def __init__(self, name: str, marker: str, seconds: float, environment: str, opts: pulumi.ResourceOptions) -> None:
        props = {"marker": marker, "seconds": seconds, "environment": environment}
        super().__init__(SlowProvider(), name, props, opts)


def slow_web_service() -> None:
    """The web service, plus a slow resource the manifests wait for: an `up` that is reliably mid-flight."""
    inputs = StackInputs.from_pulumi_config()
    slow = Slow(
        "slow",
        marker=str(inputs.settings["slow_marker"]),
        seconds=float(inputs.settings["slow_seconds"]),
        environment=inputs.target.environment,
        opts=pulumi.ResourceOptions(),
    )
    database = web_service.declare_database(inputs)
    web_service.render_manifests(inputs, database, depends_on=[slow])


def with_exports() -> None:
    """The web service, also exporting what its settings' `exports` name (a host, its aliases)."""
    inputs = StackInputs.from_pulumi_config()
    web_service.render(inputs)
    for key, value in dict(inputs.settings.get("exports", {})).items():
        pulumi.export(str(key), value)


def unprotected_database() -> None:
    """The web service with the database's `protect=True` edited away: harmless now, deletable on the next run."""
    inputs = StackInputs.from_pulumi_config()
    target = inputs.target
    database = SqliteDatabase(
        "database",
        path=str(Path(inputs.data_dir) / target.environment / f"{target.service}.db"),
        environment=target.environment,
        service=target.service,
        opts=pulumi.ResourceOptions(retain_on_delete=True),
    )
    web_service.render_manifests(inputs, database)


class LookupProvider(ResourceProvider):
    """A lookup that answers only when it is created (service discovery, a secret store): a preview sees its
    answer as unknown."""

    def create(self, props: dict[str, Any]) -> CreateResult:
        answer = Path(props["source"]).read_text().strip()
        return CreateResult(id_="lookup", outs={**props, "answer": answer})


class Lookup(Resource, module="tests", name="Lookup"):
    answer: pulumi.Output[str]

    def __init__(self, name: str, source: str, environment: str) -> None:
        super().__init__(LookupProvider(), name, {"source": source, "environment": environment, "answer": None})


def database_url_looked_up() -> None:
    """The region's ConfigMap, pointed at whatever database URL a lookup answers once `up` runs."""
    inputs = StackInputs.from_pulumi_config()
    target = inputs.target
    lookup = Lookup("database-lookup", source=str(inputs.settings["lookup_source"]), environment=target.environment)
    ManifestFile(
        "configmap",
        root=inputs.manifests_dir,
        path=f"{target.gitops_path}/{k8s_manifests.CONFIGMAP_FILE}",
        content=lookup.answer.apply(lambda url: k8s_manifests.render_config_map(target, url, {}, inputs.namespace)),
        environment=target.environment,
    )
