"""The escape hatch, applied in the build stage: raw CloudFormation merged into one stack.

`overrides.<component>` has these parts: `properties` (deep-merged into a rendered resource's
Properties), `resources` (new resources), `replace` (resources that take the place of a
rendered one, said explicitly so nothing is swapped by accident), `outputs`, `attributes`
(DependsOn, Condition, policies and Metadata of any resource), `conditions`, and `containers`
(container definitions merged by container name into the stack's task definition).

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

from cfngen import partial_import
from cfngen.blueprint.environments import deep_merge
from cfngen.blueprint.models import Override, ResourceAttributes
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
    _merge_containers(resources, override, component, error)
    conditions = body.get("Conditions", {})
    for name in override.conditions:
        if name in conditions:
            error(
                (*base, "conditions", name),
                f"stack {component} already has a condition '{name}'",
                "give the condition another name",
            )
    final = set(resources) | set(override.resources)
    for logical_id, attrs in override.attributes.items():
        where: Path_ = (*base, "attributes", logical_id)
        if logical_id not in final:
            close = difflib.get_close_matches(logical_id, sorted(final), n=1)
            error(
                where,
                f"stack {component} has no resource '{logical_id}'",
                f"did you mean '{close[0]}'?" if close else f"resources: {', '.join(built)}",
            )
            continue
        for i, dep in enumerate(attrs.DependsOn):
            if dep == logical_id or dep not in final:
                error(
                    (*where, "DependsOn", i),
                    f"'{dep}' is not another resource of stack {component}",
                    "name a resource the stack renders or the override adds",
                )
        if attrs.Condition is not None and attrs.Condition not in {
            *conditions,
            *override.conditions,
        }:
            error(
                (*where, "Condition"),
                f"stack {component} has no condition '{attrs.Condition}'",
                f"add it under `overrides.{component}.conditions`",
            )
    if errors:
        return body, errors
    resources.update(override.resources)
    resources.update(override.replace)
    if override.conditions:
        body["Conditions"] = {**conditions, **override.conditions}
    for logical_id, attrs in override.attributes.items():
        _set_attributes(resources[logical_id], attrs)
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


def merge_named(base: Any, overlay: Any) -> Any:
    """Deep merge in which lists of mappings that all carry a `Name` (Environment, Secrets,
    Ulimits ...) merge item by item on that name; other lists and values are replaced."""
    if isinstance(base, dict) and isinstance(overlay, dict):
        merged = dict(base)
        for key, value in overlay.items():
            merged[key] = merge_named(base[key], value) if key in base else value
        return merged
    if _named_list(base) and _named_list(overlay):
        out = list(base)
        index = {item["Name"]: i for i, item in enumerate(out)}
        for item in overlay:
            if item["Name"] in index:
                out[index[item["Name"]]] = merge_named(out[index[item["Name"]]], item)
            else:
                out.append(item)
        return out
    return overlay


def _named_list(value: Any) -> bool:
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(i, dict) and "Name" in i for i in value)
    )


def _merge_containers(
    resources: dict[str, Any], override: Override, component: str, error: Any
) -> None:
    """`overrides.X.containers`: each entry merged into the container of that name."""
    if not override.containers:
        return
    base: Path_ = ("overrides", component, "containers")
    definitions = task_containers(resources)
    if definitions is None:
        error(
            base,
            f"stack {component} has no task definition",
            "containers apply to the stacks of services and tasks",
        )
        return
    names = [str(d.get("Name")) for d in definitions]
    for name, props in override.containers.items():
        if name not in names:
            close = difflib.get_close_matches(name, names, n=1)
            error(
                (*base, name),
                f"the task definition of stack {component} has no container '{name}'",
                f"did you mean '{close[0]}'?" if close else f"containers: {', '.join(names)}",
            )
        elif props.get("Name", name) != name:
            error(
                (*base, name, "Name"),
                "an override cannot rename a container (other settings refer to its name)",
                "rename it in the blueprint",
            )
        else:
            i = names.index(name)
            definitions[i] = merge_named(definitions[i], props)


def task_containers(resources: dict[str, Any]) -> list[dict[str, Any]] | None:
    """The ContainerDefinitions list of the stack's task definition (None without one)."""
    for resource in resources.values():
        if isinstance(resource, dict) and resource.get("Type") == "AWS::ECS::TaskDefinition":
            props = resource.setdefault("Properties", {})
            found: list[dict[str, Any]] = props.setdefault("ContainerDefinitions", [])
            return found
    return None


def _set_attributes(resource: dict[str, Any], attrs: ResourceAttributes) -> None:
    if attrs.DependsOn:
        rendered = resource.get("DependsOn", [])
        rendered = [rendered] if isinstance(rendered, str) else list(rendered)
        resource["DependsOn"] = rendered + [d for d in attrs.DependsOn if d not in rendered]
    for key in ("Condition", "DeletionPolicy", "UpdateReplacePolicy"):
        value = getattr(attrs, key)
        if value is not None:
            resource[key] = value
    for key in ("UpdatePolicy", "CreationPolicy"):
        value = getattr(attrs, key)
        if value is not None:
            resource[key] = value
    if attrs.Metadata:
        resource["Metadata"] = deep_merge(resource.get("Metadata", {}), attrs.Metadata)


