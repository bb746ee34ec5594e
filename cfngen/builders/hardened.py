"""The hardened defaults several kinds share, written once: S3 buckets, TLS-only policies and
EC2 instance settings (the security baseline every rendered template follows).
"""

from __future__ import annotations

from typing import Any

from awacs.aws import Action, Bool, Condition, Deny, Principal, Statement
from troposphere import Tags, ec2, s3


def bucket_properties(tags: Tags, kms_key_arn: str | None = None) -> dict[str, Any]:
    """A private bucket: encrypted (SSE-S3, or SSE-KMS with an S3 bucket key), all four public
    access blocks, ACLs disabled (bucket owner enforced)."""
    if kms_key_arn:
        default = s3.ServerSideEncryptionByDefault(
            SSEAlgorithm="aws:kms", KMSMasterKeyID=kms_key_arn
        )
    else:
        default = s3.ServerSideEncryptionByDefault(SSEAlgorithm="AES256")
    return {
        "BucketEncryption": s3.BucketEncryption(
            ServerSideEncryptionConfiguration=[
                s3.ServerSideEncryptionRule(
                    ServerSideEncryptionByDefault=default, BucketKeyEnabled=True
                )
            ]
        ),
        "PublicAccessBlockConfiguration": s3.PublicAccessBlockConfiguration(
            BlockPublicAcls=True,
            BlockPublicPolicy=True,
            IgnorePublicAcls=True,
            RestrictPublicBuckets=True,
        ),
        "OwnershipControls": s3.OwnershipControls(
            Rules=[s3.OwnershipControlsRule(ObjectOwnership="BucketOwnerEnforced")]
        ),
        "Tags": tags,
    }


def deny_insecure_transport(service: str, resources: list[Any] | None = None) -> Statement:
    """Deny every request of `service` that does not use TLS (aws:SecureTransport false)."""
    extra: dict[str, Any] = {"Resource": resources} if resources is not None else {}
    return Statement(
        Sid="DenyInsecureTransport",
        Effect=Deny,
        Principal=Principal("*"),
        Action=[Action(service, "*")],
        Condition=Condition(Bool("aws:SecureTransport", "false")),
        **extra,
    )


# --- EC2 instances ----------------------------------------------------------------------------

METADATA_V2_ONLY = {
    "HttpEndpoint": "enabled",
    "HttpTokens": "required",
    "HttpPutResponseHopLimit": 1,
}
"""Instance metadata through IMDSv2 only, one hop (containers cannot reach it)."""


def encrypted_gp3(size_gb: int) -> dict[str, Any]:
    """An EBS root or data volume: gp3, encrypted, deleted with the instance."""
    return {
        "VolumeSize": size_gb,
        "VolumeType": "gp3",
        "Encrypted": True,
        "DeleteOnTermination": True,
    }


def metadata_options() -> ec2.MetadataOptions:
    return ec2.MetadataOptions(**METADATA_V2_ONLY)
