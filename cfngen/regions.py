"""Which stacks of a multi-region environment deploy to every region (as stack sets), and
which stay plain stacks in the home region, and why.

An environment with `regions: [eu-west-1, eu-central-1]` deploys the same template to each
region through one CloudFormation stack set per stack. That only works for a template that
CloudFormation accepts in every region, next to its copies in the other regions:

- **global resources** exist once per account, whatever the region: a second region's copy
  collides with the first (an IAM role, user, group, policy or instance profile with a fixed
  name, an OIDC provider, a CloudFront distribution and what belongs to it, hosted zones and
  their records, budgets). Their stacks stay in the home region.
- **one region's resources named literally** (an ACM certificate's or KMS key's ARN, a
  `vpc-...` ID of an existing network) do not exist in another region. IAM policies may name
  other regions' ARNs, and images are pulled from ECR across regions, so those are fine.
- **exports are regional**: a stack that imports from a home-only stack would find nothing
  to import in the other regions, so it stays home too (a whole dependency chain goes to
  every region, or stays home).
- a stack with a `region` of its own (a CloudFront certificate in us-east-1) and a stack that
  reads another stack by name (`Fn::GetStackOutput`: a stack set's instances are named
  `StackSet-<name>-<id>`) stay home.

The decision is made from the rendered templates, so it names no component kind; it is
written into the manifest (`regions` or `home_only` per stack) and shown by render's runbook,
plan, deploy and status.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import Any

from cfngen.render import RenderedStack

GLOBAL_TYPES = {
    "AWS::IAM::OIDCProvider": "an IAM OIDC provider exists once per account",
    "AWS::IAM::SAMLProvider": "an IAM SAML provider exists once per account",
    "AWS::IAM::ServiceLinkedRole": "a service-linked role exists once per account",
    "AWS::Route53::HostedZone": "a hosted zone is global",
    "AWS::Route53::RecordSet": "DNS records of a hosted zone are global",
    "AWS::Route53::RecordSetGroup": "DNS records of a hosted zone are global",
    "AWS::Budgets::Budget": "a budget is global (one per account and name)",
    "AWS::Budgets::BudgetsAction": "a budget is global (one per account and name)",
}
"""Resource types that exist once per account, whatever the region of their stack."""

_NAMED_GLOBAL = {
    "AWS::IAM::Role": "RoleName",
    "AWS::IAM::ManagedPolicy": "ManagedPolicyName",
    "AWS::IAM::InstanceProfile": "InstanceProfileName",
    "AWS::IAM::User": "UserName",
    "AWS::IAM::Group": "GroupName",
    "AWS::S3::Bucket": "BucketName",
}
"""Global names: the physical name must contain ${AWS::Region} to be copied per region."""

_POLICY_KEYS = frozenset(
    {
        "AssumeRolePolicyDocument",
        "PolicyDocument",
        "Policies",
        "ManagedPolicyArns",
        "RepositoryPolicyText",
        "KeyPolicy",
    }
)
"""Where a literal ARN of another region is fine (a policy may name anything)."""

_REGIONAL_ARN = re.compile(r"arn:aws[a-z-]*:([a-z0-9-]+):([a-z]{2}(?:-[a-z]+)+-\d):")
_REGIONAL_ID = re.compile(
    r"^(vpc|subnet|sg|rtb|igw|nat|eni|vpce|fs|fsap|i|vol|ami|lt|pl|tgw)-[0-9a-f]{8,17}$"
)


def _strings(value: Any, skip: frozenset[str] = _POLICY_KEYS) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item, skip)
    elif isinstance(value, dict):
        for key, item in value.items():
            if key not in skip:
                yield from _strings(item, skip)


def _mentions_region(value: Any) -> bool:
    return any("${AWS::Region}" in s or s == "AWS::Region" for s in _strings(value, frozenset()))


def _reads_by_name(value: Any) -> bool:
    if isinstance(value, dict):
        return "Fn::GetStackOutput" in value or any(_reads_by_name(v) for v in value.values())
    if isinstance(value, list):
        return any(_reads_by_name(v) for v in value)
    return False


def global_reason(body: dict[str, Any]) -> str:
    """Why the template cannot be deployed to every region as it is ("" when it can)."""
    for logical_id, resource in sorted((body.get("Resources") or {}).items()):
        if not isinstance(resource, dict):
            continue
        rtype = str(resource.get("Type", ""))
        props = resource.get("Properties") or {}
        if rtype in GLOBAL_TYPES:
            return f"{logical_id} ({rtype}): {GLOBAL_TYPES[rtype]}"
        if rtype.startswith("AWS::CloudFront::"):
            return f"{logical_id} ({rtype}): CloudFront is global"
        if rtype.startswith("AWS::WAFv2::") and props.get("Scope") == "CLOUDFRONT":
            return f"{logical_id} ({rtype}): a CloudFront web ACL is global"
        named = _NAMED_GLOBAL.get(rtype)
        if named and named in props and not _mentions_region(props[named]):
            return (
                f"{logical_id} ({rtype}): its {named} is the same in every region, and the "
                "name is global"
            )
    for logical_id, resource in sorted((body.get("Resources") or {}).items()):
        for text in _strings(resource.get("Properties") if isinstance(resource, dict) else None):
            arn = _REGIONAL_ARN.search(text)
            if arn and arn.group(1) != "ecr":
                return f"{logical_id}: names {text}, a resource of {arn.group(2)} only"
            if _REGIONAL_ID.match(text):
                return f"{logical_id}: names {text}, a resource of one region only"
    for name, param in sorted((body.get("Parameters") or {}).items()):
        default = str(param.get("Default", "")) if isinstance(param, dict) else ""
        arn = _REGIONAL_ARN.search(default)
        if (arn and arn.group(1) != "ecr") or any(
            _REGIONAL_ID.match(part.strip()) for part in default.split(",")
        ):
            return f"parameter {name} names {default}, of one region only"
    if _reads_by_name(body.get("Resources")) or _reads_by_name(body.get("Outputs")):
        return "reads another stack by name (Fn::GetStackOutput)"
    return ""


def assign_regions(
    stacks: Sequence[RenderedStack], bodies: Sequence[dict[str, Any]], regions: Sequence[str]
) -> list[RenderedStack]:
    """The stacks (in deploy order) with `regions` set for those that deploy everywhere and
    `home_only` saying why for the others. One region: the stacks as they are."""
    if len(regions) < 2:
        return list(stacks)
    home: dict[str, str] = {}
    out: list[RenderedStack] = []
    for stack, body in zip(stacks, bodies, strict=True):
        own = f"lives in {stack.region}, its own region" if stack.region else ""
        reason = own or global_reason(body)
        if not reason:
            below = [d for d in stack.depends_on if d in home]
            if below:
                reason = (
                    f"imports from {below[0]}, which stays in the home region "
                    "(exports are regional)"
                )
        if reason:
            home[stack.component] = reason
            out.append(replace(stack, home_only=reason))
        else:
            out.append(replace(stack, regions=tuple(regions)))
    return out
