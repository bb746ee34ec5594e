"""The fixed pipeline: load -> select env -> interpolate -> validate -> plan -> build.

Every stage is a function of the previous stage's result. `compile_environment` is what render,
lint and deploy call; `validate_blueprint` runs the same stages up to the plan for every
environment and reports all their errors together.
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import msgspec.structs
from msgspec import Struct

from cfngen import placeholders, registry
from cfngen.blueprint.environments import SHARED, environment_names, select_environment
from cfngen.blueprint.interpolate import check_variable_names, interpolate, load_var_files
from cfngen.blueprint.models import PRODUCTION_NAMES, Blueprint
from cfngen.blueprint.source import Document, Path_, dotted, load_file, undotted
from cfngen.blueprint.validate import Checker, validate_model
from cfngen.builders.base import Context, StackPlan
from cfngen.errors import BlueprintError, Diagnostic, Mark
from cfngen.kinds.base import Facts
from cfngen.limits import check_stack_limits
from cfngen.overrides import (
    apply_override,
    check_with_cfn_lint,
    exporting_component,
    override_imports,
)
from cfngen.plain import template_data
from cfngen.planning import make_facts
from cfngen.regions import assign_regions
from cfngen.render import RenderedEnvironment, RenderedStack
from cfngen.stacks import (
    CycleError,
    deploy_order,
    environment_name,
    resolved_export_name,
    stack_name,
)
from cfngen.waivers import apply as apply_waivers
from cfngen.waivers import collect as collect_waivers


class Inputs(Struct, frozen=True):
    """What the user gave: the blueprint path and template variables."""

    path: Path
    variables: tuple[tuple[str, str], ...] = ()
    var_files: tuple[Path, ...] = ()


class Prepared(Struct, frozen=True):
    """One environment's validated blueprint, its positions, its facts and its ordered stack
    plans."""

    blueprint: Blueprint
    document: Document
    env: str
    env_name: str
    facts: Facts
    plans: tuple[StackPlan[Any], ...]


def _context(doc: Document, env: str, variables: dict[str, Any]) -> dict[str, Any]:
    data = doc.data if isinstance(doc.data, dict) else {}
    name = str(data.get("blueprint", ""))
    raw_env_name = data.get("environment_name")
    env_name = environment_name(name, env, raw_env_name if isinstance(raw_env_name, str) else None)
    raw_vars = data.get("vars")
    base_vars: dict[str, Any] = raw_vars if isinstance(raw_vars, dict) else {}
    return {
        "env": {"name": env, "environment_name": env_name},
        "blueprint": {"name": name, "region": data.get("region", "")},
        "vars": {**base_vars, **variables},
    }


def _validated(doc: Document, env: str, variables: dict[str, Any]) -> tuple[Document, Blueprint]:
    """Select, interpolate and validate one environment's model."""
    kinds = registry.for_document(doc.data)
    selected = select_environment(doc, env, kinds.shareable)
    ctx = _context(selected, env, variables)
    if "{{" in str(ctx["env"]["environment_name"]):
        ctx["env"]["environment_name"] = f"{ctx['blueprint']['name']}-{env}"
    rendered = interpolate(selected, ctx)
    return rendered, validate_model(rendered, kinds.blueprint)


Siblings = Callable[[], Mapping[str, Blueprint]]


def siblings(doc: Document, variables: dict[str, Any]) -> Siblings:
    """Every environment's validated model (the shared scope first), computed on first use and
    kept: checks across environments read them. One that does not validate is left out (its
    own validation reports it)."""

    @functools.cache
    def get() -> Mapping[str, Blueprint]:
        found: dict[str, Blueprint] = {}
        for name in environment_names(doc):
            try:
                found[name] = _validated(doc, name, variables)[1]
            except BlueprintError:
                continue
        return found

    return get


