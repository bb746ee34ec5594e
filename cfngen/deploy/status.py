"""`cfngen status` and `cfngen outputs`: what exists in AWS for an environment, read-only."""

from __future__ import annotations

import json
from typing import Any

from cfngen.deploy.aws import Clients
from cfngen.deploy.state import describe_stack, is_owned
from cfngen.render import RenderedEnvironment


def environment_status(env: RenderedEnvironment, clients: Clients) -> list[dict[str, Any]]:
    """One row per stack of the environment, in deploy order; missing stacks say so."""
    rows = []
    for stack in env.stacks:
        if stack.regions:  # a stack set: one row per region
            from cfngen.deploy.stackset_deploy import stack_set_status

            rows += stack_set_status(clients.cloudformation, stack, env, clients.region)
            continue
        state = describe_stack(clients.for_region(stack.region).cloudformation, stack.name)
        rows.append(
            {
                "stack": stack.name,
                "component": stack.component,
                "region": stack.region or clients.region,
                "status": state.status if state else "NOT_DEPLOYED",
                "reason": state.reason if state else "",
                "owned": bool(state and is_owned(state, env)),
                "termination_protection": bool(state and state.termination_protection),
            }
        )
    return rows


def environment_outputs(env: RenderedEnvironment, clients: Clients) -> list[dict[str, str]]:
    """Every output of every deployed stack of the environment."""
    from cfngen.deploy.stacksets import list_instances

    rows = []
    for stack in env.stacks:
        if stack.regions:  # each region's instance, a stack of its own (StackSet-<name>-<id>)
            found = list_instances(clients.cloudformation, stack.name, env.target.get("account"))
            places = [(r, found[r].stack_id) for r in stack.regions if r in found]
        else:
            places = [(stack.region or clients.region, stack.name)]
        for region, name in places:
            state = (
                describe_stack(clients.for_region(region).cloudformation, name) if name else None
            )
            if state is not None:
                rows += _output_rows(stack.name, region, state.outputs)
    return rows


def _output_rows(stack: str, region: str, outputs: Any) -> list[dict[str, str]]:
    return [
        {
            "stack": stack,
            "region": region,
            "key": output.get("OutputKey", ""),
            "value": output.get("OutputValue", ""),
            "export": output.get("ExportName", ""),
        }
        for output in sorted(outputs, key=lambda o: o.get("OutputKey", ""))
    ]


def render_table(rows: list[dict[str, Any]], columns: list[str]) -> str:
    """A plain aligned table (greppable, no colours: works in CI logs and pipes)."""
    if not rows:
        return "(nothing deployed)"
    cells = [[str(r.get(c, "")) for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    lines = ["  ".join(c.upper().ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip()]
    for row in cells:
        lines.append("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())
    return "\n".join(lines)


def render_json(rows: list[dict[str, Any]]) -> str:
    return json.dumps(rows, indent=2, sort_keys=True)
