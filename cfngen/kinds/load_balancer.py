"""The load balancer kind: stacks `lb-<name>` with the load balancer, its listeners, and one
target group (and, on an ALB, one listener rule) per route to it. Routes come from the kinds that
offer them (services), through the planning stage, with their rule priorities.

Rules of an ALB are ordered most specific first (host and path, then host, then path by length)
and numbered 10, 20, ... in that order unless a route gives its own priority, so adding a route
never reshuffles unrelated rules by accident and the output is deterministic.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from msgspec import Struct
from troposphere import GetAtt, Ref, Split
from troposphere import elasticloadbalancingv2 as elb

from cfngen.blueprint.models import Blueprint
from cfngen.blueprint.models.load_balancers import LoadBalancer
from cfngen.blueprint.models.security import IngressRule, SecurityGroup, Waiver
from cfngen.blueprint.source import dotted
from cfngen.blueprint.validate import Checker
from cfngen.builders.base import Context, StackPlan
from cfngen.builders.common import waive
from cfngen.kinds import alerts, network, security
from cfngen.kinds.base import (
    ArnTail,
    Attribute,
    Derived,
    Facts,
    Kind,
    MetricSource,
    RouteTarget,
    Target,
)
from cfngen.stacks import Output, logical_id

LB_ARN = "LoadBalancerArn"
LB_DNS = "DnsName"
LB_ZONE = "CanonicalHostedZoneId"
REST_VPC_LINK = "rest-vpc-link"
"""A Link kind: a REST API's VPC link reaches the load balancer (PrivateLink traffic)."""
LISTENER_RULE = "listener-rule"
"""A Link kind: a component forwards from the ALB's main listener with a rule (detail: priority)."""


def lb_key(name: str) -> str:
    return LOAD_BALANCERS.key(name)


def listener_output(port: int) -> str:
    return f"Listener{port}Arn"


def _certificate_stack(lb: LoadBalancer) -> tuple[str, ...]:
    """The stack of the certificate `lb` names by its blueprint name (none for an ARN)."""
    if lb.certificate_entry is None:
        return ()
    from cfngen.kinds.certificate import certificate_component

    return (certificate_component(lb.certificate_entry),)


def _certificate_arn(lb: LoadBalancer, ctx: Context) -> Any:
    """The HTTPS listener's certificate: its ARN, or the named one's exported ARN."""
    if lb.certificate_entry is None:
        return lb.certificate
    from cfngen.kinds.certificate import CERTIFICATE_ARN, certificate_component

    return ctx.import_value(certificate_component(lb.certificate_entry), CERTIFICATE_ARN)


class LbSpec(Struct, frozen=True):
    name: str
    lb: LoadBalancer
    routes: tuple[RouteTarget, ...]
    private_link_apis: tuple[str, ...] = ()  # REST APIs whose VPC link reaches it

    @property
    def private_link(self) -> bool:
        """A REST API VPC link reaches it (PrivateLink traffic)."""
        return bool(self.private_link_apis)


def plan(bp: Blueprint, facts: Facts) -> Sequence[StackPlan[Any]]:
    plans: list[StackPlan[Any]] = []
    for name, lb in LOAD_BALANCERS.entries(bp).items():
        private_link = tuple(
            link.source
            for link in facts.links
            if link.target == name and link.kind == REST_VPC_LINK
        )
        plans.append(
            StackPlan(
                component=lb_key(name),
                title=f"{lb.type} load balancer {name}",
                build=build,
                spec=LbSpec(name, lb, tuple(facts.routes.get(name, ())), private_link),
                depends_on=(
                    network.COMPONENT,
                    security.group_stack(facts, lb_key(name)),
                    *_certificate_stack(lb),
                    *alerts.dependency(bp),
                ),
                source=("load_balancers", name),
            )
        )
    return plans


def groups(bp: Blueprint, facts: Facts) -> Derived:
    out = Derived()
    for name, lb in LOAD_BALANCERS.entries(bp).items():
        cidrs = lb.ingress_cidrs
        if cidrs is None:
            cidrs = ["0.0.0.0/0"] if lb.scheme == "internet-facing" else []
        ingress = []
        waivers = []
        for port in lb.listener_ports():
            for cidr in cidrs:
                what = "HTTP, redirected to HTTPS" if lb.https and port == 80 else f"port {port}"
                ingress.append(IngressRule(port=port, cidr=cidr, description=f"Clients to {what}"))
            if "0.0.0.0/0" in cidrs and port == 80:
                reason = (
                    "port 80 is open only so the load balancer can redirect it to HTTPS"
                    if lb.https
                    else f"plain HTTP by choice: {lb.plain_http_reason or 'see the blueprint'}"
                )
                waivers.append(Waiver(check="CKV_AWS_260", reason=reason))
        key = lb_key(name)
        out.groups[key] = SecurityGroup(
            description=f"{lb.type.capitalize()} load balancer {name}",
            ingress=ingress,
            egress=[],
            waivers=waivers,
        )
        out.sources[key] = ("load_balancers", name)
    return out


