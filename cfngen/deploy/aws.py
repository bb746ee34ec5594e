"""boto3 sessions and clients, configured once: standard retries, the AWS CLI's precedence.

Precedence is the AWS CLI's: a flag (--profile, --region, --endpoint-url) wins over the
environment (AWS_PROFILE, AWS_REGION / AWS_DEFAULT_REGION, AWS_ENDPOINT_URL and the
service-specific AWS_ENDPOINT_URL_<SERVICE>), which wins over the profile's config file. boto3
already reads the environment and config files, so this module only passes the flags through.
The blueprint's region is the last fallback, so a deploy never lands in a region nobody named.
"""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, ProfileNotFound
from botocore.parsers import ResponseParserError

from cfngen.errors import OperationError, UsageError

if TYPE_CHECKING:
    from mypy_boto3_cloudformation import CloudFormationClient
    from mypy_boto3_s3 import S3Client

#: Total attempts per call (the first one included) unless AWS_MAX_ATTEMPTS says otherwise.
MAX_ATTEMPTS = 6


def retry_config() -> Config:
    """botocore's standard retry mode: throttling ("Rate exceeded") and transient errors are
    retried with exponential backoff and jitter. Six attempts ride out a busy account during a
    parallel deploy without making an unreachable endpoint take minutes to report;
    AWS_MAX_ATTEMPTS overrides it as in the AWS CLI. A new Config each time: botocore rewrites
    the retries dict it is given.
    """
    attempts = os.environ.get("AWS_MAX_ATTEMPTS", "")
    total = int(attempts) if attempts.isdigit() and int(attempts) > 0 else MAX_ATTEMPTS
    return Config(retries={"mode": "standard", "total_max_attempts": total})


@dataclass(frozen=True)
class AwsTarget:
    """What the user asked for on the command line; None means "as the AWS CLI would decide"."""

    profile: str | None = None
    region: str | None = None
    endpoint_url: str | None = None


@dataclass
class CallCounter:
    """Counts API calls (per operation and per stack) and the time spent in them.

    Uses botocore's event hooks, so nothing is wrapped or mocked: the benchmark reports calls
    per stack with it and the tests assert, for example, that a no-op deploy creates no change
    set. A call counts once however often botocore retried it.
    """

    calls: Counter[str] = field(default_factory=Counter)
    per_stack: Counter[str] = field(default_factory=Counter)
    api_seconds: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _local: threading.local = field(default_factory=threading.local, repr=False)

    def __call__(self, model: Any, params: Any, **_: Any) -> None:
        name = str(model.name)
        stack = ""
        body = params.get("body") if isinstance(params, dict) else None
        if isinstance(body, dict):
            stack = str(body.get("StackName", ""))
            if stack.startswith("arn:"):  # arn:...:stack/NAME/id
                stack = stack.split("/")[1]
        self._local.started = time.perf_counter()
        with self._lock:
            self.calls[name] += 1
            if stack:
                self.per_stack[stack] += 1

    def _finished(self, **_: Any) -> None:
        started = getattr(self._local, "started", None)
        if started is not None:
            elapsed = time.perf_counter() - started
            with self._lock:
                self.api_seconds += elapsed

    def attach(self, client: Any) -> None:
        """Count every call `client` makes from now on."""
        service = client.meta.service_model.service_name
        client.meta.events.register(f"before-call.{service}", self)
        client.meta.events.register(f"after-call.{service}", self._finished)
        client.meta.events.register(f"after-call-error.{service}", self._finished)

    def attach_clients(self, clients: Clients) -> None:
        """Count the CloudFormation calls of `clients` in every region they are used in."""
        clients.every_region(lambda regional: self.attach(regional.cloudformation))

    def total(self) -> int:
        with self._lock:
            return sum(self.calls.values())

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()
            self.per_stack.clear()
            self.api_seconds = 0.0


def emulator_clients(endpoint_url: str, region: str) -> Clients:
    """Clients for a local emulator with its dummy credentials (never the user's).

    Other regions' clients (for stacks that live elsewhere) go to the same endpoint.
    """
    session = boto3.Session(
        aws_access_key_id="test", aws_secret_access_key="test", region_name=region
    )

    def make(in_region: str) -> Clients:
        def client(service: str) -> Any:
            return session.client(
                service,  # type: ignore[call-overload]
                region_name=in_region,
                endpoint_url=endpoint_url,
                config=retry_config(),
            )

        return Clients(
            cloudformation=client("cloudformation"),
            s3=client("s3"),
            region=in_region,
            sts=client("sts"),
            ssm=client("ssm"),
            make=make,
            factory=client,
        )

    return make(region)


