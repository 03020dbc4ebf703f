"""What a deployment shows the world: the status query's model, search attributes and the UI's current details.

One object owns all three so they never disagree: every change goes through it, and it refreshes the
search attributes (only when they change: each upsert is a history event) and the markdown log.
"""

from __future__ import annotations

from temporalio import workflow

from rollwright.domain import search_attributes as sa

with workflow.unsafe.imports_passed_through():
    from rollwright.domain.deployment import (
        AuditEntry,
        DeploymentInput,
        DeploymentKind,
        DeploymentOutcome,
        DeploymentPhase,
        DeploymentStatus,
        RegionPhase,
        RegionStatus,
    )
    from rollwright.domain.digest import short
    from rollwright.domain.identity import RegionTarget
    from rollwright.domain.verification import CheckResult

_LOG_LINES = 30
# workflow.patched ids: upserting these attributes adds commands to a run's history.
REGIONS_SEARCH_ATTRIBUTE = "regions-search-attribute"
ACTOR_SEARCH_ATTRIBUTE = "actor-search-attribute"
# Deployments that take regions back to a chosen version (inp.tag), rather than roll a version out.
DELIBERATE_ROLLBACKS = frozenset({DeploymentKind.ROLLBACK, DeploymentKind.BAD_ELSEWHERE})
_SETTLED = frozenset(
    {RegionPhase.LIVE, RegionPhase.FAILED, RegionPhase.CANCELLED, RegionPhase.ROLLED_BACK, RegionPhase.ROLLBACK_FAILED}
)


