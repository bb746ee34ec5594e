"""A template cfngen did not write: the blog post's production load balancer, assembled from its
pieces (tests/fixtures/production_lb_blog.yaml). The checks find its real weaknesses, and only
those."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from cfngen.lint import Finding, Report, Template, lint_templates

FIXTURE = Path(__file__).parent.parent / "fixtures" / "production_lb_blog.yaml"

# Every cfngen finding of the template, with its multiplicity: a check that regresses or starts
# producing noise changes this.
EXPECTED = Counter(
    {
        ("CFG011", "PublicSubnet"): 1,  # public IPs on launch; only the NAT gateway lives there
        ("CFG012", "LoadBalancerSecurityGroup"): 2,  # ingress and egress rules undescribed
        ("CFG012", "ApiGatewaySecurityGroup"): 2,
        ("CFG012", "ECSSecurityGroup"): 2,
        ("CFG012", "EC2SecurityGroup"): 2,
        ("CFG013", "ApiGatewaySecurityGroup"): 1,  # 80 and 8000 from 0.0.0.0/0, guards nothing
        ("CFG014", "ECSTaskDefinition"): 1,  # appContainer has no LogConfiguration
        ("CFG015", "AppGithubRole"): 4,  # PassRole on four roles created elsewhere
        ("CFG018", "LoadBalancer"): 1,  # EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic off
        ("CFG019", "ECSInstanceRole"): 1,  # arn:aws:iam::aws:policy/... managed policies
    }
)


@pytest.fixture(scope="module")
def report() -> Report:
    body = FIXTURE.read_text()
    tpl = Template(
        name="production-lb-blog", file="production_lb_blog.yaml", body=body, region="us-east-2"
    )
    return lint_templates([tpl])


def shown(report: Report) -> str:
    return "\n".join(f.render() for f in report.findings)


def ours(report: Report, rule: str, resource: str) -> list[Finding]:
    return [f for f in report.findings if f.rule == rule and f.resource == resource]


def line_of(logical_id: str) -> int:
    lines = FIXTURE.read_text().splitlines()
    return next(i for i, line in enumerate(lines, 1) if line == f"  {logical_id}:")


def test_the_fixture_parses() -> None:
    from cfnlint.decode.decode import decode_str

    parsed, errors = decode_str(FIXTURE.read_text())
    assert errors == []
    assert len(parsed["Resources"]) == 42
    assert "AppGithubOpenIDConnect" in parsed["Resources"]
    assert len(parsed["Outputs"]) == 8


def test_nothing_crashes(report: Report) -> None:
    assert report.templates == 1
    assert [f for f in report.findings if f.rule == "CFG000"] == [], shown(report)
    assert all(f.line >= 1 for f in report.findings), shown(report)
    assert report.waived == []


def test_exactly_the_expected_cfngen_findings(report: Report) -> None:
    found = Counter((f.rule, f.resource) for f in report.findings if f.tool == "cfngen")
    assert found == EXPECTED, shown(report)


def test_findings_sit_on_their_resources_lines(report: Report) -> None:
    for f in report.findings:
        if f.tool == "cfngen":
            assert f.line == line_of(f.resource), f.render()


def test_task_definition_without_logs(report: Report) -> None:
    (f,) = ours(report, "CFG014", "ECSTaskDefinition")
    assert "'appContainer'" in f.message, shown(report)
    assert f.severity == "error"


def test_api_gateway_group_open_to_the_internet(report: Report) -> None:
    (f,) = ours(report, "CFG013", "ApiGatewaySecurityGroup")
    assert "80, 8000" in f.message and "0.0.0.0/0" in f.message, shown(report)


def test_pass_role_on_roles_created_elsewhere(report: Report) -> None:
    messages = sorted(f.message for f in ours(report, "CFG015", "AppGithubRole"))
    assert len(messages) == 4, shown(report)
    for role in (
        "role/ecsTaskExecutionRole)",
        "role/ecsServiceRole)",
        "AWSServiceRoleForECS)",
        "AWSServiceRoleForECSTasks)",
    ):
        assert any(m.endswith(role) for m in messages), (role, messages)
    assert all("Fn::Sub" not in m for m in messages)


def test_public_subnet_and_privatelink(report: Report) -> None:
    (subnet,) = ours(report, "CFG011", "PublicSubnet")
    assert "public IP" in subnet.message
    (nlb,) = ours(report, "CFG018", "LoadBalancer")
    assert "PrivateLink" in nlb.message and nlb.severity == "warning"


def test_hard_coded_partition(report: Report) -> None:
    """cfn-lint's I3042 reports the Fn::Sub ARNs; CFG019 the managed policy ARNs it misses."""
    messages = {f.resource: f.message for f in report.findings if f.rule == "CFG019"}
    assert "and 2 more" in messages["ECSInstanceRole"], shown(report)
    sub = {f.resource for f in report.findings if f.rule == "I3042"}
    assert sub == {"AppGithubRole", "ECSAutoScalingGroup"}, shown(report)


def test_the_pinned_github_trust_passes(report: Report) -> None:
    # the role's trust pins aud and sub to one repository and branch: no CFG001
    assert [f for f in report.findings if f.rule == "CFG001"] == [], shown(report)