# --- what CloudFormation would say ------------------------------------------------------------


@functools.cache
def _runner(region: str) -> Any:
    partial_import.prepare()
    from cfnlint.config import ConfigMixIn
    from cfnlint.runner import Runner

    return Runner(ConfigMixIn(regions=[region]))


def _walk(node: Any, parts: Sequence[Any]) -> list[Any]:
    """The longest prefix of `parts` that exists inside `node`."""
    taken: list[Any] = []
    for part in parts:
        found = (isinstance(node, dict) and part in node) or (
            isinstance(node, list) and isinstance(part, int) and part < len(node)
        )
        if not found:
            break
        node = node[part]
        taken.append(part)
    return taken


def _blueprint_path(
    path: Sequence[Any],
    override: Override,
    component: str,
    containers: Sequence[str] = (),
) -> Path_ | None:
    """The override entry a cfn-lint match path lies in, or None when it is cfngen's own.
    `containers` are the task definition's container names, in order."""
    base: Path_ = ("overrides", component)
    parts = [p for p in path]
    for key, section in (("Outputs", "outputs"), ("Conditions", "conditions")):
        if len(parts) >= 2 and parts[0] == key and parts[1] in getattr(override, section):
            return (*base, section, *parts[1:])
    if len(parts) < 2 or parts[0] != "Resources":
        return None
    logical_id = parts[1]
    for section in ("resources", "replace"):
        if logical_id in getattr(override, section):
            return (*base, section, *parts[1:])
    attrs = override.attributes.get(logical_id)
    if attrs is not None and len(parts) >= 3 and parts[2] in attrs.model_fields_set:
        inner = _walk(getattr(attrs, parts[2]), parts[3:])
        return (*base, "attributes", logical_id, parts[2], *inner)
    if len(parts) >= 5 and parts[2:4] == ["Properties", "ContainerDefinitions"]:
        index = parts[4]
        if isinstance(index, int) and index < len(containers):
            name = containers[index]
            if name in override.containers:
                inner = _walk(override.containers[name], parts[5:])
                return (*base, "containers", name, *inner)
    props = override.properties.get(logical_id)
    if props is not None and len(parts) >= 4 and parts[2] == "Properties":
        taken = _walk(props, parts[3:])
        if taken:
            return (*base, "properties", logical_id, *taken)
    return None


def check_with_cfn_lint(
    template: str, override: Override, component: str, region: str, positions: Positions
) -> list[Diagnostic]:
    """cfn-lint's errors inside the overridden parts of one rendered stack."""
    partial_import.prepare()
    from cfnlint.decode.decode import decode_str

    parsed, decode_errors = decode_str(template)
    if decode_errors or not isinstance(parsed, dict):  # cfngen wrote it: not the user's fault
        return []
    out: dict[str, Diagnostic] = {}
    definitions = task_containers(json.loads(json.dumps(parsed)).get("Resources", {})) or []
    containers = [str(d.get("Name")) for d in definitions if isinstance(d, dict)]
    runner = _runner(region)
    for match in partial_import.run(lambda: runner.validate_template(parsed), parsed):
        if not match.rule.id.startswith("E"):
            continue
        path = list(getattr(match, "path", None) or [])
        where = _blueprint_path(path, override, component, containers)
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


# --- imports written in overrides -----------------------------------------------------------------

_WITH_VALUES = ("resources", "replace", "properties", "outputs", "conditions", "containers")


def _import_nodes(node: Any, path: Path_) -> list[tuple[Any, Path_]]:
    if isinstance(node, dict):
        if set(node) == {"Fn::ImportValue"}:
            return [(node["Fn::ImportValue"], (*path, "Fn::ImportValue"))]
        return [f for k, v in node.items() for f in _import_nodes(v, (*path, k))]
    if isinstance(node, list):
        return [f for i, v in enumerate(node) for f in _import_nodes(v, (*path, i))]
    return []


def override_imports(override: Override, component: str, env_name: str) -> list[tuple[str, Path_]]:
    """(export name, blueprint path) of every `Fn::ImportValue` of this environment's exports
    written in an override. A literal name or `Fn::Sub` over `${EnvironmentName}` is resolved;
    names outside the environment (another environment's shared network) are not listed."""
    out: list[tuple[str, Path_]] = []
    for part in _WITH_VALUES:
        for value, path in _import_nodes(getattr(override, part), ("overrides", component, part)):
            sub = value.get("Fn::Sub") if isinstance(value, dict) and len(value) == 1 else value
            if not isinstance(sub, str):
                continue
            name = sub.replace("${EnvironmentName}", env_name)
            if "${" not in name and name.startswith(f"{env_name}-"):
                out.append((name, path))
    return out


def exporting_component(name: str, env_name: str, components: Sequence[str]) -> str | None:
    """The component whose exports `name` is among (`<env>-<component>-<output>`)."""
    rest = name.removeprefix(f"{env_name}-")
    found = [c for c in components if rest.startswith(f"{c}-")]
    return max(found, key=len) if found else None
