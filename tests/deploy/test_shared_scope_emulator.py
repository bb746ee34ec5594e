"""The shared scope's hosted zone and OIDC provider, used by an environment of the same
account, on a real MiniStack.

What MiniStack runs: the shared zone (created, with its delegation NS record) and the
environment's deploy role, which trusts the shared provider's known ARN instead of creating a
provider. What it cannot (cfngen/deploy/emulator_gaps.py, the one list): AWS::IAM::OIDCProvider
(the shared `oidc` stack is left out whole) and `!GetStackOutput` (the environment's record
stack, which reads the zone ID with it, is left out); the test asserts those exclusions, so it
notices when MiniStack learns them. The rendered reads are proven by cfngen verify (CFG034,
CFG035: tests/verify/test_scope_mutations.py)."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import boto3
import pytest

from cfngen.compiler import compile_environment
from cfngen.deploy.aws import Clients
from cfngen.deploy.deployer import Deployment, DeployOptions, Outcome
from cfngen.deploy.emulator_gaps import emulator_environment
from cfngen.deploy.poll import PollPolicy
from cfngen.deploy.prerequisites import check
from cfngen.prerequisites import find

pytestmark = pytest.mark.xdist_group("ministack")

FAST = PollPolicy(initial=0.05, factor=1.5, maximum=0.5, timeout=120)

BLUEPRINT = """\
blueprint: zones
region: eu-west-1
shared:
  oidc_providers: {github: {provider: github}}
  dns:
    zone: zones.test
    delegations: {dev.zones.test: [ns-1.awsdns-01.org, ns-2.awsdns-02.net]}
network: {availability_zones: 2, nat: none}
load_balancers:
  edge:
    type: application
    scheme: internet-facing
    plain_http_reason: an emulator test without certificates
    deletion_protection: false
dns:
  records: {www.zones.test: {target: edge}}
deploy_roles:
  github: {provider: github, repository: acme/zones}
environments: {dev: {}}
"""


def _outputs(clients: Clients, stack: str) -> dict[str, str]:
    found = clients.cloudformation.describe_stacks(StackName=stack)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in found.get("Outputs", [])}


def _deploy(path: Path, env: str, clients: Clients) -> Any:
    rendered, excluded = emulator_environment(compile_environment(path, env))
    summary = Deployment(rendered, clients, DeployOptions(poll=FAST)).deploy()
    assert summary.ok, [(r.stack, r.outcome, r.message) for r in summary.results]
    return rendered, excluded


def test_the_shared_zone_deploys_and_the_environment_trusts_the_shared_provider(
    tmp_path: Path, emulator: str, clients: Clients
) -> None:
    path = tmp_path / "zones.yaml"
    path.write_text(textwrap.dedent(BLUEPRINT))
    # dev reads the shared zone's ID: before the shared scope is deployed, that is missing
    reads = [p for p in find(compile_environment(path, "dev")) if p.kind == "output"]
    assert [p.name for p in reads] == ["zones-shared-dns.ZoneId"]
    assert check(reads, clients).missing == reads
    shared, excluded = _deploy(path, "shared", clients)
    assert check(reads, clients).missing == []
    assert [(e.stack, e.why.split(":")[0]) for e in excluded] == [("oidc", "whole stack")]
    assert [s.name for s in shared.stacks] == ["zones-shared-dns"]
    zone_id = _outputs(clients, "zones-shared-dns")["ZoneId"]
    route53 = boto3.client("route53", endpoint_url=emulator, region_name="eu-west-1")
    assert route53.get_hosted_zone(Id=zone_id)["HostedZone"]["Name"] == "zones.test."
    records = route53.list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]
    assert [r["ResourceRecords"] for r in records if r["Name"] == "dev.zones.test."] == [
        [{"Value": "ns-1.awsdns-01.org"}, {"Value": "ns-2.awsdns-02.net"}]
    ]

    dev, excluded = _deploy(path, "dev", clients)
    assert ("dns", "whole stack") in [(e.stack, e.why.split(":")[0]) for e in excluded]
    assert "WwwZonesTestA" in next(e.why for e in excluded if e.stack == "dns")
    iam = boto3.client("iam", endpoint_url=emulator, region_name="eu-west-1")
    account = boto3.client(
        "sts", endpoint_url=emulator, region_name="eu-west-1"
    ).get_caller_identity()["Account"]
    trust = iam.get_role(RoleName="zones-dev-github-deploy")["Role"]["AssumeRolePolicyDocument"]
    if isinstance(trust, str):
        trust = json.loads(trust)
    assert trust["Statement"][0]["Principal"]["Federated"] == (
        f"arn:aws:iam::{account}:oidc-provider/token.actions.githubusercontent.com"
    )
    # the service role may read the shared zone's stack (Fn::GetStackOutput runs as it)
    policy = iam.get_role_policy(
        RoleName="zones-dev-github-cfn", PolicyName="environment-resources"
    )
    document = policy["PolicyDocument"]
    if isinstance(document, str):
        document = json.loads(document)
    reads = [s for s in document["Statement"] if s.get("Sid") == "ReadSharedScopeOutputs"]
    assert reads[0]["Resource"] in (
        f"arn:aws:cloudformation:eu-west-1:{account}:stack/zones-shared-dns/*",
        [f"arn:aws:cloudformation:eu-west-1:{account}:stack/zones-shared-dns/*"],
    )
    for env, rendered in (("shared", shared), ("dev", dev)):  # a second deploy: nothing to do
        again = Deployment(rendered, clients, DeployOptions(poll=FAST)).deploy()
        assert {r.outcome for r in again.results} == {Outcome.UNCHANGED}, env
