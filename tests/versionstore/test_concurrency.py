"""Many workers writing at once (threads over two store instances on one database) lose nothing."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from rollwright.domain.identity import RegionTarget
from rollwright.domain.region_state import RegionState
from rollwright.versionstore import VersionStore

WRITERS = 8
WRITES_EACH = 10


def _digest(n: int) -> str:
    return f"sha256:{n:064x}"


def _work(store: VersionStore, writer: int) -> None:
    for i in range(WRITES_EACH):
        n = writer * 1000 + i
        store.record_version(service="api", tag=f"v{n}", digest=_digest(n), image="reg/api")
        # Every writer also repeats a shared version: all of them together must leave one row.
        store.record_version(service="api", tag="shared", digest=_digest(1), image="reg/api")
        target = RegionTarget(service="api", environment="prod", region=f"r{writer}-{i}")
        store.record_region_state(target, digest=_digest(n), tag=f"v{n}", state=RegionState.LIVE, workflow_id="wf")
        store.mark_bad(service="api", digest=_digest(n), reason="r", actor=f"w{writer}", request_key=f"{n}")


def test_concurrent_writers_lose_nothing(store_url: str) -> None:
    with VersionStore(store_url) as first, VersionStore(store_url) as second:
        with ThreadPoolExecutor(max_workers=WRITERS) as pool:
            futures = [pool.submit(_work, first if w % 2 else second, w) for w in range(WRITERS)]
            for future in futures:
                future.result()
        total = WRITERS * WRITES_EACH
        versions = first.versions("api", limit=10_000)
        assert len(versions) == total + 1
        assert len([v for v in versions if v.tag == "shared"]) == 1
        assert len(first.live_regions("api")) == total
        assert len(first.audit("api")) == total
        assert len(first.deployments("api", limit=10_000)) == total
