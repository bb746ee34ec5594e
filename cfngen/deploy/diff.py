"""The plan report: what each stack's change set would do, readable by a reviewer.

Change sets say which properties change; DescribeChangeSet's IncludePropertyValues (botocore
1.36+) adds their resolved before/after values. Where they are missing (an older botocore, or
MiniStack, which ignores the flag), values come from the deployed template (GetTemplate, Original
stage) and the rendered one, so a reviewer still sees `cpu: 256 -> 512`; intrinsics then show
unresolved (`{"Ref": "X"}`), as a reviewer of the template would read them. Replacements of
stateful resources come first: they are what a review is for.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from cfngen.deploy import template as tpl
from cfngen.deploy.safety import data_loss, is_stateful
from cfngen.deploy.valuediff import needs_diff, resolve_parameters, value_diff

ACTIONS = ("create", "recreate", "update", "unchanged", "busy", "error", "orphan")


@dataclass(frozen=True)
class PropertyChange:
    name: str
    before: Any = None
    after: Any = None
    requires_recreation: str = ""  # Never | Conditionally | Always (from the change set)
    cause: str = ""  # e.g. "parameter ImageTag": the value changes because that changed


@dataclass(frozen=True)
class ResourceChange:
    logical_id: str
    resource_type: str
    action: str  # Add | Modify | Remove | Import | Dynamic
    replacement: str = ""  # True | False | Conditional ("" for Add/Remove)
    properties: tuple[PropertyChange, ...] = ()
    retained: bool = False  # removed, but DeletionPolicy: Retain keeps the resource

    @property
    def stateful(self) -> bool:
        return is_stateful(self.resource_type)

    @property
    def risk(self) -> str | None:
        return data_loss(self)

    def sort_key(self) -> tuple[int, str]:
        if self.risk:
            rank = 0
        elif self.replacement in ("True", "Conditional"):
            rank = 1
        elif self.action == "Remove":
            rank = 2
        else:
            rank = 3
        return (rank, self.logical_id)


@dataclass(frozen=True)
class ParameterChange:
    name: str
    before: str | None
    after: str | None


@dataclass
class StackPlan:
    """One stack's planned change. `action` is one of ACTIONS."""

    name: str
    component: str
    action: str
    resources: list[ResourceChange] = field(default_factory=list)
    parameters: list[ParameterChange] = field(default_factory=list)
    removed_exports: list[str] = field(default_factory=list)
    changed_exports: list[str] = field(default_factory=list)
    # importers of changed exports, and readers (Fn::GetStackOutput) of changed outputs
    affected_stacks: list[str] = field(default_factory=list)
    blocked_exports: dict[str, list[str]] = field(default_factory=dict)  # in use, per ListImports
    notes: list[str] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)
    # a stack set's regions: {"region": ..., "action": create | update | unchanged, "status"}
    regions: list[dict[str, str]] = field(default_factory=list)

    @property
    def has_changes(self) -> bool:
        return self.action in ("create", "recreate", "update")


@dataclass
class PlanReport:
    environment_name: str
    stacks: list[StackPlan]

    @property
    def has_changes(self) -> bool:
        return any(s.has_changes for s in self.stacks)

    @property
    def has_errors(self) -> bool:
        return any(s.action == "error" for s in self.stacks)


def _json_value(value: str | None) -> Any:
    if value is None:
        return None
    try:
        return json.loads(value)
    except ValueError:
        return value


def resource_changes(
    changes: list[dict[str, Any]],
    old: dict[str, Any],
    new: dict[str, Any],
    parameters: tuple[dict[str, str], dict[str, str]] = ({}, {}),
) -> list[ResourceChange]:
    """Change-set changes -> ResourceChanges with before/after values, risky ones first.

    Values read from the templates have the deployed and wanted `parameters` filled in."""
    old_res, new_res = tpl.resources(old), tpl.resources(new)
    found: list[ResourceChange] = []
    for change in changes:
        rc = change.get("ResourceChange")
        if not rc:
            continue
        lid = rc["LogicalResourceId"]
        props: dict[str, PropertyChange] = {}
        for detail in rc.get("Details", []):
            target = detail.get("Target", {})
            attribute = target.get("Attribute", "")
            name = target.get("Name") or attribute
            if attribute == "Properties":
                before = (
                    _json_value(target["BeforeValue"])
                    if "BeforeValue" in target
                    else resolve_parameters(
                        (old_res.get(lid, {}).get("Properties") or {}).get(name), parameters[0]
                    )
                )
                after = (
                    _json_value(target["AfterValue"])
                    if "AfterValue" in target
                    else resolve_parameters(
                        (new_res.get(lid, {}).get("Properties") or {}).get(name), parameters[1]
                    )
                )
            else:
                before = after = None
            recreation = target.get("RequiresRecreation", "")
            cause = _cause(detail)
            previous = props.get(name)
            if previous is not None:  # one property, several details: keep the worst, any cause
                if _recreation_rank(previous.requires_recreation) > _recreation_rank(recreation):
                    recreation = previous.requires_recreation
                cause = cause or previous.cause
            props[name] = PropertyChange(name, before, after, recreation, cause)
        action = rc["Action"]
        retained = action == "Remove" and old_res.get(lid, {}).get("DeletionPolicy") == "Retain"
        found.append(
            ResourceChange(
                logical_id=lid,
                resource_type=rc.get("ResourceType", ""),
                action=action,
                replacement=rc.get("Replacement", "") if action == "Modify" else "",
                properties=tuple(props[k] for k in sorted(props)),
                retained=retained,
            )
        )
    return sorted(found, key=ResourceChange.sort_key)


