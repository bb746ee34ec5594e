"""Data: bucket policies, production databases, secrets in outputs."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from cfngen.checks.base import (
    Hit,
    TemplateView,
    as_bool,
    as_dict,
    as_int,
    check,
    statements,
    strings,
)


def _everyone(principal: Any) -> bool:
    if principal == "*":
        return True
    aws = as_dict(principal).get("AWS")
    return aws == "*" or (isinstance(aws, list) and "*" in aws)


@check(
    "CFG007",
    "Bucket policy allows everyone",
    why="An Allow for Principal '*' opens the bucket to every AWS account and anonymous "
    "callers; grant named principals (a CloudFront distribution, a role) instead.",
    source="https://docs.aws.amazon.com/AmazonS3/latest/userguide/security-best-practices.html",
)
def bucket_policy_public(t: TemplateView) -> Iterator[Hit]:
    for res in t.of_type("AWS::S3::BucketPolicy"):
        for st in statements(res.props.get("PolicyDocument")):
            if _everyone(st.get("Principal")) and st.get("Effect") != "Deny":
                sid = st.get("Sid")
                what = f"statement {sid!r}" if isinstance(sid, str) else "a statement"
                yield res.id, f"{what} allows Principal '*'"


def _denies_plain_http(policy: Any) -> bool:
    for st in statements(policy):
        secure = as_dict(as_dict(st.get("Condition")).get("Bool")).get("aws:SecureTransport")
        if st.get("Effect") == "Deny" and as_bool(secure) is False:
            return True
    return False


@check(
    "CFG008",
    "Bucket without a TLS-only policy",
    why="S3 accepts plain HTTP unless a bucket policy denies requests where "
    "aws:SecureTransport is false.",
    source="https://docs.aws.amazon.com/securityhub/latest/userguide/s3-controls.html#s3-5",
)
def bucket_tls_only(t: TemplateView) -> Iterator[Hit]:
    protected = set()
    for res in t.of_type("AWS::S3::BucketPolicy"):
        bucket = t.target(res.props.get("Bucket"), "AWS::S3::Bucket")
        if bucket is not None and _denies_plain_http(res.props.get("PolicyDocument")):
            protected.add(bucket.id)
    for res in t.of_type("AWS::S3::Bucket"):
        if res.id not in protected:
            yield res.id, "no bucket policy in this template denies aws:SecureTransport false"


@check(
    "CFG009",
    "Production database without backups or deletion protection",
    why="In production a database must survive a mistaken delete and keep 7+ days of "
    "point-in-time backups.",
    source="https://docs.aws.amazon.com/securityhub/latest/userguide/rds-controls.html#rds-8",
)
def rds_production(t: TemplateView) -> Iterator[Hit]:
    if not t.production:
        return
    for res in t.of_type("AWS::RDS::DBInstance", "AWS::RDS::DBCluster"):
        if res.type == "AWS::RDS::DBInstance" and "DBClusterIdentifier" in res.props:
            continue  # the cluster holds backups and protection
        retention = res.props.get("BackupRetentionPeriod", 1)
        days = as_int(retention)
        if days is not None and days < 7:
            yield res.id, f"backups are kept {days} day(s); keep 7 or more in production"
        if as_bool(res.props.get("DeletionProtection")) is not True:
            yield res.id, "DeletionProtection is off"


_SECRET_NAME = re.compile(r"(password|passwd|secret|token|private.?key|credential)", re.I)
_REFERENCE_NAME = re.compile(r"(Arn|ARN|Name|Id|ID|Ref|Path)$")


@check(
    "CFG010",
    "Secret value in Outputs",
    why="Stack outputs are readable by anyone with cloudformation:DescribeStacks and are "
    "copied into exports; output a secret's ARN, never its value.",
    source="https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/"
    "security-best-practices.html#creds",
    section="Outputs",
)
def secret_outputs(t: TemplateView) -> Iterator[Hit]:
    params = as_dict(t.template.get("Parameters"))
    for name, out in t.outputs.items():
        value = out.get("Value")
        text = " ".join(strings(value))
        ref = as_dict(value).get("Ref")
        target = t.target(value)
        if isinstance(ref, str) and as_bool(as_dict(params.get(ref)).get("NoEcho")):
            yield name, f"outputs the NoEcho parameter {ref}"
        elif "{{resolve:secretsmanager" in text or "{{resolve:ssm-secure" in text:
            yield name, "outputs a dynamic reference to a secret"
        elif "SecretString" in text or (
            target is not None
            and target.type == "AWS::IAM::AccessKey"
            and "SecretAccessKey" in text
        ):
            yield name, "outputs a secret value"
        elif _SECRET_NAME.search(name) and not _REFERENCE_NAME.search(name):
            yield name, "the output's name suggests a secret value; output the secret's ARN"
