"""The lint engine: one parse per template feeds cfn-lint (informational rules included) and
cfngen's checks; findings carry template lines, resources and blueprint origins."""

from __future__ import annotations

from pathlib import Path

import pytest

from cfngen.compiler import compile_environment
from cfngen.lint import Group, Template, lint_groups, lint_template
from tests.reference import BLUEPRINTS

BODY = """\
AWSTemplateFormatVersion: '2010-09-09'
Resources:
  Logs:
    Type: AWS::Logs::LogGroup
    Properties:
      RetentionInDays: 7
  Topic:
    Type: AWS::SNS::Topic
    Properties:
      DisplayNamee: x
"""


def template(body: str) -> Template:
    return Template(name="shop-dev-x", file="x.yaml", body=body, region="eu-west-1")


def test_cfn_lint_errors_and_informational_rules_with_lines_and_resources() -> None:
    report, _ = lint_template(template(BODY))
    found = {(f.rule, f.line, f.resource, f.severity, f.tool) for f in report.findings}
    assert ("E3002", 10, "Topic", "error", "cfn-lint") in found  # unknown property
    assert ("I3011", 3, "Logs", "informational", "cfn-lint") in found  # no deletion policies


def test_the_same_runner_serves_every_template_of_a_region() -> None:
    clean = BODY.replace("      DisplayNamee: x\n", "      DisplayName: x\n")
    assert "E3002" not in {f.rule for f in lint_template(template(clean))[0].findings}
    assert "E3002" in {f.rule for f in lint_template(template(BODY))[0].findings}


def test_an_unparsable_template_is_a_finding_not_a_crash() -> None:
    report, parsed = lint_template(template("Resources: [1\n"))
    assert parsed is None
    assert [(f.rule, f.severity) for f in report.findings] == [("E0000", "error")]


def test_a_cfn_lint_rule_is_waived_by_the_resource_metadata() -> None:
    body = BODY.replace(
        "  Topic:\n    Type: AWS::SNS::Topic\n",
        "  Topic:\n    Type: AWS::SNS::Topic\n    Metadata:\n      cfngen:\n"
        "        waivers: {E3002: testing how a waiver reads}\n",
    )
    report, _ = lint_template(template(body))
    assert "E3002" not in {f.rule for f in report.findings}
    assert [(f.rule, why) for f, why in report.waived] == [("E3002", "testing how a waiver reads")]


def test_findings_name_the_blueprint_entry_that_made_the_resource(tmp_path: Path) -> None:
    """A finding on a cfngen template points at the blueprint line of the entry (through the
    Metadata.cfngen.source stamp), not only at the template line."""
    env = compile_environment(BLUEPRINTS / "legocity.yaml", "dev")
    stack = env.stack("service-payload")
    body = stack.body.replace("LogConfiguration:", "LogConfigurationX:", 1)
    (report,) = lint_groups(
        [Group("x", [Template(stack.name, stack.file, body, env.region)], env.origin)]
    )
    f = next(f for f in report.findings if f.rule == "CFG014")
    assert f.resource == "TaskDefinition"
    assert f.origin.endswith("(services.payload)")
    mark = env.origins["services.payload"]
    assert f.origin.startswith(f"{mark.file}:{mark.line}:")
    lines = body.splitlines()
    assert lines[f.line - 1].strip() == "TaskDefinition:"


def test_existing_values_from_exports_are_re_exported_without_a_lint_warning(
    tmp_path: Path,
) -> None:
    from click.testing import CliRunner

    from cfngen.cli import cli
    from cfngen.render import load_template
    from tests.helpers import write

    path = write(
        tmp_path,
        """\
blueprint: shop
region: eu-west-1
network:
  existing:
    vpc_id: {import: platform-network-VpcId}
    private_subnets: [subnet-0123456789abcdef0, subnet-0123456789abcdef1]
    public_subnets: [subnet-0123456789abcdef2, subnet-0123456789abcdef3]
security_groups: {app: {description: app}}
environments: {dev: {}}
""",
    )
    network = load_template(compile_environment(path, "dev").stack("network").body)
    assert network["Metadata"]["cfn-lint"] == {"config": {"ignore_checks": ["W6001"]}}
    assert (
        "re-exported under cfngen's export names on purpose"
        in (network["Metadata"]["cfngen"]["lint_ignores"]["W6001"])
    )
    result = CliRunner().invoke(cli, ["lint", str(path)])
    assert result.exit_code == 0 and "W6001" not in result.output, result.output


REGIONAL = """\
AWSTemplateFormatVersion: '2010-09-09'
Resources:
  Box:
    Type: AWS::EC2::Instance
    Properties:
      ImageId: ami-12345678
      InstanceType: p5.48xlarge
  Agent:
    Type: AWS::Bedrock::Agent
    Properties:
      AgentName: x
"""


