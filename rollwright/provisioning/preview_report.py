"""A preview as people read it: the resources that would change (never `same`, providers or the Stack) and the
policy packs' verdicts, as Markdown for a pull-request comment and as a plain table for a terminal."""

from __future__ import annotations

from rollwright.domain.identity import RegionTarget
from rollwright.domain.policy import PolicyVerdict
from rollwright.domain.preview import ResourceChange
from rollwright.provisioning.protocol import StepRecord

# The engine spells one replacement as up to three steps; people see one "replace".
_OPS = {
    "create": "create",
    "update": "update",
    "delete": "delete",
    "replace": "replace",
    "create-replacement": "replace",
    "delete-replaced": "replace",
}
_SYMBOLS = {"create": "+", "update": "~", "delete": "-", "replace": "+-"}
_ORDER = ("create", "update", "replace", "delete")


def changes(steps: list[StepRecord]) -> list[ResourceChange]:
    by_urn: dict[str, ResourceChange] = {}
    for step in steps:
        op = _OPS.get(step.op)
        if op is None:
            continue
        existing = by_urn.get(step.urn)
        if existing is None:
            by_urn[step.urn] = ResourceChange(
                urn=step.urn, type=step.type, name=step.name, op=op, changed_keys=list(step.changed_keys)
            )
        else:
            existing.op = "replace" if op == "replace" else existing.op
            existing.changed_keys = sorted(set(existing.changed_keys) | set(step.changed_keys))
    return list(by_urn.values())


def short_type(type_: str) -> str:
    """`pulumi-python:dynamic/rollwright:ManifestFile` → `ManifestFile`."""
    return type_.rsplit(":", 1)[-1]


def _counts(items: list[ResourceChange]) -> str:
    parts = [f"{sum(1 for c in items if c.op == op)} to {op}" for op in _ORDER if any(c.op == op for c in items)]
    return ", ".join(parts) if parts else "no changes"


def _verdict_lines(verdicts: list[PolicyVerdict]) -> list[str]:
    return [f"{v.level.value}: {v.pack}/{v.policy} on {v.resource}: {v.message}" for v in verdicts]


def markdown(target: RegionTarget, items: list[ResourceChange], verdicts: list[PolicyVerdict] | None = None) -> str:
    lines = [f"### Pulumi preview for `{target.stack_name}` ({target.key})", ""]
    if not items:
        lines.append("No changes.")
    else:
        lines += ["| Change | Resource | Type | Changed keys |", "| --- | --- | --- | --- |"]
        for item in items:
            keys = ", ".join(f"`{key}`" for key in item.changed_keys) or "—"
            lines.append(f"| {_SYMBOLS[item.op]} {item.op} | `{item.name}` | `{short_type(item.type)}` | {keys} |")
        lines += ["", f"**{_counts(items)}**"]
    if verdicts:
        lines += ["", "**Policies**", ""] + [f"- {line}" for line in _verdict_lines(verdicts)]
    return "\n".join(lines) + "\n"


def table(items: list[ResourceChange], verdicts: list[PolicyVerdict] | None = None) -> str:
    header = ("", "OP", "RESOURCE", "TYPE", "CHANGED KEYS")
    rows = [(_SYMBOLS[i.op], i.op, i.name, short_type(i.type), ", ".join(i.changed_keys) or "-") for i in items]
    widths = [max(len(row[col]) for row in [header, *rows]) for col in range(len(header))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in [header, *rows]
    ]
    lines.append(_counts(items))
    if verdicts:
        lines += ["policies:"] + [f"  {line}" for line in _verdict_lines(verdicts)]
    return "\n".join(lines) + "\n"
