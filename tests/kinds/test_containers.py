"""Extra containers of a task (sidecars, init containers), the options every container has, and
scratch volumes, built from typed specs."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

from tests.helpers import errors_of
from tests.kinds.helpers import blueprint, build

SERVICE: dict[str, Any] = {
    "image": {"uri": "ghcr.io/acme/api", "tag": "v1"},
    "port": 8080,
    "user": "1000:1000",
    "ulimits": {"nofile": {"soft": 65536, "hard": 65536}},
    "init_process": True,
    "stop_timeout": 30,
    "docker_labels": {"team": "shop"},
    "wait_for": {"proxy": "HEALTHY"},
    "volumes": [{"scratch": "config", "path": "/etc/app", "read_only": True}],
    "containers": {
        "render-config": {
            "image": {"uri": "public.ecr.aws/docker/library/busybox", "tag": "1.36"},
            "init": True,
            "command": ["sh", "-c", "echo hi > /config/app.toml"],
            "mounts": [{"scratch": "config", "path": "/config"}],
        },
        "proxy": {
            "image": {"uri": "public.ecr.aws/nginx/nginx", "tag": "1.27"},
            "ports": [{"container": 80}],
            "health_check": {"command": "curl -f http://localhost/ || exit 1"},
            "memory": 64,
            "writable_root": "nginx writes its pid and cache under /var",
        },
    },
    "routes": [{"load_balancer": "web", "container": "proxy"}],
    "ephemeral_storage_gb": 30,
}
LBS = {"web": {"type": "application", "plain_http_reason": "internal tools behind a VPN"}}


def _defs(res: dict[str, Any]) -> dict[str, Any]:
    return {c["Name"]: c for c in res["TaskDefinition"]["Properties"]["ContainerDefinitions"]}


def test_main_container_options_and_its_waits() -> None:
    res = build(blueprint(load_balancers=LBS, services={"api": SERVICE}), "service-api")
    api = _defs(res["Resources"])["api"]
    assert api["DependsOn"] == [
        {"Condition": "SUCCESS", "ContainerName": "render-config"},
        {"Condition": "HEALTHY", "ContainerName": "proxy"},
    ]
    assert api["User"] == "1000:1000"
    assert api["Ulimits"] == [{"HardLimit": 65536, "Name": "nofile", "SoftLimit": 65536}]
    assert api["LinuxParameters"] == {"InitProcessEnabled": True}
    assert (api["StopTimeout"], api["DockerLabels"]) == (30, {"team": "shop"})
    assert api["MountPoints"] == [
        {"ContainerPath": "/etc/app", "ReadOnly": True, "SourceVolume": "config"}
    ]


def test_sidecars_init_containers_and_scratch_volumes() -> None:
    res = build(blueprint(load_balancers=LBS, services={"api": SERVICE}), "service-api")
    props = res["Resources"]["TaskDefinition"]["Properties"]
    defs = _defs(res["Resources"])
    init, proxy = defs["render-config"], defs["proxy"]
    assert init["Essential"] is False and proxy["Essential"] is True
    # init containers run before every other container, sidecars included
    assert proxy["DependsOn"] == [{"Condition": "SUCCESS", "ContainerName": "render-config"}]
    assert "DependsOn" not in init
    assert init["Image"] == "public.ecr.aws/docker/library/busybox:1.36"  # a fixed tag
    assert init["MountPoints"][0]["SourceVolume"] == "config"
    assert proxy["MemoryReservation"] == 64 and proxy["ReadonlyRootFilesystem"] is False
    assert proxy["LogConfiguration"]["Options"]["awslogs-stream-prefix"] == "proxy"
    assert props["Volumes"] == [{"Name": "config"}]
    assert props["EphemeralStorage"] == {"SizeInGiB": 30}
    waiver = res["Resources"]["TaskDefinition"]["Metadata"]["checkov"]["skip"][0]
    assert waiver["comment"].startswith("writable root filesystem: proxy: nginx writes")


def test_a_route_to_a_sidecar_sends_traffic_to_that_container() -> None:
    res = build(blueprint(load_balancers=LBS, services={"api": SERVICE}), "service-api")
    (lb,) = res["Resources"]["Service"]["Properties"]["LoadBalancers"]
    assert (lb["ContainerName"], lb["ContainerPort"]) == ("proxy", 80)


def test_containers_that_do_not_fit_together(tmp_path: Path) -> None:
    text = textwrap.dedent(
        """\
        blueprint: shop
        region: eu-west-1
        services:
          api:
            image: {uri: nginx}
            port: 8080
            cpu: 256
            memory: 512
            wait_for: {proxy: HEALTHY, ghost: START, init-x: COMPLETE}
            containers:
              api: {image: {uri: x}}
              proxy: {image: {uri: nginx}, ports: [{container: 8080}], cpu: 300}
              init-x: {image: {uri: busybox}, init: true, essential: true}
              other: {image: {uri: busybox}, memory: 600}
        environments: {dev: {}}
        """
    )
    assert errors_of(tmp_path, text) == [
        "bp.yaml:7:10: services.api.cpu: the containers reserve 300 CPU units; the task has 256 "
        "(raise cpu, or lower the containers' cpu)",
        "bp.yaml:8:13: services.api.memory: the extra containers reserve 600 MiB; the task has "
        "512 (raise memory, or lower the containers' memory)",
        "bp.yaml:9:23: services.api.wait_for.proxy: container proxy has no health check, so it "
        "never becomes HEALTHY (give proxy a health_check, or wait for START)",
        "bp.yaml:9:39: services.api.wait_for.ghost: unknown container 'ghost' (known "
        "containers: init-x, other, proxy)",
        "bp.yaml:9:54: services.api.wait_for.init-x: container init-x is essential: when it "
        "exits the task stops, so nothing waits for it to complete (set essential: false (or "
        "init: true) on init-x)",
        "bp.yaml:11:7: services.api.containers.api: the main container is named 'api' already "
        "(name the extra container differently)",
        "bp.yaml:12:56: services.api.containers.proxy.ports[0].container: port 8080 is also "
        "container api's (the task's containers share one network namespace) (give each "
        "container its own ports)",
        "bp.yaml:13:62: services.api.containers.init-x.essential: an init container exits when "
        "it is done; as essential it would stop the task (remove `essential: true`)",
    ]


def test_composed_values_and_existing_exports_in_the_environment() -> None:
    bp = blueprint(
        load_balancers=LBS,
        services={
            "api": {
                "image": {"uri": "nginx"},
                "port": 80,
                "environment": {
                    "PRODUCTS_URL": {
                        "format": "http://${lb}/products?region=${AWS::Region}",
                        "values": {"lb": {"from": "web", "attribute": "dns_name"}},
                    },
                    "SHARED_VPC": {"import": "network-shared-VpcId"},
                },
            }
        },
    )
    env = _defs(build(bp, "service-api")["Resources"])["api"]["Environment"]
    assert env == [
        {
            "Name": "PRODUCTS_URL",
            "Value": {
                "Fn::Sub": [
                    "http://${lb}/products?region=${AWS::Region}",
                    {"lb": {"Fn::ImportValue": {"Fn::Sub": "${EnvironmentName}-lb-web-DnsName"}}},
                ]
            },
        },
        {"Name": "SHARED_VPC", "Value": {"Fn::ImportValue": "network-shared-VpcId"}},
    ]
    from tests.kinds.helpers import plans

    assert "lb-web" in plans(bp)["service-api"].depends_on


def test_composed_value_errors_name_only_the_kind_written(tmp_path: Path) -> None:
    text = textwrap.dedent(
        """\
        blueprint: shop
        region: eu-west-1
        services:
          api:
            image: {uri: nginx}
            environment:
              A: {format: "x ${nope}", values: {}}
              B: {from: web}
        environments: {dev: {}}
        """
    )
    assert errors_of(tmp_path, text) == [
        "bp.yaml:7:10: services.api.environment.A: ${nope} is not one of the values (add "
        "`nope:` to `values`, or write ${!nope} for the text)",
        "bp.yaml:8:10: services.api.environment.B.attribute: required field is missing (add "
        "`attribute:` here)",
    ]