def _cause(detail: dict[str, Any]) -> str:
    """What made a property change when it was not edited directly (a parameter, a resource)."""
    source = detail.get("ChangeSource", "")
    entity = detail.get("CausingEntity", "")
    if source == "ParameterReference" and entity:
        return f"parameter {entity}"
    if source in ("ResourceReference", "ResourceAttribute") and entity:
        return f"resource {entity}"
    if source == "DirectModification" or not source:
        return ""
    return f"{source} {entity}".strip()


def _recreation_rank(value: str) -> int:
    return {"Always": 3, "Conditionally": 2, "Never": 1}.get(value, 0)


def additions(new: dict[str, Any]) -> list[ResourceChange]:
    """Every resource of a template that does not exist yet, as Add changes."""
    return sorted(
        (
            ResourceChange(logical_id=lid, resource_type=str(r.get("Type", "")), action="Add")
            for lid, r in tpl.resources(new).items()
        ),
        key=ResourceChange.sort_key,
    )


def parameter_changes(deployed: dict[str, str], wanted: dict[str, str]) -> list[ParameterChange]:
    names = sorted(set(deployed) | set(wanted))
    return [
        ParameterChange(n, deployed.get(n), wanted.get(n))
        for n in names
        if deployed.get(n) != wanted.get(n)
    ]


def changed_outputs(old: dict[str, Any], new: dict[str, Any], replaced: set[str]) -> set[str]:
    """Output keys whose value will change: a different expression, or a replaced resource."""
    old_out, new_out = tpl.outputs(old), tpl.outputs(new)
    changed: set[str] = set()
    for key, output in new_out.items():
        if key not in old_out:
            continue
        value = output.get("Value")
        if value != old_out[key].get("Value") or tpl.references(value) & replaced:
            changed.add(key)
    return changed


# --- formats ---------------------------------------------------------------------------------


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= 80 else text[:77] + "..."


def _resource_line(change: ResourceChange) -> str:
    sign = {"Add": "+", "Remove": "-", "Modify": "~"}.get(change.action, "?")
    extra = ""
    if change.action == "Modify" and change.replacement in ("True", "Conditional"):
        extra = " REPLACEMENT" if change.replacement == "True" else " MAY REPLACE"
    if change.retained:
        extra += " (retained: DeletionPolicy Retain)"
    if change.risk:
        extra += f"  !! stateful: {change.risk}"
    return f"{sign} {change.logical_id} ({change.resource_type}){extra}"


def _property_text(prop: PropertyChange, show: Any, below: str = "diff below") -> str:
    """`name: before -> after`, or `name: value (changes with parameter X)` for indirect ones;
    a nested or long value says that its diff follows."""
    if needs_diff(prop.before, prop.after) and prop.before != prop.after:
        text = f"{prop.name}: ({below})"
        return f"{text} (changes with {prop.cause})" if prop.cause else text
    if prop.before == prop.after and prop.cause:
        return f"{prop.name}: {show(prop.after)} (changes with {prop.cause})"
    text = f"{prop.name}: {show(prop.before)} -> {show(prop.after)}"
    return f"{text} (changes with {prop.cause})" if prop.cause else text


def _stack_lines(plan: StackPlan) -> list[str]:
    lines = [f"{plan.name}: {plan.action}"]
    if plan.regions:
        lines.append(
            "  regions (stack set): "
            + ", ".join(f"{r['region']} {r['action']}" for r in plan.regions)
        )
    for note in plan.notes:
        lines.append(f"  note: {note}")
    for change in plan.resources:
        lines.append("  " + _resource_line(change))
        for prop in change.properties:
            flag = f" [recreation: {prop.requires_recreation}]" if prop.requires_recreation else ""
            lines.append(f"      {_property_text(prop, _short)}{flag}")
            if needs_diff(prop.before, prop.after) and prop.before != prop.after:
                lines.extend(f"          {line}" for line in value_diff(prop.before, prop.after))
    for p in plan.parameters:
        lines.append(f"  parameter {p.name}: {p.before!r} -> {p.after!r}")
    for export in plan.removed_exports:
        lines.append(f"  export removed: {export}")
    for export in plan.changed_exports:
        lines.append(f"  export changes value: {export}")
    if plan.affected_stacks:
        lines.append(f"  dependent stacks affected: {', '.join(plan.affected_stacks)}")
    for reason in plan.refusals:
        lines.append(f"  REFUSED: {reason}")
    return lines


