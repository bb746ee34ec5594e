"""A small blueprint exercising every container and traffic kind (shared by builder tests)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cfngen.render import RenderedEnvironment, load_template
from tests.helpers import compile_text

SAMPLE = """\
blueprint: shop
region: eu-west-1
network: {cidr: 10.0.0.0/16, availability_zones: 2, nat: single}
cluster:
  fargate: {weight: 1, base: 1}
  fargate_spot: {weight: 3}
  ec2: {instance_type: t3.small, min: 1, max: 4}
repositories:
  shop-api: {keep_last: 15, immutable_tags: true}
file_systems:
  uploads:
    access_points:
      api: {uid: 10001, gid: 10001, path: /api}
buckets:
  results: {expire_after_days: 30}
load_balancers:
  public:
    type: application
    scheme: internet-facing
    certificate: arn:aws:acm:eu-west-1:123456789012:certificate/abc-123
  private:
    type: network
    listeners: [{port: 80}, {port: 8000}]
services:
  api:
    image: {repository: shop-api, tag: v1}
    cpu: 512
    memory: 1024
    port: 3000
    environment:
      MODE: production
      RESULT_BUCKET: {from: results, attribute: name}
    secrets:
      DB_URL: secretsmanager:shop/db-url#url
      API_KEY: ssm:/shop/api-key
    health_check: {command: "curl -f http://localhost:3000/health || exit 1"}
    volumes: [{file_system: uploads, access_point: api, path: /data}]
    uses: [{component: results, access: read-write, prefix: results/}]
    exec: true
    desired_count: 2
    autoscaling: {min: 2, max: 6, cpu: 60, memory: 70}
    routes:
      - {load_balancer: public, path: /api/*}
      - {load_balancer: public, host: api.example.com, path: /v2/*}
    service_connect: {aliases: [{port: 3000, dns_name: api}]}
    egress:
      - {port: 443, cidr: 0.0.0.0/0, description: HTTPS out}
  web:
    image: {uri: public.ecr.aws/nginx/nginx, tag: "1.27"}
    port: 80
    routes: [{load_balancer: public}]
    discovery: true
    service_connect: {}
    connects_to: [api]
  legacy:
    image: {uri: ghcr.io/acme/legacy}
    capacity: ec2
    network_mode: bridge
    cpu: 256
    memory: 256
    ports: [{container: 80, host: 80}, {container: 8000, host: 8000}]
    routes:
      - {load_balancer: private, listener: 80, port: 80}
      - {load_balancer: private, listener: 8000, port: 8000, health_check: {path: /status}}
apis:
  rest:
    type: rest
    load_balancer: private
    public_reason: public website entry point for the shop
    routes:
      - {path: /, method: GET, listener: 80}
      - {path: "/backend/{proxy+}", listener: 8000, target: "/{proxy}"}
  edge:
    type: http
    load_balancer: public
    server_name: api.example.com
    public_reason: public website entry point for the shop
    routes:
      - {path: "/shop/{proxy+}", target: "/api/{proxy}"}
deploy_roles:
  gh: {provider: github, repository: acme/shop, branch: main}
environments:
  dev: {}
  prod:
    load_balancers: {public: {deletion_protection: true}}
"""


def rendered(tmp_path: Path, env: str = "dev", text: str = SAMPLE) -> RenderedEnvironment:
    return compile_text(tmp_path, text, env)


def template(
    tmp_path: Path, component: str, env: str = "dev", text: str = SAMPLE
) -> dict[str, Any]:
    return load_template(rendered(tmp_path, env, text).stack(component).body)


def imp(component: str, output: str) -> dict[str, Any]:
    return {"Fn::ImportValue": {"Fn::Sub": f"${{EnvironmentName}}-{component}-{output}"}}


def of_type(t: dict[str, Any], rtype: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in t["Resources"].items() if v["Type"] == rtype}