def targets(bp: Blueprint) -> list[Target]:
    return [
        Target(
            name=name,
            kind="load balancer",
            group=lb_key(name),
            ports=tuple(lb.listener_ports()),
            source=("load_balancers", name),
        )
        for name, lb in LOAD_BALANCERS.entries(bp).items()
    ]


def metrics(bp: Blueprint) -> dict[str, MetricSource]:
    """AWS/ApplicationELB or AWS/NetworkELB metrics of each load balancer, selected by the
    `app/<name>/<id>` tail of its ARN."""
    return {
        name: MetricSource(
            "AWS/ApplicationELB" if lb.type == "application" else "AWS/NetworkELB",
            {"LoadBalancer": ArnTail(Output(lb_key(name), LB_ARN), "loadbalancer/")},
            ("HTTPCode_ELB_5XX_Count", "TargetResponseTime", "RejectedConnectionCount"),
        )
        for name, lb in LOAD_BALANCERS.entries(bp).items()
    }


def attributes(bp: Blueprint) -> dict[str, dict[str, Attribute]]:
    return {
        name: {
            "dns_name": Attribute(Output(lb_key(name), LB_DNS), "value", "DNS name"),
            "hosted_zone_id": Attribute(
                Output(lb_key(name), LB_ZONE), "value", "Hosted zone of the DNS name (aliases)"
            ),
            "arn": Attribute(Output(lb_key(name), LB_ARN), "value", "Load balancer ARN"),
        }
        for name in LOAD_BALANCERS.entries(bp)
    }