@dataclass(frozen=True)
class Clients:
    """The clients deploy needs in one region; tests build it around stubbed or emulator
    clients.

    A stack may live in another region than its environment (a CloudFront certificate in
    us-east-1). `for_region` gives that region's clients, made on first use by `make` (same
    profile, endpoint and retry settings) and cached, so each region costs one set of clients.
    """

    cloudformation: CloudFormationClient
    s3: S3Client
    region: str
    sts: Any = None  # only needed to name the artifact bucket; created lazily when None
    ssm: Any = None  # only needed for the environment lock (cfngen.deploy.lock)
    make: Callable[[str], Clients] | None = field(default=None, repr=False, compare=False)
    # any other service's client in this region (rds, dynamodb for snapshots), made on first use
    factory: Callable[[str], Any] | None = field(default=None, repr=False, compare=False)
    _services: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False)
    # per instance (init=False: dataclasses.replace makes fresh ones, never shares them)
    _regions: dict[str, Clients] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    _hooks: list[Callable[[Clients], None]] = field(
        default_factory=list, init=False, repr=False, compare=False
    )
    _lock: threading.Lock = field(
        default_factory=threading.Lock, init=False, repr=False, compare=False
    )

    def for_region(self, region: str | None) -> Clients:
        """These clients for None or their own region; otherwise that region's (cached)."""
        if not region or region == self.region:
            return self
        with self._lock:
            made = self._regions.get(region)
            if made is None:
                if self.make is None:
                    raise OperationError(f"no AWS clients for region {region}")
                made = self.make(region)
                if made.region != region:
                    raise OperationError(f"clients for {region} were made for {made.region}")
                self._regions[region] = made
                for hook in self._hooks:
                    hook(made)
            return made

    def client(self, service: str) -> Any:
        """This region's client for `service` (made once, with the same target settings)."""
        with self._lock:
            made = self._services.get(service)
            if made is None:
                if self.factory is None:
                    raise OperationError(f"no {service} client in {self.region}")
                made = self._services[service] = self.factory(service)
            return made

    def every_region(self, hook: Callable[[Clients], None]) -> None:
        """Call `hook` on these clients and on every other region's, now and when made."""
        with self._lock:
            self._hooks.append(hook)
            existing = [self, *self._regions.values()]
        for clients in existing:
            hook(clients)


def make_session(profile: str | None) -> boto3.Session:
    """A boto3 session for a profile (None: as the AWS CLI would pick)."""
    try:
        return boto3.Session(profile_name=profile)
    except ProfileNotFound as err:
        raise UsageError(f"AWS profile not found: {profile}") from err


def make_clients(
    target: AwsTarget, default_region: str, session: boto3.Session | None = None
) -> Clients:
    """Create clients the way the AWS CLI would, falling back to the blueprint's region.

    The region found here is the environment's; a stack with its own region gets that
    region's clients from `Clients.for_region`, with the same profile and endpoint. `session`
    is one already made (e.g. with an assumed role's credentials).
    """
    if session is None:
        session = make_session(target.profile)
    # The AWS CLI v2 reads AWS_REGION before AWS_DEFAULT_REGION; this botocore reads only the
    # latter, so AWS_REGION is looked up here.
    region = target.region or os.environ.get("AWS_REGION") or session.region_name or default_region

    def make(in_region: str) -> Clients:
        def client(service: str) -> Any:
            return session.client(
                service,  # type: ignore[call-overload]
                region_name=in_region,
                endpoint_url=target.endpoint_url,
                config=retry_config(),
            )

        try:
            return Clients(
                cloudformation=client("cloudformation"),
                s3=client("s3"),
                region=in_region,
                sts=client("sts"),
                ssm=client("ssm"),
                make=make,
                factory=client,
            )
        except BotoCoreError as err:
            raise UsageError(f"cannot create AWS clients for {in_region}: {err}") from err

    return make(region)


def error_code(err: ClientError) -> str:
    """The AWS error code of a ClientError ("ValidationError", "Throttling" ...)."""
    return str(err.response.get("Error", {}).get("Code", ""))


def error_message(err: ClientError) -> str:
    """The AWS error message of a ClientError, as AWS wrote it."""
    return str(err.response.get("Error", {}).get("Message", str(err)))


def is_missing_stack(err: ClientError) -> bool:
    """True for AWS's "Stack with id X does not exist" / "Stack [X] does not exist"."""
    return error_code(err) == "ValidationError" and "does not exist" in error_message(err)


def aws_failure(
    action: str, err: ClientError | BotoCoreError | ResponseParserError
) -> OperationError:
    """Turn an AWS error into the one error type the CLI reports (exit 1)."""
    if isinstance(err, ClientError):
        return OperationError(f"{action}: {error_code(err)}: {error_message(err)}")
    return OperationError(f"{action}: {err}")


def supports_property_values(client: CloudFormationClient) -> bool:
    """Whether this botocore knows DescribeChangeSet's IncludePropertyValues (botocore 1.36+).

    cfngen requires such a boto3; an older one in the environment (checkov pins 1.35.x, which is
    why checkov gets its own venv) still works: plan then reads before/after values from the
    deployed and rendered templates.
    """
    shape = client.meta.service_model.operation_model("DescribeChangeSet").input_shape
    return shape is not None and "IncludePropertyValues" in shape.members
