"""Whose credentials: role assumption and the account check, against botocore's Stubber with
AWS's real responses and error texts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from cfngen.deploy.identity import AccountMismatch, assume_role, check_account
from cfngen.errors import OperationError

DEV = "111122223333"
PROD = "444455556666"
ROLE = f"arn:aws:iam::{PROD}:role/cfngen-deploy"


@pytest.fixture
def sts() -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client(
        "sts",
        region_name="eu-west-1",
        aws_access_key_id="AKIAEXAMPLE",
        aws_secret_access_key="secret",
    )
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def _identity(account: str, arn: str) -> dict[str, str]:
    return {"UserId": "AIDAEXAMPLE", "Account": account, "Arn": arn}


def test_the_right_account_passes(sts: tuple[Any, Stubber]) -> None:
    client, stubber = sts
    stubber.add_response("get_caller_identity", _identity(PROD, f"arn:aws:iam::{PROD}:user/ci"))
    assert check_account(client, PROD, "prod") == PROD


def test_another_account_is_refused_naming_both(sts: tuple[Any, Stubber]) -> None:
    client, stubber = sts
    stubber.add_response("get_caller_identity", _identity(DEV, f"arn:aws:iam::{DEV}:user/dev"))
    with pytest.raises(AccountMismatch) as exc:
        check_account(client, PROD, "prod")
    message = str(exc.value)
    assert f"account {PROD}" in message and f"account {DEV}'s" in message
    assert "nothing was changed" in message
    assert exc.value.exit_code == 1


def test_no_account_named_accepts_any(sts: tuple[Any, Stubber]) -> None:
    client, stubber = sts
    stubber.add_response("get_caller_identity", _identity(DEV, f"arn:aws:iam::{DEV}:user/dev"))
    assert check_account(client, None, "dev") == DEV


def test_expired_credentials_are_an_operation_error(sts: tuple[Any, Stubber]) -> None:
    client, stubber = sts
    stubber.add_client_error(
        "get_caller_identity",
        service_error_code="ExpiredToken",
        service_message="The security token included in the request is expired",
        http_status_code=403,
    )
    with pytest.raises(OperationError, match="ExpiredToken: The security token included"):
        check_account(client, PROD, "prod")


def test_assume_role_with_external_id(sts: tuple[Any, Stubber]) -> None:
    client, stubber = sts
    expires = dt.datetime(2026, 12, 3, 12, tzinfo=dt.UTC)
    stubber.add_response(
        "assume_role",
        {
            "Credentials": {
                "AccessKeyId": "ASIAIOSFODNN7EXAMPLE",
                "SecretAccessKey": "s3cr3t",
                "SessionToken": "token",
                "Expiration": expires,
            },
            "AssumedRoleUser": {
                "AssumedRoleId": "AROAEXAMPLE:cfngen",
                "Arn": f"arn:aws:sts::{PROD}:assumed-role/cfngen-deploy/cfngen",
            },
        },
        {"RoleArn": ROLE, "RoleSessionName": "ci-42", "ExternalId": "shared-secret"},
    )
    session = boto3.Session(region_name="eu-west-1")
    target = {"role_arn": ROLE, "session_name": "ci-42", "external_id": "shared-secret"}
    assumed = assume_role(session, target, client)
    creds = assumed.get_credentials()
    assert (
        creds is not None and creds.access_key == "ASIAIOSFODNN7EXAMPLE" and creds.token == "token"
    )
    assert assumed.region_name == "eu-west-1"


def test_without_a_role_the_session_is_unchanged(sts: tuple[Any, Stubber]) -> None:
    client, _ = sts
    session = boto3.Session(region_name="eu-west-1")
    assert assume_role(session, {"account": PROD}, client) is session


def test_a_refused_assumption_says_what_the_trust_policy_needs(sts: tuple[Any, Stubber]) -> None:
    client, stubber = sts
    stubber.add_client_error(
        "assume_role",
        service_error_code="AccessDenied",
        service_message=(
            f"User: arn:aws:iam::{DEV}:user/dev is not authorized to perform: sts:AssumeRole "
            f"on resource: {ROLE}"
        ),
        http_status_code=403,
    )
    with pytest.raises(OperationError) as exc:
        assume_role(boto3.Session(region_name="eu-west-1"), {"role_arn": ROLE}, client)
    assert f"cannot assume {ROLE}: AccessDenied: User: arn:aws:iam::{DEV}:user/dev" in str(
        exc.value
    )
    assert "trust policy" in str(exc.value)
