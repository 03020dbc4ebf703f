"""Engine events → policy verdicts: each pack's `policy_event`s, and the engine's own protect flag refusing a
delete or a replacement. A refused preview or `up` raises a plain CommandError; these say why."""

from __future__ import annotations

import re
import threading

from pulumi import automation as auto

from rollwright.domain.policy import EnforcementLevel, PolicyVerdict

PROTECT_FLAG = "pulumi"
_PROTECTED_DELETE_RE = re.compile(r'resource "?(urn:pulumi:[^"\s]+)"? cannot be deleted\s+because it is protected')
_PROTECTED_REPLACE_RE = re.compile(r'unable to replace resource "?(urn:pulumi:[^"\s]+)"?\s+as it is currently marked')


def _name(urn: str) -> str:
    return urn.rsplit("::", 1)[-1]


def _message(event: auto.events.PolicyEvent) -> str:
    # The engine sends the policy's description, then what the policy reported.
    head, _, reported = event.message.strip().partition("\n")
    return reported.strip() or head


def _level(value: str) -> EnforcementLevel:
    return EnforcementLevel.MANDATORY if value == "mandatory" else EnforcementLevel.ADVISORY


def protect_flag_verdicts(text: str) -> list[PolicyVerdict]:
    verdicts: list[PolicyVerdict] = []
    for regex, verb in ((_PROTECTED_DELETE_RE, "deleted"), (_PROTECTED_REPLACE_RE, "replaced")):
        for urn in dict.fromkeys(regex.findall(text)):
            verdicts.append(
                PolicyVerdict(
                    pack=PROTECT_FLAG,
                    policy="protect",
                    level=EnforcementLevel.MANDATORY,
                    resource=_name(urn),
                    urn=urn,
                    message=(
                        f"protected resource {_name(urn)} would be {verb}: refused by Pulumi's protect flag; "
                        f"keep it as it is (a protected resource is removed or replaced only by a person)"
                    ),
                )
            )
    return verdicts


class VerdictObserver:
    """Called from the Automation API's event thread, hence the lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._verdicts: list[PolicyVerdict] = []
        self._diagnostics: list[str] = []

    def __call__(self, event: auto.EngineEvent) -> None:
        with self._lock:
            if event.policy_event is not None:
                policy = event.policy_event
                urn = policy.resource_urn or None
                self._verdicts.append(
                    PolicyVerdict(
                        pack=policy.policy_pack_name,
                        policy=policy.policy_name,
                        level=_level(policy.enforcement_level),
                        resource=_name(urn) if urn else "(stack)",
                        urn=urn,
                        message=_message(policy),
                    )
                )
            elif event.diagnostic_event is not None and event.diagnostic_event.severity == "error":
                self._diagnostics.append(event.diagnostic_event.message)

    def verdicts(self, error_text: str = "") -> list[PolicyVerdict]:
        with self._lock:
            found = list(self._verdicts)
            text = "\n".join([*self._diagnostics, error_text])
        seen = {(v.urn, v.policy) for v in found}
        return found + [v for v in protect_flag_verdicts(text) if (v.urn, v.policy) not in seen]
