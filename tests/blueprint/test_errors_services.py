"""Bad service settings: exact messages with file:line:col, field and fix; exit code 2."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from cfngen.cli import cli
from tests.helpers import errors_of, write

HEAD = """\
blueprint: shop
region: eu-west-1
"""


def svc(body: str, extra: str = "") -> str:
    return HEAD + "services:\n  api:\n" + body + extra + "environments: {dev: {}}\n"


def test_invalid_fargate_cpu_memory_pair_exits_2_on_the_cli(tmp_path: Path) -> None:
    path = write(tmp_path, svc("    image: {uri: nginx}\n    cpu: 256\n    memory: 4096\n"))
    result = CliRunner().invoke(cli, ["validate", str(path)], catch_exceptions=False)
    assert result.exit_code == 2
    assert result.stderr == (
        f"{path}:7:13: services.api.memory: invalid Fargate CPU/memory pair: 256 CPU units take "
        "512, 1024, 2048 MiB of memory, not 4096 (change memory, or pick the cpu that fits it)\n"
    )


def test_invalid_fargate_cpu(tmp_path: Path) -> None:
    assert errors_of(tmp_path, svc("    image: {uri: nginx}\n    cpu: 300\n")) == [
        "bp.yaml:6:10: services.api.cpu: invalid Fargate CPU 300 "
        "(use one of 256, 512, 1024, 2048, 4096, 8192, 16384)"
    ]


def test_image_needs_exactly_one_source(tmp_path: Path) -> None:
    assert errors_of(tmp_path, svc("    image: {tag: v1}\n")) == [
        "bp.yaml:5:12: services.api.image: an image needs exactly one of `repository` or `uri` "
        "(e.g. `repository: app` (declared under repositories) or `uri: ghcr.io/org/image`)"
    ]


def test_unknown_repository(tmp_path: Path) -> None:
    text = svc("    image: {repository: shop-ap}\n", "repositories:\n  shop-api: {}\n")
    assert errors_of(tmp_path, text) == [
        "bp.yaml:5:25: services.api.image.repository: unknown repository 'shop-ap' "
        "(did you mean 'shop-api'?)"
    ]


def test_secret_reference_forms(tmp_path: Path) -> None:
    text = svc("    image: {uri: nginx}\n    secrets:\n      DB: vault:db/url\n")
    assert errors_of(tmp_path, text) == [
        "bp.yaml:7:11: services.api.secrets.DB: invalid secret reference 'vault:db/url' "
        "(write ssm:/parameter/name, secretsmanager:secret-name[#json-key], or "
        "{from: component, attribute: secret_arn})"
    ]


def test_secret_from_a_plain_value_attribute(tmp_path: Path) -> None:
    text = svc(
        "    image: {uri: nginx}\n    secrets:\n      BUCKET: {from: results, attribute: name}\n",
        "buckets:\n  results: {}\n",
    )
    assert errors_of(tmp_path, text) == [
        "bp.yaml:7:42: services.api.secrets.BUCKET.attribute: 'results.name' is a plain value, "
        "not a secret (move it to `environment`, or use a secret_arn attribute)"
    ]


def test_environment_value_from_unknown_attribute(tmp_path: Path) -> None:
    text = svc(
        "    image: {uri: nginx}\n"
        "    environment:\n      BUCKET: {from: results, attribute: nme}\n",
        "buckets:\n  results: {}\n",
    )
    assert errors_of(tmp_path, text) == [
        "bp.yaml:7:42: services.api.environment.BUCKET.attribute: 'results' has no attribute "
        "'nme' (did you mean 'name'?)"
    ]


def test_public_placement_needs_a_reason(tmp_path: Path) -> None:
    text = svc(
        "    image: {uri: nginx}\n    placement: {subnets: public, assign_public_ip: true}\n"
    )
    assert errors_of(tmp_path, text) == [
        "bp.yaml:6:16: services.api.placement: public subnets or public IPs need a `reason` "
        "(say why, e.g. reason: dev has no NAT gateway; tasks pull images directly)"
    ]


def test_bridge_mode_needs_ec2_capacity(tmp_path: Path) -> None:
    text = svc("    image: {uri: nginx}\n    network_mode: bridge\n")
    assert errors_of(tmp_path, text) == [
        "bp.yaml:5:5: services.api: bridge network mode needs EC2 capacity "
        "(set capacity: ec2, or use awsvpc)"
    ]


def test_ec2_capacity_needs_a_cluster_with_ec2(tmp_path: Path) -> None:
    text = svc("    image: {uri: nginx}\n    capacity: ec2\n    cpu: 300\n")
    assert errors_of(tmp_path, text) == [
        "bp.yaml:6:15: services.api.capacity: the cluster has no EC2 capacity "
        "(add `ec2: {instance_type: ...}` to `cluster`)"
    ]


def test_connects_to_volumes_buckets_and_depends_on_must_resolve(tmp_path: Path) -> None:
    text = svc(
        "    image: {uri: nginx}\n"
        "    connects_to: [uplods]\n"
        "    volumes: [{file_system: uploads, access_point: ap, path: /data}]\n"
        "    uses: [{component: reslts, access: read}]\n"
        "    depends_on: [migrat]\n",
        "file_systems:\n  uploads: {access_points: {app: {uid: 1, gid: 1, path: /x}}}\n"
        "buckets:\n  results: {}\n",
    )
    assert errors_of(tmp_path, text) == [
        "bp.yaml:6:19: services.api.connects_to[0]: unknown connection target 'uplods' "
        "(did you mean 'uploads'?)",
        "bp.yaml:7:52: services.api.volumes[0].access_point: unknown access point 'ap' "
        "(did you mean 'app'?)",
        "bp.yaml:8:24: services.api.uses[0].component: unknown usable component 'reslts' "
        "(did you mean 'results'?)",
        "bp.yaml:9:18: services.api.depends_on[0]: unknown component 'migrat' "
        "(known components: api, results, uploads)",
    ]


def test_service_connect_alias_on_a_port_the_service_does_not_have(tmp_path: Path) -> None:
    text = svc(
        "    image: {uri: nginx}\n    port: 80\n    service_connect: {aliases: [{port: 3000}]}\n"
    )
    assert errors_of(tmp_path, text) == [
        "bp.yaml:7:40: services.api.service_connect.aliases[0].port: port 3000 is not one of "
        "the service's ports (use one of 80)"
    ]


def test_another_services_alias_cannot_take_a_dns_registration_name(tmp_path: Path) -> None:
    text = (
        HEAD
        + "services:\n"
        + "  api: {image: {uri: nginx}, port: 80, discovery: true}\n"
        + "  web:\n"
        + "    image: {uri: nginx}\n"
        + "    port: 80\n"
        + "    service_connect: {aliases: [{port: 80, dns_name: api}]}\n"
        + "environments: {dev: {}}\n"
    )
    assert errors_of(tmp_path, text) == [
        "bp.yaml:8:33: services.web.service_connect.aliases[0]: Cloud Map name 'api' is "
        "already registered by services.api (give the alias another dns_name)"
    ]


def test_service_connect_names_are_unique_and_ec2_tasks_get_no_public_ip(tmp_path: Path) -> None:
    text = (
        HEAD
        + "cluster: {fargate: {}, ec2: {}}\n"
        + "services:\n"
        + "  api: {image: {uri: nginx}, port: 80, service_connect: {aliases: [{port: 80}]}}\n"
        + "  web:\n"
        + "    image: {uri: nginx}\n"
        + "    capacity: ec2\n"
        + "    port: 80\n"
        + "    placement: {subnets: public, assign_public_ip: true, reason: testing public tasks}\n"
        + "    service_connect: {aliases: [{port: 80, dns_name: api}]}\n"
        + "environments: {dev: {}}\n"
    )
    assert errors_of(tmp_path, text) == [
        "bp.yaml:10:52: services.web.placement.assign_public_ip: tasks on EC2 capacity cannot "
        "get public IPs (only Fargate tasks can) (use capacity: fargate, or assign_public_ip: "
        "false)",
        "bp.yaml:11:33: services.web.service_connect.aliases[0]: Service Connect name 'api' is "
        "already served by services.api (give the alias another dns_name)",
    ]


def test_depends_on_cycle_is_a_blueprint_error(tmp_path: Path) -> None:
    text = (
        HEAD
        + "services:\n"
        + "  api: {image: {uri: nginx}, depends_on: [worker]}\n"
        + "  worker: {image: {uri: nginx}, depends_on: [api]}\n"
        + "environments: {dev: {}}\n"
    )
    assert errors_of(tmp_path, text) == [
        "bp.yaml:4:43: services.api.depends_on[0]: dependency cycle: "
        "service-api -> service-worker -> service-api (remove one of these references: "
        "services.api.depends_on[0] (bp.yaml:4:43); services.worker.depends_on[0] (bp.yaml:5:46))"
    ]


def test_component_names_are_unique_across_kinds(tmp_path: Path) -> None:
    text = svc("    image: {uri: nginx}\n", "buckets:\n  api: {}\n")
    assert errors_of(tmp_path, text) == [
        "bp.yaml:7:3: buckets.api: name 'api' is already used by services.api "
        "(component names are unique across kinds; rename one of them)"
    ]
