"""Whose credentials: assume the environment's role, then check the caller's account before
any other call.

An environment may name its account (`deploy.account`) and how to reach it (`deploy.profile`,
`deploy.role_arn` with `external_id` and `session_name`). `sts:GetCallerIdentity` answers for
any valid credentials without permissions, so it is the first call every command makes: with
dev credentials, `cfngen deploy --env prod` stops here, exit 1, naming both accounts, before a
single stack is read.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from cfngen.errors import OperationError


class AccountMismatch(OperationError):
    """The caller's credentials belong to another account than the environment's."""


def assume_role(session: boto3.Session, target: Mapping[str, str], sts: Any) -> boto3.Session:
    """A session with the credentials of `target["role_arn"]`, assumed with the caller's
    (`sts` is the caller's STS client); the session unchanged when there is no role."""
    role_arn = target.get("role_arn")
    if not role_arn:
        return session
    params: dict[str, Any] = {
        "RoleArn": role_arn,
        "RoleSessionName": target.get("session_name", "cfngen"),
    }
    if target.get("external_id"):
        params["ExternalId"] = target["external_id"]
    try:
        creds = sts.assume_role(**params)["Credentials"]
    except ClientError as err:
        error = err.response.get("Error", {})
        raise OperationError(
            f"cannot assume {role_arn}: {error.get('Code', '')}: {error.get('Message', err)} "
            "(the role's trust policy must admit your credentials"
            + (" with this external ID" if "ExternalId" in params else "")
            + ")"
        ) from err
    except BotoCoreError as err:
        raise OperationError(f"cannot assume {role_arn}: {err}") from err
    return boto3.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        region_name=session.region_name,
    )


def check_account(sts: Any, expected: str | None, environment: str) -> str:
    """The caller's account ID; AccountMismatch when the environment names another one."""
    try:
        identity = sts.get_caller_identity()
    except ClientError as err:
        error = err.response.get("Error", {})
        raise OperationError(
            f"cannot tell whose credentials these are: {error.get('Code', '')}: "
            f"{error.get('Message', err)}"
        ) from err
    except BotoCoreError as err:
        raise OperationError(f"cannot tell whose credentials these are: {err}") from err
    actual = str(identity["Account"])
    if expected is not None and actual != expected:
        raise AccountMismatch(
            f"environment {environment} lives in account {expected}, but these credentials "
            f"are account {actual}'s ({identity.get('Arn', 'unknown principal')}); nothing was "
            f"changed. Use credentials of account {expected} (a profile, or the environment's "
            "role_arn), or check --env"
        )
    return actual
