"""The API kind: stacks `api-<name>` with API Gateway in front of a private load balancer.

`rest` renders API Gateway v1 (regional) with an AWS::ApiGateway::VpcLink to a network load
balancer, one resource per path segment and one HTTP_PROXY method per route, a deployment whose
logical ID is derived from the routes (so a route change redeploys the stage) and a stage with
access logs. `http` renders API Gateway v2 with a VPC link (own security group) to a listener.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

from msgspec import Struct
from troposphere import GetAtt, Join, Ref, Split, Sub, iam
from troposphere import apigateway as ag
from troposphere import apigatewayv2 as ag2

from cfngen.blueprint.models import Blueprint
from cfngen.blueprint.models.apis import Api, ApiRoute
from cfngen.blueprint.models.load_balancers import LoadBalancer
from cfngen.blueprint.models.security import SecurityGroup
from cfngen.blueprint.source import Path_
from cfngen.blueprint.validate import Checker
from cfngen.builders.base import Context, StackPlan
from cfngen.builders.common import log_group, service_trust, waive
from cfngen.kinds import network, security
from cfngen.kinds.base import Attribute, Derived, Facts, Kind, Link, Relation
from cfngen.kinds.load_balancer import (
    LB_ARN,
    LB_DNS,
    LOAD_BALANCERS,
    REST_VPC_LINK,
    lb_key,
    listener_output,
)
from cfngen.stacks import Output, logical_id

API_URL = "Url"


def api_key(name: str) -> str:
    return APIS.key(name)


ACCESS_LOG_FORMAT = json.dumps(
    {
        "requestId": "$context.requestId",
        "ip": "$context.identity.sourceIp",
        "requestTime": "$context.requestTime",
        "httpMethod": "$context.httpMethod",
        "path": "$context.path",
        "status": "$context.status",
        "responseLength": "$context.responseLength",
        "integrationLatency": "$context.integrationLatency",
    },
    sort_keys=True,
)


class ApiSpec(Struct, frozen=True):
    name: str
    api: Api
    lb: LoadBalancer


def plan(bp: Blueprint, facts: Facts) -> Sequence[StackPlan[Any]]:
    plans: list[StackPlan[Any]] = []
    load_balancers = LOAD_BALANCERS.entries(bp)
    for name, api in APIS.entries(bp).items():
        lb = load_balancers.get(api.load_balancer)
        if lb is None:
            continue  # reported by validation
        deps: dict[str, Any] = {lb_key(api.load_balancer): ("apis", name, "load_balancer")}
        if api.type == "http":
            deps[network.COMPONENT] = ("apis", name)
            deps[security.group_stack(facts, api_key(name))] = ("apis", name)
        plans.append(
            StackPlan(
                component=api_key(name),
                title=f"API Gateway {api.type} API {name}",
                build=build,
                spec=ApiSpec(name, api, lb),
                depends_on=tuple(deps),
                source=("apis", name),
                dependency_sources=deps,
            )
        )
    return plans


def groups(bp: Blueprint, facts: Facts) -> Derived:
    out = Derived()
    load_balancers = LOAD_BALANCERS.entries(bp)
    for name, api in APIS.entries(bp).items():
        if api.type != "http":
            continue
        key = api_key(name)
        out.groups[key] = SecurityGroup(description=f"VPC link of API {name}", egress=[])
        out.sources[key] = ("apis", name)
        lb = load_balancers.get(api.load_balancer)
        if lb is None:
            continue
        for port in sorted({r.listener or lb.main_port for r in api.routes}):
            out.relations.append(
                Relation(key, lb_key(api.load_balancer), port, f"API {name} to its load balancer")
            )
    return out


def attributes(bp: Blueprint) -> dict[str, dict[str, Attribute]]:
    return {
        name: {"url": Attribute(Output(api_key(name), API_URL), "value", "Invoke URL")}
        for name in APIS.entries(bp)
    }


def links(bp: Blueprint) -> list[Link]:
    """A REST API's VPC link reaches its network load balancer through PrivateLink."""
    return [
        Link(name, api.load_balancer, REST_VPC_LINK, ("apis", name, "load_balancer"))
        for name, api in APIS.entries(bp).items()
        if api.type == "rest"
    ]


def build(spec: ApiSpec, ctx: Context) -> None:
    if spec.api.type == "rest":
        _rest(spec, ctx)
    else:
        _http(spec, ctx)


def _digest(api: Api) -> str:
    text = json.dumps([r.model_dump() for r in api.routes], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:8]


