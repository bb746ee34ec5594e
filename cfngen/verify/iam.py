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
from cfngen.verify.model import Environment, Missing, Ref, Stack, token

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
    # condition key (lower case) -> the patterns its operators allow (None: unknown values)
    keys: tuple[tuple[str, tuple[str | None, ...]], ...] = ()


def _key_value(env: Environment, stack: Stack, value: Any) -> str | None:
    """A condition value as a pattern; an import of a value that is itself known only as text
    (an existing resource's ARN) by that text, the same way the access names it."""
    found = env.pattern(stack, value)
    if found is None:
        resolved = env.resolve(stack, value)
        if isinstance(resolved, str):
            return resolved
    return found


def _keys(
    env: Environment, stack: Stack, cond: Any
) -> tuple[tuple[str, tuple[str | None, ...]], ...]:
    out: dict[str, list[str | None]] = {}
    for pairs in as_dict(cond).values():
        for key, values in as_dict(pairs).items():
            items = values if isinstance(values, list) else [values]
            out.setdefault(str(key).lower(), []).extend(_key_value(env, stack, v) for v in items)
    return tuple((k, tuple(v)) for k, v in sorted(out.items()))


def grants(env: Environment, role: Ref) -> list[Grant]:
    """Every Allow statement that applies to `role`."""
    key = ("grants", role)
    if key not in env.memo:
        env.memo[key] = _grants(env, role)
    return list(env.memo[key])


def _policies_by_role(env: Environment) -> dict[Any, list[tuple[Stack, Any]]]:
    """Role -> the policies attached to it, in environment order: made once per environment (a
    scan of every policy per role was quadratic in the number of services)."""
    key = "policies_by_role"
    if key not in env.memo:
        found: dict[Any, list[tuple[Stack, Any]]] = {}
        for s, pol in env.of_type("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            roles = [r for r in env.resolve_all(s, pol.props.get("Roles")) if isinstance(r, Ref)]
            for role in dict.fromkeys(roles):
                found.setdefault(role, []).append((s, pol))
        env.memo[key] = found
    result: dict[Any, list[tuple[Stack, Any]]] = env.memo[key]
    return result


def _grants(env: Environment, role: Ref) -> list[Grant]:
    found: list[Grant] = []
    stack = env.stacks.get(role.component)
    res = env.resource(role)
    if stack is None or res is None:
        return found
    docs: list[tuple[Stack, dict[str, Any]]] = [(stack, d) for d in policy_documents(res)]
    for s, pol in _policies_by_role(env).get(role, ()):
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
            resources = tuple(
                r if r is not None else env.pattern(s, item)
                for item in (raw if isinstance(raw, list) else [raw] if raw is not None else [])
                for r in [env.resolve(s, item)]
            )
            cond = st.get("Condition")
            names = frozenset(env.refs_in(s, cond)) if cond is not None else None
            found.append(Grant(actions, resources, names, _keys(env, s, cond)))
    return found


def _action(patterns: tuple[str, ...], action: str) -> bool:
    return any(fnmatch.fnmatchcase(action.lower(), p.lower()) for p in patterns)


def _resource(granted: Any, wanted: Any) -> bool:
    if granted is None:
        return True  # unknown: cannot prove it does not match
    if isinstance(granted, Missing):
        return False
    g = token(granted) if isinstance(granted, Ref) else str(granted)
    w = token(wanted) if isinstance(wanted, Ref) else str(wanted)
    return fnmatch.fnmatchcase(w, g)


def _condition(g: Grant, key: str, value: str) -> bool:
    """A statement that constrains `key` must allow `value` (one of its patterns matches)."""
    for k, patterns in g.keys:
        if k == key.lower():
            return any(p is None or fnmatch.fnmatchcase(value, p) for p in patterns)
    return True


def allowed(
    env: Environment,
    role: Ref,
    action: str,
    resource: Any,
    context: Ref | None = None,
    condition: tuple[str, str] | None = None,
) -> bool:
    """Whether some statement of `role` allows `action` on `resource` (a Ref, an ARN, or a
    pattern with tokens); with `context` (an access point), a statement with a Condition must
    name it; with `condition` (key, value), a statement constraining that key must allow it."""
    return any(
        _action(g.actions, action)
        and any(_resource(r, resource) for r in g.resources)
        and (context is None or g.condition is None or not g.condition or context in g.condition)
        and (condition is None or _condition(g, *condition))
        for g in grants(env, role)
    )


def missing(
    env: Environment,
    role: Ref,
    actions: tuple[str, ...],
    resource: Any,
    context: Ref | None = None,
    condition: tuple[str, str] | None = None,
) -> list[str]:
    return [a for a in actions if not allowed(env, role, a, resource, context, condition)]


def role_of(env: Environment, stack: Stack, value: Any) -> Ref | None:
    """The role a `RoleArn`-like property names, when it is a role of the environment."""
    got = env.resolve(stack, value)
    res = env.resource(got)
    return (
        got if isinstance(got, Ref) and res is not None and res.type == "AWS::IAM::Role" else None
    )


__all__ = ["Grant", "allowed", "as_dict", "grants", "missing", "role_of"]