def prepare(
    doc: Document, env: str, variables: dict[str, Any], others: Siblings | None = None
) -> Prepared:
    """Select, interpolate, validate and plan one environment."""
    rendered, blueprint = _validated(doc, env, variables)
    kinds = registry.for_document(doc.data)
    facts = make_facts(blueprint, kinds.kinds)
    checker = Checker(rendered)
    kinds.check(blueprint, facts, checker)
    kinds.check_across(env, blueprint, others or siblings(doc, variables), checker)
    if checker.errors:
        raise BlueprintError(checker.errors)
    env_name = environment_name(blueprint.blueprint, env, blueprint.environment_name)
    plans = plan_stacks(kinds, blueprint, facts, rendered, env_name, shared=env == SHARED)
    return Prepared(blueprint, rendered, env, env_name, facts, plans)


def plan_stacks(
    kinds: registry.Registry,
    bp: Blueprint,
    facts: Facts,
    doc: Document,
    env_name: str = "",
    shared: bool = False,
) -> tuple[StackPlan[Any], ...]:
    """Every stack of the environment in deploy order; cycles are blueprint errors. The shared
    scope has only the stacks of the kinds it may hold (no network of its own)."""
    plans: dict[str, StackPlan[Any]] = {}
    for p in kinds.plan(bp, facts, shared):
        plans[p.component] = p
    errors: list[Diagnostic] = []
    for key, override in bp.overrides.items():
        if key in plans and env_name:  # an import written in an override is a dependency too
            plans[key], problems = _override_dependencies(
                plans[key], override, env_name, plans, doc
            )
            errors += problems
    for p in plans.values():
        for dep in p.depends_on:
            if dep not in plans:  # references are checked earlier; this is the safety net
                where = p.dependency_sources.get(dep, p.source)
                errors.append(
                    Diagnostic(
                        doc.positions.value(where),
                        dotted(where),
                        f"refers to '{dep}', which this environment does not have",
                        "declare it or remove the reference",
                    )
                )
    for key in bp.overrides:
        if key not in plans:
            close = difflib.get_close_matches(key, list(plans), n=1)
            errors.append(
                Diagnostic(
                    doc.positions.key(("overrides", key)),
                    f"overrides.{key}",
                    f"no stack component '{key}' in this environment",
                    f"did you mean '{close[0]}'?" if close else f"use one of: {', '.join(plans)}",
                )
            )
    if errors:
        raise BlueprintError(errors)
    graph = {c: p.depends_on for c, p in plans.items()}
    try:
        order = deploy_order(graph)
    except CycleError as cyc:
        first, second = cyc.cycle[0], cyc.cycle[1]
        where = plans[first].dependency_sources.get(second, plans[first].source)
        edges = []
        for a, b in zip(cyc.cycle, cyc.cycle[1:], strict=False):
            src = plans[a].dependency_sources.get(b, plans[a].source)
            mark = doc.positions.value(src)
            edges.append(f"{dotted(src)} ({mark})" if mark else dotted(src))
        raise BlueprintError(
            [
                Diagnostic(
                    doc.positions.value(where),
                    dotted(where),
                    f"dependency cycle: {' -> '.join(cyc.cycle)}",
                    "remove one of these references: " + "; ".join(edges),
                )
            ]
        ) from None
    return tuple(plans[c] for c in order)


def _override_dependencies(
    plan: StackPlan[Any],
    override: Any,
    env_name: str,
    plans: dict[str, StackPlan[Any]],
    doc: Document,
) -> tuple[StackPlan[Any], list[Diagnostic]]:
    deps, sources = list(plan.depends_on), dict(plan.dependency_sources)
    errors: list[Diagnostic] = []
    for name, path in override_imports(override, plan.component, env_name):
        owner = exporting_component(name, env_name, list(plans))
        if owner == plan.component:
            errors.append(
                Diagnostic(
                    doc.positions.value(path),
                    dotted(path),
                    f"imports '{name}', an export of this same stack ({plan.component}); "
                    "CloudFormation cannot import a stack's own export",
                    "refer to the resource with Ref or Fn::GetAtt instead",
                )
            )
        elif owner is not None and owner not in deps:
            deps.append(owner)
            sources[owner] = path
    return msgspec.structs.replace(plan, depends_on=tuple(deps), dependency_sources=sources), errors


