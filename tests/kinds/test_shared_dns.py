"""A hosted zone in the shared scope: declared (and created) once, read by the environments of
its account through Fn::GetStackOutput, delegated to environments in other accounts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.helpers import compile_text, errors_of

BLUEPRINT = """\
blueprint: city
region: eu-west-1
shared:
  deploy: {account: "111111111111"}
  dns:
    zone: city.test
    delegations:
      prod.city.test: [ns-1.awsdns-01.org, ns-2.awsdns-02.net]
network: {availability_zones: 2, nat: single}
certificates:
  site: {domain: "{{ env.name }}.city.test"}
load_balancers:
  public: {type: application, scheme: internet-facing, certificate: site, redirect_http: true}
cluster: {}
services:
  web:
    image: {uri: public.ecr.aws/nginx/nginx, tag: "1.27"}
    port: 80
    routes: [{load_balancer: public}]
deploy_roles:
  github: {provider: github, repository: acme/city}
environments:
  dev:
    deploy: {account: "111111111111"}
    dns: {records: {dev.city.test: {target: public}}}
  prod:
    deploy: {account: "333333333333"}
    dns:
      zone: prod.city.test
      zone_id: Z0PROD0000000001
      records: {prod.city.test: {target: public}}
"""

READ_ZONE_ID = {
    "Fn::GetStackOutput": {
        "StackName": "city-shared-dns",
        "OutputName": "ZoneId",
        "Region": "eu-west-1",
    }
}


def resources(env: Any, component: str) -> dict[str, Any]:
    from cfngen.render import load_template

    return load_template(env.stack(component).body)["Resources"]


def outputs(env: Any, component: str) -> dict[str, Any]:
    from cfngen.render import load_template

    return load_template(env.stack(component).body)["Outputs"]


def test_the_shared_scope_creates_the_zone_and_delegates_subzones(tmp_path: Path) -> None:
    shared = compile_text(tmp_path, BLUEPRINT, env="shared")
    assert [s.name for s in shared.stacks] == ["city-shared-dns"]
    res = resources(shared, "dns")
    assert res["HostedZone"]["Properties"]["Name"] == "city.test"
    assert res["HostedZone"]["DeletionPolicy"] == "Retain"
    assert res["ProdCityTestNS"]["Properties"] == {
        "HostedZoneId": {"Ref": "HostedZone"},
        "Name": "prod.city.test",
        "ResourceRecords": ["ns-1.awsdns-01.org", "ns-2.awsdns-02.net"],
        "TTL": "172800",
        "Type": "NS",
    }
    out = outputs(shared, "dns")
    assert out["ZoneId"]["Value"] == {"Ref": "HostedZone"}
    assert "Export" not in out["ZoneId"]  # read with Fn::GetStackOutput, never imported


def test_an_environment_in_the_scopes_account_reads_the_zone_id_at_deploy_time(
    tmp_path: Path,
) -> None:
    dev = compile_text(tmp_path, BLUEPRINT, env="dev")
    record = resources(dev, "dns")["DevCityTestA"]["Properties"]
    assert record["HostedZoneId"] == READ_ZONE_ID
    cert = resources(dev, "certificate-site")["Certificate"]["Properties"]
    assert cert["DomainValidationOptions"][0]["HostedZoneId"] == READ_ZONE_ID
    assert "dns" not in dev.stack("certificate-site").depends_on  # across scopes: no edge
    # the CloudFormation service role resolves Fn::GetStackOutput: it may read that stack
    role = resources(dev, "deploy-role-github")["CloudFormationServiceRole"]["Properties"]
    statements = role["Policies"][0]["PolicyDocument"]["Statement"]
    assert [s for s in statements if s["Sid"] == "ReadSharedScopeOutputs"] == [
        {
            "Sid": "ReadSharedScopeOutputs",
            "Effect": "Allow",
            "Action": ["cloudformation:DescribeStacks"],
            "Resource": [
                {
                    "Fn::Sub": "arn:${AWS::Partition}:cloudformation:eu-west-1:"
                    "${AWS::AccountId}:stack/city-shared-dns/*"
                }
            ],
        }
    ]


def test_the_shared_stack_is_a_prerequisite_of_the_environment(tmp_path: Path) -> None:
    from cfngen.prerequisites import Prerequisite, find

    dev = compile_text(tmp_path, BLUEPRINT, env="dev")
    reads = [p for p in find(dev) if p.kind == "output"]
    assert reads == [
        Prerequisite("output", "city-shared-dns.ZoneId", "city-dev-certificate-site", "eu-west-1")
    ]
    assert reads[0].create() == (
        "deploy the stack city-shared-dns (cfngen deploy BLUEPRINT --env shared) first: its "
        "output ZoneId is read"
    )


def test_an_environment_in_another_account_uses_its_own_delegated_zone(tmp_path: Path) -> None:
    prod = compile_text(tmp_path, BLUEPRINT, env="prod")
    record = resources(prod, "dns")["ProdCityTestA"]["Properties"]
    assert record["HostedZoneId"] == "Z0PROD0000000001"
    role = resources(prod, "deploy-role-github")["CloudFormationServiceRole"]["Properties"]
    statements = role["Policies"][0]["PolicyDocument"]["Statement"]
    assert "ReadSharedScopeOutputs" not in [s["Sid"] for s in statements]


def test_refusals_are_positioned_with_the_way_out(tmp_path: Path) -> None:
    own_zone = "      zone: prod.city.test\n      zone_id: Z0PROD0000000001\n"
    other_account = BLUEPRINT.replace(own_zone, "")
    delegate = (
        "give the environment a hosted zone of its own in its account, `dns: {zone: "
        "<env>.city.test, zone_id: Z...}`, and delegate it from the shared zone with "
        "`shared: {dns: {delegations: {<env>.city.test: [<its name servers>]}}}`"
    )
    assert errors_of(tmp_path, other_account, "prod") == [
        "bp.yaml:11:9: certificates.site: a certificate uses the shared scope's zone city.test, "
        "which is in account 111111111111, not this environment's 333333333333: CloudFormation "
        "creates records (and ACM validates certificates) only in a zone of the deploying "
        f"account ({delegate})",
        "bp.yaml:29:42: dns.records.prod.city.test.target: the record uses the shared scope's "
        "zone city.test, which is in account 111111111111, not this environment's "
        "333333333333: CloudFormation creates records (and ACM validates certificates) only in "
        f"a zone of the deploying account ({delegate})",
    ]
    undelegated = BLUEPRINT.replace(
        "    delegations:\n      prod.city.test: [ns-1.awsdns-01.org, ns-2.awsdns-02.net]\n", ""
    )
    assert errors_of(tmp_path, undelegated, "prod") == [
        "bp.yaml:27:13: dns.zone: prod.city.test lies inside the shared zone city.test, which "
        "does not delegate it, so its names do not resolve (and certificates never validate) "
        "(add `shared: {dns: {delegations: {prod.city.test: [<name servers>]}}}` with the "
        "zone's name servers (aws route53 get-hosted-zone --id Z0PROD0000000001))"
    ]
    no_id = BLUEPRINT.replace("      zone_id: Z0PROD0000000001\n", "")
    assert errors_of(tmp_path, no_id, "prod") == [
        "bp.yaml:29:13: dns.zone: an environment uses an existing hosted zone: prod.city.test "
        "needs its zone_id (add `zone_id: Z...` (Route 53 console), or leave both out to use "
        "the zone declared in `shared: {dns: {zone: ...}}` (which the shared scope creates))"
    ]
    unknown = BLUEPRINT.replace('    deploy: {account: "111111111111"}\n', "")
    assert errors_of(tmp_path, unknown, "dev")[0].endswith(
        "this environment names no deploy.account, so cfngen cannot tell whether CloudFormation "
        "may write to that zone (set deploy.account to 111111111111 if the environment is in "
        f"that account; else {delegate})"
    )
    in_env = BLUEPRINT.replace(
        "      records: {prod.city.test: {target: public}}",
        "      records: {prod.city.test: {target: public}}\n"
        "      delegations: {api.prod.city.test: [ns-1.awsdns-01.org]}",
    )
    assert errors_of(tmp_path, in_env, "prod") == [
        "bp.yaml:32:7: dns.delegations: delegations are NS records in the "
        "shared scope's zone (move them to `shared: {dns: {delegations: ...}}`)"
    ]
    outside = BLUEPRINT.replace("      prod.city.test: [", "      prod.town.test: [")
    assert errors_of(tmp_path, outside, "shared") == [
        "bp.yaml:6:5: dns: delegation prod.town.test is not a subzone of city.test "
        "(use a name ending in .city.test)"
    ]


def test_verify_of_a_rendered_folder_names_a_shared_output_that_is_gone(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from cfngen.cli import cli
    from tests.helpers import write

    path = write(tmp_path, BLUEPRINT)
    out = tmp_path / "out"
    for env in ("shared", "dev"):
        result = CliRunner().invoke(cli, ["render", str(path), "--env", env, "-o", str(out)])
        assert result.exit_code == 0, result.output
    assert CliRunner().invoke(cli, ["verify", str(out / "dev")]).exit_code == 0
    zone = out / "shared" / "dns.yaml"
    text = zone.read_text()
    assert "  ZoneId:\n" in text
    zone.write_text(text.replace("  ZoneId:\n", "  ZoneIdentifier:\n"))  # someone renamed it
    folder = CliRunner().invoke(cli, ["verify", str(out / "dev")])  # the sibling out/shared
    assert folder.exit_code == 1
    assert "CFG035" in folder.output
    assert "reads output ZoneId of city-shared-dns, which has no such output" in folder.output
