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
    rows = []
    for stack in env.stacks:
        state = describe_stack(clients.for_region(stack.region).cloudformation, stack.name)
        if state is None:
            continue
        for output in sorted(state.outputs, key=lambda o: o.get("OutputKey", "")):
            rows.append(
                {
                    "stack": stack.name,
                    "region": stack.region or clients.region,
                    "key": output.get("OutputKey", ""),
                    "value": output.get("OutputValue", ""),
                    "export": output.get("ExportName", ""),
                }
            )
    return rows


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