def _check_override_imports(
    prep: Prepared, exports: set[str], imports: dict[str, set[str]]
) -> list[Diagnostic]:
    """Every import an override writes names an export of the environment; each joins its
    stack's `imports` (manifest.json)."""
    errors: list[Diagnostic] = []
    for key, override in prep.blueprint.overrides.items():
        for name, path in override_imports(override, key, prep.env_name):
            if name in exports:
                imports.setdefault(key, set()).add(name)
                continue
            close = difflib.get_close_matches(name, sorted(exports), n=1)
            errors.append(
                Diagnostic(
                    prep.document.positions.value(path),
                    dotted(path),
                    f"imports '{name}', which no stack of this environment exports",
                    f"did you mean '{close[0]}'?"
                    if close
                    else "`cfngen render` lists each stack's exports in manifest.json",
                )
            )
    return errors


def load_inputs(inputs: Inputs) -> tuple[Document, dict[str, Any]]:
    doc = load_file(inputs.path)
    if not isinstance(doc.data, dict):
        raise BlueprintError(
            [
                Diagnostic(
                    doc.positions.value(()),
                    "",
                    "a blueprint must be a mapping",
                    "start with `blueprint: <name>`",
                )
            ]
        )
    check_variable_names(doc.data, (name for name, _ in inputs.variables))
    variables: dict[str, Any] = load_var_files(list(inputs.var_files))
    variables.update(dict(inputs.variables))
    return doc, variables


def validate_blueprint(inputs: Inputs, envs: Sequence[str] | None = None) -> list[Prepared]:
    """Validate the given environments (all by default); errors of all are reported together."""
    return [prep for prep, _ in validate_and_build(inputs, envs)]


def validate_and_build(
    inputs: Inputs, envs: Sequence[str] | None = None
) -> list[tuple[Prepared, RenderedEnvironment]]:
    """`validate_blueprint`, keeping what it built (lint builds nothing twice)."""
    doc, variables = load_inputs(inputs)
    names = list(envs) if envs else environment_names(doc)
    if not names:
        raise BlueprintError(
            [
                Diagnostic(
                    doc.positions.value(()),
                    "environments",
                    "the blueprint declares no environments",
                    "add e.g. `environments: {dev: {}, prod: {}}`",
                )
            ]
        )
    prepared: list[tuple[Prepared, RenderedEnvironment]] = []
    errors: dict[str, Diagnostic] = {}
    others = siblings(doc, variables)
    for env in names:
        try:
            prep = prepare(doc, env, variables, others)
            # what render would reject, validate rejects: build every stack in memory
            prepared.append((prep, build_environment(prep, source=str(inputs.path))))
        except BlueprintError as err:
            for d in err.diagnostics:
                errors.setdefault(d.render(), d)
    if errors:
        raise BlueprintError(list(errors.values()))
    found = tuple(placeholders.find(doc))
    return [(prep, replace(env, placeholders=found)) for prep, env in prepared]


def compile_environment(
    path: Path,
    env: str,
    variables: dict[str, str] | None = None,
    var_files: Sequence[Path] = (),
) -> RenderedEnvironment:
    """Blueprint file -> every stack of one environment, rendered (nothing written)."""
    inputs = Inputs(path, tuple((variables or {}).items()), tuple(var_files))
    doc, merged_vars = load_inputs(inputs)
    rendered = build_environment(prepare(doc, env, merged_vars), source=str(path))
    return replace(rendered, placeholders=tuple(placeholders.find(doc)))


