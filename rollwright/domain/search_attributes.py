"""Rollwright's typed search attributes: how the Temporal UI filters deployments.

Registered on the dev server at start (devstack) and on a real cluster with `temporal operator
search-attribute create`; upserted by the workflows as a deployment moves.
"""

from __future__ import annotations

from temporalio.common import SearchAttributeKey

SERVICE = SearchAttributeKey.for_keyword("RollwrightService")
ENVIRONMENT = SearchAttributeKey.for_keyword("RollwrightEnvironment")
TAG = SearchAttributeKey.for_keyword("RollwrightTag")
DIGEST = SearchAttributeKey.for_keyword("RollwrightDigest")
PHASE = SearchAttributeKey.for_keyword("RollwrightPhase")
OUTCOME = SearchAttributeKey.for_keyword("RollwrightOutcome")

ALL: tuple[SearchAttributeKey[str], ...] = (SERVICE, ENVIRONMENT, TAG, DIGEST, PHASE, OUTCOME)
