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
from tests.reference import BLUEPRINTS, ROOT


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


def test_images_of_repositories_the_environment_does_not_create_are_prerequisites() -> None:
    found = find(compile_environment(ROOT / "examples" / "legocity-accounts.yaml", "prod"))
    images = [(p.name, p.account, p.region) for p in found if p.kind == "image"]
    assert images[0] == ("legocity-shared-broker-images:prod-latest", "111111111111", "eu-west-1")
    assert len(images) == 5
    push = next(p for p in found if p.kind == "image").create()
    assert push.endswith(
        "docker push 111111111111.dkr.ecr.eu-west-1.amazonaws.com/"
        "legocity-shared-broker-images:prod-latest"
    )
    # the environment's own repositories are created by its deploy: not prerequisites
    own = find(compile_environment(BLUEPRINTS / "connexing.yaml", "prod"))
    assert [p for p in own if p.kind == "image"] == []


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
        for s in ("ssm", "secretsmanager", "route53", "acm", "ecr")
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


def test_an_image_is_missing_when_ecr_has_no_such_tag_or_repository(
    stubs: tuple[_Clients, dict[str, Stubber]],
) -> None:
    clients, stub = stubs
    items = [
        Prerequisite("image", "city-shared-web:v1", "s1", "eu-west-1", "111111111111"),
        Prerequisite("image", "city-shared-web:v2", "s1", "eu-west-1", "111111111111"),
        Prerequisite("image", "city-shared-api:v1", "s2", "eu-west-1"),
    ]
    stub["ecr"].add_response(
        "describe_images",
        {"imageDetails": [{"imageTags": ["v1"], "imageDigest": "sha256:" + "0" * 64}]},
        {
            "repositoryName": "city-shared-web",
            "imageIds": [{"imageTag": "v1"}],
            "registryId": "111111111111",
        },
    )
    stub["ecr"].add_client_error(
        "describe_images",
        service_error_code="ImageNotFoundException",
        service_message="The image with imageId {imageDigest:'null', imageTag:'v2'} does not "
        "exist within the repository with name 'city-shared-web' in the registry with id "
        "'111111111111'",
        expected_params={
            "repositoryName": "city-shared-web",
            "imageIds": [{"imageTag": "v2"}],
            "registryId": "111111111111",
        },
    )
    stub["ecr"].add_client_error(
        "describe_images",
        service_error_code="RepositoryNotFoundException",
        service_message="The repository with name 'city-shared-api' does not exist in the "
        "registry with id '000000000000'",
        expected_params={"repositoryName": "city-shared-api", "imageIds": [{"imageTag": "v1"}]},
    )
    result = check(items, clients)
    assert [p.name for p in result.missing] == ["city-shared-api:v1", "city-shared-web:v2"]
    assert "docker push 111111111111.dkr.ecr.eu-west-1.amazonaws.com/city-shared-web:v2" in (
        result.render()
    )


def test_ssm_parameters_cloudformation_reads_for_existing_resources_are_prerequisites() -> None:
    found = find(compile_environment(ROOT / "examples" / "existing-account.yaml", "prod"))
    values = {p.name: p.create() for p in found if p.kind == "ssm-value"}
    assert values["/platform/network/vpc-id"] == (
        "aws ssm put-parameter --name /platform/network/vpc-id --type String --value '...'"
    )
    assert "--type StringList" in values["/platform/network/private-subnet-ids"]
    assert "/platform/efs/file-system-id" in values


def test_aws_public_parameters_are_not_prerequisites() -> None:
    found = find(compile_environment(BLUEPRINTS / "production-lb.yaml", "prod"))
    assert [p.name for p in found if p.name.startswith("/aws/")] == []
