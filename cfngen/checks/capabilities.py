"""Instance capabilities: settings an EC2 instance type cannot launch with.

A template check (it needs no other stack), kept with the environment checks because the
verifier found the defect: `EbsOptimized: true` on a type without EBS optimization (t2.micro)
and an AMI of the other architecture (x86_64 on Graviton) both fail the launch, which
CloudFormation only reports when the Auto Scaling group or instance is created.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from cfngen.blueprint.instance_types import (
    ami_parameter_architecture,
    architecture,
    supports_ebs_optimized,
)
from cfngen.checks.base import Hit, TemplateView, as_bool, as_dict, check


def _launches(t: TemplateView) -> Iterator[tuple[str, dict[str, Any]]]:
    for res in t.of_type("AWS::EC2::LaunchTemplate"):
        yield res.id, as_dict(res.props.get("LaunchTemplateData"))
    for res in t.of_type("AWS::EC2::Instance"):
        yield res.id, res.props


def _ami_parameter(t: TemplateView, image: Any) -> str | None:
    """The public SSM parameter an `ImageId: !Ref Param` resolves through, if any."""
    name = as_dict(image).get("Ref")
    param = as_dict(as_dict(t.template.get("Parameters")).get(str(name))) if name else {}
    default = param.get("Default")
    if "AWS::SSM::Parameter::Value" in str(param.get("Type", "")) and isinstance(default, str):
        return default if default.startswith("/aws/service/") else None
    return None


@check(
    "CFG032",
    "Instance type cannot launch with these settings",
    why="EC2 rejects EbsOptimized on instance types without EBS optimization (T2, the small "
    "previous-generation sizes) and an AMI built for the other architecture (x86_64 on "
    "Graviton, arm64 elsewhere): the Auto Scaling group or instance fails to launch.",
    source="https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/ebs-optimized.html",
)
def instance_capabilities(t: TemplateView) -> Iterator[Hit]:
    for name, data in _launches(t):
        kind = data.get("InstanceType")
        if not isinstance(kind, str) or "." not in kind:
            continue
        if as_bool(data.get("EbsOptimized")) and not supports_ebs_optimized(kind):
            yield name, f"{kind} does not support EBS optimization but EbsOptimized is true"
        parameter = _ami_parameter(t, data.get("ImageId"))
        if parameter and ami_parameter_architecture(parameter) != architecture(kind):
            yield (
                name,
                (
                    f"{kind} runs {architecture(kind)} AMIs; the image parameter {parameter} is "
                    f"{ami_parameter_architecture(parameter)}"
                ),
            )
