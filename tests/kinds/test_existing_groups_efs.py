"""Existing security groups and EFS file systems: cfngen writes rules on a group it does not own
and mounts a file system it did not create, and `cfngen verify` still proves both paths."""

from __future__ import annotations

import dataclasses
import textwrap
from pathlib import Path
from typing import Any

from cfngen.compiler import compile_environment
from cfngen.render import RenderedEnvironment, dump_template, load_template
from cfngen.verify import verify
from tests.helpers import errors_of, write
from tests.kinds.helpers import blueprint, build, imp

NGINX = {"uri": "public.ecr.aws/nginx/nginx", "tag": "1.27"}
DB_SG = "sg-0123456789abcdef0"
EFS_SG = "sg-0fedcba9876543210"


def _types(template: dict[str, Any]) -> list[str]:
    return sorted(r["Type"] for r in template["Resources"].values())


def test_rules_on_an_existing_group_are_separate_resources() -> None:
    bp = blueprint(
        security_groups={
            "platform-db": {"existing": {"id": {"ssm": "/platform/db-sg"}, "ports": [5432]}},
            "bastion": {
                "existing": {"id": DB_SG},
                "ingress": [
                    {"port": 22, "cidr": "10.0.0.0/8", "description": "SSH from the office"},
                    {"port": 8080, "from": "service-api", "description": "Debug port"},
                ],
            },
        },
        services={"api": {"image": NGINX, "port": 8080, "connects_to": ["platform-db"]}},
    )
    template = build(bp, "security")
    resources = template["Resources"]
    # cfngen owns only the service's group; the existing ones are never created or replaced
    assert [k for k, r in resources.items() if r["Type"] == "AWS::EC2::SecurityGroup"] == [
        "ServiceApiSecurityGroup"
    ]
    assert template["Parameters"]["PlatformDbSecurityGroupId"] == {
        "Type": "AWS::SSM::Parameter::Value<String>",
        "Default": "/platform/db-sg",
        "Description": "SSM parameter holding the existing PlatformDbSecurityGroupId",
    }
    api = {"Fn::GetAtt": ["ServiceApiSecurityGroup", "GroupId"]}
    assert resources["PlatformDbIngressTcp5432FromServiceApi"]["Properties"] == {
        "Description": "Service api to security group platform-db",
        "FromPort": 5432,
        "ToPort": 5432,
        "GroupId": {"Ref": "PlatformDbSecurityGroupId"},
        "IpProtocol": "tcp",
        "SourceSecurityGroupId": api,
    }
    assert resources["BastionIngressTcp22FromCidr"]["Type"] == "AWS::EC2::SecurityGroupIngress"
    assert resources["BastionIngressTcp22FromCidr"]["Properties"]["GroupId"] == DB_SG
    assert resources["BastionIngressTcp22FromCidr"]["Properties"]["CidrIp"] == "10.0.0.0/8"
    assert resources["BastionIngressTcp8080FromServiceApi"]["Properties"]["GroupId"] == DB_SG
    outputs = {k: v["Value"] for k, v in template["Outputs"].items()}
    assert outputs["PlatformDbSecurityGroupId"] == {"Ref": "PlatformDbSecurityGroupId"}
    assert outputs["BastionSecurityGroupId"] == DB_SG


def test_services_join_an_existing_group() -> None:
    bp = blueprint(
        security_groups={"legacy": {"existing": {"id": {"import": "platform-LegacySg"}}}},
        services={
            "api": {"image": NGINX, "port": 8080, "placement": {"security_groups": ["legacy"]}}
        },
    )
    template = build(bp, "security")
    assert "LegacySecurityGroup" not in template["Resources"]
    assert template["Outputs"]["LegacySecurityGroupId"]["Value"] == {
        "Fn::ImportValue": "platform-LegacySg"
    }
    service = build(bp, "service-api")["Resources"]["Service"]["Properties"]
    assert service["NetworkConfiguration"]["AwsvpcConfiguration"]["SecurityGroups"] == [
        imp("security", "ServiceApiSecurityGroupId"),
        imp("security", "LegacySecurityGroupId"),
    ]