IAM = """\
AWSTemplateFormatVersion: '2010-09-09'
Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: '2012-10-17'
        Statement:
          - Effect: Allow
            Principal: {Service: ecs-tasks.amazonaws.com}
            Action: sts:AssumeRole
      Policies:
        - PolicyName: p
          PolicyDocument:
            Version: '2012-10-17'
            Statement:
              - Effect: Allow
                Action: [s3:GetObjectt, sqs:SendMessage, ec2:DescribeInstances]
                Resource: arn:aws:s3:::bucket/*
"""


def _cfn_lint_alone(body: str, region: str) -> set[tuple[str, int, str]]:
    """What cfn-lint's own runner, with its own rules loaded for `region`, reports."""
    from cfnlint.config import ConfigMixIn
    from cfnlint.decode.decode import decode_str
    from cfnlint.runner import Runner

    runner = Runner(ConfigMixIn(include_checks=["I"], regions=[region]))
    parsed, _ = decode_str(body)
    return {(m.rule.id, int(m.linenumber), m.message) for m in runner.validate_template(parsed)}


def _cfn_lint_here(body: str, region: str) -> set[tuple[str, int, str]]:
    report, _ = lint_template(Template("x", "x.yaml", body, region))
    return {(f.rule, f.line, f.message) for f in report.findings if f.tool == "cfn-lint"}


@pytest.mark.slow  # loads cfn-lint's rules afresh; runs in `make test`
def test_the_iam_actions_are_parsed_once_and_find_what_cfn_lint_finds() -> None:
    """Two rules read cfn-lint's 2 MB table of IAM actions: one parsed copy serves both, and
    the findings on actions and their resources are cfn-lint's own."""
    from cfngen.lint import _rules

    rules = _rules().data
    assert rules["W3037"]._service_map is rules["I3510"].service_map
    found = _cfn_lint_here(IAM, "eu-west-1")
    assert {"W3037", "I3510"} <= {rule for rule, _, _ in found}  # an unknown action, and
    assert found == _cfn_lint_alone(IAM, "eu-west-1")  # actions that do not take the resource


@pytest.mark.slow  # loads cfn-lint's rules afresh; runs in `make test`
def test_every_region_shares_one_rule_set_and_finds_what_cfn_lint_finds_there() -> None:
    """The rules are loaded once per process, not once per region: a template linted in
    another region after (and before) this one still gets exactly what cfn-lint's own runner,
    loaded for that region alone, reports (instance types and resource types differ)."""
    from cfngen.lint import _runner

    first, other, again = (
        _cfn_lint_here(REGIONAL, r) for r in ("us-east-1", "ca-west-1", "us-east-1")
    )
    assert _runner("us-east-1").rules is _runner("ca-west-1").rules
    assert {"E3006", "E3628"} <= {rule for rule, _, _ in other - first}  # it does differ
    assert first == again == _cfn_lint_alone(REGIONAL, "us-east-1")
    assert other == _cfn_lint_alone(REGIONAL, "ca-west-1")


def test_scenario_conditions_are_named_in_order() -> None:
    """cfn-lint orders a scenario's conditions as a set does (another order per process)."""
    from cfngen.lint import canonical_message

    message = (
        'x must be y when when condition "B" is False and when condition "A" is True; '
        'also when condition "D" is True and when condition "C" is True and when condition '
        '"E" is False at Resources/R'
    )
    assert canonical_message(message) == (
        'x must be y when when condition "A" is True and when condition "B" is False; '
        'also when condition "C" is True and when condition "D" is True and when condition '
        '"E" is False at Resources/R'
    )
    one = 'y when condition "B" is False'
    assert canonical_message(one) == one
    assert canonical_message(canonical_message(message)) == canonical_message(message)


CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "cfn-corpus"
MANY_CONDITIONS = CORPUS / "widdix" / "state" / "elasticache-redis.yaml"  # six conditions


@pytest.mark.slow  # two cfngen lint processes; runs in `make test`
def test_lint_output_is_the_same_whatever_the_hash_seed(tmp_path: Path) -> None:
    """Deterministic output: a third-party template whose findings name several conditions
    reads the same from processes with different string hashing."""
    import os
    import subprocess
    import sys

    outputs = []
    for seed in ("1", "2", "3"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "XDG_CACHE_HOME": str(tmp_path / seed)}
        proc = subprocess.run(
            [sys.executable, "-m", "cfngen", "lint", "--no-cache", str(MANY_CONDITIONS)],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
        assert proc.returncode == 1, proc.stderr  # findings, not a crash
        outputs.append(proc.stdout)
    assert outputs[0].count('when condition "') > 10
    assert outputs[0] == outputs[1] == outputs[2]