def build(spec: LbSpec, ctx: Context) -> None:
    lb = spec.lb
    public = lb.scheme == "internet-facing"
    subnets = network.PUBLIC_SUBNETS if public else network.PRIVATE_SUBNETS
    attrs = {"deletion_protection.enabled": str(lb.deletion_protection).lower()}
    if lb.type == "application":
        attrs["routing.http.drop_invalid_header_fields.enabled"] = "true"
        attrs["idle_timeout.timeout_seconds"] = str(lb.idle_timeout)
    else:
        attrs["load_balancing.cross_zone.enabled"] = "true"
    if lb.access_logs is not None:
        attrs["access_logs.s3.enabled"] = "true"
        attrs["access_logs.s3.bucket"] = lb.access_logs.bucket
        if lb.access_logs.prefix:
            attrs["access_logs.s3.prefix"] = lb.access_logs.prefix
    props: dict[str, Any] = {
        "Type": lb.type,
        "Scheme": lb.scheme,
        "Subnets": Split(",", ctx.import_value(network.COMPONENT, subnets)),
        "SecurityGroups": [security.group_id(ctx, lb_key(spec.name))],
        "LoadBalancerAttributes": [
            elb.LoadBalancerAttributes(Key=k, Value=v) for k, v in sorted(attrs.items())
        ],
        "Tags": ctx.name_tag(f"lb-{spec.name}"),
    }
    waivers: dict[str, str] = {}  # the builder's own; blueprint waivers: cfngen.waivers
    if lb.type == "network" and spec.private_link:
        # REST API VPC links arrive over PrivateLink, which carries no security group of ours.
        props["EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic"] = "off"
        apis = ", ".join(f"apis.{a}" for a in spec.private_link_apis)
        internal = "the load balancer is internal and " if not public else ""
        waivers["CFG018"] = (
            f"a REST API VPC link ({apis}) reaches this load balancer over PrivateLink, which "
            "carries no security group an inbound rule could name; "
            f"{internal}its security group still filters all other traffic"
        )
    if lb.access_logs is None:
        waivers["CKV_AWS_91"] = (
            f"access logs are not requested for this load balancer "
            f"(set load_balancers.{spec.name}.access_logs to send them to a bucket)"
        )
    if not lb.deletion_protection:
        waivers["CKV_AWS_150"] = (
            "deletion protection is off in this environment "
            f"(load_balancers.{spec.name}.deletion_protection); it is on in production"
        )
    balancer = ctx.add(waive(elb.LoadBalancer("LoadBalancer", **props), waivers))
    if (
        lb.type == "application"
        and lb.elb_5xx_count is not None
        and alerts.dependency(ctx.blueprint)
    ):
        alerts.add_alarm(
            ctx,
            "Elb5xxAlarm",
            description=f"Load balancer {spec.name}: more than {lb.elb_5xx_count} 5xx answers "
            "of its own (no healthy target, timeouts) per 5 minutes",
            namespace="AWS/ApplicationELB",
            metric="HTTPCode_ELB_5XX_Count",
            dimensions={"LoadBalancer": GetAtt(balancer, "LoadBalancerFullName")},
            statistic="Sum",
            threshold=lb.elb_5xx_count,
            missing_data="notBreaching",
        )

    vpc_id = ctx.import_value(network.COMPONENT, network.VPC_ID)
    groups: dict[str, elb.TargetGroup] = {}
    for rt in spec.routes:
        if rt.output in groups:
            continue
        hc = rt.route.health_check
        tg_props: dict[str, Any] = {
            "VpcId": vpc_id,
            "Port": rt.target_port,
            "Protocol": "HTTP" if lb.type == "application" else "TCP",
            "TargetType": rt.target_type,
            "HealthCheckEnabled": True,
            "HealthCheckProtocol": hc.protocol,
            "HealthCheckIntervalSeconds": hc.interval,
            "HealthCheckTimeoutSeconds": hc.timeout,
            "HealthyThresholdCount": hc.healthy_threshold,
            "UnhealthyThresholdCount": hc.unhealthy_threshold,
            "TargetGroupAttributes": [
                elb.TargetGroupAttribute(
                    Key="deregistration_delay.timeout_seconds",
                    Value=str(rt.route.deregistration_delay),
                )
            ],
            "Tags": ctx.name_tag(f"{rt.service}-{rt.container_port}"),
        }
        if hc.protocol != "TCP":
            tg_props["HealthCheckPath"] = hc.path
            tg_props["Matcher"] = elb.Matcher(HttpCode=hc.matcher)
        title = logical_id(rt.service, str(rt.container_port), "target-group")
        groups[rt.output] = ctx.add(elb.TargetGroup(title, **tg_props))
        ctx.export(
            rt.output,
            Ref(groups[rt.output]),
            f"Target group of service {rt.service} port {rt.container_port}",
        )

    if lb.type == "network":
        _nlb_listeners(spec, balancer, groups, ctx)
    else:
        _alb_listeners(spec, balancer, groups, ctx)
    ctx.export(LB_ARN, Ref(balancer), "Load balancer ARN")
    ctx.export(LB_DNS, GetAtt(balancer, "DNSName"), "Load balancer DNS name")
    ctx.export(LB_ZONE, GetAtt(balancer, "CanonicalHostedZoneID"), "Hosted zone of the DNS name")


def _forward(tg: elb.TargetGroup) -> elb.Action:
    return elb.Action(Type="forward", TargetGroupArn=Ref(tg))


def _nlb_listeners(
    spec: LbSpec, balancer: Any, groups: dict[str, elb.TargetGroup], ctx: Context
) -> None:
    by_listener = {rt.listener: rt for rt in spec.routes}
    for lst in spec.lb.listeners:
        rt = by_listener.get(lst.port)
        if rt is None:  # reported by validation; a listener needs a target
            continue
        props: dict[str, Any] = {
            "LoadBalancerArn": Ref(balancer),
            "Port": lst.port,
            "Protocol": lst.protocol,
            "DefaultActions": [_forward(groups[rt.output])],
        }
        if lst.protocol == "TLS":
            props["Certificates"] = [elb.Certificate(CertificateArn=lst.certificate)]
            props["SslPolicy"] = spec.lb.ssl_policy
        listener = ctx.add(elb.Listener(f"Listener{lst.port}", **props))
        ctx.export(listener_output(lst.port), Ref(listener), f"Listener on port {lst.port}")


