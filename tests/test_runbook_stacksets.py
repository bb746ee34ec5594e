"""The runbook of a multi-region environment: its regions, and the AWS CLI StackSets commands
that make the stack sets as `cfngen deploy` does."""

from __future__ import annotations

from pathlib import Path

from cfngen.compiler import compile_environment
from cfngen.render import RenderedEnvironment, runbook, write_environment
from tests.reference import ROOT

ORDERS = ROOT / "examples" / "orders.yaml"


def test_the_runbook_lists_the_regions_and_makes_stack_sets(tmp_path: Path) -> None:
    prod = compile_environment(ORDERS, "prod")
    text = runbook(prod)
    assert "It deploys to the regions `eu-west-1`, `eu-central-1` (home `eu-west-1`)." in text
    assert "| orders-prod-network | eu-west-1, eu-central-1 (stack set) |" in text
    network = (
        "aws cloudformation create-stack-set --region eu-west-1 --stack-set-name "
        "orders-prod-network --permission-model SELF_MANAGED \\\n"
        "  --template-body file://network.yaml \\\n"
        '  --parameters \'[{"ParameterKey":"EnvironmentName","ParameterValue":"orders-prod"}]\' '
        "\\\n"
        '  --tags \'[{"Key":"cfngen:blueprint","Value":"orders"},'
        '{"Key":"cfngen:environment","Value":"prod"}]\' \\\n'
        "  --execution-role-name AWSCloudFormationStackSetExecutionRole\n"
    )
    assert network in text
    assert (
        "--operation-preferences RegionConcurrencyType=SEQUENTIAL,"
        "RegionOrder=[eu-west-1,eu-central-1],FailureToleranceCount=0,MaxConcurrentCount=1"
    ) in text
    assert "aws cloudformation deploy" not in text  # every stack of orders is a stack set
    assert (  # prod's termination protection, on each region's instance
        "for r in eu-west-1 eu-central-1; do aws cloudformation update-termination-protection "
        "--region $r --enable-termination-protection \\\n"
        '  --stack-name "$(aws cloudformation list-stack-instances --region eu-west-1 '
        "--stack-set-name orders-prod-network --stack-instance-region $r --query "
        "'Summaries[0].StackId' --output text)\"; done"
    ) in text
    # removal: instances first, then the set, dependents first
    removal = text[text.index("## Remove the stack sets") :]
    assert removal.index("orders-prod-service-worker") < removal.index("orders-prod-network")
    assert (
        "aws cloudformation delete-stack-instances --region eu-west-1 --stack-set-name "
        "orders-prod-network \\\n  --accounts $ACCOUNT --regions eu-west-1 eu-central-1 "
        "--no-retain-stacks"
    ) in removal
    # the folder alone gives the same runbook
    folder = write_environment(prod, tmp_path / "out")
    assert runbook(RenderedEnvironment.from_directory(folder)) == text
    assert (folder / "README.md").read_text() == text


def test_a_one_region_runbook_has_no_stack_sets() -> None:
    text = runbook(compile_environment(ORDERS, "dev"))
    assert "stack-set" not in text and "It deploys to the regions" not in text
