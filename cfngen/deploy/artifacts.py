"""Templates too large to inline go through an S3 artifact bucket that cfngen creates on demand.

CloudFormation accepts at most 51,200 bytes in TemplateBody and 1,000,000 bytes via TemplateURL.
The size check runs for every stack before the first API call, so a deploy never stops half-way
because stack seven was too big. The bucket is private, encrypted, TLS-only, owner-enforced and
expires old templates: it holds nothing but copies of templates already in out/.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from cfngen.artifact_bucket import (
    ARTIFACT_EXPIRY_DAYS,
    ENCRYPTION,
    LIFECYCLE,
    MAX_TEMPLATE_BODY,
    MAX_TEMPLATE_URL,
    PUBLIC_ACCESS_BLOCK,
    artifact_prefix,
    bucket_policy,
    default_bucket_name,
)
from cfngen.deploy.aws import aws_failure, error_code
from cfngen.errors import UsageError
from cfngen.render import RenderedEnvironment, RenderedStack

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

__all__ = [
    "ARTIFACT_EXPIRY_DAYS",
    "MAX_TEMPLATE_BODY",
    "MAX_TEMPLATE_URL",
    "ArtifactStore",
    "bucket_policy",
    "check_sizes",
    "default_bucket_name",
    "template_size",
]


def template_size(stack: RenderedStack) -> int:
    return len(stack.body.encode("utf-8"))


def check_sizes(env: RenderedEnvironment) -> None:
    """Refuse (exit 2) before any API call when a template exceeds CloudFormation's 1 MB limit."""
    too_big = [
        f"{s.name} ({template_size(s):,} bytes)"
        for s in env.stacks
        if template_size(s) > MAX_TEMPLATE_URL
    ]
    if too_big:
        raise UsageError(
            "templates over CloudFormation's 1,000,000-byte limit: "
            + ", ".join(too_big)
            + "; split the component into smaller stacks"
        )


class ArtifactStore:
    """Uploads large templates; creates and hardens the bucket the first time it is needed."""

    def __init__(self, s3: S3Client, region: str, bucket: str | Callable[[], str]) -> None:
        self._s3 = s3
        self._region = region
        self._bucket = bucket  # a callable defers the STS call until a large template appears
        self._ready = False
        self._lock = threading.Lock()

    @property
    def bucket(self) -> str:
        if callable(self._bucket):
            self._bucket = self._bucket()
        return self._bucket

    def template_argument(self, env_name: str, stack: RenderedStack) -> dict[str, str]:
        """TemplateBody for small templates, TemplateURL (after an upload) for large ones."""
        size = template_size(stack)
        if size <= MAX_TEMPLATE_BODY:
            return {"TemplateBody": stack.body}
        if size > MAX_TEMPLATE_URL:  # check_sizes normally caught this already
            raise UsageError(f"{stack.name}: template is {size:,} bytes, over 1,000,000")
        self.ensure_bucket()
        digest = hashlib.sha256(stack.body.encode("utf-8")).hexdigest()[:16]
        key = f"{artifact_prefix(env_name, stack.component)}/{digest}.yaml"
        try:
            self._s3.put_object(
                Bucket=self.bucket,
                Key=key,
                Body=stack.body.encode("utf-8"),
                ContentType="application/x-yaml",
                ServerSideEncryption="AES256",
            )
        except ClientError as err:
            raise aws_failure(f"{stack.name}: uploading the template failed", err) from err
        endpoint = self._s3.meta.endpoint_url.rstrip("/")
        return {"TemplateURL": f"{endpoint}/{self.bucket}/{key}"}

    def ensure_bucket(self) -> None:
        with self._lock:
            if self._ready:
                return
            bucket = self.bucket
            try:
                self._s3.head_bucket(Bucket=bucket)
            except ClientError as err:
                if error_code(err) not in ("404", "NoSuchBucket", "NotFound"):
                    raise aws_failure(f"artifact bucket {bucket}", err) from err
                self._create_bucket()
            self._ready = True

    def _create_bucket(self) -> None:
        # the settings are plain dicts (cfngen.artifact_bucket), shared with the runbook's
        # `aws s3api` commands; boto3's stubs want their TypedDicts, hence the ignores
        s3, bucket = self._s3, self.bucket
        try:
            if self._region == "us-east-1":
                s3.create_bucket(Bucket=bucket, ObjectOwnership="BucketOwnerEnforced")
            else:
                s3.create_bucket(
                    Bucket=bucket,
                    ObjectOwnership="BucketOwnerEnforced",
                    CreateBucketConfiguration={"LocationConstraint": self._region},  # type: ignore[typeddict-item]
                )
            s3.put_public_access_block(
                Bucket=bucket,
                PublicAccessBlockConfiguration=PUBLIC_ACCESS_BLOCK,  # type: ignore[arg-type]
            )
            s3.put_bucket_encryption(
                Bucket=bucket,
                ServerSideEncryptionConfiguration=ENCRYPTION,  # type: ignore[arg-type]
            )
            s3.put_bucket_policy(Bucket=bucket, Policy=bucket_policy(bucket))
            s3.put_bucket_lifecycle_configuration(
                Bucket=bucket,
                LifecycleConfiguration=LIFECYCLE,  # type: ignore[arg-type]
            )
        except ClientError as err:
            raise aws_failure(f"creating artifact bucket {bucket} failed", err) from err
