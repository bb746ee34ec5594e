"""Wiring, API Gateway: a REST API's VPC link reaches a listener of its network load balancer.

An environment check (`cfngen verify`): the method's integration (in the API stack) names the
VPC link, the link names the load balancer (imported from its stack), and the integration URI
names the balancer's DNS name and a port a listener must answer on.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from cfngen.checks.base import as_dict, as_int, check
from cfngen.verify.model import Environment, Ref, Stack

EnvHit = tuple[str, str, str]
_PORT = re.compile(r"^(?P<scheme>https?)://[^/:]+(?::(?P<port>\d+))?")


def _uri(env: Environment, stack: Stack, value: Any) -> tuple[set[Ref], int | None]:
    """(resources the integration URI names, its port)."""
    refs = env.refs_in(stack, value)
    sub = as_dict(value).get("Fn::Sub")
    body = sub[0] if isinstance(sub, list) and sub else sub if sub is not None else value
    m = _PORT.match(body) if isinstance(body, str) else None
    if m is None:
        return refs, None
    return refs, int(m["port"]) if m["port"] else (443 if m["scheme"] == "https" else 80)


def _listener_ports(env: Environment) -> dict[Ref, set[int]]:
    out: dict[Ref, set[int]] = {}
    for stack, res in env.of_type("AWS::ElasticLoadBalancingV2::Listener"):
        lb, port = (
            env.resolve(stack, res.props.get("LoadBalancerArn")),
            as_int(res.props.get("Port")),
        )
        if isinstance(lb, Ref) and port is not None:
            out.setdefault(lb, set()).add(port)
    return out


@check(
    "CFG030",
    "API Gateway VPC link does not reach a listener",
    why="A REST API reaches a private service through a VPC link to a network load balancer: "
    "if the link targets another balancer, or no listener answers on the integration's port, "
    "every request fails with 500 or times out.",
    source="https://docs.aws.amazon.com/apigateway/latest/developerguide/"
    "set-up-private-integration.html",
    scope="environment",
)
def vpc_links_reach_listeners(env: Environment) -> Iterator[EnvHit]:
    listeners = _listener_ports(env)
    for stack, method in env.of_type("AWS::ApiGateway::Method"):
        integration = as_dict(method.props.get("Integration"))
        if integration.get("ConnectionType") != "VPC_LINK":
            continue
        link = env.resource(env.resolve(stack, integration.get("ConnectionId")))
        if link is None or link.type != "AWS::ApiGateway::VpcLink":
            continue
        targets = [
            t for t in env.resolve_all(stack, link.props.get("TargetArns")) if isinstance(t, Ref)
        ]
        balancers = [
            t
            for t in targets
            if (r := env.resource(t)) is not None and r.type.endswith("::LoadBalancer")
        ]
        if not balancers:
            yield (
                stack.component,
                method.id,
                "its VPC link targets no load balancer of this environment",
            )
            continue
        named, port = _uri(env, stack, integration.get("Uri"))
        named_lbs = {
            r
            for r in named
            if (x := env.resource(r)) is not None and x.type.endswith("::LoadBalancer")
        }
        if named_lbs and not named_lbs & set(balancers):
            yield (
                stack.component,
                method.id,
                (
                    f"the integration URI names load balancer {min(r.id for r in named_lbs)}, "
                    f"but the VPC link targets {', '.join(sorted(b.id for b in balancers))}"
                ),
            )
            continue
        if port is not None and not any(port in listeners.get(b, set()) for b in balancers):
            yield (
                stack.component,
                method.id,
                (
                    f"the integration sends to port {port}, but load balancer "
                    f"{', '.join(sorted(b.id for b in balancers))} has no listener on it"
                ),
            )