def _stamp(
    body: dict[str, Any],
    sources: dict[str, Path_],
    component: Path_,
    built: set[str],
    overrides: Path_,
) -> None:
    """Write into each resource's Metadata the blueprint entry that produced it
    (`cfngen.source: services.api`): lint maps findings back to the blueprint through it.

    A key path, not a line number: a line moves whenever the blueprint is edited above it, and
    a Metadata change would then show up in every stack's change set.
    """
    for logical_id, resource in body.get("Resources", {}).items():
        path = sources.get(logical_id, component if logical_id in built else overrides)
        meta = resource.setdefault("Metadata", {}).setdefault("cfngen", {})
        meta.setdefault("source", dotted(path))


_NAMED_IAM = {
    "AWS::IAM::Role": "RoleName",
    "AWS::IAM::ManagedPolicy": "ManagedPolicyName",
    "AWS::IAM::InstanceProfile": "InstanceProfileName",
    "AWS::IAM::User": "UserName",
    "AWS::IAM::Group": "GroupName",
}


def template_capabilities(body: dict[str, Any]) -> tuple[str, ...]:
    """The capabilities CloudFormation will ask for, derived from the resources."""
    caps: set[str] = set()
    for res in body.get("Resources", {}).values():
        rtype = res.get("Type", "")
        if rtype.startswith("AWS::IAM::"):
            caps.add("CAPABILITY_IAM")
            named = _NAMED_IAM.get(rtype)
            if named and named in res.get("Properties", {}):
                caps.add("CAPABILITY_NAMED_IAM")
    return tuple(sorted(caps))


def _relations(facts: Facts) -> tuple[dict[str, str], ...]:
    """The relations folded into security group rules, for the manifest (what verify proves)."""
    groups = facts.groups
    out: dict[tuple[str, ...], dict[str, str]] = {}
    for rel in groups.relations:
        if rel.source not in groups.groups or rel.target not in groups.groups:
            continue
        ports = (
            "all"
            if rel.port is None
            else f"{rel.port}-{rel.to_port}"
            if rel.to_port not in (None, rel.port)
            else str(rel.port)
        )
        entry = {
            "from": rel.source,
            "to": rel.target,
            "protocol": rel.protocol,
            "ports": ports,
            "description": rel.description,
            "source": dotted(rel.origin or groups.sources.get(rel.source, ())),
        }
        out.setdefault(tuple(entry.values()), entry)
    return tuple(out[k] for k in sorted(out))