def _alb_listeners(
    spec: LbSpec, balancer: Any, groups: dict[str, elb.TargetGroup], ctx: Context
) -> None:
    lb = spec.lb
    defaults = {rt.listener: rt for rt in spec.routes if not (rt.route.path or rt.route.host)}
    listeners: dict[int, Any] = {}
    main = lb.main_port

    def default_action(port: int) -> elb.Action:
        rt = defaults.get(port)
        if rt is not None:
            return _forward(groups[rt.output])
        return elb.Action(
            Type="fixed-response",
            FixedResponseConfig=elb.FixedResponseConfig(
                StatusCode="404", ContentType="text/plain", MessageBody="Not found"
            ),
        )

    if lb.https:
        listeners[443] = ctx.add(
            elb.Listener(
                "Listener443",
                LoadBalancerArn=Ref(balancer),
                Port=443,
                Protocol="HTTPS",
                SslPolicy=lb.ssl_policy,
                Certificates=[elb.Certificate(CertificateArn=_certificate_arn(lb, ctx))],
                DefaultActions=[default_action(443)],
            )
        )
        if lb.redirect_http:
            ctx.add(
                elb.Listener(
                    "Listener80",
                    LoadBalancerArn=Ref(balancer),
                    Port=80,
                    Protocol="HTTP",
                    DefaultActions=[
                        elb.Action(
                            Type="redirect",
                            RedirectConfig=elb.RedirectConfig(
                                Protocol="HTTPS", Port="443", StatusCode="HTTP_301"
                            ),
                        )
                    ],
                )
            )
    else:
        plain = f"plain HTTP by choice: {lb.plain_http_reason}"
        listeners[80] = ctx.add(
            waive(
                elb.Listener(
                    "Listener80",
                    LoadBalancerArn=Ref(balancer),
                    Port=80,
                    Protocol="HTTP",
                    DefaultActions=[default_action(80)],
                ),
                {"CFG016": plain, "CKV_AWS_2": plain, "CKV_AWS_103": plain},
            )
        )
    for port, listener in listeners.items():
        ctx.export(listener_output(port), Ref(listener), f"Listener on port {port}")
    priorities = ctx.facts.priorities
    for rt in spec.routes:
        priority = priorities.get((rt.service, rt.index))
        if priority is None:
            continue
        conditions = []
        if rt.route.host:
            conditions.append(
                elb.Condition(
                    Field="host-header",
                    HostHeaderConfig=elb.HostHeaderConfig(Values=[rt.route.host]),
                )
            )
        if rt.route.path:
            conditions.append(
                elb.Condition(
                    Field="path-pattern",
                    PathPatternConfig=elb.PathPatternConfig(Values=[rt.route.path]),
                )
            )
        ctx.add(
            elb.ListenerRule(
                logical_id(rt.service, "route", str(rt.index + 1), "rule"),
                ListenerArn=Ref(listeners[rt.listener if rt.listener in listeners else main]),
                Priority=priority,
                Conditions=conditions,
                Actions=[
                    elb.ListenerRuleAction(Type="forward", TargetGroupArn=Ref(groups[rt.output]))
                ],
            )
        )


def check(bp: Blueprint, facts: Facts, c: Checker) -> None:
    """NLB listeners each have a route; ALB rules do not share a priority (CloudFormation would
    fail the second stack with "Priority N is currently in use"); named certificates exist."""
    for name, lb in LOAD_BALANCERS.entries(bp).items():
        if lb.certificate_entry is not None:
            from cfngen.kinds.certificate import check_reference

            check_reference(bp, c, ("load_balancers", name, "certificate"), lb.certificate_entry)
        routes = facts.routes.get(name, ())
        if lb.type == "network":
            used = {rt.listener for rt in routes}
            for i, lst in enumerate(lb.listeners):
                if lst.port not in used:
                    c.error(
                        ("load_balancers", name, "listeners", i, "port"),
                        f"no service is routed to listener {lst.port}",
                        f"add a route {{load_balancer: {name}, listener: {lst.port}}} to a "
                        "service, or remove the listener",
                    )
            continue
        taken: dict[int, str] = {}
        for rt in routes:
            priority = facts.priorities.get((rt.service, rt.index))
            if priority is None:
                continue
            if priority in taken:
                c.error(
                    (*rt.source, "priority"),
                    f"priority {priority} on load balancer {name} is also {taken[priority]}'s",
                    "give this route another priority, or none (cfngen numbers routes itself)",
                )
            taken.setdefault(priority, dotted(rt.source))
        for link in facts.links:
            if link.target != name or link.kind != LISTENER_RULE or link.detail is None:
                continue
            priority = int(link.detail)
            other = taken.get(priority)
            if other is not None:
                c.error(
                    (*link.source_path, "priority"),
                    f"priority {priority} on load balancer {name} is also {other}'s",
                    "give this rule another priority",
                )
            taken.setdefault(priority, dotted(link.source_path))


LOAD_BALANCERS: Kind[LoadBalancer] = Kind(
    section="load_balancers",
    model=LoadBalancer,
    description="Application and network load balancers.",
    prefix="lb",
    plan=plan,
    targets=targets,
    metrics=metrics,
    attributes=attributes,
    groups=groups,
    checks=(check,),
    order=61,
)
KIND = LOAD_BALANCERS
