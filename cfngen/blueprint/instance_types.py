"""What an EC2 instance type supports, for settings a launch would otherwise reject.

EBS optimization, from "Amazon EBS-optimized instance types" in the Amazon EC2 User Guide
(https://docs.aws.amazon.com/ec2/latest/instancetypes/ec2-nitro-instances.html lists the current
generation, https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/ebs-optimized.html the rest):
current-generation types are EBS-optimized by default (asking for it is accepted); of the
previous generation only the sizes listed under "Supported" accept it, and T1, T2 and the small
sizes of the older families do not, so `EbsOptimized: true` fails the launch
("The specified instance type does not support EBS optimization", e.g. t2.micro).

Architecture, from AWS's naming convention
(https://docs.aws.amazon.com/ec2/latest/instancetypes/instance-type-names.html): a `g` among the
attribute letters after the generation number is AWS Graviton (arm64): t4g, m7g, c7gn, r8gd.
A few families name a GPU or other feature with g before the number (g4dn, g5) and are x86_64.
"""

from __future__ import annotations

import re

# previous-generation families, and the sizes of them that accept EBS optimization
_PREVIOUS = ("c1", "c3", "cc2", "cg1", "cr1", "g2", "hi1", "hs1", "i2", "m1", "m2", "m3", "r3")
_OPTIONAL = frozenset(
    {
        "c1.xlarge",
        "c3.xlarge",
        "c3.2xlarge",
        "c3.4xlarge",
        "g2.2xlarge",
        "i2.xlarge",
        "i2.2xlarge",
        "i2.4xlarge",
        "m1.large",
        "m1.xlarge",
        "m2.2xlarge",
        "m2.4xlarge",
        "m3.xlarge",
        "m3.2xlarge",
        "r3.xlarge",
        "r3.2xlarge",
        "r3.4xlarge",
    }
)
_NEVER = ("t1", "t2")
_GRAVITON = re.compile(r"^[a-z]+\d+[a-z]*g[a-z]*\.")
_ARM64_PARAMETER = re.compile(r"arm64", re.I)


def family(instance_type: str) -> str:
    return instance_type.split(".", 1)[0]


def supports_ebs_optimized(instance_type: str) -> bool:
    """Whether a launch of `instance_type` accepts `EbsOptimized: true`."""
    fam = family(instance_type)
    if fam in _NEVER:
        return False
    if fam in _PREVIOUS:
        return instance_type in _OPTIONAL
    return True


def architecture(instance_type: str) -> str:
    """arm64 for AWS Graviton types, else x86_64."""
    return "arm64" if _GRAVITON.match(instance_type) else "x86_64"


def ami_parameter_architecture(parameter: str) -> str:
    """The architecture of AWS's public AMI parameters: theirs name arm64 in the path."""
    return "arm64" if _ARM64_PARAMETER.search(parameter) else "x86_64"
