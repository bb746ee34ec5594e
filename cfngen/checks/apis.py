"""Wiring, the edge: a REST API's VPC link reaches a listener of its network load balancer, an
HTTP API's VPC link reaches the listener its integration names, and CloudFront can read its S3
origin.

An environment check (`cfngen verify`): the method's integration (in the API stack) names the
VPC link, the link names the load balancer (imported from its stack), and the integration URI
names the balancer's DNS name and a port a listener must answer on.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterator
from typing import Any

from cfngen.checks.base import as_dict, as_int, as_list, check, statements
from cfngen.verify.model import Environment, Ref, Stack
from cfngen.verify.network import rules_of

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
    "every request fails with 500 or times out. An HTTP API's VPC link has security groups of "
    "its own: unless they may reach the listener its integration names, and the balancer's "
    "groups admit them, requests time out (503).",
    source="https://docs.aws.amazon.com/apigateway/latest/developerguide/"
    "set-up-private-integration.html",
    scope="environment",
)
def vpc_links_reach_listeners(env: Environment) -> Iterator[EnvHit]:
    yield from _http_links(env)
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


def _http_links(env: Environment) -> Iterator[EnvHit]:
    """HTTP API (v2) integration -> its VPC link -> the listener its URI names: the link's
    groups may leave on the listener's port and the balancer's groups admit them."""
    rules = rules_of(env)
    for stack, integ in env.of_type("AWS::ApiGatewayV2::Integration"):
        if integ.props.get("ConnectionType") != "VPC_LINK":
            continue
        link_ref = env.resolve(stack, integ.props.get("ConnectionId"))
        link = env.resource(link_ref)
        if link is None or link.type != "AWS::ApiGatewayV2::VpcLink":
            continue
        target = env.resolve(stack, integ.props.get("IntegrationUri"))
        listener = env.resource(target)
        if listener is None or listener.type != "AWS::ElasticLoadBalancingV2::Listener":
            yield (
                stack.component,
                integ.id,
                "its integration URI names no listener of this environment",
            )
            continue
        home = env.stacks[target.component]
        lb = env.resource(env.resolve(home, listener.props.get("LoadBalancerArn")))
        port = as_int(env.text(home, listener.props.get("Port")))
        if lb is None or port is None:
            continue
        lb_home = env.stacks[env.resolve(home, listener.props.get("LoadBalancerArn")).component]
        theirs = [
            g
            for g in env.resolve_all(lb_home, lb.props.get("SecurityGroups"))
            if isinstance(g, Ref)
        ]
        link_home = env.stacks[link_ref.component]
        ours = [
            g
            for g in env.resolve_all(link_home, link.props.get("SecurityGroupIds"))
            if isinstance(g, Ref)
        ]
        what = f"listener {target.id} on port {port}"
        if not ours:
            yield (
                stack.component,
                integ.id,
                f"its VPC link {link_ref.id} has no security group to reach {what}",
            )
            continue
        if not theirs:
            continue  # a balancer without groups (an NLB) admits by its targets' rules
        if not rules.allows("egress", ours, theirs, port, port):
            yield (
                stack.component,
                integ.id,
                f"its VPC link {link_ref.id}'s security group does not allow egress to {what}",
            )
        if not rules.allows("ingress", theirs, ours, port, port):
            yield (
                stack.component,
                integ.id,
                f"the load balancer's group does not admit VPC link {link_ref.id} on {what}",
            )


def _balancer_origin(
    env: Environment,
    stack: Stack,
    dist: str,
    origin: dict[str, Any],
    listeners: dict[Ref, set[int]],
) -> Iterator[EnvHit]:
    """A load balancer origin: CloudFront reaches it from the internet, on the origin's port."""
    for lb in env.refs_in(stack, origin.get("DomainName")):
        res = env.resource(lb)
        if res is None or not res.type.endswith("::LoadBalancer"):
            continue
        home = env.stacks[lb.component]
        if env.text(home, res.props.get("Scheme", "internet-facing")) == "internal":
            yield (
                stack.component,
                dist,
                (
                    f"origin {origin.get('Id')}: load balancer {lb.id} is internal; CloudFront "
                    "reaches origins over the internet"
                ),
            )
            continue
        custom = as_dict(origin.get("CustomOriginConfig"))
        policy = str(custom.get("OriginProtocolPolicy", "https-only"))
        port = as_int(custom.get("HTTPSPort" if policy != "http-only" else "HTTPPort"))
        port = port or (80 if policy == "http-only" else 443)
        if port not in listeners.get(lb, {port}):
            yield (
                stack.component,
                dist,
                (f"origin {origin.get('Id')}: load balancer {lb.id} has no listener on {port}"),
            )


def _reads(env: Environment, stack: Stack, st: dict[str, Any], bucket: Ref, dist: Ref) -> bool:
    """Whether one bucket-policy statement lets CloudFront read `bucket` for `dist`."""
    principal = as_dict(st.get("Principal")).get("Service")
    if st.get("Effect") != "Allow" or "cloudfront.amazonaws.com" not in as_list(principal):
        return False
    actions = [a for a in as_list(st.get("Action")) if isinstance(a, str)]
    if not any(fnmatch.fnmatchcase("s3:getobject", a.lower()) for a in actions):
        return False
    if bucket not in env.refs_in(stack, st.get("Resource")):
        return False
    condition = st.get("Condition")
    return condition is None or dist in env.refs_in(stack, condition)


@check(
    "CFG031",
    "CloudFront cannot reach or read its origin",
    why="With origin access control CloudFront signs its requests to the bucket; unless the "
    "bucket policy allows cloudfront.amazonaws.com s3:GetObject for this distribution, every "
    "object answers 403 Access Denied. A load balancer origin must be internet-facing and "
    "listen on the origin's port, or every request fails with 502.",
    source="https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/"
    "private-content-restricting-access-to-s3.html",
    scope="environment",
)
def cloudfront_reads_origin(env: Environment) -> Iterator[EnvHit]:
    listeners = _listener_ports(env)
    policies: dict[Ref, list[tuple[Stack, dict[str, Any]]]] = {}
    for stack, pol in env.of_type("AWS::S3::BucketPolicy"):
        bucket = env.resolve(stack, pol.props.get("Bucket"))
        if isinstance(bucket, Ref):
            doc = as_dict(pol.props.get("PolicyDocument"))
            policies.setdefault(bucket, []).extend((stack, s) for s in statements(doc))
    for stack, dist in env.of_type("AWS::CloudFront::Distribution"):
        me = Ref(stack.component, dist.id)
        config = as_dict(dist.props.get("DistributionConfig"))
        for origin in as_list(config.get("Origins")):
            origin = as_dict(origin)
            yield from _balancer_origin(env, stack, dist.id, origin, listeners)
            if origin.get("OriginAccessControlId") is None:
                continue
            buckets = [
                r
                for r in env.refs_in(stack, origin.get("DomainName"))
                if (res := env.resource(r)) is not None and res.type == "AWS::S3::Bucket"
            ]
            for bucket in buckets:
                if not any(_reads(env, s, st, bucket, me) for s, st in policies.get(bucket, [])):
                    yield (
                        stack.component,
                        dist.id,
                        (
                            f"origin {origin.get('Id')}: the policy of bucket {bucket.id} does not "
                            "allow cloudfront.amazonaws.com s3:GetObject for this distribution"
                        ),
                    )
