"""The one place that says what MiniStack (1.5.33) cannot do, and so what emulator runs leave out.

cfngen renders templates for AWS and never bends them for the emulator. A deploy test that runs
a real blueprint on MiniStack filters the rendered environment through `emulator_environment`,
which drops (or reports) exactly what is listed here, so a reader of a test knows what was not
exercised and why. Behaviour no emulator enforces is tested with botocore's Stubber instead
(tests/deploy/test_stubbed.py).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from cfngen.deploy.template import (
    functions,
    getatts,
    imports,
    outputs,
    references,
    resources,
)
from cfngen.render import RenderedEnvironment, RenderedStack, load_template
from cfngen.stacks import Output, resolved_export_name

#: Resource types MiniStack rejects at CreateChangeSet ("Template format error: Unrecognized
#: resource types: [...]", as AWS does for unknown types). They were measured
#: against 1.5.33 among the types cfngen's builders use or will use, and
#: test_emulator_gaps.py re-measures the whole list on every run.
UNSUPPORTED_TYPES: frozenset[str] = frozenset(
    {
        "AWS::ApiGateway::VpcLink",
        "AWS::Budgets::Budget",
        "AWS::EC2::EIP",
        "AWS::EC2::NatGateway",
        "AWS::EC2::FlowLog",
        "AWS::EC2::SecurityGroupIngress",
        "AWS::EC2::SecurityGroupEgress",
        "AWS::EC2::Instance",
        "AWS::EC2::Volume",
        "AWS::EC2::VolumeAttachment",
        "AWS::ECS::CapacityProvider",
        "AWS::ECS::ClusterCapacityProviderAssociations",
        "AWS::IAM::OIDCProvider",
        "AWS::ApplicationAutoScaling::ScalableTarget",
        "AWS::ApplicationAutoScaling::ScalingPolicy",
        "AWS::ElasticLoadBalancingV2::ListenerCertificate",
    }
)

#: Fn::GetAtt attributes MiniStack cannot resolve: the stack fails at execution.
UNSUPPORTED_GETATTS: frozenset[tuple[str, str]] = frozenset(
    {
        ("AWS::RDS::DBInstance", "MasterUserSecret.SecretArn"),  # no managed secret is created
        ("AWS::EC2::VPC", "CidrBlock"),
    }
)

#: Properties MiniStack refuses at execution, by resource type: the resource fails the stack.
#: A CloudWatch alarm on metric math ("AWS::CloudWatch::Alarm Properties.Metrics (metric math)
#: is not supported; use MetricName and Namespace."). Measured by test_emulator_gaps.py.
UNSUPPORTED_PROPERTIES: frozenset[tuple[str, str]] = frozenset(
    {("AWS::CloudWatch::Alarm", "Metrics")}
)

#: Intrinsic functions MiniStack cannot run as cfngen renders them. Fn::GetStackOutput (a site
#: reading its us-east-1 certificate's ARN): the short form `!GetStackOutput` is rejected at
#: CreateChangeSet ("Template format error: could not determine a constructor for the tag
#: '!GetStackOutput'"), and the long form ignores `Region`, so reading another region's stack
#: fails at execution ("Output 'X' not found in stack 'Y'"). Measured by test_emulator_gaps.py.
#: (AWS::CertificateManager::Certificate with DNS validation works there: issued at once.)
UNSUPPORTED_FUNCTIONS: frozenset[str] = frozenset({"Fn::GetStackOutput"})

#: Behaviour that differs without failing; tests must not assert on it against the emulator.
KNOWN_DIFFERENCES: tuple[str, ...] = (
    "a change set that only changes Outputs is reported as 'no changes' (AWS executes it)",
    "Replacement is 'Conditional' for any property change of a type MiniStack has no table for "
    "(e.g. AWS::Logs::LogGroup RetentionInDays, which AWS reports as Never): a stateful resource "
    "of such a type is refused without --allow-replace on the emulator",
    "CreateChangeSet ignores IncludePropertyValues (no BeforeValue/AfterValue in Details)",
    "deleting a stack whose export is imported fails synchronously with 'Export X is imported "
    "by stack Y' (AWS: 'Export X cannot be deleted as it is in use by Y')",
)


@dataclass(frozen=True)
class Exclusion:
    """What an emulator run leaves out of one stack (a few resources, or the whole stack)."""

    stack: str
    why: str


def _bad_getatts(value: object, res: dict[str, Any]) -> bool:
    return any(
        (str(res.get(lid, {}).get("Type", "")), attribute) in UNSUPPORTED_GETATTS
        for lid, attribute in getatts(value)
    )


def prune(
    template: dict[str, Any], env_name: str, missing_exports: set[str]
) -> tuple[dict[str, Any], list[str]]:
    """The template less what MiniStack cannot create, and less what needs those resources.

    A resource goes when its type or one of its properties is unsupported, when it reads an
    unsupported attribute or a missing export, when it calls an unsupported function, or when it
    refers to a resource that went (to a fixpoint). A DependsOn on a removed resource is only an
    ordering hint and is dropped, not followed. Outputs that refer to removed resources go too.
    Returns the pruned template and the removed logical IDs.
    """
    res = dict(resources(template))
    removed = {
        lid
        for lid, r in res.items()
        if r.get("Type") in UNSUPPORTED_TYPES
        or any((r.get("Type"), p) in UNSUPPORTED_PROPERTIES for p in r.get("Properties") or {})
    }
    changed = True
    while changed:
        changed = False
        for lid, r in res.items():
            if lid in removed:
                continue
            body = {k: v for k, v in r.items() if k != "DependsOn"}
            if (
                references(body) & removed
                or imports(body, env_name) & missing_exports
                or _bad_getatts(body, res)
                or functions(body) & UNSUPPORTED_FUNCTIONS
            ):
                removed.add(lid)
                changed = True
    kept: dict[str, Any] = {}
    for lid, r in res.items():
        if lid in removed:
            continue
        r = dict(r)
        depends = r.get("DependsOn")
        if depends is not None:
            depends = [depends] if isinstance(depends, str) else list(depends)
            depends = [d for d in depends if d not in removed]
            if depends:
                r["DependsOn"] = depends
            else:
                del r["DependsOn"]
        kept[lid] = r
    pruned = {**template, "Resources": kept}
    outs = {
        name: out
        for name, out in outputs(template).items()
        if not (
            references(out) & removed
            or imports(out, env_name) & missing_exports
            or _bad_getatts(out, res)
            or functions(out) & UNSUPPORTED_FUNCTIONS
        )
    }
    if "Outputs" in template:
        pruned["Outputs"] = outs
    return pruned, sorted(removed)


def emulator_environment(env: RenderedEnvironment) -> tuple[RenderedEnvironment, list[Exclusion]]:
    """`env` as MiniStack can run it: unsupported resources (and what needs them) left out.

    Stacks are pruned in deploy order, so an export that disappears upstream removes its
    importers downstream. A stack left with no resources is left out whole.
    """
    from cfngen.render import dump_template

    missing: set[str] = set()
    kept: list[RenderedStack] = []
    excluded: list[Exclusion] = []
    for stack in env.stacks:
        template = load_template(stack.body)
        pruned, removed = prune(template, env.environment_name, missing)
        exports = {
            resolved_export_name(env.environment_name, Output(stack.component, name))
            for name, o in outputs(pruned).items()
            if "Export" in o
        }
        missing |= set(stack.exports) - exports
        types = sorted({str(resources(template)[r].get("Type")) for r in removed})
        dropped = sorted(set(outputs(template)) - set(outputs(pruned)))
        what = f"{', '.join(removed)} ({', '.join(types)})" if removed else ""
        if not resources(pruned):
            missing |= set(stack.exports)
            excluded.append(Exclusion(stack.component, f"whole stack: {what}"))
            continue
        if removed or dropped:
            parts = [f"left out {what}"] if removed else []
            if dropped:
                parts.append(f"outputs {', '.join(dropped)}")
            excluded.append(Exclusion(stack.component, "; ".join(parts)))
            stack = replace(
                stack,
                body=dump_template(pruned),
                exports=tuple(sorted(exports)),
                imports=tuple(sorted(set(stack.imports) - missing)),
            )
        kept.append(stack)
    reduced = replace(env, stacks=tuple(kept))
    return reduced, excluded
