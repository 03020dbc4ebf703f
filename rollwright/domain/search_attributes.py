"""Rollwright's typed search attributes: how the Temporal UI filters deployments and lanes.

Registered on the dev server at start (devstack), on the time-skipping server by the tests, by docker compose's
temporal-setup, and on a real cluster with `temporal operator search-attribute create` (each key's type below);
upserted by the workflows as a deployment moves.
"""

from __future__ import annotations

from collections.abc import Sequence

from temporalio.common import SearchAttributeKey

SERVICE = SearchAttributeKey.for_keyword("RollwrightService")
ENVIRONMENT = SearchAttributeKey.for_keyword("RollwrightEnvironment")
TAG = SearchAttributeKey.for_keyword("RollwrightTag")
DIGEST = SearchAttributeKey.for_keyword("RollwrightDigest")
PHASE = SearchAttributeKey.for_keyword("RollwrightPhase")
OUTCOME = SearchAttributeKey.for_keyword("RollwrightOutcome")
# Every region a deployment started changing, as "environment/region": `RollwrightRegions = 'prod/eu-west-1'`.
REGIONS = SearchAttributeKey.for_keyword_list("RollwrightRegions")
# Who gave a deployment its last operator control (pause, resume, abort, approve).
ACTOR = SearchAttributeKey.for_keyword("RollwrightActor")
# The lane (service/environment entity) a LaneWorkflow runs, set by that workflow.
LANE = SearchAttributeKey.for_keyword("RollwrightLane")

KEYWORDS: tuple[SearchAttributeKey[str], ...] = (SERVICE, ENVIRONMENT, TAG, DIGEST, PHASE, OUTCOME, ACTOR, LANE)
KEYWORD_LISTS: tuple[SearchAttributeKey[Sequence[str]], ...] = (REGIONS,)
# What a server must know, of either type: each key carries its own (`indexed_value_type`).
ALL: tuple[SearchAttributeKey[str] | SearchAttributeKey[Sequence[str]], ...] = KEYWORDS + KEYWORD_LISTS
