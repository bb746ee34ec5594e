"""Blueprint waivers: where they land in the rendered Metadata, what lint makes of them, and
the blueprint errors of waivers that name a wrong check, resource or component."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from cfngen.blueprint.models.common import Waiver
from cfngen.checkov_runner import checkov_binary
from cfngen.lint import Report, Template, lint_templates
from cfngen.registry import BLUEPRINT as Blueprint
from cfngen.render import RenderedEnvironment, load_template
from cfngen.waivers import collect, record
from tests.helpers import compile_text, errors_of

ROOT = Path(__file__).resolve().parent.parent

# An override makes the network break two checks on one subnet: cfngen's CFG011 (public IPs on
# launch with no host in the template) and cfn-lint's W3010 (hard-coded availability zone).
NETWORK = """\
blueprint: shop
region: eu-west-1
network:
  waivers:
{waivers}
overrides:
  network:
    properties:
      PublicSubnet1: {{MapPublicIpOnLaunch: true, AvailabilityZone: eu-west-1a}}
environments: {{dev: {{}}}}
"""

SERVICES = """\
blueprint: shop
region: eu-west-1
services:
  api:
    image: {{uri: nginx}}
    port: 80
    waivers:
{waivers}
  api2:
    image: {{uri: nginx}}
    port: 80