def _rest(spec: ApiSpec, ctx: Context) -> None:
    api = spec.api
    lb_component = lb_key(api.load_balancer)
    link = ctx.add(
        ag.VpcLink(
            "VpcLink",
            Name=ctx.name(f"api-{spec.name}"),
            Description=f"API {spec.name} to load balancer {api.load_balancer}",
            TargetArns=[ctx.import_value(lb_component, LB_ARN)],
        )
    )
    rest = ctx.add(
        ag.RestApi(
            "RestApi",
            Name=ctx.name(f"api-{spec.name}"),
            Description=f"{ctx.blueprint.blueprint} API {spec.name}",
            EndpointConfiguration=ag.EndpointConfiguration(Types=["REGIONAL"]),
            FailOnWarnings=True,
            Tags=ctx.name_tag(f"api-{spec.name}"),
        )
    )
    dns = ctx.import_value(lb_component, LB_DNS)
    resources: dict[str, Any] = {"": GetAtt(rest, "RootResourceId")}

    def resource_for(path: str) -> Any:
        parts = [p for p in path.split("/") if p]
        current = ""
        for part in parts:
            parent = resources[current]
            current = f"{current}/{part}"
            if current not in resources:
                title = logical_id(
                    "resource", *[p.replace("+", "-greedy") for p in current.split("/")]
                )
                resources[current] = Ref(
                    ctx.add(ag.Resource(title, RestApiId=Ref(rest), ParentId=parent, PathPart=part))
                )
        return resources[current]

    methods = []
    for route in api.routes:
        params = route.path_parameters()
        port = route.listener or spec.lb.main_port
        integration: dict[str, Any] = {
            "Type": "HTTP_PROXY",
            "ConnectionType": "VPC_LINK",
            "ConnectionId": Ref(link),
            "IntegrationHttpMethod": route.method,
            "Uri": Sub(f"http://${{Dns}}:{port}{route.target_path}", Dns=dns),
        }
        if params:
            integration["RequestParameters"] = {
                f"integration.request.path.{p}": f"method.request.path.{p}" for p in params
            }
        title = logical_id(
            "method",
            route.method.lower(),
            *[p.replace("+", "-greedy") for p in route.path.split("/")] or ["root"],
        )
        if route.path == "/":
            title = logical_id("method", route.method.lower(), "root")
        method = ag.Method(
            title,
            RestApiId=Ref(rest),
            ResourceId=resource_for(route.path),
            HttpMethod=route.method,
            AuthorizationType="NONE",
            Integration=ag.Integration(**integration),
        )
        if params:
            method.RequestParameters = {f"method.request.path.{p}": True for p in params}
        waive(method, {"CKV_AWS_59": f"public entry point: {api.public_reason}"})
        methods.append(ctx.add(method))

    deployment = ctx.add(
        ag.Deployment(
            f"Deployment{_digest(api)}",
            DependsOn=[m.title for m in methods],
            RestApiId=Ref(rest),
            Description="Routes of this blueprint version (a new ID redeploys the stage)",
        )
    )
    logs = ctx.add(log_group("AccessLogGroup", api.log_retention_days, api.log_kms_key_arn))
    account = _account_logging_role(ctx)
    stage = ag.Stage(
        "Stage",
        DependsOn=[account.title],
        RestApiId=Ref(rest),
        DeploymentId=Ref(deployment),
        StageName=api.stage,
        TracingEnabled=api.tracing,
        AccessLogSetting=ag.AccessLogSetting(
            DestinationArn=GetAtt(logs, "Arn"), Format=ACCESS_LOG_FORMAT
        ),
        MethodSettings=[
            ag.MethodSetting(
                ResourcePath="/*",
                HttpMethod="*",
                LoggingLevel="ERROR",
                MetricsEnabled=True,
                DataTraceEnabled=False,
                ThrottlingRateLimit=api.throttle_rate,
                ThrottlingBurstLimit=api.throttle_burst,
            )
        ],
        Tags=ctx.name_tag(f"api-{spec.name}"),
    )
    waivers = {
        "CKV_AWS_120": "responses are proxied live from the load balancer; a stage cache "
        "would serve stale data",
    }
    if not api.tracing:
        waivers["CKV_AWS_73"] = f"X-Ray tracing turned off in apis.{spec.name}.tracing"
    stage = ctx.add(waive(stage, waivers))
    ctx.export(
        API_URL,
        Sub(
            "https://${Api}.execute-api.${AWS::Region}.${AWS::URLSuffix}/${Stage}/",
            Api=Ref(rest),
            Stage=Ref(stage),
        ),
        f"Invoke URL of API {spec.name}",
    )


def _account_logging_role(ctx: Context) -> Any:
    """API Gateway writes stage logs only when the account names a CloudWatch role.

    The setting is per account and region; setting it again from another stack is harmless.
    """
    role = ctx.add(
        iam.Role(
            "ApiGatewayLoggingRole",
            AssumeRolePolicyDocument=service_trust("apigateway.amazonaws.com"),
            ManagedPolicyArns=[
                Sub(
                    "arn:${AWS::Partition}:iam::aws:policy/service-role/"
                    "AmazonAPIGatewayPushToCloudWatchLogs"
                )
            ],
            Tags=ctx.name_tag("apigateway-logging"),
        )
    )
    return ctx.add(ag.Account("ApiGatewayAccount", CloudWatchRoleArn=GetAtt(role, "Arn")))


