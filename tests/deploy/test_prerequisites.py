"""Prerequisites found in rendered templates and checked with AWS's real answers (Stubber)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from cfngen.compiler import compile_environment
from cfngen.deploy.prerequisites import check
from cfngen.prerequisites import Prerequisite, find
from tests.reference import BLUEPRINTS


def test_found_in_the_templates_once_each_with_the_stack_that_names_it() -> None:
    found = find(compile_environment(BLUEPRINTS / "dbward.yaml", "dev"))
    assert [(p.kind, p.name) for p in found] == [
        ("secret", "dbward/dev/agent-token"),
        ("secret", "dbward/dev/database-url"),
    ]
    legocity = find(compile_environment(BLUEPRINTS / "legocity.yaml", "dev"))
    assert ("ssm-parameter", "/legocity/dev/broker/write-key/env") in [
        (p.kind, p.name) for p in legocity
    ]
    assert ("hosted-zone", "Z0EXAMPLE0LEGOCITY0001") in [(p.kind, p.name) for p in legocity]


class _Clients:
    """Stubbed clients by service name, as deploy's Clients hands them out."""

    def __init__(self, made: dict[str, Any]) -> None:
        self.made = made

    def for_region(self, region: str | None) -> _Clients:
        return self

    def client(self, service: str) -> Any:
        return self.made[service]


@pytest.fixture
def stubs() -> Iterator[tuple[_Clients, dict[str, Stubber]]]:
    made = {
        s: boto3.client(
            s, region_name="eu-west-1", aws_access_key_id="a", aws_secret_access_key="b"
        )
        for s in ("ssm", "secretsmanager", "route53", "acm")
    }
    stubbers = {s: Stubber(c) for s, c in made.items()}
    for stubber in stubbers.values():
        stubber.activate()
    yield _Clients(made), stubbers
    for stubber in stubbers.values():
        stubber.assert_no_pending_responses()
        stubber.deactivate()


def test_missing_items_come_with_the_command_that_creates_them(
    stubs: tuple[_Clients, dict[str, Stubber]],
) -> None:
    clients, stub = stubs
    items = [
        Prerequisite("ssm-parameter", "/shop/dev/a", "s1"),
        Prerequisite("ssm-parameter", "/shop/dev/b", "s1"),
        Prerequisite("secret", "shop/dev/db", "s2"),
        Prerequisite("hosted-zone", "Z0123456789ABCDEFGHIJ", "s3"),
    ]
    stub["ssm"].add_response(
        "get_parameters",
        {"Parameters": [], "InvalidParameters": ["/shop/dev/b"]},
        {"Names": ["/shop/dev/a", "/shop/dev/b"]},
    )
    stub["secretsmanager"].add_client_error(
        "describe_secret",
        service_error_code="ResourceNotFoundException",
        service_message="Secrets Manager can't find the specified secret.",
        expected_params={"SecretId": "shop/dev/db"},
    )
    stub["route53"].add_client_error(
        "get_hosted_zone",
        service_error_code="AccessDenied",
        service_message="User is not authorized to perform: route53:GetHostedZone",
        expected_params={"Id": "Z0123456789ABCDEFGHIJ"},
    )
    result = check(items, clients)
    assert [p.name for p in result.missing] == ["shop/dev/db", "/shop/dev/b"]  # by kind
    assert [p.name for p, _ in result.unchecked] == ["Z0123456789ABCDEFGHIJ"]
    text = result.render()
    assert "aws ssm put-parameter --name /shop/dev/b --type SecureString" in text
    assert "aws secretsmanager create-secret --name shop/dev/db" in text
    assert "not checked: hosted-zone Z0123456789ABCDEFGHIJ: AccessDenied" in text
