"""Parsed CloudFormation templates: their sections and the references inside them.

Rendered templates use short-form intrinsics (`!Ref`, `!Sub` ...). Comparing the deployed template
with the rendered one as text would report changes for a re-ordered key or a quoting difference,
so both are parsed into the long form (`{"Ref": ...}`) and compared as data, by the one parser
that lint and the tests use too (`cfngen.render.load_template`). This module reads sections and
references out of parsed templates.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def resources(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The template's Resources section (empty when absent)."""
    found = template.get("Resources") or {}
    return found if isinstance(found, dict) else {}


def outputs(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The template's Outputs section (empty when absent)."""
    found = template.get("Outputs") or {}
    return found if isinstance(found, dict) else {}


def intrinsics(value: Any) -> Iterator[tuple[str, Any]]:
    """Every (key, argument) of every mapping inside `value`, depth first.

    Intrinsic functions are single-key mappings (`{"Fn::GetAtt": [...]}`, `{"Ref": x}`), so this
    is the one walk every question about a template's references is answered from.
    """
    if isinstance(value, dict):
        for key, inner in value.items():
            yield key, inner
            yield from intrinsics(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from intrinsics(inner)


def stack_output_reads(value: Any) -> set[tuple[str, str]]:
    """(stack name, output name) pairs a template reads with Fn::GetStackOutput (literals only)."""
    return {
        (arg["StackName"], arg["OutputName"])
        for key, arg in intrinsics(value)
        if key == "Fn::GetStackOutput"
        and isinstance(arg, dict)
        and isinstance(arg.get("StackName"), str)
        and isinstance(arg.get("OutputName"), str)
    }


def references(value: Any) -> set[str]:
    """Logical ids a value refers to with Ref / GetAtt / ${X} in Sub (used for export impact)."""
    found: set[str] = set()
    for key, arg in intrinsics(value):
        if key == "Ref" and isinstance(arg, str):
            found.add(arg)
        elif key == "Fn::GetAtt" and isinstance(arg, list) and arg:
            found.add(str(arg[0]))
        elif key == "Fn::Sub":
            text = arg[0] if isinstance(arg, list) and arg else arg
            if isinstance(text, str):
                found |= _sub_names(text)
    return found


def getatts(value: Any) -> set[tuple[str, str]]:
    """(logical id, attribute) pairs read with Fn::GetAtt."""
    return {
        (str(arg[0]), str(arg[1]))
        for key, arg in intrinsics(value)
        if key == "Fn::GetAtt" and isinstance(arg, list) and len(arg) == 2
    }


def functions(value: Any) -> set[str]:
    """The intrinsic functions (Fn::*) a piece of template calls."""
    return {key for key, _ in intrinsics(value) if key.startswith("Fn::")}


def imports(value: Any, env_name: str) -> set[str]:
    """Export names read with Fn::ImportValue, `${EnvironmentName}` resolved."""
    found: set[str] = set()
    for key, arg in intrinsics(value):
        if key == "Fn::ImportValue":
            name = arg.get("Fn::Sub") if isinstance(arg, dict) else arg
            if isinstance(name, str):
                found.add(name.replace("${EnvironmentName}", env_name))
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