class DeploymentLog:
    def __init__(self, inp: DeploymentInput) -> None:
        self.status = DeploymentStatus(
            service=inp.plan.service, tag=inp.tag, digest=inp.digest, phase=DeploymentPhase.PUBLISHING
        )
        verb = "roll back" if inp.kind in DELIBERATE_ROLLBACKS else "deploy"
        self.title = f"{verb} {inp.plan.service} {inp.tag} ({short(inp.digest)}…)"
        self._regions: dict[str, RegionStatus] = {}
        for env in inp.plan.environments:
            for wave in env.waves:
                for region in wave:
                    target = RegionTarget(service=inp.plan.service, environment=env.name, region=region)
                    status = RegionStatus(service=target.service, environment=target.environment, region=region)
                    self._regions[target.key] = status
                    self.status.regions.append(status)
        self._lines: list[str] = []
        self._shown: dict[str, str] = {}
        self._touched: list[str] = []

    # -- reading -------------------------------------------------------------------------------------

    def region(self, target: RegionTarget) -> RegionStatus:
        return self._regions[target.key]

    @property
    def phase(self) -> DeploymentPhase:
        if self.status.paused and self.status.phase is not DeploymentPhase.DONE:
            return DeploymentPhase.PAUSED
        return self.status.phase

    def snapshot(self) -> DeploymentStatus:
        """The status as the query returns it: `paused` shows in the phase too."""
        return self.status.model_copy(update={"phase": self.phase})

    # -- changing ------------------------------------------------------------------------------------

    def note(self, line: str) -> None:
        """Add a line to the deployment log shown in the UI (the workflow logger gets it too)."""
        workflow.logger.info(line)
        self._lines.append(f"`{workflow.now():%H:%M:%S}` {line}")
        del self._lines[:-_LOG_LINES]
        self.refresh()

    def audit(self, action: str, actor: str, reason: str, *, verified: bool = False) -> None:
        self.status.audit.append(
            AuditEntry(at=workflow.now(), action=action, actor=actor, reason=reason, verified=verified)
        )
        self.note(f"**{action}** by {actor}{' (verified)' if verified else ''}: {reason}")

    def touched(self, target: RegionTarget) -> None:
        """A region starts changing: the UI can find this deployment by it (`RollwrightRegions = 'prod/eu-west-1'`)."""
        key = f"{target.environment}/{target.region}"
        if key in self._touched:
            return
        self._touched.append(key)
        if workflow.patched(REGIONS_SEARCH_ATTRIBUTE):
            workflow.upsert_search_attributes([sa.REGIONS.value_set(list(self._touched))])

    def controlled_by(self, actor: str) -> None:
        """Who gave the last operator control, for the UI's filter (`RollwrightActor = 'alice'`)."""
        if self._shown.get(sa.ACTOR.name) != actor and workflow.patched(ACTOR_SEARCH_ATTRIBUTE):
            workflow.upsert_search_attributes([sa.ACTOR.value_set(actor)])
            self._shown[sa.ACTOR.name] = actor

    def set_phase(self, phase: DeploymentPhase) -> None:
        self.status.phase = phase
        self.refresh()

    def at(self, environment: str | None, wave: int | None) -> None:
        self.status.current_environment = environment
        self.status.current_wave = wave
        self.refresh()

    def region_phase(self, target: RegionTarget, phase: RegionPhase, message: str | None = None) -> None:
        region = self._regions[target.key]
        region.phase = phase
        if message is not None:
            region.message = message
        if phase is RegionPhase.PROVISIONING and region.started_at is None:
            region.started_at = workflow.now()
        if phase in _SETTLED:
            region.finished_at = workflow.now()
        self.note(f"{target.key}: {phase.value}" + (f" — {message}" if message else ""))

    def record_checks(self, environment: str, results: list[CheckResult]) -> None:
        """Keep the latest round of one environment's checks; a failure is also a line in the log."""
        kept = [result for result in self.status.checks if result.environment != environment]
        self.status.checks = kept + results
        failed = [result for result in results if result.failed]
        for result in failed:
            self.note(f"check failed: {environment}: {result.detail}")  # each note redraws the details
        if not failed:
            self.refresh()

    def finish(self, outcome: DeploymentOutcome, reason: str | None) -> None:
        self.status.outcome = outcome
        self.status.failure_reason = reason
        self.status.phase = DeploymentPhase.DONE
        self.note(f"finished: **{outcome.value}**" + (f" — {reason}" if reason else ""))

    def refresh(self) -> None:
        """Push what changed to the search attributes, and redraw the UI's current details."""
        wanted = {
            sa.SERVICE.name: self.status.service,
            sa.TAG.name: self.status.tag,
            sa.DIGEST.name: self.status.digest,
            sa.PHASE.name: self.phase.value,
            sa.ENVIRONMENT.name: self.status.current_environment or "",
            sa.OUTCOME.name: self.status.outcome.value if self.status.outcome else "",
        }
        keys = {key.name: key for key in sa.ALL}
        updates = [
            keys[name].value_set(value) for name, value in wanted.items() if value and self._shown.get(name) != value
        ]
        if updates:
            workflow.upsert_search_attributes(updates)
            self._shown.update(wanted)
        workflow.set_current_details(self.markdown())

    def _approvals_so_far(self) -> str:
        needed = self.status.approvals_needed or 1
        given = [a.actor for a in self.status.approvals if a.environment == self.status.awaiting_approval]
        if needed == 1 and not given:
            return ""
        return f" — {len(given)} of {needed} approvers" + (f": {', '.join(given)}" if given else "")

    def markdown(self) -> str:
        s = self.status
        where = f" · {s.current_environment} wave {s.current_wave}" if s.current_environment and s.current_wave else ""
        head = [f"### {self.title}", f"**Phase:** {self.phase.value}{where}"]
        if s.outcome:
            head.append(f"**Outcome:** {s.outcome.value}" + (f" — {s.failure_reason}" if s.failure_reason else ""))
        if s.awaiting_approval:
            head.append(
                f"**Waiting for approval of {s.awaiting_approval}** (update `approve`){self._approvals_so_far()}"
            )
        if s.halted:
            head.append(f"**Halted:** {s.halted} — `abort` rolls back, `resume` goes on")
        if s.held:
            head.append(f"**Held** {s.held}")
        if s.watching_until and not s.outcome:
            head.append(f"**Watching until** {s.watching_until:%H:%M:%S} UTC")
        checks = [
            f"- {'✅' if not c.failed else '❌'} {c.environment}/{c.region} {c.check}: {c.detail}" for c in s.checks
        ]
        if checks:
            head.extend(["", "**Checks**", *checks])
        table = ["| region | phase | digest | canary step | since |", "|---|---|---|---|---|"]
        for r in s.regions:
            since = f"{r.started_at:%H:%M:%S}" if r.started_at else ""
            digest = short(r.digest) if r.digest else ""
            step = "" if r.canary_step is None else str(r.canary_step)
            table.append(f"| {r.environment}/{r.region} | {r.phase.value} | {digest} | {step} | {since} |")
        return "\n".join([*head, "", *table, "", "**Log**", *(f"- {line}" for line in self._lines)])
