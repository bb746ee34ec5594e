"""boto3 sessions and clients, configured once: standard retries, the AWS CLI's precedence.

Precedence is the AWS CLI's: a flag (--profile, --region, --endpoint-url) wins over the
environment (AWS_PROFILE, AWS_REGION / AWS_DEFAULT_REGION, AWS_ENDPOINT_URL and the
service-specific AWS_ENDPOINT_URL_<SERVICE>), which wins over the profile's config file. boto3
already reads the environment and config files, so this module only passes the flags through.
The blueprint's region is the last fallback, so a deploy never lands in a region nobody named.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, ProfileNotFound

from cfngen.errors import OperationError, UsageError

if TYPE_CHECKING:
    from mypy_boto3_cloudformation import CloudFormationClient
    from mypy_boto3_s3 import S3Client

#: botocore's standard retry mode retries throttling ("Rate exceeded") and transient errors with
#: exponential backoff and jitter; 10 attempts ride out a busy account during a parallel deploy.
RETRY_CONFIG = Config(retries={"mode": "standard", "max_attempts": 10})


@dataclass(frozen=True)
class AwsTarget:
    """What the user asked for on the command line; None means "as the AWS CLI would decide"."""

    profile: str | None = None
    region: str | None = None
    endpoint_url: str | None = None


@dataclass
class CallCounter:
    """Counts API calls per operation (and per stack) through botocore's event hooks.

    Used by the benchmark and the tests to assert, for example, that a no-op deploy creates no
    change set. Counting happens in `before-call`, so retried calls count once.
    """

    calls: Counter[str] = field(default_factory=Counter)
    per_stack: Counter[str] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __call__(self, model: Any, params: Any, **_: Any) -> None:
        name = str(model.name)
        stack = ""
        body = params.get("body") if isinstance(params, dict) else None
        if isinstance(body, dict):
            stack = str(body.get("StackName", ""))
        with self._lock:
            self.calls[name] += 1
            if stack:
                self.per_stack[stack] += 1

    def attach(self, client: Any) -> None:
        """Count every call `client` makes from now on."""
        service = client.meta.service_model.service_name
        client.meta.events.register(f"before-call.{service}", self)

    def total(self) -> int:
        with self._lock:
            return sum(self.calls.values())


@dataclass(frozen=True)
class Clients:
    """The two clients deploy needs; tests build this around stubbed or emulator clients."""

    cloudformation: CloudFormationClient
    s3: S3Client
    region: str
    sts: Any = None  # only needed to name the artifact bucket; created lazily when None


def make_clients(target: AwsTarget, default_region: str) -> Clients:
    """Create clients the way the AWS CLI would, falling back to the blueprint's region."""
    try:
        session = boto3.Session(profile_name=target.profile)
    except ProfileNotFound as err:
        raise UsageError(f"AWS profile not found: {target.profile}") from err
    region = target.region or session.region_name or default_region
    try:
        cfn = session.client(
            "cloudformation",
            region_name=region,
            endpoint_url=target.endpoint_url,
            config=RETRY_CONFIG,
        )
        s3 = session.client(
            "s3", region_name=region, endpoint_url=target.endpoint_url, config=RETRY_CONFIG
        )
        sts = session.client(
            "sts", region_name=region, endpoint_url=target.endpoint_url, config=RETRY_CONFIG
        )
    except BotoCoreError as err:
        raise UsageError(f"cannot create AWS clients: {err}") from err
    return Clients(cloudformation=cfn, s3=s3, region=region, sts=sts)


def error_code(err: ClientError) -> str:
    """The AWS error code of a ClientError ("ValidationError", "Throttling" ...)."""
    return str(err.response.get("Error", {}).get("Code", ""))


def error_message(err: ClientError) -> str:
    """The AWS error message of a ClientError, as AWS wrote it."""
    return str(err.response.get("Error", {}).get("Message", str(err)))


def is_missing_stack(err: ClientError) -> bool:
    """True for AWS's "Stack with id X does not exist" / "Stack [X] does not exist"."""
    return error_code(err) == "ValidationError" and "does not exist" in error_message(err)


def aws_failure(action: str, err: ClientError | BotoCoreError) -> OperationError:
    """Turn an AWS error into the one error type the CLI reports (exit 1)."""
    if isinstance(err, ClientError):
        return OperationError(f"{action}: {error_code(err)}: {error_message(err)}")
    return OperationError(f"{action}: {err}")


def supports_property_values(client: CloudFormationClient) -> bool:
    """Whether this botocore knows CreateChangeSet's IncludePropertyValues.

    checkov pins boto3 1.35.x, whose model predates the parameter; then plan falls back to
    before/after values read from the deployed and rendered templates.
    """
    op = client.meta.service_model.operation_model("CreateChangeSet")
    return "IncludePropertyValues" in op.input_shape.members
