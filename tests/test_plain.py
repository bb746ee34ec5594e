"""cfngen.plain encodes a template exactly as troposphere's `Template.to_dict` does."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from troposphere import Equals, GetAtt, Output, Parameter, Ref, Sub, Tags, Template
from troposphere.autoscaling import Tags as AutoScalingTags
from troposphere.cloudformation import Init, InitConfig, Metadata
from troposphere.ec2 import SecurityGroup, SecurityGroupRule
from troposphere.iam import Policy, Role
from troposphere.s3 import Bucket

import cfngen.compiler
import cfngen.plain
from cfngen.compiler import Inputs, compile_environment, validate_blueprint
from cfngen.plain import template_data
from tests.reference import ROOT, case_id, reference_cases

EXAMPLES = [(p, "") for p in sorted((ROOT / "examples").glob("*.yaml"))]


def _ordered(value: Any) -> str:
    return json.dumps(value)  # keeps key order: the YAML is written in this order


@pytest.mark.slow
@pytest.mark.parametrize("case", reference_cases() + EXAMPLES, ids=case_id)
def test_every_rendered_template_encodes_as_troposphere_does(
    case: tuple[Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[str, str]] = []

    def recording(template: Template) -> dict[str, Any]:
        data = template_data(template)  # compared before the compiler stamps and waives it
        seen.append((_ordered(data), _ordered(template.to_dict())))
        return data

    monkeypatch.setattr(cfngen.compiler, "template_data", recording)
    path, env = case
    if env:
        compile_environment(path, env)
    else:  # an example: every environment it has
        for prep in validate_blueprint(Inputs(path)):
            compile_environment(path, prep.env)
    assert seen
    for ours, troposphere in seen:
        assert ours == troposphere


def test_objects_with_their_own_encoding() -> None:
    """Tags, awacs-style JSONrepr, cfn-init metadata, resources without properties, outputs
    and parameters: each the way troposphere writes it."""
    t = Template(Description="d")
    t.set_metadata({"cfngen": {"k": ("a", "b")}})
    t.set_transform("AWS::LanguageExtensions")  # every section, in troposphere's order
    t.add_mapping("M", {"a": {"b": "c"}})
    t.add_condition("IsDev", Equals(Ref("Env"), "dev"))
    t.add_rule("R", {"Assertions": [{"Assert": Equals(Ref("Env"), "dev")}]})
    p = t.add_parameter(Parameter("Env", Type="String", Default="dev"))
    bucket = t.add_resource(
        Bucket("B", Tags=Tags(b="2", a=Sub("${Env}-x")) + Tags(c=Ref(p)), DependsOn=["G"])
    )
    t.add_resource(
        SecurityGroup(
            "G",
            GroupDescription="g",
            SecurityGroupIngress=[SecurityGroupRule(IpProtocol="tcp", FromPort=1, ToPort=2)],
            Metadata=Metadata(Init({"config": InitConfig(commands={"a": {"command": "x"}})})),
        )
    )
    t.add_resource(Role("Empty", AssumeRolePolicyDocument={}).no_validation())
    t.resources["Empty"].properties.clear()  # a resource with no properties at all
    t.add_resource(
        Role(
            "R",
            AssumeRolePolicyDocument={"Statement": [_JsonRepr({"Effect": "Allow"})]},
            Policies=[Policy(PolicyName="p", PolicyDocument={"Version": ("2012-10-17",)})],
        )
    )
    t.add_output(Output("Arn", Value=GetAtt(bucket, "Arn")))
    data = template_data(t)
    assert _ordered(data) == _ordered(t.to_dict())
    assert len(data) == 9  # all but Globals (a serverless template's)
    assert data["Resources"]["B"]["Properties"]["Tags"][0] == {
        "Key": "a",
        "Value": {"Fn::Sub": "${Env}-x"},
    }
    assert data["Metadata"] == {"cfngen": {"k": ["a", "b"]}}
    assert _ordered(cfngen.plain.plain(AutoScalingTags(k="v"))) == _ordered(
        AutoScalingTags(k="v").to_dict()
    )


def test_validation_runs_as_in_troposphere() -> None:
    t = Template()
    t.add_resource(SecurityGroup("G"))  # GroupDescription is required
    with pytest.raises(ValueError, match="GroupDescription required"):
        t.to_dict()
    with pytest.raises(ValueError, match="GroupDescription required"):
        template_data(t)


class _JsonRepr:
    """An awacs-style object: encoded through JSONrepr."""

    def __init__(self, value: dict[str, Any]) -> None:
        self.value = value

    def JSONrepr(self) -> dict[str, Any]:
        return self.value
