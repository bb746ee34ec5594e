"""A role's own permissions: statements with typed resources, managed policies, a boundary."""

from __future__ import annotations

import textwrap
from pathlib import Path

from tests.helpers import errors_of
from tests.kinds.helpers import blueprint, build, imp, plans

PERMISSIONS = {
    "statements": [
        {
            "actions": ["ses:SendEmail"],
            "resources": [
                "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/example.com"
            ],
        },
        {
            "actions": ["s3:GetObjectVersion"],
            "resources": [{"from": "uploads", "attribute": "arn"}],
            "conditions": {"StringEquals": {"aws:RequestedRegion": "eu-west-1"}},
        },
    ],
    "managed_policies": ["aws:AmazonSSMReadOnlyAccess"],
    "boundary": "arn:aws:iam::123456789012:policy/boundary",
}


def test_task_role_gets_the_statements_policies_and_boundary() -> None:
    bp = blueprint(
        buckets={"uploads": {}},
        services={"api": {"image": {"uri": "nginx"}, "permissions": PERMISSIONS}},
    )
    role = build(bp, "service-api")["Resources"]["TaskRole"]["Properties"]
    assert role["ManagedPolicyArns"] == [
        {"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/AmazonSSMReadOnlyAccess"}
    ]
    assert role["PermissionsBoundary"] == "arn:aws:iam::123456789012:policy/boundary"
    (policy,) = role["Policies"]
    assert policy["PolicyName"] == "blueprint"
    second = policy["PolicyDocument"]["Statement"][1]
    assert second["Resource"] == [imp("bucket-uploads", "BucketArn")]
    assert second["Condition"] == {"StringEquals": {"aws:RequestedRegion": "eu-west-1"}}
    assert "bucket-uploads" in plans(bp)["service-api"].depends_on


def test_bad_statements_are_positioned_errors(tmp_path: Path) -> None:
    text = textwrap.dedent(
        """\
        blueprint: shop
        region: eu-west-1
        services:
          api:
            image: {uri: nginx}
            permissions:
              statements:
                - {actions: [SendEmail], resources: ["*"]}
                - {actions: [s3:GetObject], resources: [bucket/x]}
                - {actions: [s3:GetObject], resources: ["*"], conditions: {StringEqual: {a: b}}}
        environments: {dev: {}}
        """
    )
    assert errors_of(tmp_path, text) == [
        "bp.yaml:8:21: services.api.permissions.statements[0].actions: 'SendEmail' is not an "
        "IAM action (write service:Action, e.g. s3:GetObject)",
        "bp.yaml:9:48: services.api.permissions.statements[1].resources: 'bucket/x' is not an "
        "ARN (write arn:${AWS::Partition}:service:...)",
        "bp.yaml:10:67: services.api.permissions.statements[2].conditions: 'StringEqual' is not "
        "an IAM condition operator (e.g. StringEquals, StringLike, ArnLike, Bool, IpAddress, "
        "Null)",
    ]


def test_a_typed_resource_must_name_a_component_with_that_attribute(tmp_path: Path) -> None:
    text = textwrap.dedent(
        """\
        blueprint: shop
        region: eu-west-1
        buckets: {uploads: {}}
        services:
          api:
            image: {uri: nginx}
            permissions:
              statements:
                - {actions: [s3:GetObject], resources: [{from: uploads, attribute: arm}]}
        environments: {dev: {}}
        """
    )
    assert errors_of(tmp_path, text) == [
        "bp.yaml:9:76: services.api.permissions.statements[0].resources[0].attribute: "
        "'uploads' has no attribute 'arm' (did you mean 'arn'?)"
    ]
