"""Every data, edge and operations kind with its options on: cfn-lint (I rules included),
cfngen's own checks and checkov find nothing. connexing.yaml covers the common shape through
the reference tests; this covers what it leaves out (MySQL, Redis, OpenSearch, SPA, ...).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.gates import lint_findings
from tests.helpers import compile_text

pytestmark = pytest.mark.checkov

KITCHEN_SINK = """\
blueprint: sink
region: eu-west-1
network: {availability_zones: 3}
alerts: {emails: [ops@example.com]}
budget: {monthly_limit_usd: 50, thresholds: [{percent: 80}, {percent: 100, type: forecasted}]}
dns:
  zone: example.com
  zone_id: Z0123456789ABC
  records:
    api.example.com: {target: public}
certificates:
  api: {domain: api.example.com, alternative_names: [admin.example.com]}
load_balancers:
  public: {type: application, scheme: internet-facing, certificate: api}
databases:
  pg: {engine: postgres, max_storage_gb: 100, multi_az: true, monitoring_interval: 0}
  my: {engine: mysql, instance_class: db.t4g.medium, performance_insights: false}
caches:
  redis: {replicas: 2}
search_domains:
  search: {instance_count: 3, access: vpc, service_linked_role: true}
sites:
  web:
    domain: www.example.com
    aliases: [example.com]
    spa: true
    behaviours: [{path: /api/*, load_balancer: public}]
  plain: {}
repositories:
  gw: {}
hosts:
  app:
    instance_type: m7g.large
    data_volume: {size_gb: 50, iops: 4000, throughput: 250}
    compose: {inline: "services: {web: {image: nginx}}"}
    target_group: {port: 8080, load_balancer: public, host: api.example.com}
    connects_to: [pg, my, redis, search]
deploy_roles:
  ci:
    provider: gitlab
    project: acme/sink
    branch: main
    permissions: {repositories: [gw], run_command_on: [app], publish_sites: [web, plain]}
environments: {prod: {}}
"""


def test_every_option_passes_the_gates(tmp_path: Path) -> None:
    rendered = compile_text(tmp_path, KITCHEN_SINK, "prod")
    assert lint_findings([rendered]) == []
