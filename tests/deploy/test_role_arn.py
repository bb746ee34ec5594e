"""Change sets run with the CloudFormation service role: --role-arn, else the environment's
deploy.cloudformation_role (stubbed: the exact CreateChangeSet request)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from botocore.stub import ANY, Stubber

from cfngen.deploy.aws import Clients
from cfngen.render import RenderedEnvironment
from tests.deploy.test_stubbed import (  # noqa: F401 (fixtures)
    CS_ID,
    EMPTY_REASON,
    NAME,
    STACK_ID,
    deployment,
    env,
    stack,
    stubbed,
)

FLAG = "arn:aws:iam::123456789012:role/sample-test-ci-cfn"
SETTING = "arn:aws:iam::123456789012:role/from-the-blueprint"


@pytest.mark.parametrize(
    ("option", "target", "sent"),
    [(FLAG, SETTING, FLAG), (None, SETTING, SETTING), (None, None, None)],
    ids=["flag-wins", "setting", "none"],
)
def test_change_sets_name_the_service_role(
    env: RenderedEnvironment,  # noqa: F811
    stubbed: tuple[Clients, Stubber, Stubber],  # noqa: F811
    option: str | None,
    target: str | None,
    sent: str | None,
) -> None:
    clients, cfn, _ = stubbed
    if target:
        env = replace(env, target={**env.target, "cloudformation_role": target})
    cfn.add_response("describe_stacks", stack("UPDATE_COMPLETE"), {"StackName": NAME})
    cfn.add_response("get_template", {"TemplateBody": env.stacks[0].body + "# old\nMetadata: {}\n"})
    request = {
        k: ANY
        for k in (
            "StackName",
            "ChangeSetName",
            "ChangeSetType",
            "Parameters",
            "Capabilities",
            "Tags",
            "Description",
            "TemplateBody",
        )
    }
    if sent:
        request["RoleARN"] = sent
    cfn.add_response("create_change_set", {"Id": CS_ID, "StackId": STACK_ID}, request)
    cfn.add_response(
        "describe_change_set", {"Status": "FAILED", "StatusReason": EMPTY_REASON, "Changes": []}
    )
    cfn.add_response("delete_change_set", {})
    summary = deployment(env, clients, role_arn=option).deploy()
    assert summary.exit_code == 0
