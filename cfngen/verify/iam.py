"""Whether an IAM role of the environment is allowed an action on a resource.

A role's policies are its inline `Policies`, every `AWS::IAM::Policy`/`ManagedPolicy` of any
stack that names it in `Roles`, and the AWS managed policies among `ManagedPolicyArns` that
cfngen knows (the ECS task execution policy). Resources compare through imports: a statement on
`!ImportValue ...-ecr-AppRepositoryArn` covers the repository that export comes from. A resource
that cannot be resolved (a parameter, an `Fn::If`) is given the benefit of the doubt.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from typing import Any

from cfngen.checks.base import as_dict, as_list, policy_documents, statements
from cfngen.verify.model import Environment, Ref, Stack

_MANAGED: dict[str, tuple[str, ...]] = {
    "AmazonECSTaskExecutionRolePolicy": (
        "ecr:GetAuthorizationToken",
        "ecr:BatchCheckLayerAvailability",
        "ecr:GetDownloadUrlForLayer",
        "ecr:BatchGetImage",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
    ),
}


@dataclass(frozen=True)
class Grant:
    actions: tuple[str, ...]
    resources: tuple[Any, ...]  # resolved: Ref, str (ARN pattern), or None (unknown)
    condition: frozenset[Ref] | None = None  # resources a Condition names; None: no Condition


def grants(env: Environment, role: Ref) -> list[Grant]:
    """Every Allow statement that applies to `role`."""
    found: list[Grant] = []
    stack = env.stacks.get(role.component)
    res = env.resource(role)
    if stack is None or res is None:
        return found
    docs: list[tuple[Stack, dict[str, Any]]] = [(stack, d) for d in policy_documents(res)]
    for s, pol in env.of_type("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
        if role in env.resolve_all(s, pol.props.get("Roles")):
            docs.extend((s, d) for d in policy_documents(pol))
    for arn in as_list(res.props.get("ManagedPolicyArns")):
        text = env.text(stack, arn) or ""
        for name, actions in _MANAGED.items():
            if text.endswith(f"/{name}") or text.endswith(f"/service-role/{name}"):
                found.append(Grant(actions, ("*",)))
    for s, doc in docs:
        for st in statements(doc):
            if st.get("Effect") != "Allow" or "NotAction" in st or "NotResource" in st:
                continue
            actions = tuple(str(a) for a in as_list(st.get("Action")) if isinstance(a, str))
            raw = st.get("Resource")
            resources = tuple(env.resolve_all(s, raw)) if raw is not None else ()
            cond = st.get("Condition")
            names = frozenset(env.refs_in(s, cond)) if cond is not None else None
            found.append(Grant(actions, resources, names))
    return found


def _action(patterns: tuple[str, ...], action: str) -> bool:
    return any(fnmatch.fnmatchcase(action.lower(), p.lower()) for p in patterns)


def _resource(granted: Any, wanted: Any) -> bool:
    if granted is None:
        return True  # unknown: cannot prove it does not match
    if isinstance(granted, Ref) or isinstance(wanted, Ref):
        return granted == wanted or granted == "*"
    return fnmatch.fnmatchcase(str(wanted), str(granted))


def allowed(
    env: Environment, role: Ref, action: str, resource: Any, context: Ref | None = None
) -> bool:
    """Whether some statement of `role` allows `action` on `resource` (a Ref or an ARN); with
    `context` (an access point), a statement with a Condition must name it."""
    return any(
        _action(g.actions, action)
        and any(_resource(r, resource) for r in g.resources)
        and (context is None or g.condition is None or not g.condition or context in g.condition)
        for g in grants(env, role)
    )


def missing(
    env: Environment,
    role: Ref,
    actions: tuple[str, ...],
    resource: Any,
    context: Ref | None = None,
) -> list[str]:
    return [a for a in actions if not allowed(env, role, a, resource, context)]


def role_of(env: Environment, stack: Stack, value: Any) -> Ref | None:
    """The role a `RoleArn`-like property names, when it is a role of the environment."""
    got = env.resolve(stack, value)
    res = env.resource(got)
    return (
        got if isinstance(got, Ref) and res is not None and res.type == "AWS::IAM::Role" else None
    )


__all__ = ["Grant", "allowed", "as_dict", "grants", "missing", "role_of"]
