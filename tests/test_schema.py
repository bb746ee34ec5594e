"""`cfngen schema` accepts every blueprint cfngen accepts, and still catches what it refuses.

Editors validate blueprints with this schema (yaml-language-server), so a blueprint that
renders must not be underlined, and a typo must be.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from cfngen.schema import blueprint_schema

ROOT = Path(__file__).resolve().parents[1]
BLUEPRINTS = sorted((ROOT / "blueprints").glob("*.yaml")) + sorted(
    (ROOT / "examples").glob("*.yaml")
)


@functools.cache
def validator() -> jsonschema.protocols.Validator:
    schema = blueprint_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def problems(doc: Any) -> list[str]:
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}"
        for e in validator().iter_errors(doc)
    ]


@pytest.mark.parametrize("path", BLUEPRINTS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_reference_and_example_blueprint_validates(path: Path) -> None:
    assert problems(yaml.safe_load(path.read_text())) == []


BASE: dict[str, Any] = {
    "blueprint": "shop",
    "region": "eu-west-1",
    "vars": {"port": 8080, "insights": "enabled"},
    "services": {
        "api": {
            "image": {"uri": "nginx"},
            "port": "{{ vars.port }}",
            "secrets": {
                "A": "ssm:/shop/{{ env.name }}/a",
                "B": "secretsmanager:shop/db#password",
                "C": {"ssm": "/shop/c"},
            },
            "health_check": {"command": "curl -f http://localhost/ || exit 1"},
        }
    },
    "environments": {"dev": {}, "prod": {"services": {"api": {"desired_count": 3}}}},
}


def with_(path: str, value: Any) -> dict[str, Any]:
    import copy

    doc = copy.deepcopy(BASE)
    node = doc
    keys = path.split(".")
    for key in keys[:-1]:
        node = node[key]
    node[keys[-1]] = value
    return doc


def test_the_documented_short_forms_and_templates_validate() -> None:
    assert problems(BASE) == []


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("services.api.prot", 80, "Additional properties are not allowed ('prot' was unexpected)"),
        ("services.api.port", "eighty", "is not valid under any of the given schemas"),
        ("services.api.secrets.A", "sm:/shop/a", "is not valid under any of the given schemas"),
        ("services.api.secrets.A", "ssm:", "is not valid under any of the given schemas"),
        ("environments.prod.services.api.desierd_count", 3, "'desierd_count' was unexpected"),
        ("environments.prod.servcies", {}, "'servcies' was unexpected"),
        ("environments.prod.services.api.port", "eighty", "is not valid under any of the"),
    ],
)
def test_the_schema_still_refuses_what_cfngen_refuses(path: str, value: Any, message: str) -> None:
    found = problems(with_(path, value))
    assert found and any(message in p for p in found), found


def test_short_forms_offer_completion_examples() -> None:
    secret = blueprint_schema()["$defs"]["Secret"]
    examples = [e for choice in secret["anyOf"] for e in choice.get("examples", [])]
    assert examples == ["ssm:/app/dev/api-key", "secretsmanager:app/dev/database#password"]