environments: {{dev: {{}}}}
"""


def resources(env: RenderedEnvironment, component: str) -> dict[str, Any]:
    return dict(load_template(env.stack(component).body)["Resources"])


def lint(env: RenderedEnvironment, checkov: bool = False) -> Report:
    return lint_templates(
        [Template(s.name, s.file, s.body, s.region or env.region) for s in env.stacks],
        env.origin,
        checkov=checkov,
    )


# --- record: one waiver into one Metadata dict ---------------------------------------------------


def test_record_puts_each_kind_of_id_where_its_tool_reads_it() -> None:
    meta: dict[str, Any] = {"cfngen": {"source": "services.api"}}
    record(meta, "CKV_AWS_2", "plain HTTP inside the VPC only")
    record(meta, "W3010", "pinned to the zone of the on-premises link")
    record(meta, "CFG016", "plain HTTP inside the VPC only")
    record(meta, "CKV2_AWS_5", "attached in another stack")
    assert meta == {
        "cfngen": {
            "source": "services.api",
            "waivers": {
                "CFG016": "plain HTTP inside the VPC only",
                "W3010": "pinned to the zone of the on-premises link",
            },
        },
        "cfn-lint": {"config": {"ignore_checks": ["W3010"]}},
        "checkov": {
            "skip": [
                {"id": "CKV2_AWS_5", "comment": "attached in another stack"},
                {"id": "CKV_AWS_2", "comment": "plain HTTP inside the VPC only"},
            ]
        },
    }


def test_record_keeps_one_entry_per_check_and_the_last_reason_wins() -> None:
    meta: dict[str, Any] = {}
    record(meta, "CKV_AWS_51", "the builder's reason, long enough")
    record(meta, "CKV_AWS_51", "the blueprint's reason, long enough")
    record(meta, "E3002", "first reason for the rule")
    record(meta, "E3002", "second reason for the rule")
    assert meta["checkov"]["skip"] == [
        {"id": "CKV_AWS_51", "comment": "the blueprint's reason, long enough"}
    ]
    assert meta["cfngen"]["waivers"] == {"E3002": "second reason for the rule"}
    assert meta["cfn-lint"]["config"]["ignore_checks"] == ["E3002"]


def test_collect_finds_every_waiver_with_its_blueprint_path() -> None:
    bp = Blueprint.model_validate(
        {
            "blueprint": "shop",
            "region": "eu-west-1",
            "network": {"waivers": [{"check": "CFG011", "reason": "hosts need public IPs"}]},
            "security_groups": {
                "lb": {
                    "description": "lb",
                    "waivers": [
                        {"check": "CKV_AWS_260", "reason": "port 80 only redirects"},
                        {"check": "W1020", "reason": "the Sub is kept for readers"},
                    ],
                }
            },
            "environments": {"dev": {}},
        }
    )
    assert [(path, w.check) for path, w in collect(bp)] == [
        (("network", "waivers", 0), "CFG011"),
        (("security_groups", "lb", "waivers", 0), "CKV_AWS_260"),
        (("security_groups", "lb", "waivers", 1), "W1020"),
    ]


# --- apply: blueprint waivers in the rendered templates -----------------------------------------


def test_waiver_naming_a_resource_lands_in_that_resource_only_and_lint_waives_it(
    tmp_path: Path,
) -> None:
    env = compile_text(
        tmp_path,
        NETWORK.format(
            waivers="    - {check: CFG011, resource: PublicSubnet1, "
            "reason: the bastion subnet gives its hosts public IPs}\n"
            "    - {check: W3010, resource: PublicSubnet1, "
            "reason: pinned to the zone of the on-premises link}"
        ),
    )
    res = resources(env, "network")
    assert res["PublicSubnet1"]["Metadata"] == {
        "cfngen": {
            "source": "network",
            "waivers": {
                "CFG011": "the bastion subnet gives its hosts public IPs",
                "W3010": "pinned to the zone of the on-premises link",
            },
        },
        "cfn-lint": {"config": {"ignore_checks": ["W3010"]}},
    }
    assert res["PublicSubnet2"]["Metadata"] == {"cfngen": {"source": "network"}}
    report = lint(env)
    assert report.findings == []
    # cfn-lint skips W3010 itself (ignore_checks); the report still lists the waiver and reason
    assert [(f.rule, f.resource, why) for f, why in report.waived] == [
        ("CFG011", "PublicSubnet1", "the bastion subnet gives its hosts public IPs"),
        ("W3010", "PublicSubnet1", "pinned to the zone of the on-premises link"),
    ]


def test_without_the_waivers_the_network_override_has_findings(tmp_path: Path) -> None:
    """The control for the test above: both findings are real."""
    text = NETWORK.replace("  waivers:\n{waivers}\n", "  cidr: 10.0.0.0/16\n")
    report = lint(compile_text(tmp_path, text.format()))
    assert sorted((f.rule, f.resource) for f in report.findings) == [
        ("CFG011", "PublicSubnet1"),
        ("W3010", "PublicSubnet1"),
    ]


def test_waiver_without_resource_lands_in_every_resource_of_the_component(
    tmp_path: Path,
) -> None:
    reason = "the network is rebuilt for every test run"
    env = compile_text(
        tmp_path, NETWORK.format(waivers=f"    - {{check: CFG011, reason: {reason}}}")
    )
    res = resources(env, "network")
    assert len(res) > 10
    for logical_id, resource in res.items():
        assert resource["Metadata"]["cfngen"]["waivers"] == {"CFG011": reason}, logical_id
    report = lint(env)
    assert [f.rule for f in report.findings] == ["W3010"]
    assert [(f.rule, f.resource, why) for f, why in report.waived] == [
        ("CFG011", "PublicSubnet1", reason)
    ]


def test_waiver_reaches_the_component_in_every_stack_and_no_other_component(
    tmp_path: Path,
) -> None:
    reason = "the service stack is disposable"
    env = compile_text(
        tmp_path, SERVICES.format(waivers=f"      - {{check: CKV_AWS_97, reason: {reason}}}")
    )
    skip = {"id": "CKV_AWS_97", "comment": reason}
    for resource in resources(env, "service-api").values():
        assert skip in resource["Metadata"]["checkov"]["skip"]
    group = resources(env, "security")[
        "ServiceApiSecurityGroup"
    ]  # services.api, in the security stack
    assert group["Metadata"]["cfngen"]["source"] == "services.api"
    assert group["Metadata"]["checkov"]["skip"] == [skip]
    others = [
        *resources(env, "service-api2").values(),
        resources(env, "security")["ServiceApi2SecurityGroup"],
    ]
    for resource in others:  # services.api2 starts with services.api, but is another entry
        assert skip not in resource["Metadata"].get("checkov", {}).get("skip", [])


def test_blueprint_reason_replaces_the_builders_for_the_same_check(tmp_path: Path) -> None:
    text = """\
        blueprint: shop
        region: eu-west-1
        repositories:
          app:
            waivers:
              - {check: CKV_AWS_51, reason: the deploy job retags latest on purpose}
          web: {}
        environments: {dev: {}}
        """
    res = resources(compile_text(tmp_path, text), "ecr")
    app = {s["id"]: s["comment"] for s in res["AppRepository"]["Metadata"]["checkov"]["skip"]}
    web = {s["id"]: s["comment"] for s in res["WebRepository"]["Metadata"]["checkov"]["skip"]}
    assert app["CKV_AWS_51"] == "the deploy job retags latest on purpose"
    assert web["CKV_AWS_51"].startswith("tags are mutable")
    assert app["CKV_AWS_136"] == web["CKV_AWS_136"]  # the builder's other waivers remain
    assert res["AppRepository"]["Metadata"]["cfngen"]["source"] == "repositories.app"


@pytest.mark.checkov
def test_checkov_reports_a_blueprint_waiver_with_its_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if checkov_binary() is None:  # `make checkov` puts it in its own venv
        monkeypatch.setenv("CHECKOV_BIN", str(ROOT / ".checkov-venv" / "bin" / "checkov"))
        if checkov_binary() is None:
            pytest.skip("checkov is not installed")
    text = """\
        blueprint: shop
        region: eu-west-1
        repositories:
          app:
            waivers:
              - {check: CKV_AWS_51, reason: the deploy job retags latest on purpose}
        environments: {dev: {}}
        """
    report = lint(compile_text(tmp_path, text), checkov=True)
    assert report.findings == []
    waived = {(f.rule, f.resource): why for f, why in report.waived if f.tool == "checkov"}
    assert waived[("CKV_AWS_51", "AppRepository")] == "the deploy job retags latest on purpose"


# --- blueprint errors ---------------------------------------------------------------------------


def test_unknown_cfngen_check_is_a_blueprint_error_with_did_you_mean(tmp_path: Path) -> None:
    lines = errors_of(
        tmp_path, NETWORK.format(waivers="    - {check: CFG111, reason: a reason long enough}")
    )
    assert len(lines) == 1
    assert lines[0].startswith(
        "bp.yaml:5:15: network.waivers[0].check: unknown cfngen check 'CFG111' (did you mean CFG"
    )
    assert re.search(r"did you mean CFG\d{3} \(.+\)\? `cfngen checks` lists CFG001\.\.", lines[0])


@pytest.mark.parametrize("check", ["CG101", "ckv_aws_1", "E30"])
def test_a_check_id_of_no_tool_is_a_blueprint_error(tmp_path: Path, check: str) -> None:
    lines = errors_of(
        tmp_path, NETWORK.format(waivers=f"    - {{check: {check}, reason: a reason long enough}}")
    )
    assert lines == [
        f"bp.yaml:5:15: network.waivers[0].check: '{check}' is not a check ID ("
        + ("did you mean 'CKV_AWS_1'? " if check == "ckv_aws_1" else "")
        + "write a cfngen ID (CFG002, see `cfngen checks`), a cfn-lint rule ID (E3002, W1020, "
        "I3011) or a checkov ID (CKV_AWS_123, CKV2_AWS_5))"
    ]


def test_waiver_naming_a_resource_the_component_lacks_lists_its_resources(
    tmp_path: Path,
) -> None:
    lines = errors_of(
        tmp_path,
        SERVICES.format(
            waivers="      - {check: CFG002, resource: Servce, reason: a reason long enough}"
        ),
    )
    # services.api2 starts with services.api but is another entry: none of its resources
    assert lines == [
        "bp.yaml:8:35: services.api.waivers[0].resource: services.api renders no resource "
        "'Servce' (did you mean 'Service'? its resources: ExecutionRole, LogGroup, Service, "
        "ServiceApiSecurityGroup, TaskDefinition, TaskRole)"
    ]


def test_waiver_of_a_component_that_renders_nothing_is_an_error(tmp_path: Path) -> None:
    text = """\
        blueprint: shop
        region: eu-west-1
        dns:
          zone: example.com
          zone_id: Z0123456789ABCDEFGHIJ
          waivers:
            - {check: CKV_AWS_1, reason: a reason long enough}
        environments: {dev: {}}
        """
    assert errors_of(tmp_path, text) == [
        "bp.yaml:7:7: dns.waivers[0]: waiver CKV_AWS_1 applies to nothing: dns renders no "
        "resources in this environment (remove the waiver)"
    ]


def test_every_bad_waiver_is_reported_at_once(tmp_path: Path) -> None:
    lines = errors_of(
        tmp_path,
        NETWORK.format(
            waivers="    - {check: CFG011, resource: PublicSubnt1, reason: a reason long enough}\n"
            "    - {check: CFG011, resource: Vpc, reason: a reason long enough}\n"
            "    - {check: CFG011, resource: NoSuchThing, reason: a reason long enough}"
        ),
    )
    assert [line.split(": ")[1] for line in lines] == [
        "network.waivers[0].resource",
        "network.waivers[2].resource",
    ]
    assert "did you mean 'PublicSubnet1'?" in lines[0]
    assert "did you mean" not in lines[1] and "its resources: InternetGateway" in lines[1]


def test_waiver_model_accepts_the_three_kinds_of_id() -> None:
    for check in ("CFG002", "E3002", "W1020", "I3011", "CKV_AWS_123", "CKV2_AWS_5"):
        assert Waiver(check=check, reason="a reason long enough").check == check
