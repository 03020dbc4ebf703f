"""Rendered manifests in the version store, on SQLite and PostgreSQL: what one worker keeps under a content hash,
another reads back exactly; keeping the same files again is harmless and keeps them longer; files nobody rendered
for the retention are pruned, and asking for them says so."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from rollwright.stacks.k8s_manifests import content_hash
from rollwright.versionstore import RenderedManifestsMissingError, VersionStore
from rollwright.versionstore.rendered import RETENTION
from tests.support.clock import Clock

T0 = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
FILES = {
    "prod/eu-west-1/shop/rollout.yaml": "kind: Rollout\nimage: shop@sha256:" + "1" * 64 + "\n",
    "prod/eu-west-1/shop/configmap.yaml": 'data:\n  note: "ünïcode, quotes \\" and\\nnewlines"\n',
}
OTHER = {"prod/us-east-1/shop/rollout.yaml": "kind: Rollout\n"}


def test_files_kept_by_one_store_are_read_back_exactly_by_another(store_url: str) -> None:
    key = content_hash(FILES)
    with VersionStore(store_url) as pulumi_worker:
        pulumi_worker.keep_manifests(key, FILES)
        pulumi_worker.keep_manifests(key, FILES)  # a retried provision
        pulumi_worker.keep_manifests(content_hash({}), {})  # a removed region has no files
    with VersionStore(store_url) as light_worker:
        assert light_worker.manifests(key) == FILES
        assert light_worker.manifests(content_hash({})) == {}


def test_files_unused_for_the_retention_are_pruned_and_asking_for_them_names_the_hash(store_url: str) -> None:
    clock = Clock(T0)
    kept, refreshed, other = content_hash(FILES), content_hash({**FILES, "x.yaml": "1"}), content_hash(OTHER)
    with VersionStore(store_url, clock=clock) as store:
        store.keep_manifests(kept, FILES)
        store.keep_manifests(refreshed, {**FILES, "x.yaml": "1"})
        clock.now = T0 + RETENTION - timedelta(hours=1)
        store.keep_manifests(refreshed, {**FILES, "x.yaml": "1"})  # rendered again: kept longer

        clock.now = T0 + RETENTION + timedelta(hours=1)
        store.keep_manifests(other, OTHER)

        assert store.manifests(other) == OTHER
        assert store.manifests(refreshed) == {**FILES, "x.yaml": "1"}
        with pytest.raises(RenderedManifestsMissingError, match=kept):
            store.manifests(kept)