def test_tasks_join_groups_and_owned_groups_name_existing_ones() -> None:
    bp = blueprint(
        security_groups={
            "legacy": {"existing": {"id": DB_SG}},
            "admin": {
                "description": "Admin tools",
                "ingress": [{"port": 443, "from": "legacy", "description": "From legacy"}],
                "egress": [{"port": 5432, "to": "legacy", "description": "To legacy"}],
            },
        },
        tasks={
            "report": {
                "image": NGINX,
                "schedule": "cron(0 3 * * ? *)",
                "placement": {"security_groups": ["legacy", "admin"]},
            }
        },
    )
    resources = build(bp, "security")["Resources"]
    ingress = resources["AdminIngressTcp443FromLegacy"]["Properties"]
    assert ingress["SourceSecurityGroupId"] == DB_SG
    assert ingress["GroupId"] == {"Fn::GetAtt": ["AdminSecurityGroup", "GroupId"]}
    egress = resources["AdminEgressTcp5432ToLegacy"]["Properties"]
    assert egress["DestinationSecurityGroupId"] == DB_SG
    schedule = build(bp, "task-report")["Resources"]["Schedule"]["Properties"]
    network = schedule["Target"]["EcsParameters"]["NetworkConfiguration"]
    assert network["AwsvpcConfiguration"]["SecurityGroups"] == [
        imp("security", "TaskReportSecurityGroupId"),
        imp("security", "LegacySecurityGroupId"),
        imp("security", "AdminSecurityGroupId"),
    ]


def test_only_existing_groups_without_rules_still_make_a_stack() -> None:
    bp = blueprint(security_groups={"legacy": {"existing": {"id": DB_SG}}})
    template = build(bp, "security")
    assert _types(template) == ["AWS::CloudFormation::WaitConditionHandle"]
    assert "network-VpcId" not in str(template)  # no group is created, so no VPC is imported
    assert template["Outputs"]["LegacySecurityGroupId"]["Value"] == DB_SG


def test_existing_group_errors(tmp_path: Path) -> None:
    head = "blueprint: shop\nregion: eu-west-1\nsecurity_groups:\n"
    tail = "environments: {dev: {}}\n"
    assert errors_of(
        tmp_path, head + "  legacy: {description: Theirs, existing: {id: " + DB_SG + "}}\n" + tail
    ) == [
        "bp.yaml:4:11: security_groups.legacy: `description` belongs to the group's owner; this "
        "group exists (remove `description` (cfngen only adds rules to an existing group))"
    ]
    assert errors_of(
        tmp_path, head + "  legacy: {egress: [], existing: {id: " + DB_SG + "}}\n" + tail
    ) == [
        "bp.yaml:4:11: security_groups.legacy: `egress` belongs to the group's owner; this "
        "group exists (remove `egress` (cfngen only adds rules to an existing group))"
    ]
    errors = errors_of(tmp_path, head + "  legacy: {existing: {id: sg-12}}\n" + tail)
    assert errors[0].startswith(
        "bp.yaml:4:27: security_groups.legacy.existing.id: 'sg-12' is not a sg ID"
    )
    assert errors_of(tmp_path, head + "  mine: {ingress: []}\n" + tail) == [
        "bp.yaml:4:9: security_groups.mine: a security group needs a `description` (say what "
        "the group is for)"
    ]


def test_connects_to_an_existing_group_needs_its_ports(tmp_path: Path) -> None:
    text = textwrap.dedent(
        f"""\
        blueprint: shop
        region: eu-west-1
        security_groups:
          platform-db: {{existing: {{id: {DB_SG}}}}}
        services:
          api:
            image: {{uri: nginx}}
            connects_to: [platform-db]
            placement: {{security_groups: [platfrom-db]}}
        environments: {{dev: {{}}}}
        """
    )
    assert errors_of(tmp_path, text) == [
        "bp.yaml:8:19: services.api.connects_to[0]: unknown connection target 'platform-db' "
        "(known connection targets: api)",
        "bp.yaml:9:35: services.api.placement.security_groups[0]: unknown security group "
        "'platfrom-db' (did you mean 'platform-db'?)",
    ]
    text = text.replace(f"id: {DB_SG}", f"id: {DB_SG}, ports: [5432]")
    text = text.replace("services:\n", "services:\n  platform-db: {image: {uri: nginx}}\n")
    text = text.replace("[platfrom-db]", "[platform-db]")
    assert errors_of(tmp_path, text) == [
        "bp.yaml:4:3: security_groups.platform-db: existing group 'platform-db' with `ports` is "
        "a connection target, and so is the component 'platform-db' (rename the group)"
    ]


def test_bridge_tasks_cannot_join_more_groups(tmp_path: Path) -> None:
    text = textwrap.dedent(
        f"""\
        blueprint: shop
        region: eu-west-1
        security_groups:
          legacy: {{existing: {{id: {DB_SG}}}}}
        cluster: {{ec2: {{instance_type: t3.small}}}}
        services:
          api:
            image: {{uri: nginx}}
            capacity: ec2
            network_mode: bridge
            placement: {{security_groups: [legacy]}}
        environments: {{dev: {{}}}}
        """
    )
    assert errors_of(tmp_path, text) == [
        "bp.yaml:11:34: services.api.placement.security_groups: tasks in bridge mode use the "
        "container instances' security group (use network_mode: awsvpc, or remove "
        "`security_groups`)"
    ]


# --- file systems ---------------------------------------------------------------------------

