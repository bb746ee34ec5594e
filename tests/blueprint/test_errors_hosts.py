"""Bad input for EC2 hosts.

Exact messages with file:line:col, field and fix.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import errors_of

HEAD = "blueprint: shop\nregion: eu-west-1\n"
TAIL = "environments: {dev: {}}\n"

CASES = {
    "host_iops": (
        ("hosts:\n  app: {instance_type: t4g.small, data_volume: {size_gb: 10, iops: 100}}\n"),
        [
            (
                "bp.yaml:4:68: hosts.app.data_volume.iops: input should be greater than or "
                "equal to 3000"
            ),
        ],
    ),
    "host_mount": (
        ("hosts:\n  app: {instance_type: t4g.small, data_volume: {size_gb: 10, mount: data}}\n"),
        [
            (
                "bp.yaml:4:69: hosts.app.data_volume.mount: invalid absolute path 'data' "
                "(e.g. /data)"
            ),
        ],
    ),
    "host_bucket_no_key": (
        (
            "buckets:\n  artifacts: {}\nhosts:\n  app:\n    instance_type: t4g.small\n    "
            "compose: {bucket: artifacts}\n"
        ),
        [
            (
                "bp.yaml:8:14: hosts.app.compose: `bucket` and `key` go together (give "
                "both, or use `s3:`)"
            ),
        ],
    ),
    "host_priority": (
        (
            "hosts:\n  app:\n    instance_type: t4g.small\n    target_group: {port: 8080, "
            "priority: 0}\n"
        ),
        [
            (
                "bp.yaml:6:42: hosts.app.target_group.priority: input should be greater "
                "than or equal to 1"
            ),
        ],
    ),
    "host_matcher": (
        (
            "hosts:\n  app:\n    instance_type: t4g.small\n    target_group: {port: 8080, "
            "health_check: {matcher: ok}}\n"
        ),
        [
            (
                "bp.yaml:6:56: hosts.app.target_group.health_check.matcher: invalid HTTP "
                "code list 'ok' (e.g. 200-399 or 200,302)"
            ),
        ],
    ),
    "host_ingress_from": (
        (
            "hosts:\n  app:\n    instance_type: t4g.small\n    ingress: [{port: 8080, "
            "from: alb, description: From the ALB}]\n"
        ),
        [
            (
                "bp.yaml:6:34: hosts.app.ingress[0].from: unknown security group 'alb' "
                "(known security groups: host-app)"
            ),
        ],
    ),
    "host_ssh_world": (
        "hosts:\n  app: {instance_type: t4g.small, ssh_cidrs: [0.0.0.0/0]}\n",
        [
            (
                "bp.yaml:4:8: hosts.app: SSH from 0.0.0.0/0 opens port 22 to the internet "
                "(list your office networks, or use Session Manager)"
            ),
        ],
    ),
    "host_public_ip_private": (
        "hosts:\n  app: {instance_type: t4g.small, public_ip: true}\n",
        [
            (
                "bp.yaml:4:8: hosts.app: public_ip needs subnet: public (set `subnet: "
                "public` or remove public_ip)"
            ),
        ],
    ),
    "host_compose_two": (
        (
            "hosts:\n  app:\n    instance_type: t4g.small\n    compose: {s3: "
            "s3://my-bucket/k.yml, inline: 'x'}\n"
        ),
        [
            (
                "bp.yaml:6:14: hosts.app.compose: give exactly one of `s3`, `bucket` (with "
                "`key`) or `inline` (got s3, inline) (e.g. `bucket: artifacts` and `key: "
                "compose/docker-compose.yml`)"
            ),
        ],
    ),
    "host_compose_none": (
        ("hosts:\n  app:\n    instance_type: t4g.small\n    compose: {directory: /opt/x}\n"),
        [
            (
                "bp.yaml:6:14: hosts.app.compose: give exactly one of `s3`, `bucket` (with "
                "`key`) or `inline` (e.g. `bucket: artifacts` and `key: "
                "compose/docker-compose.yml`)"
            ),
        ],
    ),
    "host_connects_unknown": (
        (
            "databases:\n  app-db: {engine: postgres}\nhosts:\n  app: {instance_type: "
            "t4g.small, connects_to: [app-bd]}\n"
        ),
        [
            (
                "bp.yaml:6:49: hosts.app.connects_to[0]: unknown connection target "
                "'app-bd' (did you mean 'app-db'?)"
            ),
        ],
    ),
    "host_nat_none": (
        "network: {nat: none}\nhosts:\n  app: {instance_type: t4g.small}\n",
        [
            (
                "bp.yaml:5:8: hosts.app.subnet: the host installs Docker and its project "
                "at boot but a private subnet has no route to the internet (network.nat: "
                "none) (set `subnet: public` with `public_ip: true`, or give the network a "
                "NAT gateway)"
            ),
        ],
    ),
    "host_public_no_ip": (
        "hosts:\n  app: {instance_type: t4g.small, subnet: public}\n",
        [
            (
                "bp.yaml:4:8: hosts.app.public_ip: a host in a public subnet reaches the "
                "internet only with a public IP (set `public_ip: true`, or use `subnet: "
                "private` with a NAT gateway)"
            ),
        ],
    ),
    "host_tg_unknown_lb": (
        (
            "hosts:\n  app:\n    instance_type: t4g.small\n    target_group: {port: 8080, "
            "load_balancer: public}\n"
        ),
        [
            (
                "bp.yaml:6:47: hosts.app.target_group.load_balancer: unknown load balancer "
                "'public' (declare the load balancer first)"
            ),
        ],
    ),
    "host_bucket_unknown": (
        (
            "hosts:\n  app:\n    instance_type: t4g.small\n    compose: {bucket: "
            "artifacts, key: a.yml}\n"
        ),
        [
            (
                "bp.yaml:6:23: hosts.app.compose.bucket: unknown bucket 'artifacts' "
                "(declare the bucket first)"
            ),
        ],
    ),
    "host_arch": (
        "hosts:\n  app: {instance_type: t4g.small, architecture: arm}\n",
        [
            (
                "bp.yaml:4:49: hosts.app.architecture: invalid value 'arm' (expected "
                "'arm64' or 'x86_64')"
            ),
        ],
    ),
    "host_secret_unknown": (
        (
            "databases:\n  app-db: {engine: postgres}\nhosts:\n  app:\n    instance_type: "
            "t4g.small\n    compose: {inline: x}\n    secrets: {DB_PASSWORD: {from: "
            "app-bd, attribute: secret_arn}}\n"
        ),
        [
            (
                "bp.yaml:9:35: hosts.app.secrets.DB_PASSWORD.from: unknown component with "
                "attributes 'app-bd' (did you mean 'app-db'?)"
            ),
        ],
    ),
    "host_secret_plain": (
        (
            "databases:\n  app-db: {engine: postgres}\nhosts:\n  app:\n    instance_type: "
            "t4g.small\n    compose: {inline: x}\n    secrets: {DB_HOST: {from: app-db, "
            "attribute: endpoint}}\n"
        ),
        [
            (
                "bp.yaml:9:50: hosts.app.secrets.DB_HOST.attribute: 'app-db.endpoint' is a "
                "plain value, not a secret (move it to `environment`, or use a secret_arn "
                "attribute)"
            ),
        ],
    ),
    "host_env_secret": (
        (
            "databases:\n  app-db: {engine: postgres}\nhosts:\n  app:\n    instance_type: "
            "t4g.small\n    compose: {inline: x}\n    environment: {DB_PASSWORD: {from: "
            "app-db, attribute: secret_arn}}\n"
        ),
        [
            (
                "bp.yaml:9:58: hosts.app.environment.DB_PASSWORD.attribute: "
                "'app-db.secret_arn' is a secret; secrets never go into the environment (move "
                "it to `secrets`: its value is read at start, never written into the template)"
            ),
        ],
    ),
    "host_env_attr": (
        (
            "databases:\n  app-db: {engine: postgres}\nhosts:\n  app:\n    instance_type: "
            "t4g.small\n    compose: {inline: x}\n    environment: {DB_HOST: {from: "
            "app-db, attribute: endpiont}}\n"
        ),
        [
            (
                "bp.yaml:9:54: hosts.app.environment.DB_HOST.attribute: 'app-db' has no "
                "attribute 'endpiont' (did you mean 'endpoint'?)"
            ),
        ],
    ),
    "host_secret_no_compose": (
        ("hosts:\n  app:\n    instance_type: t4g.small\n    secrets: {API_KEY: 'ssm:/x/y'}\n"),
        [
            (
                "bp.yaml:5:5: hosts.app: `secrets` and `environment` are written to the "
                "compose project's .env (add `compose:`)"
            ),
        ],
    ),
    "host_secret_var": (
        (
            "hosts:\n  app:\n    instance_type: t4g.small\n    compose: {inline: x}\n    "
            "secrets: {API-KEY: 'ssm:/x/y'}\n"
        ),
        [
            (
                "bp.yaml:7:15: hosts.app.secrets.API-KEY: invalid environment variable "
                "name 'API-KEY' (e.g. DB_PASSWORD)"
            ),
        ],
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input(tmp_path: Path, case: str) -> None:
    body, expected = CASES[case]
    assert errors_of(tmp_path, HEAD + body + TAIL) == expected
