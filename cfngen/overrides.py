"""The escape hatch, applied in the build stage: raw CloudFormation merged into one stack.

`overrides.<component>` has four parts: `properties` (deep-merged into a rendered resource's
Properties), `resources` (new resources), `replace` (resources that take the place of a
rendered one, said explicitly so nothing is swapped by accident) and `outputs`.

Raw CloudFormation is the one part of a blueprint cfngen does not model, so it is checked the way
CloudFormation would check it: `check_with_cfn_lint` runs cfn-lint's error rules (its resource
schemas, intrinsic functions, references) in-process over each stack that has overrides and
reports the errors inside the overridden parts at the override's file:line:col. Stacks without
overrides never load cfn-lint.
"""

from __future__ import annotations

import difflib
import functools
import json
from collections.abc import Sequence
from typing import Any

from cfngen.blueprint.environments import deep_merge
from cfngen.blueprint.models import Override
from cfngen.blueprint.source import Path_, Positions, dotted
from cfngen.errors import Diagnostic


def apply_override(
    body: dict[str, Any], override: Override, component: str, positions: Positions
) -> tuple[dict[str, Any], list[Diagnostic]]:
    """`body` with the override merged in (a copy), and what is wrong with the override."""
    body = json.loads(json.dumps(body))
    resources = body.setdefault("Resources", {})
    built = sorted(resources)
    base: Path_ = ("overrides", component)
    errors: list[Diagnostic] = []

    def error(path: Path_, message: str, fix: str) -> None:
        errors.append(Diagnostic(positions.key(path), dotted(path), message, fix))

    for logical_id, props in override.properties.items():
        if logical_id not in resources:
            close = difflib.get_close_matches(logical_id, built, n=1)
            error(
                (*base, "properties", logical_id),
                f"stack {component} has no resource '{logical_id}'",
                f"did you mean '{close[0]}'?" if close else f"resources: {', '.join(built)}",
            )
            continue
        resources[logical_id]["Properties"] = deep_merge(
            resources[logical_id].get("Properties", {}), props
        )
    for logical_id in override.resources:
        if logical_id in resources:
            error(
                (*base, "resources", logical_id),
                f"stack {component} already renders a resource '{logical_id}'; an entry under "
                "`resources` would silently replace it",
                f"move it to `overrides.{component}.replace` to replace the rendered resource, "
                "or give it another logical ID",
            )
    for logical_id in override.replace:
        if logical_id not in resources:
            close = difflib.get_close_matches(logical_id, built, n=1)
            error(
                (*base, "replace", logical_id),
                f"stack {component} has no resource '{logical_id}' to replace",
                f"did you mean '{close[0]}'?"
                if close
                else "add new resources under `resources` instead",
            )
    if errors:
        return body, errors
    resources.update(override.resources)
    resources.update(override.replace)
    if override.outputs:
        outputs = body.setdefault("Outputs", {})
        for name in override.outputs:
            if name in outputs:
                error(
                    (*base, "outputs", name),
                    f"stack {component} already has an output '{name}'",
                    "give the output another name",
                )
        outputs.update(override.outputs)
    return body, errors


# --- what CloudFormation would say ------------------------------------------------------------


@functools.cache
def _runner(region: str) -> Any:
    from cfnlint.config import ConfigMixIn
    from cfnlint.runner import Runner

    return Runner(ConfigMixIn(regions=[region]))


def _blueprint_path(path: Sequence[Any], override: Override, component: str) -> Path_ | None:
    """The override entry a cfn-lint match path lies in, or None when it is cfngen's own."""
    base: Path_ = ("overrides", component)
    parts = [p for p in path]
    if len(parts) >= 2 and parts[0] == "Outputs" and parts[1] in override.outputs:
        return (*base, "outputs", *parts[1:])
    if len(parts) < 2 or parts[0] != "Resources":
        return None
    logical_id = parts[1]
    for section in ("resources", "replace"):
        if logical_id in getattr(override, section):
            return (*base, section, *parts[1:])
    props = override.properties.get(logical_id)
    if props is not None and len(parts) >= 4 and parts[2] == "Properties":
        node: Any = props
        taken: list[Any] = []
        for part in parts[3:]:
            found = (isinstance(node, dict) and part in node) or (
                isinstance(node, list) and isinstance(part, int) and part < len(node)
            )
            if not found:
                break
            node = node[part]
            taken.append(part)
        if taken:
            return (*base, "properties", logical_id, *taken)
    return None


def check_with_cfn_lint(
    template: str, override: Override, component: str, region: str, positions: Positions
) -> list[Diagnostic]:
    """cfn-lint's errors inside the overridden parts of one rendered stack."""
    from cfnlint.decode.decode import decode_str

    parsed, decode_errors = decode_str(template)
    if decode_errors or not isinstance(parsed, dict):  # cfngen wrote it: not the user's fault
        return []
    out: dict[str, Diagnostic] = {}
    for match in _runner(region).validate_template(parsed):
        if not match.rule.id.startswith("E"):
            continue
        where = _blueprint_path(list(getattr(match, "path", None) or []), override, component)
        if where is None:
            continue
        message = match.message if len(match.message) <= 240 else match.message[:237] + "..."
        d = Diagnostic(
            positions.value(where),
            dotted(where),
            f"CloudFormation would reject this: {message}",
            f"cfn-lint {match.rule.id}: {match.rule.shortdesc}",
        )
        out.setdefault(d.render(), d)
    return list(out.values())