EXISTING_FS = {
    "existing": {
        "id": {"ssm": "/platform/efs-id"},
        "security_group": "platform-efs",
        "access_points": {"media": "fsap-0123456789abcdef0"},
    },
    "access_points": {"cache": {"uid": 1000, "gid": 1000, "path": "/cache"}},
}


def _fs_blueprint(**fs: Any) -> Any:
    return blueprint(
        security_groups={"platform-efs": {"existing": {"id": EFS_SG}}},
        file_systems={"shared": {**EXISTING_FS, **fs}},
        services={
            "api": {
                "image": NGINX,
                "volumes": [
                    {"file_system": "shared", "access_point": "media", "path": "/media"},
                    {
                        "file_system": "shared",
                        "access_point": "cache",
                        "path": "/cache",
                        "read_only": True,
                    },
                ],
            }
        },
    )


def test_an_existing_file_system_is_mounted_not_created() -> None:
    bp = _fs_blueprint()
    template = build(bp, "efs-shared")
    # only the access point cfngen creates: no file system, mount targets or policy
    assert _types(template) == ["AWS::EFS::AccessPoint"]
    fs_id = {"Ref": "ExistingFileSystemId"}
    assert template["Parameters"]["ExistingFileSystemId"]["Default"] == "/platform/efs-id"
    assert template["Resources"]["CacheAccessPoint"]["Properties"]["FileSystemId"] == fs_id
    outputs = {k: v["Value"] for k, v in template["Outputs"].items()}
    assert outputs["FileSystemId"] == fs_id
    arn = "arn:${AWS::Partition}:elasticfilesystem:${AWS::Region}:${AWS::AccountId}:"
    assert outputs["FileSystemArn"] == {"Fn::Sub": [arn + "file-system/${Id}", {"Id": fs_id}]}
    media = "fsap-0123456789abcdef0"
    assert outputs["MediaAccessPointId"] == media
    assert outputs["MediaAccessPointArn"] == {
        "Fn::Sub": [arn + "access-point/${Id}", {"Id": media}]
    }
    assert outputs["CacheAccessPointId"] == {"Ref": "CacheAccessPoint"}
    # the mount targets' existing group admits NFS from the tasks; no efs-shared group exists
    security = build(bp, "security")["Resources"]
    assert "EfsSharedSecurityGroup" not in security
    rule = security["PlatformEfsIngressTcp2049FromServiceApi"]["Properties"]
    assert rule["GroupId"] == EFS_SG and rule["FromPort"] == 2049
    # the task role mounts through each access point; writes only through the writable one
    statements = build(bp, "service-api")["Resources"]["TaskRole"]["Properties"]["Policies"][0]
    by_point = {
        s["Condition"]["StringEquals"]["elasticfilesystem:AccessPointArn"]["Fn::ImportValue"][
            "Fn::Sub"
        ].rsplit("-", 1)[1]: s["Action"]
        for s in statements["PolicyDocument"]["Statement"]
        if "Condition" in s
    }
    assert by_point == {
        "MediaAccessPointArn": ["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"],
        "CacheAccessPointArn": ["elasticfilesystem:ClientMount"],
    }


def test_an_existing_file_system_with_only_existing_access_points() -> None:
    bp = blueprint(
        security_groups={"platform-efs": {"existing": {"id": EFS_SG}}},
        file_systems={"shared": {"existing": {**EXISTING_FS["existing"]}}},
    )
    template = build(bp, "efs-shared")
    assert _types(template) == ["AWS::CloudFormation::WaitConditionHandle"]


def test_existing_file_system_errors(tmp_path: Path) -> None:
    head = textwrap.dedent(
        f"""\
        blueprint: shop
        region: eu-west-1
        security_groups:
          platform-efs: {{existing: {{id: {EFS_SG}}}}}
        file_systems:
        """
    )
    tail = "environments: {dev: {}}\n"

    def errors(entry: str) -> list[str]:
        return errors_of(tmp_path, head + "  shared: " + entry + "\n" + tail)

    ex = "existing: {id: fs-0123456789abcdef0, security_group: platform-efs"
    assert errors("{backups: false, " + ex + ", access_points: {a: fsap-0123456789abcdef0}}}") == [
        "bp.yaml:6:11: file_systems.shared: `backups` configures a file system cfngen creates; "
        "this one exists (remove `backups` (configure the existing file system itself))"
    ]
    assert errors("{" + ex + "}}") == [
        "bp.yaml:6:11: file_systems.shared: an existing file system needs at least one access "
        "point to mount through (name one under `existing.access_points`, or create one under "
        "`access_points`)"
    ]
    point = "{uid: 1, gid: 1, path: /a}"
    assert errors(
        "{access_points: {a: "
        + point
        + "}, "
        + ex
        + ", access_points: {a: fsap-0123456789abcdef0}}}"
    ) == [
        "bp.yaml:6:11: file_systems.shared: access point 'a' is both created and existing "
        "(rename one of them)"
    ]
    found = errors(
        "{access_points: {a: " + point + "}, " + ex.replace("platform-efs", "efs") + "}}"
    )
    assert found == [
        "bp.yaml:6:113: file_systems.shared.existing.security_group: unknown security group 'efs' "
        "(known security groups: platform-efs)"
    ]
    found = errors(
        "{existing: {id: fs-1, security_group: platform-efs, access_points: {a: fsap-2}}}"
    )
    assert found[0].startswith("bp.yaml:6:27: file_systems.shared.existing.id: 'fs-1' is not")
    assert found[1].startswith(
        "bp.yaml:6:78: file_systems.shared.existing.access_points: 'fsap-2' is not"
    )
    assert errors("{access_points: {}}") == [
        "bp.yaml:6:11: file_systems.shared: a file system needs at least one access point (add "
        "one under `access_points` (tasks mount through it))"
    ]


