"""The default service program: the environment's database (protected) and the region's manifests.

Inputs come from the stack config (`StackInputs`). The database is shared by every region of an environment
and is never deleted; the manifests (Rollout pinned by digest, Service, ConfigMap with the database URL) are
written into the GitOps working copy at `<env>/<region>/<service>/`.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pulumi

from rollwright.stacks import k8s_manifests as k8s
from rollwright.stacks.inputs import RenderPurpose, StackInputs
from rollwright.stacks.manifest_file import ManifestFile
from rollwright.stacks.sqlite_database import SqliteDatabase

DEFAULT_PORT = 8080


def program() -> None:
    render(StackInputs.from_pulumi_config())


def declare_database(inputs: StackInputs) -> SqliteDatabase:
    target = inputs.target
    return SqliteDatabase(
        "database",
        path=str(Path(inputs.data_dir) / target.environment / f"{target.service}.db"),
        environment=target.environment,
        service=target.service,
        opts=pulumi.ResourceOptions(protect=True, retain_on_delete=True),
    )


def render(inputs: StackInputs) -> None:
    render_manifests(inputs, declare_database(inputs))


def render_manifests(
    inputs: StackInputs, database: SqliteDatabase | None, depends_on: list[pulumi.Resource] | None = None
) -> None:
    """The region's manifests; the ConfigMap points at `database` unless the settings name a `database_url`."""
    target = inputs.target
    override = inputs.settings.get("database_url")
    database_url: pulumi.Output[str]
    if override:
        database_url = pulumi.Output.from_input(str(override))
    elif database is not None:
        database_url = pulumi.Output.from_input(database.known_url)
        depends_on = [*(depends_on or []), database]
    else:
        raise ValueError("no database to point the manifests at: declare one or set database_url")
    pulumi.export("databaseUrl", database_url)
    if inputs.purpose is RenderPurpose.REMOVE:
        pulumi.export("manifests", {})
        pulumi.export("contentHash", k8s.content_hash({}))
        return
    if inputs.digest is None:
        raise ValueError(f"purpose {inputs.purpose.value} needs an image digest")

    replicas = 0 if inputs.purpose is RenderPurpose.SCALE_TO_ZERO else int(inputs.settings.get("replicas", 1))
    port = int(inputs.settings.get("port", DEFAULT_PORT))
    extra_env = {str(k): str(v) for k, v in dict(inputs.settings.get("env", {})).items()}
    contents: dict[str, pulumi.Output[str]] = {
        k8s.ROLLOUT_FILE: pulumi.Output.from_input(
            k8s.render_rollout(
                target,
                inputs.image,
                inputs.digest,
                replicas,
                inputs.canary_steps,
                port,
                inputs.analysis,
                inputs.namespace,
            )
        ),
        k8s.SERVICE_FILE: pulumi.Output.from_input(k8s.render_service(target, port, inputs.namespace)),
        k8s.CONFIGMAP_FILE: database_url.apply(
            lambda url: k8s.render_config_map(target, url, extra_env, inputs.namespace)
        ),
    }
    if inputs.analysis is not None and inputs.analysis.checks:
        contents[k8s.ANALYSIS_FILE] = pulumi.Output.from_input(
            k8s.render_analysis_template(target, inputs.analysis, inputs.namespace)
        )
    files: dict[str, pulumi.Output[str]] = {}
    for file_name, content in contents.items():
        path = f"{target.gitops_path}/{file_name}"
        ManifestFile(
            file_name.removesuffix(".yaml"),
            root=inputs.manifests_dir,
            path=path,
            content=content,
            environment=target.environment,
            opts=pulumi.ResourceOptions(depends_on=depends_on),
        )
        files[path] = content
    pulumi.export("manifests", {path: content.apply(_sha256) for path, content in files.items()})
    pulumi.export("contentHash", pulumi.Output.all(**files).apply(k8s.content_hash))


def _sha256(content: str) -> str:
    return hashlib.sha256(content.encode()).hexdigest()
