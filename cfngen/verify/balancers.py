"""A cross-stack fact the per-template checks need: which security groups guard an
internet-facing load balancer, and on which listener ports.

cfngen puts a load balancer and its group in different stacks (the group lives in the shared
security stack), so CFG013 reading one template cannot tell the group is a public balancer's.
Lint computes this once per environment or folder, before the per-template checks, and hands
each template the groups of its own that guard a balancer elsewhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cfngen.checks.base import as_int
from cfngen.verify.model import Environment, Ref, Stack

_LB = "AWS::ElasticLoadBalancingV2::LoadBalancer"
_NEEDED = (_LB, "AWS::EC2::SecurityGroup")


def public_balancer_groups(env: Environment) -> dict[str, dict[str, set[int]]]:
    """Stack component -> {its group's logical id: listener ports of the internet-facing load
    balancers that group guards, wherever they are}."""
    listeners: dict[Ref, set[int]] = {}
    for stack, res in env.of_type("AWS::ElasticLoadBalancingV2::Listener"):
        lb, port = (
            env.resolve(stack, res.props.get("LoadBalancerArn")),
            as_int(res.props.get("Port")),
        )
        if isinstance(lb, Ref) and port is not None:
            listeners.setdefault(lb, set()).add(port)
    out: dict[str, dict[str, set[int]]] = {}
    for stack, lb in env.of_type(_LB):
        scheme = env.text(stack, lb.props.get("Scheme", "internet-facing"))
        if scheme != "internet-facing":
            continue
        ports = listeners.get(Ref(stack.component, lb.id)) or {80, 443}
        for group in env.resolve_all(stack, lb.props.get("SecurityGroups")):
            if isinstance(group, Ref):
                out.setdefault(group.component, {}).setdefault(group.id, set()).update(ports)
    return out


def prepass(templates: Sequence[tuple[str, str, Any]]) -> dict[str, dict[str, set[int]]]:
    """`public_balancer_groups` over (key, body text, decoder) triples; only the templates that
    hold a load balancer or a security group are parsed."""
    stacks = []
    for key, body, decode in templates:
        if not any(t in body for t in _NEEDED):
            continue
        try:
            parsed, errors = decode(body)
        except Exception:  # lint reports what it cannot parse; the pre-pass only skips it
            continue
        if errors or not isinstance(parsed, dict):
            continue
        stacks.append(Stack(key, key, key, parsed))
    try:
        return public_balancer_groups(Environment(stacks)) if stacks else {}
    except Exception:  # a shape no reader expected must not stop lint: CFG013 stays per-template
        return {}
