"""The defects the verifier found in rendered systems, fixed at the source: each blueprint here
renders an environment that verifies clean, and the rendered detail that makes it work."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from cfngen.render import RenderedEnvironment
from cfngen.verify import verify
from tests.helpers import compile_text, errors_of

BRIDGE = """\
blueprint: shop
region: eu-west-1
network: {cidr: 10.0.0.0/16, availability_zones: 2, nat: single}
cluster:
  ec2: {instance_type: INSTANCE}
load_balancers:
  public:
    type: application
    scheme: internet-facing
    plain_http_reason: a demo without a certificate
services:
  web:
    image: {uri: IMAGE, tag: "1.0"}
    capacity: ec2
    network_mode: bridge
    cpu: 256
    memory: 256
    ports:
      - {container: 8080}
    routes:
      - {load_balancer: public, port: 8080}
environments:
  dev: {}
"""
PRIVATE = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop/web"


def _blueprint(instance: str = "t3.small", image: str = "docker.io/library/nginx") -> str:
    return BRIDGE.replace("INSTANCE", instance).replace("IMAGE", image)


def _resources(env: RenderedEnvironment, component: str) -> dict[str, Any]:
    stack = next(s for s in env.stacks if s.component == component)
    return dict(yaml.load(stack.body, Loader=_Loader)["Resources"])


class _Loader(yaml.SafeLoader):
    """Reads CloudFormation's short-form tags (!Ref, !Sub ...) as plain data."""


_Loader.add_multi_constructor("!", lambda loader, suffix, node: None)


def test_bridge_mode_without_a_host_port_opens_the_dynamic_range(tmp_path: Path) -> None:
    env = compile_text(tmp_path, _blueprint())
    assert verify(env).findings == []
    rules = [
        r["Properties"]
        for r in _resources(env, "security").values()
        if r["Type"] in ("AWS::EC2::SecurityGroupIngress", "AWS::EC2::SecurityGroupEgress")
    ]
    ranges = {(r["FromPort"], r["ToPort"]) for r in rules}
    assert ranges == {(32768, 65535)}, ranges
    assert len(rules) == 2  # the balancer's egress and the instances' ingress


def test_a_private_ecr_uri_gets_pull_permissions(tmp_path: Path) -> None:
    env = compile_text(tmp_path, _blueprint(image=PRIVATE))
    assert verify(env).findings == []
    role = _resources(env, "service-web")["ExecutionRole"]["Properties"]
    actions = [
        a for p in role["Policies"] for s in p["PolicyDocument"]["Statement"] for a in s["Action"]
    ]
    assert {"ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:GetAuthorizationToken"} <= set(
        actions
    )
    public = compile_text(tmp_path, _blueprint())
    role = _resources(public, "service-web")["ExecutionRole"]["Properties"]
    assert not any(
        a.startswith("ecr:")
        for p in role["Policies"]
        for s in p["PolicyDocument"]["Statement"]
        for a in s["Action"]
    )


def _launch_data(env: RenderedEnvironment) -> dict[str, Any]:
    return dict(_resources(env, "cluster")["LaunchTemplate"]["Properties"]["LaunchTemplateData"])


def test_ebs_optimized_only_where_the_type_supports_it(tmp_path: Path) -> None:
    assert "EbsOptimized" not in _launch_data(compile_text(tmp_path, _blueprint("t2.micro")))
    assert "EbsOptimized" not in _launch_data(compile_text(tmp_path, _blueprint("m3.medium")))
    assert _launch_data(compile_text(tmp_path, _blueprint("m3.xlarge")))["EbsOptimized"] is True
    assert _launch_data(compile_text(tmp_path, _blueprint("t3.small")))["EbsOptimized"] is True


def _ami_default(env: RenderedEnvironment) -> str:
    stack = env.stack("cluster")
    return str(yaml.load(stack.body, Loader=_Loader)["Parameters"]["Ec2ImageId"]["Default"])


def test_graviton_capacity_gets_the_arm64_ecs_ami(tmp_path: Path) -> None:
    assert "/arm64/" in _ami_default(compile_text(tmp_path, _blueprint("m7g.large")))
    assert "/arm64/" not in _ami_default(compile_text(tmp_path, _blueprint("m7i.large")))


def test_a_mismatched_ami_is_a_blueprint_error_at_its_line(tmp_path: Path) -> None:
    text = _blueprint("m7g.large").replace(
        "ec2: {instance_type: m7g.large}",
        "ec2:\n    instance_type: m7g.large\n    ami_parameter: "
        "/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id",
    )
    (line,) = [e for e in errors_of(tmp_path, text) if "ami_parameter" in e]
    assert line.startswith("bp.yaml:7:") and "cluster.ec2.ami_parameter" in line
    assert "m7g.large runs arm64 AMIs" in line and "arm64/recommended" in line


def test_a_host_architecture_the_type_cannot_run_is_an_error_at_its_line(tmp_path: Path) -> None:
    text = (
        "blueprint: shop\nregion: eu-west-1\nnetwork: {cidr: 10.0.0.0/16}\n"
        "hosts:\n  app:\n    instance_type: t4g.small\n    architecture: x86_64\n"
        "environments: {dev: {}}\n"
    )
    errors = errors_of(tmp_path, text)
    assert errors == [
        "bp.yaml:7:19: hosts.app.architecture: t4g.small runs arm64 AMIs, not x86_64 "
        "(remove `architecture` or set it to arm64)"
    ], errors


def test_a_t2_host_renders_without_ebs_optimization(tmp_path: Path) -> None:
    text = (
        "blueprint: shop\nregion: eu-west-1\nnetwork: {cidr: 10.0.0.0/16}\n"
        "hosts:\n  app: {instance_type: t2.micro}\nenvironments: {dev: {}}\n"
    )
    env = compile_text(tmp_path, text)
    instance = _resources(env, "host-app")["Instance"]["Properties"]
    assert "EbsOptimized" not in instance and instance["InstanceType"] == "t2.micro"
    assert verify(env).findings == []


ENCRYPTED = """\
blueprint: shop
region: eu-west-1
network: {cidr: 10.0.0.0/16, availability_zones: 2, nat: single}
cluster: {fargate: {}}
buckets:
  results:
    kms_key_arn: arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555
services:
  worker:
    image: {uri: docker.io/library/busybox, tag: "1.0"}
    cpu: 256
    memory: 512
    uses:
      - {component: results, access: ACCESS, prefix: out/}
environments:
  dev: {}
"""


def test_a_bucket_under_a_customer_key_grants_its_key(tmp_path: Path) -> None:
    """S3 reads an SSE-KMS object with the caller's kms:Decrypt and writes one with its
    kms:GenerateDataKey: `uses` of such a bucket grants both (it granted neither)."""
    for access in ("read", "read-write"):
        env = compile_text(tmp_path, ENCRYPTED.replace("ACCESS", access))
        assert [f.render() for f in verify(env).findings] == []
        role = _resources(env, "service-worker")["TaskRole"]["Properties"]
        actions = {
            a
            for p in role["Policies"]
            for st in p["PolicyDocument"]["Statement"]
            for a in st["Action"]
        }
        wanted = {"kms:Decrypt"} | ({"kms:GenerateDataKey"} if access == "read-write" else set())
        assert {a for a in actions if a.startswith("kms:")} == wanted