def render_text(report: PlanReport) -> str:
    changed = [s for s in report.stacks if s.action != "unchanged"]
    lines: list[str] = []
    for plan in changed:
        lines.extend(_stack_lines(plan))
        lines.append("")
    unchanged = [s.name for s in report.stacks if s.action == "unchanged"]
    if unchanged:
        lines.append(f"unchanged: {', '.join(unchanged)}")
    lines.append(_summary(report))
    return "\n".join(lines)


def _summary(report: PlanReport) -> str:
    counts: dict[str, int] = {}
    for s in report.stacks:
        counts[s.action] = counts.get(s.action, 0) + 1
    parts = [f"{counts[a]} {a}" for a in ACTIONS if counts.get(a)]
    return f"plan for {report.environment_name}: " + (", ".join(parts) or "no stacks")


def render_json(report: PlanReport) -> str:
    data = {
        "environment_name": report.environment_name,
        "has_changes": report.has_changes,
        "stacks": [
            {
                **asdict(s),
                "resources": [
                    {
                        **asdict(r),
                        "properties": [_json_property(p) for p in r.properties],
                        "stateful": r.stateful,
                        "risk": r.risk,
                    }
                    for r in s.resources
                ],
            }
            for s in report.stacks
        ],
    }
    return json.dumps(data, indent=2, sort_keys=True, default=str)


def _json_property(prop: PropertyChange) -> dict[str, Any]:
    """The complete before/after values, plus a line diff where they are nested or long."""
    data = asdict(prop)
    if needs_diff(prop.before, prop.after) and prop.before != prop.after:
        data["diff"] = value_diff(prop.before, prop.after)
    return data


def _md(value: Any) -> str:
    return "`" + _short(value).replace("`", "'").replace("|", "\\|") + "`"


def _markdown_diffs(resources: list[ResourceChange]) -> list[str]:
    """A diff block per nested or long property, after the table that says "diff below"."""
    lines: list[str] = []
    for r in resources:
        for prop in r.properties:
            if not needs_diff(prop.before, prop.after) or prop.before == prop.after:
                continue
            diff = value_diff(prop.before, prop.after)
            fence = "~~~~" if any("```" in line for line in diff) else "```"
            lines += [f"`{r.logical_id}` `{prop.name}`:", "", f"{fence}diff", *diff, fence, ""]
    return lines


def render_markdown(report: PlanReport) -> str:
    """For a pull-request comment: one section per changed stack, tables of resources."""
    lines = [f"### cfngen plan: {report.environment_name}", "", _summary(report), ""]
    for plan in report.stacks:
        if plan.action == "unchanged":
            continue
        lines.append(f"#### `{plan.name}`: {plan.action}")
        lines.append("")
        if plan.regions:
            lines.append(
                "Regions (stack set): "
                + ", ".join(f"{r['region']} {r['action']}" for r in plan.regions)
            )
            lines.append("")
        for note in plan.notes:
            lines.append(f"> {note}")
        for reason in plan.refusals:
            lines.append(f"> **Refused:** {reason}")
        if plan.notes or plan.refusals:
            lines.append("")
        if plan.resources:
            lines.append("| | Resource | Type | Replacement | Changes |")
            lines.append("|---|---|---|---|---|")
            for r in plan.resources:
                sign = {"Add": "+", "Remove": "-", "Modify": "~"}.get(r.action, "?")
                if r.risk:
                    sign = f"**{sign} ⚠**"
                changes = "<br>".join(
                    _property_text(p, _md).replace(" -> ", " → ") for p in r.properties
                )
                lines.append(
                    f"| {sign} | `{r.logical_id}` | {r.resource_type} | {r.replacement or ''} "
                    f"| {changes} |"
                )
            lines.append("")
            lines += _markdown_diffs(plan.resources)
        for p in plan.parameters:
            lines.append(f"- parameter `{p.name}`: {_md(p.before)} → {_md(p.after)}")
        for export in plan.removed_exports:
            lines.append(f"- export removed: `{export}`")
        for export in plan.changed_exports:
            lines.append(f"- export changes value: `{export}`")
        if plan.affected_stacks:
            lines.append(f"- dependent stacks affected: {', '.join(plan.affected_stacks)}")
        lines.append("")
    unchanged = [s.name for s in report.stacks if s.action == "unchanged"]
    if unchanged:
        lines.append(f"Unchanged: {', '.join(f'`{n}`' for n in unchanged)}")
    return "\n".join(lines).rstrip() + "\n"


RENDERERS = {"text": render_text, "json": render_json, "markdown": render_markdown}
