"""Realistic deliveries per source, shaped after each registry's documented examples."""

from __future__ import annotations

import json
import uuid
from typing import Any

MANIFEST_OCI = "application/vnd.oci.image.manifest.v1+json"
DISTRIBUTION_MEDIA_TYPE = "application/vnd.docker.distribution.events.v1+json"


def _request(host: str, method: str) -> dict[str, Any]:
    return {"id": str(uuid.uuid4()), "addr": "127.0.0.1:51234", "host": host, "method": method, "useragent": "oci/1"}


def distribution(repository: str, tag: str, digest: str, *, host: str = "registry.local:5000") -> dict[str, Any]:
    """An envelope as docker-registry sends it after a push: the layer blob, then the tagged manifest, then a pull."""
    blob = "sha256:" + "ab" * 32
    source = {"addr": "registry-host:5000", "instanceID": str(uuid.uuid4())}
    return {
        "events": [
            {
                "id": str(uuid.uuid4()),
                "timestamp": "2025-06-01T12:00:00.123456789Z",
                "action": "push",
                "target": {
                    "mediaType": "application/octet-stream",
                    "size": 1234,
                    "digest": blob,
                    "length": 1234,
                    "repository": repository,
                    "url": f"http://{host}/v2/{repository}/blobs/{blob}",
                },
                "request": _request(host, "PUT"),
                "actor": {},
                "source": source,
            },
            {
                "id": str(uuid.uuid4()),
                "timestamp": "2025-06-01T12:00:00.223456789Z",
                "action": "push",
                "target": {
                    "mediaType": MANIFEST_OCI,
                    "size": 529,
                    "digest": digest,
                    "length": 529,
                    "repository": repository,
                    "url": f"http://{host}/v2/{repository}/manifests/{digest}",
                    "tag": tag,
                },
                "request": _request(host, "PUT"),
                "actor": {"name": "ci-bot"},
                "source": source,
            },
            {
                "id": str(uuid.uuid4()),
                "timestamp": "2025-06-01T12:00:01Z",
                "action": "pull",
                "target": {
                    "mediaType": MANIFEST_OCI,
                    "digest": digest,
                    "repository": repository,
                    "url": f"http://{host}/v2/{repository}/manifests/{digest}",
                    "tag": tag,
                },
                "request": _request(host, "GET"),
                "actor": {},
                "source": source,
            },
        ]
    }


def dockerhub(repo_name: str, tag: str) -> dict[str, Any]:
    namespace, name = repo_name.split("/", 1)
    return {
        "callback_url": f"https://registry.hub.docker.com/u/{repo_name}/hook/{uuid.uuid4().hex}/",
        "push_data": {"pushed_at": 1748779200, "pusher": "trustedbuilder", "tag": tag, "images": []},
        "repository": {
            "comment_count": 0,
            "date_created": 1417494799,
            "description": "",
            "full_description": "",
            "is_official": False,
            "is_private": True,
            "is_trusted": False,
            "name": name,
            "namespace": namespace,
            "owner": namespace,
            "repo_name": repo_name,
            "repo_url": f"https://registry.hub.docker.com/u/{repo_name}/",
            "star_count": 0,
            "status": "Active",
        },
    }


def github(owner: str, name: str, tag: str, digest: str, *, action: str = "published") -> dict[str, Any]:
    return {
        "action": action,
        "package": {
            "id": 4242,
            "name": name,
            "namespace": owner,
            "description": "",
            "ecosystem": "CONTAINER",
            "package_type": "CONTAINER",
            "html_url": f"https://github.com/users/{owner}/packages/container/package/{name}",
            "created_at": "2025-06-01T12:00:00Z",
            "updated_at": "2025-06-01T12:00:00Z",
            "owner": {"login": owner, "id": 1, "type": "Organization"},
            "package_version": {
                "id": 9001,
                "version": digest,
                "name": digest,
                "description": "",
                "summary": "",
                "body": "",
                "manifest": "",
                "html_url": f"https://github.com/users/{owner}/packages/container/{name}/9001",
                "target_commitish": "main",
                "target_oid": "0" * 40,
                "created_at": "2025-06-01T12:00:00Z",
                "updated_at": "2025-06-01T12:00:00Z",
                "metadata": [],
                "container_metadata": {
                    "tag": {"name": tag, "digest": digest},
                    "labels": {"description": ""},
                    "manifest": {},
                },
                "package_files": [],
                "installation_command": f"docker pull ghcr.io/{owner}/{name}:{tag}",
                "package_url": f"ghcr.io/{owner}/{name}:{tag}",
            },
            "registry": {"about_url": "https://docs.github.com/packages", "name": "GitHub CONTAINER registry"},
        },
        "repository": {"id": 7, "name": name, "full_name": f"{owner}/{name}", "private": True},
        "organization": {"login": owner, "id": 1},
        "sender": {"login": "octocat", "id": 2, "type": "User"},
    }


def harbor(host: str, project: str, name: str, tag: str, digest: str) -> dict[str, Any]:
    return {
        "type": "PUSH_ARTIFACT",
        "occur_at": 1748779200,
        "operator": "admin",
        "event_data": {
            "resources": [{"digest": digest, "tag": tag, "resource_url": f"{host}/{project}/{name}:{tag}"}],
            "repository": {
                "date_created": 1748700000,
                "name": name,
                "namespace": project,
                "repo_full_name": f"{project}/{name}",
                "repo_type": "private",
            },
        },
    }


def quay(namespace: str, name: str, tags: list[str]) -> dict[str, Any]:
    return {
        "name": name,
        "repository": f"{namespace}/{name}",
        "namespace": namespace,
        "docker_url": f"quay.io/{namespace}/{name}",
        "homepage": f"https://quay.io/repository/{namespace}/{name}",
        "updated_tags": tags,
    }


def generic(repository: str, tag: str, digest: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"repository": repository, "tag": tag}
    if digest is not None:
        body["digest"] = digest
    return body


def encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload).encode()