# --- the verifier ---------------------------------------------------------------------------

VERIFIED = textwrap.dedent(
    f"""\
    blueprint: shop
    region: eu-west-1
    network:
      existing: {{vpc_id: vpc-0123456789abcdef0, private_subnets: {{ssm: /platform/private}}}}
    security_groups:
      platform-db: {{existing: {{id: {{ssm: /platform/db-sg}}, ports: [5432]}}}}
      platform-efs: {{existing: {{id: {EFS_SG}}}}}
    file_systems:
      shared:
        existing:
          id: fs-0123456789abcdef0
          security_group: platform-efs
          access_points: {{media: fsap-0123456789abcdef0}}
    services:
      api:
        image: {{uri: nginx}}
        connects_to: [platform-db]
        egress: [{{port: 443, cidr: 0.0.0.0/0, description: HTTPS out}}]
        volumes: [{{file_system: shared, access_point: media, path: /media}}]
    environments: {{dev: {{}}}}
    """
)


def _without(rendered: RenderedEnvironment, component: str, *logical_ids: str) -> Any:
    """The environment with resources removed from one stack (a broken wire)."""
    stacks = []
    for s in rendered.stacks:
        if s.component == component:
            body = load_template(s.body)
            for lid in logical_ids:
                del body["Resources"][lid]
            s = dataclasses.replace(s, body=dump_template(body))
        stacks.append(s)
    return dataclasses.replace(rendered, stacks=tuple(stacks))


def _messages(rendered: RenderedEnvironment) -> list[str]:
    return [f"{f.rule} {f.message}" for f in verify(rendered).findings]


def test_verify_proves_relations_to_existing_groups(tmp_path: Path) -> None:
    rendered = compile_environment(write(tmp_path, VERIFIED), "dev")
    assert _messages(rendered) == []
    security = load_template(next(s.body for s in rendered.stacks if s.component == "security"))
    assert security["Metadata"]["cfngen"]["existing_security_groups"] == {
        "platform-db": "PlatformDbSecurityGroupId",
        "platform-efs": "PlatformEfsSecurityGroupId",
    }
    broken = _without(
        rendered,
        "security",
        "PlatformDbIngressTcp5432FromServiceApi",
        "ServiceApiEgressTcp2049ToPlatformEfs",
    )
    assert _messages(broken) == [
        "CFG023 Service api mounts file system shared: port 2049 cannot leave: group service-api "
        "has no egress to platform-efs",
        "CFG023 output PlatformDbSecurityGroupId: Service api to security group platform-db: "
        "port 5432 is not admitted: group platform-db has no ingress from service-api",
    ]
    broken = _without(rendered, "security", "PlatformEfsIngressTcp2049FromServiceApi")
    assert _messages(broken) == [
        "CFG023 output PlatformEfsSecurityGroupId: Service api mounts file system shared: port "
        "2049 is not admitted: group platform-efs has no ingress from service-api",
    ]


def test_verify_proves_the_task_role_mounts_an_existing_file_system(tmp_path: Path) -> None:
    rendered = compile_environment(write(tmp_path, VERIFIED), "dev")
    stacks = []
    for s in rendered.stacks:
        if s.component == "service-api":
            s = dataclasses.replace(
                s, body=s.body.replace("elasticfilesystem:ClientWrite", "elasticfilesystem:Nope")
            )
        stacks.append(s)
    found = _messages(dataclasses.replace(rendered, stacks=tuple(stacks)))
    assert found == [
        "CFG028 role TaskRole cannot use shared (read-write): missing "
        "elasticfilesystem:ClientWrite on arn:aws:elasticfilesystem:eu-west-1:*:file-system/"
        "fs-0123456789abcdef0"
    ]
