"""A service's own Fargate / Fargate Spot mix, and Cloud Map DNS with Service Connect together."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

from tests.helpers import errors_of
from tests.kinds.helpers import blueprint, build, imp


def _strategy(template: dict[str, Any]) -> list[dict[str, Any]]:
    props = template["Resources"]["Service"]["Properties"]
    return list(props["CapacityProviderStrategy"])


def test_a_service_mix_replaces_the_cluster_default() -> None:
    bp = blueprint(
        cluster={"fargate": {"weight": 1}, "fargate_spot": {"weight": 0}},
        services={
            "worker": {
                "image": {"uri": "nginx"},
                "capacity_mix": {
                    "fargate": {"base": 1, "weight": 1},
                    "fargate_spot": {"weight": 3},
                },
            },
            "api": {"image": {"uri": "nginx"}},
        },
    )
    assert _strategy(build(bp, "service-worker")) == [
        {"CapacityProvider": "FARGATE", "Weight": 1, "Base": 1},
        {"CapacityProvider": "FARGATE_SPOT", "Weight": 3, "Base": 0},
    ]
    assert _strategy(build(bp, "service-api")) == [
        {"CapacityProvider": "FARGATE", "Weight": 1, "Base": 0},
        {"CapacityProvider": "FARGATE_SPOT", "Weight": 0, "Base": 0},
    ]


def test_mix_errors(tmp_path: Path) -> None:
    text = textwrap.dedent(
        """\
        blueprint: shop
        region: eu-west-1
        cluster: {fargate: {}}
        services:
          a: {image: {uri: nginx}, capacity_mix: {fargate_spot: {weight: 2}}}
          b: {image: {uri: nginx}, capacity_mix: {fargate: {weight: 0}}}
          c:
            image: {uri: nginx}
            capacity_mix: {fargate: {base: 1}, fargate_spot: {base: 1}}
        environments: {dev: {}}
        """
    )
    assert errors_of(tmp_path, text) == [
        "bp.yaml:6:42: services.b.capacity_mix: every weight is 0, so no task would be placed "
        "(give one a weight)",
        "bp.yaml:9:19: services.c.capacity_mix: only one capacity of a mix may have a base (ECS "
        "places those tasks first) (keep base on one of them)",
    ]
    text = text.replace("  b: {image: {uri: nginx}, capacity_mix: {fargate: {weight: 0}}}\n", "")
    text = text.replace("{fargate: {base: 1}, fargate_spot: {base: 1}}", "{fargate: {}}")
    assert errors_of(tmp_path, text) == [
        "bp.yaml:5:57: services.a.capacity_mix.fargate_spot: the cluster has no Fargate Spot "
        "capacity for this service to use (add `fargate_spot: {weight: 0}` to the cluster "
        "(weight 0 keeps the cluster's default strategy as it is))",
    ]


def test_dns_registration_and_service_connect_together() -> None:
    bp = blueprint(
        services={
            "api": {
                "image": {"uri": "nginx"},
                "port": 80,
                "discovery": True,
                "service_connect": {"aliases": [{"port": 80}]},
            }
        },
    )
    props = build(bp, "service-api")["Resources"]
    service = props["Service"]["Properties"]
    assert props["DiscoveryService"]["Properties"]["Name"] == "api"
    assert service["ServiceRegistries"] == [
        {"RegistryArn": {"Fn::GetAtt": ["DiscoveryService", "Arn"]}}
    ]
    (connect,) = service["ServiceConnectConfiguration"]["Services"]
    # one namespace, unique names: Service Connect's own Cloud Map service gets a suffix, while
    # its clients still reach it as `api`
    assert connect["DiscoveryName"] == "api-connect"
    assert connect["ClientAliases"] == [{"DnsName": "api", "Port": 80}]


def test_ec2_groups_give_services_their_own_instances() -> None:
    bp = blueprint(
        cluster={
            "ec2": {"instance_type": "t3.small"},
            "ec2_groups": {"gpu": {"instance_type": "g5.xlarge", "min": 0, "max": 2}},
        },
        services={
            "infer": {"image": {"uri": "nginx"}, "capacity": "ec2", "ec2_group": "gpu"},
            "web": {"image": {"uri": "nginx"}, "capacity": "ec2"},
        },
    )
    cluster = build(bp, "cluster")
    res = cluster["Resources"]
    assert res["LaunchTemplateGpu"]["Properties"]["LaunchTemplateData"]["InstanceType"] == (
        "g5.xlarge"
    )
    assert {"LaunchTemplate", "AutoScalingGroupGpu", "Ec2CapacityProviderGpu"} <= set(res)
    association = res["CapacityProviderAssociations"]["Properties"]
    assert {"Ref": "Ec2CapacityProviderGpu"} in association["CapacityProviders"]
    # groups are chosen explicitly, never by the default strategy
    assert all(
        item["CapacityProvider"] != {"Ref": "Ec2CapacityProviderGpu"}
        for item in association["DefaultCapacityProviderStrategy"]
    )
    assert "Ec2CapacityProviderGpu" in cluster["Outputs"]
    assert _strategy(build(bp, "service-infer")) == [
        {"CapacityProvider": imp("cluster", "Ec2CapacityProviderGpu"), "Weight": 1}
    ]
    assert _strategy(build(bp, "service-web")) == [
        {"CapacityProvider": imp("cluster", "Ec2CapacityProvider"), "Weight": 1}
    ]


def test_ec2_group_errors(tmp_path: Path) -> None:
    text = textwrap.dedent(
        """\
        blueprint: shop
        region: eu-west-1
        cluster: {ec2_groups: {gpu: {instance_type: g5.xlarge}}}
        services:
          a: {image: {uri: nginx}, capacity: ec2, ec2_group: gpus}
          b: {image: {uri: nginx}, capacity: ec2}
          c: {image: {uri: nginx}, ec2_group: gpu}
        environments: {dev: {}}
        """
    )
    assert errors_of(tmp_path, text) == [
        "bp.yaml:7:6: services.c: ec2_group chooses EC2 capacity (set capacity: ec2)",
    ]  # the model's error comes first; the semantic checks follow once it is fixed
    text = text.replace("  c: {image: {uri: nginx}, ec2_group: gpu}\n", "")
    assert errors_of(tmp_path, text) == [
        "bp.yaml:5:54: services.a.ec2_group: unknown cluster EC2 group 'gpus' (did you mean "
        "'gpu'?)",
        "bp.yaml:6:38: services.b.capacity: the cluster has no EC2 capacity (add `ec2: "
        "{instance_type: ...}` to `cluster`, or choose one of its ec2_groups (gpu))",
    ]
