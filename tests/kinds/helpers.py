"""Build one kind's stack from a typed spec, without YAML: the blueprint is a dict validated by
the registry's model, the facts come from the planning stage, the template from the builder."""

from __future__ import annotations

from typing import Any

from cfngen import registry
from cfngen.blueprint.models import Blueprint
from cfngen.builders.base import Context, StackPlan
from cfngen.kinds.base import Facts
from cfngen.planning import make_facts
from cfngen.render import dump_template, load_template


def blueprint(**sections: Any) -> Blueprint:
    data = {"blueprint": "shop", "region": "eu-west-1", "environments": {"dev": {}}, **sections}
    return registry.BLUEPRINT.model_validate(data)


def facts(bp: Blueprint) -> Facts:
    return make_facts(bp, registry.KINDS)


def plans(bp: Blueprint) -> dict[str, StackPlan[Any]]:
    return {p.component: p for p in registry.full().plan(bp, facts(bp))}


def build(bp: Blueprint, component: str) -> dict[str, Any]:
    """The template of one stack (long-form intrinsics), as its builder makes it."""
    found = facts(bp)
    plan = plans(bp)[component]
    ctx = Context(bp, "dev", "shop-dev", plan.component, plan.depends_on, "test", found)
    plan.build(plan.spec, ctx)
    return load_template(dump_template(ctx.template.to_dict()))


def imp(component: str, output: str) -> dict[str, Any]:
    return {"Fn::ImportValue": {"Fn::Sub": f"${{EnvironmentName}}-{component}-{output}"}}
