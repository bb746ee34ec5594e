"""Parse CloudFormation YAML/JSON templates into plain data so they can be compared by meaning.

Rendered templates use short-form intrinsics (`!Ref`, `!Sub` ...). Comparing the deployed template
with the rendered one as text would report changes for a re-ordered key or a quoting difference,
so both are parsed into the long form (`{"Ref": ...}`) and compared as data.
"""

from __future__ import annotations

import json
from typing import Any

import yaml


class _CfnLoader(yaml.SafeLoader):
    """SafeLoader that understands every CloudFormation short-form tag."""


def _construct_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "Condition":
        return {"Condition": value}
    if suffix == "GetAtt" and isinstance(value, str):
        resource, _, attribute = value.partition(".")
        return {"Fn::GetAtt": [resource, attribute]}
    return {f"Fn::{suffix}": value}


_CfnLoader.add_multi_constructor("!", _construct_tag)


def parse_template(body: str | dict[str, Any]) -> dict[str, Any]:
    """Return the template as data; GetTemplate already returns JSON templates as a dict."""
    if isinstance(body, dict):
        return body
    text = body.lstrip()
    # YAML is a superset of JSON, but json.loads is faster and exact for JSON templates.
    data = json.loads(text) if text.startswith("{") else yaml.load(body, Loader=_CfnLoader)
    if not isinstance(data, dict):
        raise ValueError("a CloudFormation template must be a mapping")
    return data


def resources(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The template's Resources section (empty when absent)."""
    found = template.get("Resources") or {}
    return found if isinstance(found, dict) else {}


def outputs(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The template's Outputs section (empty when absent)."""
    found = template.get("Outputs") or {}
    return found if isinstance(found, dict) else {}


def references(value: Any) -> set[str]:
    """Logical ids a value refers to with Ref / GetAtt / ${X} in Sub (used for export impact)."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "Ref" and isinstance(inner, str):
                found.add(inner)
            elif key == "Fn::GetAtt" and isinstance(inner, list) and inner:
                found.add(str(inner[0]))
            elif key == "Fn::Sub":
                text = inner[0] if isinstance(inner, list) and inner else inner
                if isinstance(text, str):
                    found.update(_sub_names(text))
                found.update(references(inner))
            else:
                found.update(references(inner))
    elif isinstance(value, list):
        for inner in value:
            found.update(references(inner))
    return found


def _sub_names(text: str) -> set[str]:
    names: set[str] = set()
    start = text.find("${")
    while start != -1:
        end = text.find("}", start)
        if end == -1:
            break
        name = text[start + 2 : end]
        if not name.startswith("!"):
            names.add(name.split(".", 1)[0])
        start = text.find("${", end)
    return names