def build_environment(prep: Prepared, source: str) -> RenderedEnvironment:
    from cfngen.render import dump_template

    bp = prep.blueprint
    positions = prep.document.positions
    production = bp.production if bp.production is not None else prep.env in PRODUCTION_NAMES
    stacks: list[RenderedStack] = []
    bodies: list[dict[str, Any]] = []
    contexts: list[Context] = []
    errors: list[Diagnostic] = []
    for p in prep.plans:
        ctx = Context(
            bp,
            prep.env,
            prep.env_name,
            p.component,
            p.depends_on,
            description=f"{bp.blueprint} {prep.env}: {p.title} (generated by cfngen)",
            facts=prep.facts,
        )
        p.build(p.spec, ctx)
        metadata: dict[str, Any] = {
            "cfngen": {
                "blueprint": bp.blueprint,
                "environment": prep.env,
                "component": p.component,
                "production": production,
                **ctx.template_metadata,
            }
        }
        if ctx.lint_ignores:  # template-wide: the rule is about outputs, which have no Metadata
            metadata["cfngen"]["lint_ignores"] = dict(sorted(ctx.lint_ignores.items()))
            metadata["cfn-lint"] = {"config": {"ignore_checks": sorted(ctx.lint_ignores)}}
        ctx.template.set_metadata(metadata)
        body = template_data(ctx.template)
        built = set(body.get("Resources", {}))
        if p.component in bp.overrides:
            body, problems = apply_override(body, bp.overrides[p.component], p.component, positions)
            errors += problems
        _stamp(body, ctx.sources, p.source, built, ("overrides", p.component))
        bodies.append(body)
        contexts.append(ctx)
    if errors:
        raise BlueprintError(errors)
    apply_waivers(bodies, collect_waivers(bp), prep.document)
    exports = {resolved_export_name(prep.env_name, o) for c in contexts for o in c.exports}
    for p, ctx in zip(prep.plans, contexts, strict=True):
        for o in sorted(ctx.imports):
            if resolved_export_name(prep.env_name, o) not in exports:
                errors.append(
                    Diagnostic(
                        positions.value(p.source) or positions.key(p.source),
                        ".".join(map(str, p.source)),
                        f"{p.component} needs {o.name} of {o.component}, which does not "
                        "offer it in this blueprint",
                        "an existing network needs `public_subnets` for public components"
                        if o.name == "PublicSubnetIds"
                        else f"give {o.component} what provides {o.name}",
                    )
                )
    extra_imports: dict[str, set[str]] = {}
    errors += _check_override_imports(prep, exports, extra_imports)
    for p, ctx, body in zip(prep.plans, contexts, bodies, strict=True):
        parameters = {
            name: str(param.get("Default", ""))
            for name, param in body.get("Parameters", {}).items()
        }
        text = dump_template(body)
        errors += check_stack_limits(p.component, body, text, prep.document)
        if p.component in bp.overrides:
            errors += check_with_cfn_lint(
                text, bp.overrides[p.component], p.component, p.region or bp.region, positions
            )
        stacks.append(
            RenderedStack(
                name=stack_name(prep.env_name, p.component),
                component=p.component,
                file=f"{p.component}.yaml",
                body=text,
                parsed=(text, body),
                parameters=parameters,
                depends_on=tuple(p.depends_on),
                exports=tuple(sorted(resolved_export_name(prep.env_name, o) for o in ctx.exports)),
                imports=tuple(
                    sorted(
                        {resolved_export_name(prep.env_name, o) for o in ctx.imports}
                        | extra_imports.get(p.component, set())
                    )
                ),
                capabilities=template_capabilities(body),
                termination_protection=bp.deploy.termination_protection,
                region=p.region,
                tags={
                    **bp.tags,
                    "cfngen:blueprint": bp.blueprint,
                    "cfngen:environment": prep.env,
                },
            )
        )
    regions = bp.deploy_regions()
    if len(regions) > 1 and production and bp.deploy.stack_sets.failure_tolerance:
        errors.append(
            Diagnostic(
                positions.value(("deploy", "stack_sets", "failure_tolerance")),
                "deploy.stack_sets.failure_tolerance",
                "a production environment's stack sets stop at the first failed region",
                "remove failure_tolerance (0), or set `production: false`",
            )
        )
    if errors:
        raise BlueprintError(errors)
    stacks = assign_regions(stacks, bodies, regions)
    stamped = {
        str(res.get("Metadata", {}).get("cfngen", {}).get("source"))
        for stack in bodies
        for res in stack.get("Resources", {}).values()
    }
    relations = _relations(prep.facts)
    accesses = tuple(a for ctx in contexts for a in ctx.accesses)
    stamped |= {r["source"] for r in relations}  # findings of `cfngen verify` point there
    stamped |= {a["source"] for a in accesses}
    origins: dict[str, Mark] = {}
    for entry in sorted(stamped):
        mark = prep.document.positions.key(undotted(entry))
        if mark is not None:
            origins[entry] = mark
    return RenderedEnvironment(
        relations=relations,
        accesses=accesses,
        origins=origins,
        blueprint=bp.blueprint,
        environment=prep.env,
        environment_name=prep.env_name,
        region=bp.region,
        source=source,
        stacks=tuple(stacks),
        target=bp.deploy.target(),
        regions=regions if len(regions) > 1 else (),
        stack_sets=bp.deploy.stack_sets.settings() if len(regions) > 1 else {},
    )
