"""The blueprint JSON Schema, generated from the blueprint model the kinds make up.

What the models accept but pydantic's schema cannot say is added here, in one pass, so an editor
(yaml-language-server) accepts every blueprint cfngen accepts:
- short forms parsed by a model's own validator carry their string alternative in the model
  (`json_schema_extra`, e.g. `secrets: {A: ssm:/...}`);
- any value may be a template (`"{{ vars.port }}"`) where a number, a boolean, a choice or a
  checked pattern is expected: templates are filled in before validation;
- `environments.<env>` is the whole top level again, every key optional (an overlay merges into
  the base document, so nothing is required there).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from cfngen import __version__

TEMPLATE = {"type": "string", "pattern": r"\{\{.*\}\}", "description": "A template value."}
"""A string filled in from `vars`/`env` before the blueprint is validated."""

_SCHEMA_MAPS = ("properties", "patternProperties", "$defs")
_SCHEMA_LISTS = ("anyOf", "oneOf", "allOf", "prefixItems")
_SCHEMA_ONE = ("items", "additionalProperties", "not", "propertyNames")
_KEEP_OUTSIDE = ("title", "description", "default", "examples")


def _walk(node: Any, fn: Callable[[dict[str, Any]], dict[str, Any]]) -> Any:
    """`node` with `fn` applied to every subschema, innermost first."""
    if not isinstance(node, dict):
        return node
    out = dict(node)
    for key in _SCHEMA_MAPS:
        if isinstance(out.get(key), dict):
            out[key] = {k: _walk(v, fn) for k, v in out[key].items()}
    for key in _SCHEMA_LISTS:
        if isinstance(out.get(key), list):
            out[key] = [_walk(v, fn) for v in out[key]]
    for key in _SCHEMA_ONE:
        if isinstance(out.get(key), dict):
            out[key] = _walk(out[key], fn)
    return fn(out)


def _templatable(node: dict[str, Any]) -> dict[str, Any]:
    typed = node.get("type") in ("integer", "number", "boolean")
    checked = "enum" in node or "const" in node or "pattern" in node or "format" in node
    if not (typed or checked) or node is TEMPLATE:
        return node
    outside = {k: node[k] for k in _KEEP_OUTSIDE if k in node}
    inside = {k: v for k, v in node.items() if k not in _KEEP_OUTSIDE}
    return {**outside, "anyOf": [inside, TEMPLATE]}


def _overlay(node: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in node.items() if k not in ("required", "discriminator")}
    if "oneOf" in out:  # with nothing required, several choices may match a partial value
        out["anyOf"] = out.pop("oneOf")
    ref = out.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        out["$ref"] = ref + "Overlay"
    return out


def blueprint_schema() -> dict[str, Any]:
    from cfngen.registry import full

    schema = full().blueprint.model_json_schema(by_alias=True, mode="validation")
    schema = _walk(schema, _templatable)
    defs: dict[str, Any] = schema.setdefault("$defs", {})
    for name, definition in list(defs.items()):
        defs[f"{name}Overlay"] = _walk(copy.deepcopy(definition), _overlay)
    top = {k: v for k, v in schema["properties"].items() if k != "environments"}
    defs["EnvironmentOverlay"] = {
        "title": "Environment overlay",
        "description": "Merged into the base document for this environment: mappings merge, "
        "lists replace; every key is optional.",
        "type": ["object", "null"],
        "additionalProperties": False,
        "properties": {k: _walk(copy.deepcopy(v), _overlay) for k, v in top.items()},
    }
    environments = schema["properties"]["environments"]
    environments["additionalProperties"] = {"$ref": "#/$defs/EnvironmentOverlay"}
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = f"https://cfngen.dev/schema/blueprint-{__version__}.json"
    schema["title"] = "cfngen blueprint"
    return schema


def short_form(*alternatives: dict[str, Any]) -> Callable[[dict[str, Any], Any], None]:
    """A model's `json_schema_extra`: its schema also accepts these (string) short forms, which
    the model's `mode="before"` validator expands."""

    def extra(schema: dict[str, Any], _cls: Any) -> None:
        mapping = dict(schema)
        schema.clear()
        schema.update({k: mapping.pop(k) for k in _KEEP_OUTSIDE if k in mapping})
        schema["anyOf"] = [*alternatives, mapping]

    return extra