def _http_path(route: ApiRoute) -> str:
    target = route.target_path
    for p in route.path_parameters():
        target = target.replace(f"{{{p}}}", f"$request.path.{p}")
    return target


def _http(spec: ApiSpec, ctx: Context) -> None:
    api = spec.api
    lb_component = lb_key(api.load_balancer)
    link = ctx.add(
        ag2.VpcLink(
            "VpcLink",
            Name=ctx.name(f"api-{spec.name}"),
            SubnetIds=Split(",", ctx.import_value(network.COMPONENT, network.PRIVATE_SUBNETS)),
            SecurityGroupIds=[security.group_id(ctx, api_key(spec.name))],
        )
    )
    http = ctx.add(
        ag2.Api(
            "HttpApi",
            Name=ctx.name(f"api-{spec.name}"),
            ProtocolType="HTTP",
            Description=f"{ctx.blueprint.blueprint} API {spec.name}",
        )
    )
    for route in api.routes:
        port = route.listener or spec.lb.main_port
        base = (
            logical_id(
                route.method.lower(), *[p.replace("+", "-greedy") for p in route.path.split("/")]
            )
            or "Root"
        )
        if route.path == "/":
            base = logical_id(route.method.lower(), "root")
        integration = ctx.add(
            ag2.Integration(
                f"{base}Integration",
                ApiId=Ref(http),
                IntegrationType="HTTP_PROXY",
                IntegrationMethod=route.method,
                ConnectionType="VPC_LINK",
                ConnectionId=Ref(link),
                IntegrationUri=ctx.import_value(lb_component, listener_output(port)),
                PayloadFormatVersion="1.0",
                RequestParameters={"overwrite:path": _http_path(route)},
                **(
                    {"TlsConfig": ag2.TlsConfig(ServerNameToVerify=api.server_name)}
                    if spec.lb.https
                    else {}
                ),
            )
        )
        ctx.add(
            waive(
                ag2.Route(
                    f"{base}Route",
                    ApiId=Ref(http),
                    RouteKey=f"{route.method} {route.path}",
                    AuthorizationType="NONE",
                    Target=Join("/", ["integrations", Ref(integration)]),
                ),
                {"CKV_AWS_309": f"public entry point: {api.public_reason}"},
            )
        )
    logs = ctx.add(log_group("AccessLogGroup", api.log_retention_days, api.log_kms_key_arn))
    ctx.add(
        ag2.Stage(
            "Stage",
            ApiId=Ref(http),
            StageName="$default",
            AutoDeploy=True,
            AccessLogSettings=ag2.AccessLogSettings(
                DestinationArn=GetAtt(logs, "Arn"), Format=ACCESS_LOG_FORMAT
            ),
            DefaultRouteSettings=ag2.RouteSettings(
                ThrottlingRateLimit=api.throttle_rate, ThrottlingBurstLimit=api.throttle_burst
            ),
        )
    )
    ctx.export(API_URL, GetAtt(http, "ApiEndpoint"), f"Invoke URL of API {spec.name}")


def check(bp: Blueprint, facts: Facts, c: Checker) -> None:
    load_balancers = LOAD_BALANCERS.entries(bp)
    for name, api in APIS.entries(bp).items():
        base: Path_ = ("apis", name)
        lb = load_balancers.get(api.load_balancer)
        if lb is None:
            c.reference(
                (*base, "load_balancer"), api.load_balancer, load_balancers, "load balancer"
            )
            continue
        if api.type == "rest" and lb.type != "network":
            c.error(
                (*base, "load_balancer"),
                "a REST API VPC link (AWS::ApiGateway::VpcLink) targets network load balancers "
                f"only; '{api.load_balancer}' is an application load balancer",
                "point it at a network load balancer, or use type: http",
            )
        if api.type == "http" and lb.https and api.server_name is None:
            c.error(
                base,
                f"'{api.load_balancer}' listens on HTTPS; API Gateway must verify its "
                "certificate by name",
                "add server_name: <a name on the load balancer's certificate>",
            )
        ports = lb.listener_ports() if lb.type == "network" else [lb.main_port]
        for i, route in enumerate(api.routes):
            if route.listener is not None and route.listener not in ports:
                c.error(
                    (*base, "routes", i, "listener"),
                    f"load balancer '{api.load_balancer}' has no listener on port "
                    f"{route.listener}" + (" it forwards from" if lb.type == "application" else ""),
                    f"use one of {', '.join(map(str, ports))}",
                )


APIS: Kind[Api] = Kind(
    section="apis",
    model=Api,
    description="API Gateway APIs with a VPC link.",
    prefix="api",
    plan=plan,
    attributes=attributes,
    groups=groups,
    links=links,
    checks=(check,),
    order=64,
)
KIND = APIS
