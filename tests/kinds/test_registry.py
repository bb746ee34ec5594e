"""The list of kinds is the one place kinds are enumerated; everything else derives from it."""

from __future__ import annotations

from pathlib import Path

from cfngen import registry
from cfngen.schema import blueprint_schema

CFNGEN = Path(registry.__file__).parent
GENERIC_STAGES = ["compiler.py", "planning.py", "registry.py", "blueprint/validate.py"]


def test_every_kind_has_its_own_section_and_prefix() -> None:
    sections = [k.section for k in registry.KINDS]
    prefixes = [k.prefix for k in registry.KINDS]
    assert len(set(sections)) == len(sections)
    assert len(set(prefixes)) == len(prefixes)
    assert {"queues", "topics", "services", "databases"} <= set(sections)


def test_the_blueprint_model_and_schema_have_exactly_the_kinds_sections() -> None:
    base = {"blueprint", "region", "description", "environment_name", "production", "tags"}
    base |= {"vars", "deploy", "overrides", "environments", "shared", "regions"}
    fields = set(registry.BLUEPRINT.model_fields)
    assert fields - base == {k.section for k in registry.KINDS}
    assert set(blueprint_schema()["properties"]) == fields


def test_planning_order_follows_the_kinds_order() -> None:
    orders = [k.order for k in registry.KINDS]
    assert orders == sorted(orders)


def test_the_generic_stages_name_no_kind() -> None:
    """compile, plan, validate and the registry work for any kind: none of them spells a
    section or a component prefix of one."""
    words = {f'"{k.section}"' for k in registry.KINDS} | {f'"{k.prefix}-' for k in registry.KINDS}
    for stage in GENERIC_STAGES:
        text = (CFNGEN / stage).read_text()
        assert not [w for w in words if w in text], stage


def test_the_shared_scope_holds_exactly_the_shareable_kinds() -> None:
    fields = set(registry.SHARED.model_fields) - {"region", "deploy"}
    assert (
        fields
        == {k.section for k in registry.KINDS if k.shareable}
        == {
            "repositories",
            "oidc_providers",
            "deploy_roles",
            "dns",
        }
    )
