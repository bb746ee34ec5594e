"""Bad load balancer, route and API settings: exact messages with file:line:col and fix."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import errors_of

LBS = """\
blueprint: shop
region: eu-west-1
load_balancers:
  web: {type: application, plain_http_reason: internal tools behind the office VPN}
  nlb: {type: network, listeners: [{port: 80}, {port: 8000}]}
"""
ENVS = "environments: {dev: {}}\n"


def test_route_to_an_unknown_load_balancer(tmp_path: Path) -> None:
    text = (
        LBS
        + """\
services:
  api: {image: {uri: nginx}, port: 80, routes: [{load_balancer: wbe}]}
"""
        + ENVS
    )
    assert (
        "bp.yaml:7:65: services.api.routes[0].load_balancer: unknown load balancer 'wbe' "
        "(did you mean 'web'?)"
    ) in errors_of(tmp_path, text)


def test_path_rule_on_a_network_load_balancer(tmp_path: Path) -> None:
    text = (
        LBS
        + """\
services:
  api:
    image: {uri: nginx}
    ports: [{container: 80}, {container: 8000}]
    routes:
      - {load_balancer: nlb, listener: 80, port: 80, path: /api/*}
      - {load_balancer: nlb, listener: 8000, port: 8000}
"""
        + ENVS
    )
    assert errors_of(tmp_path, text) == [
        "bp.yaml:11:60: services.api.routes[0].path: path rules need an application load "
        "balancer; 'nlb' is a network load balancer (remove `path` and route by `listener` port)"
    ]


def test_nlb_routes_need_a_free_existing_listener(tmp_path: Path) -> None:
    text = (
        LBS
        + """\
services:
  api:
    image: {uri: nginx}
    port: 80
    routes:
      - {load_balancer: nlb, listener: 81}
      - {load_balancer: nlb, listener: 80}
  web2:
    image: {uri: nginx}
    port: 80
    routes: [{load_balancer: nlb, listener: 80}]
"""
        + ENVS
    )
    assert errors_of(tmp_path, text) == [
        "bp.yaml:5:55: load_balancers.nlb.listeners[1].port: no service is routed to listener "
        "8000 (add a route {load_balancer: nlb, listener: 8000} to a service, or remove the "
        "listener)",
        "bp.yaml:11:40: services.api.routes[0].listener: load balancer 'nlb' has no listener on "
        "port 81 (use one of 80, 8000)",
        "bp.yaml:16:45: services.web2.routes[0].listener: listener 80 of 'nlb' already forwards "
        "to services.api (a network load balancer listener has one target; add a listener)",
    ]


def test_alb_rules_must_differ_and_port_must_exist(tmp_path: Path) -> None:
    text = (
        LBS.replace("  nlb: {type: network, listeners: [{port: 80}, {port: 8000}]}\n", "")
        + """\
services:
  api:
    image: {uri: nginx}
    port: 80
    routes: [{load_balancer: web, path: /api/*, port: 81}]
  web2:
    image: {uri: nginx}
    port: 80
    routes: [{load_balancer: web, path: /api/*}]
"""
        + ENVS
    )
    assert errors_of(tmp_path, text) == [
        "bp.yaml:9:55: services.api.routes[0].port: port 81 is not one of the service's ports "
        "(use one of 80)",
        "bp.yaml:13:14: services.web2.routes[0]: the same rule is already routed to "
        "services.api (give one of them a different path or host)",
    ]


def test_alb_without_certificate_needs_a_reason(tmp_path: Path) -> None:
    text = "blueprint: shop\nregion: eu-west-1\nload_balancers:\n  web: {type: application}\n"
    assert errors_of(tmp_path, text + ENVS) == [
        "bp.yaml:4:8: load_balancers.web: an application load balancer without `certificate` "
        "serves plain HTTP; say why with `plain_http_reason` (add certificate: arn:aws:acm:..., "
        "or plain_http_reason: <why>)"
    ]


def test_weak_tls_policy_is_refused(tmp_path: Path) -> None:
    text = LBS + ENVS
    text = text.replace(
        "plain_http_reason: internal tools behind the office VPN",
        "certificate: 'arn:aws:acm:eu-west-1:123456789012:certificate/abc', "
        "ssl_policy: ELBSecurityPolicy-2016-08",
    ).replace("  nlb: {type: network, listeners: [{port: 80}, {port: 8000}]}\n", "")
    assert errors_of(tmp_path, text) == [
        "bp.yaml:4:107: load_balancers.web.ssl_policy: TLS policy 'ELBSecurityPolicy-2016-08' is "
        "not a TLS 1.2+ policy (use ELBSecurityPolicy-TLS13-1-2-2021-06 or another "
        "ELBSecurityPolicy-TLS13-1-2-* policy)"
    ]


def test_rest_api_vpc_link_aimed_at_an_alb(tmp_path: Path) -> None:
    text = (
        LBS
        + """\
services:
  api:
    image: {uri: nginx}
    ports: [{container: 80}, {container: 8000}]
    routes:
      - {load_balancer: nlb, listener: 80, port: 80}
      - {load_balancer: nlb, listener: 8000, port: 8000}
      - {load_balancer: web, port: 80}
apis:
  public:
    type: rest
    load_balancer: web
    public_reason: the public entry point of the website
    routes: [{path: /}]
  edge:
    type: rest
    load_balancer: nlb
    public_reason: the public entry point of the website
    routes: [{path: /, listener: 443}, {path: "/a/{proxy+}", target: "/{id}"}]
"""
        + ENVS
    )
    assert errors_of(tmp_path, text) == [
        "bp.yaml:24:40: apis.edge.routes[1]: target uses {id}, which the path does not define "
        "(path parameters: proxy)",
    ]
    text = text.replace(', {path: "/a/{proxy+}", target: "/{id}"}', "")
    assert errors_of(tmp_path, text) == [
        "bp.yaml:17:20: apis.public.load_balancer: a REST API VPC link (AWS::ApiGateway::VpcLink) "
        "targets network load balancers only; 'web' is an application load balancer (point it "
        "at a network load balancer, or use type: http)",
        "bp.yaml:24:34: apis.edge.routes[0].listener: load balancer 'nlb' has no listener on "
        "port 443 (use one of 80, 8000)",
    ]


def test_deploy_role_references_and_subject(tmp_path: Path) -> None:
    text = (
        """\
blueprint: shop
region: eu-west-1
deploy_roles:
  gh: {provider: github, repository: acme/shop, branch: main, environment: prod, services: [ap]}
  bb: {provider: bitbucket, repository: acme/shop}
"""
        + ENVS
    )
    assert errors_of(tmp_path, text) == [
        "bp.yaml:5:18: deploy_roles.bb.provider: invalid value 'bitbucket' "
        "(expected one of 'github', 'gitlab')"
    ]
    text = text.replace("  bb: {provider: bitbucket, repository: acme/shop}\n", "")
    assert errors_of(tmp_path, text) == [
        "bp.yaml:4:76: deploy_roles.gh.environment: give `branch` or `environment`, not both "
        "(the trust pins exactly one subject) (remove one)",
        "bp.yaml:4:93: deploy_roles.gh.services[0]: unknown service 'ap' (declare the service "
        "first)",
    ]


def test_listener_rule_priorities_must_not_clash(tmp_path: Path) -> None:
    text = """\
blueprint: shop
region: eu-west-1
network: {nat: none}
load_balancers:
  public: {type: application, scheme: internet-facing, plain_http_reason: a test load balancer}
services:
  a:
    image: {uri: ghcr.io/acme/a}
    port: 80
    routes: [{load_balancer: public, path: /a/*, priority: 20}]
  b:
    image: {uri: ghcr.io/acme/b}
    port: 80
    routes: [{load_balancer: public, path: /b/*, priority: 20}]
hosts:
  app:
    instance_type: t4g.small
    subnet: public
    public_ip: true
    target_group: {load_balancer: public, port: 8080, host: api.example.com, priority: 10}
environments: {dev: {}}
"""
    assert errors_of(tmp_path, text) == [
        "bp.yaml:14:60: services.b.routes[0].priority: priority 20 on load balancer public is "
        "also services.a.routes[0]'s (give this route another priority, or none (cfngen "
        "numbers routes itself))",
    ]
    # a host rule on a priority cfngen gave a service route (a: 20 fixed, b: first free = 10)
    text = text.replace("/b/*, priority: 20}", "/b/*}")
    assert errors_of(tmp_path, text) == [
        "bp.yaml:20:88: hosts.app.target_group.priority: priority 10 on load balancer public is "
        "also services.b.routes[0]'s (give this rule another priority)",
    ]
