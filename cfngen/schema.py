"""The blueprint JSON Schema, generated from the blueprint model the kinds make up."""

from __future__ import annotations

from typing import Any

from cfngen import __version__


def blueprint_schema() -> dict[str, Any]:
    from cfngen.registry import BLUEPRINT

    schema = BLUEPRINT.model_json_schema(by_alias=True, mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = f"https://cfngen.dev/schema/blueprint-{__version__}.json"
    schema["title"] = "cfngen blueprint"
    return schema
