"""The S3 bucket large templates go through: its name, limits and settings, in one place.

CloudFormation accepts at most 51,200 bytes in TemplateBody and 1,000,000 bytes via TemplateURL.
`cfngen deploy` creates the bucket through the API (cfngen.deploy.artifacts); the runbook of a
rendered folder creates the same bucket with the AWS CLI (cfngen.runbook). Both read the
settings here, so a bucket made by hand is the one cfngen would make, and cfngen reuses it.
Nothing here talks to AWS (rendering never loads botocore).
"""

from __future__ import annotations

import json
from typing import Any

MAX_TEMPLATE_BODY = 51_200
MAX_TEMPLATE_URL = 1_000_000
ARTIFACT_EXPIRY_DAYS = 30


def default_bucket_name(account: str, region: str) -> str:
    """One bucket per account and region, like the CDK's bootstrap bucket."""
    return f"cfngen-artifacts-{account}-{region}"


def artifact_prefix(environment_name: str, component: str) -> str:
    """Where a stack's templates go in the bucket: `<EnvironmentName>/<component>`."""
    return f"{environment_name}/{component}"


def bucket_policy_document(bucket: str) -> dict[str, Any]:
    """TLS only: every request over plain HTTP is denied."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ],
    }


def bucket_policy(bucket: str) -> str:
    return json.dumps(bucket_policy_document(bucket))


PUBLIC_ACCESS_BLOCK: dict[str, bool] = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": True,
    "RestrictPublicBuckets": True,
}

ENCRYPTION: dict[str, Any] = {
    "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
}

LIFECYCLE: dict[str, Any] = {
    "Rules": [
        {
            "ID": "expire-old-templates",
            "Status": "Enabled",
            "Filter": {"Prefix": ""},
            "Expiration": {"Days": ARTIFACT_EXPIRY_DAYS},
            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
        }
    ]
}
