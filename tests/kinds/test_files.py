"""Configuration files: written by cfngen's init container into read-only volumes before the
task's other containers start, from text, composed values, SSM parameters or secrets."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

from tests.helpers import errors_of
from tests.kinds.helpers import blueprint, build, imp

FILES = {
    "/etc/app/app.toml": {
        "content": {
            "format": 'bucket = "${b}"\n',
            "values": {"b": {"from": "results", "attribute": "name"}},
        }
    },
    "/etc/app/extra.toml": {"secret": "ssm:/shop/extra"},
    "/srv/keys/key.pem": {
        "secret": "secretsmanager:shop/key#pem",
        "mode": "0400",
        "owner": "10001",
    },
}


def _task(res: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    props = res["TaskDefinition"]["Properties"]
    return props, {c["Name"]: c for c in props["ContainerDefinitions"]}


def test_files_are_written_before_the_main_container_starts() -> None:
    bp = blueprint(
        buckets={"results": {}},
        services={"api": {"image": {"uri": "nginx"}, "port": 80, "files": FILES}},
    )
    res = build(bp, "service-api")["Resources"]
    props, defs = _task(res)
    api, writer = defs["api"], defs["cfngen-files"]
    assert props["Volumes"] == [{"Name": "cfngen-files-1"}, {"Name": "cfngen-files-2"}]
    assert api["MountPoints"] == [
        {"ContainerPath": "/etc/app", "ReadOnly": True, "SourceVolume": "cfngen-files-1"},
        {"ContainerPath": "/srv/keys", "ReadOnly": True, "SourceVolume": "cfngen-files-2"},
    ]
    assert api["DependsOn"] == [{"Condition": "SUCCESS", "ContainerName": "cfngen-files"}]
    assert writer["Essential"] is False and writer["ReadonlyRootFilesystem"] is True
    script = writer["Command"][2]
    assert script.startswith("set -e; ")
    assert "printf '%s' \"$CFNGEN_FILE_1\" > '/cfngen-files-1/app.toml'" in script
    assert "chmod 0400 '/cfngen-files-2/key.pem'; chown 10001 '/cfngen-files-2/key.pem'" in script
    env = {e["Name"]: e["Value"] for e in writer["Environment"]}
    assert env["CFNGEN_FILE_1"] == {
        "Fn::Sub": ['bucket = "${b}"\n', {"b": imp("bucket-results", "BucketName")}]
    }
    secrets = {e["Name"]: e["ValueFrom"] for e in writer["Secrets"]}
    assert set(secrets) == {"CFNGEN_FILE_2", "CFNGEN_FILE_3"}
    # the execution role reads the files' secrets like any other
    policy = str(res["ExecutionRole"]["Properties"])
    assert "parameter/shop/extra" in policy and "secret:shop/key-??????" in policy


def test_file_errors(tmp_path: Path) -> None:
    text = textwrap.dedent(
        """\
        blueprint: shop
        region: eu-west-1
        services:
          api:
            image: {uri: nginx}
            volumes: [{scratch: cfngen-files-9, path: /etc/app/sub}]
            files:
              /etc/app.toml: {content: x}
              /etc/app/a.toml: {content: x, secret: "ssm:/x"}
              /etc/app/b.toml: {content: {format: "${v}", values: {v: {from: nope, attribute: x}}}}
              /srv/../x/c.toml: {content: x}
            containers:
              cfngen-helper: {image: {uri: busybox}}
        environments: {dev: {}}
        """
    )
    errors = errors_of(tmp_path, text)
    assert errors[0].startswith("bp.yaml:8:7: services.api.files./etc/app.toml: '/etc' would be")
    assert errors[1].startswith("bp.yaml:9:24: services.api.files./etc/app/a.toml: a file needs")
    assert errors[2].startswith("bp.yaml:11:7: services.api.files./srv/../x/c.toml: invalid file")
    assert len(errors) == 3
    text = (
        text.replace("  /etc/app.toml: {content: x}\n", "")
        .replace('      /etc/app/a.toml: {content: x, secret: "ssm:/x"}\n', "")
        .replace("      /srv/../x/c.toml: {content: x}\n", "")
    )
    assert errors_of(tmp_path, text) == [
        "bp.yaml:6:25: services.api.volumes[0].scratch: scratch volume names starting with "
        "cfngen- are cfngen's own (name the volume differently)",
        "bp.yaml:6:47: services.api.volumes[0].path: /etc/app/sub overlaps /etc/app, where "
        "`files` mounts its volume (put the files or the volume in another directory)",
        "bp.yaml:8:74: services.api.files./etc/app/b.toml.content.values.v.from: unknown "
        "component with attributes 'nope' (declare the component with attributes first)",
        "bp.yaml:10:7: services.api.containers.cfngen-helper: container names starting with "
        "cfngen- are cfngen's own (`files` adds one) (name the container differently)",
    ]
