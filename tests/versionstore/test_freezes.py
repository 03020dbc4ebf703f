"""Freezes in the version store: added, listed while in force, expired at their `until`, lifted by scope or id, and
never deleted (the table is their audit trail), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from rollwright.domain.freeze import FreezeScope
from rollwright.versionstore import InvalidFreezeError, NotFrozenError, VersionStore
from tests.support.clock import Clock

T0 = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


def test_a_freeze_is_in_force_until_it_expires_and_stays_in_the_history(store_url: str) -> None:
    clock = Clock(T0)
    with VersionStore(store_url, clock=clock) as store:
        added = store.add_freeze(
            FreezeScope(services=("api", "web"), environment="prod"),
            reason="incident 42",
            actor="alice",
            verified=True,
            until=T0 + timedelta(hours=2),
            let_running_finish=True,
        )
        assert added.created_at == T0
        assert added.applies_to("api", "prod")
        assert not added.applies_to("api", "staging")
        assert not added.applies_to("search", "prod")
        [active] = store.active_freezes()
        assert active == added
        assert active.verified
        assert active.let_running_finish
        assert store.active_freezes(T0 + timedelta(hours=1, minutes=59)) == [added]
        assert store.active_freezes(T0 + timedelta(hours=2)) == []
        clock.now = T0 + timedelta(hours=3)
        assert store.active_freezes() == []
        # Expired, not deleted: the audit still shows it, and nothing is left to lift.
        assert [freeze.id for freeze in store.freeze_history()] == [added.id]
        with pytest.raises(NotFrozenError, match="nothing is frozen"):
            store.lift_freezes(FreezeScope(services=("api",)), actor="bob", reason="over")


def test_unfreeze_lifts_what_lies_within_its_scope_and_audits_who_and_why(store_url: str) -> None:
    clock = Clock(T0)
    with VersionStore(store_url, clock=clock) as store:
        everything = store.add_freeze(FreezeScope(), reason="stop the line", actor="alice")
        api_prod = store.add_freeze(FreezeScope(services=("api",), environment="prod"), reason="db", actor="carol")
        # Unfreezing api alone cannot lift the freeze of every service: the error names it.
        with pytest.raises(NotFrozenError, match=f"#{everything.id} all services by alice"):
            store.lift_freezes(FreezeScope(services=("web",)), actor="bob", reason="web is fine")
        clock.now = T0 + timedelta(minutes=5)
        [lifted] = store.lift_freezes(FreezeScope(services=("api",)), actor="bob", reason="db back")
        assert lifted.id == api_prod.id
        assert (lifted.lifted_at, lifted.lifted_by, lifted.lift_reason) == (clock.now, "bob", "db back")
        assert [freeze.id for freeze in store.active_freezes()] == [everything.id]
        # In force before the lift, not after: the history answers "was it frozen then?".
        assert [f.id for f in store.active_freezes(T0 + timedelta(minutes=1))] == [everything.id, api_prod.id]
        [lifted_all] = store.lift_freezes(FreezeScope(), actor="bob", reason="incident over")
        assert lifted_all.id == everything.id
        assert store.active_freezes() == []
        assert {f.id: f.lifted_by for f in store.freeze_history()} == {everything.id: "bob", api_prod.id: "bob"}


def test_lift_by_id_and_refusals_change_nothing(store: VersionStore) -> None:
    freeze = store.add_freeze(FreezeScope(environment="prod"), reason="release freeze", actor="alice")
    with pytest.raises(InvalidFreezeError, match=r"who .* and why"):
        store.lift_freeze(freeze.id, actor="bob", reason=" ")
    with pytest.raises(NotFrozenError, match="#999"):
        store.lift_freeze(999, actor="bob", reason="typo")
    with pytest.raises(InvalidFreezeError, match="until"):
        store.add_freeze(FreezeScope(), reason="x", actor="a", until=datetime.now(UTC) - timedelta(minutes=1))
    with pytest.raises(InvalidFreezeError):
        store.add_freeze(FreezeScope(), reason="", actor="a")
    assert [f.id for f in store.freeze_history()] == [freeze.id]
    lifted = store.lift_freeze(freeze.id, actor="bob", reason="done")
    assert lifted.lifted_by == "bob"
    with pytest.raises(NotFrozenError):
        store.lift_freeze(freeze.id, actor="bob", reason="again")
