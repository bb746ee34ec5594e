"""Parsed CloudFormation templates: their sections and the references inside them.

Rendered templates use short-form intrinsics (`!Ref`, `!Sub` ...). Comparing the deployed template
with the rendered one as text would report changes for a re-ordered key or a quoting difference,
so both are parsed into the long form (`{"Ref": ...}`) and compared as data, by the one parser
that lint and the tests use too (`cfngen.render.load_template`). This module reads sections and
references out of parsed templates.
"""

from __future__ import annotations

from typing import Any


def resources(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The template's Resources section (empty when absent)."""
    found = template.get("Resources") or {}
    return found if isinstance(found, dict) else {}


def outputs(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The template's Outputs section (empty when absent)."""
    found = template.get("Outputs") or {}
    return found if isinstance(found, dict) else {}


def stack_output_reads(value: Any) -> set[tuple[str, str]]:
    """(stack name, output name) pairs a template reads with Fn::GetStackOutput (literals only)."""
    found: set[tuple[str, str]] = set()
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "Fn::GetStackOutput" and isinstance(inner, dict):
                stack, output = inner.get("StackName"), inner.get("OutputName")
                if isinstance(stack, str) and isinstance(output, str):
                    found.add((stack, output))
            else:
                found |= stack_output_reads(inner)
    elif isinstance(value, list):
        for inner in value:
            found |= stack_output_reads(inner)
    return found


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
