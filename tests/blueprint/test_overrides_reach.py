"""Overrides that reach everything: resource attributes, conditions, containers merged by name,
extra outputs; errors at the override's own lines."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from cfngen.compiler import Inputs, compile_environment, validate_blueprint
from cfngen.errors import BlueprintError
from cfngen.overrides import merge_named
from cfngen.render import load_template
from tests.helpers import write

BLUEPRINT = """\
blueprint: shop
region: eu-west-1
services:
  api:
    image: {uri: nginx}
    port: 80
    environment: {MODE: prod, LEVEL: info}
    containers:
      proxy: {image: {uri: envoyproxy/envoy, tag: v1.31.0}, memory: 64}
environments: {dev: {}}
"""


def _template(tmp_path: Path, overrides: str) -> dict[str, Any]:
    path = write(tmp_path, BLUEPRINT + textwrap.dedent(overrides))
    compiled = compile_environment(path, "dev")
    (stack,) = [s for s in compiled.stacks if s.component == "service-api"]
    return load_template(stack.body)


def _errors(tmp_path: Path, overrides: str) -> list[str]:
    path = write(tmp_path, BLUEPRINT + textwrap.dedent(overrides))
    with pytest.raises(BlueprintError) as exc:
        validate_blueprint(Inputs(path))
    return [
        line.replace(str(path), "bp.yaml")
        for line in exc.value.render().splitlines()
        if not line.endswith(" errors")
    ]


def test_attributes_conditions_and_containers_merge(tmp_path: Path) -> None:
    template = _template(
        tmp_path,
        """\
        overrides:
          service-api:
            conditions:
              IsProd: {Fn::Equals: [{Ref: EnvironmentName}, shop-prod]}
            resources:
              Marker: {Type: AWS::SSM::Parameter, Properties: {Type: String, Value: x}}
              Flag: {Type: AWS::SSM::Parameter, Properties: {Type: String, Value: y}}
            attributes:
              Marker: {Condition: IsProd, DeletionPolicy: Retain, UpdateReplacePolicy: Retain}
              Service: {DependsOn: [Flag], Metadata: {team: {owner: payments}}}
            containers:
              api:
                Environment: [{Name: LEVEL, Value: debug}, {Name: EXTRA, Value: "1"}]
                StopTimeout: 30
              proxy:
                Ulimits: [{Name: nofile, SoftLimit: 4096, HardLimit: 4096}]
        """,
    )
    res = template["Resources"]
    assert template["Conditions"]["IsProd"] == {
        "Fn::Equals": [{"Ref": "EnvironmentName"}, "shop-prod"]
    }
    marker = res["Marker"]
    assert (marker["Condition"], marker["DeletionPolicy"]) == ("IsProd", "Retain")
    assert "Flag" in res["Service"]["DependsOn"]
    assert res["Service"]["Metadata"]["team"] == {"owner": "payments"}
    containers = {c["Name"]: c for c in res["TaskDefinition"]["Properties"]["ContainerDefinitions"]}
    env = {e["Name"]: e["Value"] for e in containers["api"]["Environment"]}
    assert env == {"MODE": "prod", "LEVEL": "debug", "EXTRA": "1"}  # merged by Name
    assert containers["api"]["StopTimeout"] == 30
    assert containers["proxy"]["Ulimits"] == [
        {"Name": "nofile", "SoftLimit": 4096, "HardLimit": 4096}
    ]
    assert containers["proxy"]["Image"]  # the rest of the container is kept


def test_override_errors_are_positioned(tmp_path: Path) -> None:
    errors = _errors(
        tmp_path,
        """\
        overrides:
          service-api:
            attributes:
              Servce: {DeletionPolicy: Retain}
              Service: {DependsOn: [Nothing], Condition: Missing}
            containers:
              apj: {StopTimeout: 30}
              proxy: {Name: other}
        """,
    )
    assert errors == [
        "bp.yaml:14:7: overrides.service-api.attributes.Servce: stack service-api has no "
        "resource 'Servce' (did you mean 'Service'?)",
        "bp.yaml:15:29: overrides.service-api.attributes.Service.DependsOn[0]: 'Nothing' is "
        "not another resource of stack service-api (name a resource the stack renders or the "
        "override adds)",
        "bp.yaml:15:39: overrides.service-api.attributes.Service.Condition: stack service-api "
        "has no condition 'Missing' (add it under `overrides.service-api.conditions`)",
        "bp.yaml:17:7: overrides.service-api.containers.apj: the task definition of stack "
        "service-api has no container 'apj' (did you mean 'api'?)",
        "bp.yaml:18:15: overrides.service-api.containers.proxy.Name: an override cannot rename "
        "a container (other settings refer to its name) (rename it in the blueprint)",
    ]


def test_cloudformation_errors_inside_containers_and_attributes_point_at_the_override(
    tmp_path: Path,
) -> None:
    errors = _errors(
        tmp_path,
        """\
        overrides:
          service-api:
            containers:
              api: {StopTimeout: soon}
            attributes:
              Service: {UpdatePolicy: {AutoScalingRollingUpdate: {MaxBatchSize: many}}}
        """,
    )
    where = [e.split(": CloudFormation")[0] for e in errors]
    assert where == [
        "bp.yaml:14:26: overrides.service-api.containers.api.StopTimeout",
        "bp.yaml:16:31: overrides.service-api.attributes.Service.UpdatePolicy",
    ]


def test_merge_named_merges_named_lists_and_replaces_others() -> None:
    base = {"Environment": [{"Name": "A", "Value": "1"}], "Command": ["a"], "Memory": 5}
    overlay = {
        "Environment": [{"Name": "A", "Value": "2"}, {"Name": "B", "Value": "3"}],
        "Command": ["b"],
    }
    assert merge_named(base, overlay) == {
        "Environment": [{"Name": "A", "Value": "2"}, {"Name": "B", "Value": "3"}],
        "Command": ["b"],
        "Memory": 5,
    }


def test_a_value_from_an_output_an_override_adds(tmp_path: Path) -> None:
    text = textwrap.dedent(
        """\
        blueprint: shop
        region: eu-west-1
        buckets: {media: {}}
        services:
          api:
            image: {uri: nginx}
            environment:
              EXTRA: {import: "${EnvironmentName}-bucket-media-ExtraName"}
              LINK:
                format: "s3://${b}"
                values: {b: {import: "${EnvironmentName}-bucket-media-ExtraName"}}
        overrides:
          bucket-media:
            resources:
              Extra: {Type: AWS::SSM::Parameter, Properties: {Type: String, Value: x}}
            outputs:
              ExtraName:
                Value: {Ref: Extra}
                Export: {Name: {"Fn::Sub": "${EnvironmentName}-bucket-media-ExtraName"}}
        environments: {dev: {}}
        """
    )
    compiled = compile_environment(write(tmp_path, text), "dev")
    api = next(s for s in compiled.stacks if s.component == "service-api")
    assert "bucket-media" in api.depends_on  # deployed after the stack that exports it
    env = {
        e["Name"]: e["Value"]
        for e in load_template(api.body)["Resources"]["TaskDefinition"]["Properties"][
            "ContainerDefinitions"
        ][0]["Environment"]
    }
    assert env["EXTRA"] == {
        "Fn::ImportValue": {"Fn::Sub": "${EnvironmentName}-bucket-media-ExtraName"}
    }
