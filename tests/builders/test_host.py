"""EC2 hosts, asserted by what the stacks render."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cfngen.render import load_template
from tests.helpers import compile_text

BP = """\
blueprint: shop
region: eu-west-1
network: {nat: none}
load_balancers:
  public:
    type: application
    scheme: internet-facing
    certificate: "arn:aws:acm:eu-west-1:123456789012:certificate/abc-123"
buckets:
  artifacts: {}
alerts: {emails: [ops@example.com]}
hosts:
  app:
    instance_type: t4g.xlarge
    subnet: public
    public_ip: true
    data_volume: {size_gb: 200, mount: /data}
    compose: {bucket: artifacts, key: compose/app.yml}
    target_group:
      port: 8080
      load_balancer: public
      host: api.example.com
      health_check: {path: /actuator/health}
    ssh_cidrs: [198.51.100.0/24]
  worker:
    instance_type: m7i.large
    compose: {inline: "services: {}\\n"}
    agent: false
environments:
  prod:
    network: {nat: single}
"""


def stack(tmp_path: Path, component: str) -> dict[str, Any]:
    return load_template(compile_text(tmp_path, BP, "prod").stack(component).body)


def test_instance_uses_al2023_by_architecture_and_requires_imdsv2(tmp_path: Path) -> None:
    t = stack(tmp_path, "host-app")
    assert t["Parameters"]["ImageId"] == {
        "Type": "AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>",
        "Default": "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64",
        "Description": "Amazon Linux 2023 AMI (latest, via the public SSM parameter)",
    }
    p = t["Resources"]["Instance"]["Properties"]
    assert p["MetadataOptions"]["HttpTokens"] == "required"
    assert p["BlockDeviceMappings"][0]["Ebs"]["Encrypted"] is True
    (nic,) = p["NetworkInterfaces"]
    assert nic["AssociatePublicIpAddress"] is True
    worker = stack(tmp_path, "host-worker")
    assert worker["Parameters"]["ImageId"]["Default"].endswith("-x86_64")
    assert "NetworkInterfaces" not in worker["Resources"]["Instance"]["Properties"]


def test_data_volume_is_encrypted_gp3_snapshotted_and_attached(tmp_path: Path) -> None:
    res = stack(tmp_path, "host-app")["Resources"]
    vol = res["DataVolume"]
    assert vol["DeletionPolicy"] == vol["UpdateReplacePolicy"] == "Snapshot"
    assert vol["Properties"]["Encrypted"] is True and vol["Properties"]["VolumeType"] == "gp3"
    assert vol["Properties"]["Size"] == 200
    assert vol["Properties"]["AvailabilityZone"] == {"Fn::Select": [0, {"Fn::GetAZs": ""}]}
    assert res["DataVolumeAttachment"]["Properties"] == {
        "Device": "/dev/sdf",
        "InstanceId": {"Ref": "Instance"},
        "VolumeId": {"Ref": "DataVolume"},
    }


def test_user_data_installs_docker_mounts_the_volume_and_starts_compose(tmp_path: Path) -> None:
    p = stack(tmp_path, "host-app")["Resources"]["Instance"]["Properties"]
    script, variables = p["UserData"]["Fn::Base64"]["Fn::Sub"]
    assert "dnf install -y docker amazon-cloudwatch-agent" in script
    assert 'vol="${DataVolume}"' in script
    assert "${!vol//-/}" in script  # shell expansion escaped from Fn::Sub
    assert "aws s3 cp s3://${ComposeBucket}/compose/app.yml /opt/app/docker-compose.yml" in script
    assert "systemctl enable --now compose-app.service" in script
    assert variables == {
        "ComposeBucket": {
            "Fn::ImportValue": {"Fn::Sub": "${EnvironmentName}-bucket-artifacts-BucketName"}
        }
    }
    worker = stack(tmp_path, "host-worker")["Resources"]["Instance"]["Properties"]
    text = worker["UserData"]["Fn::Base64"]["Fn::Sub"]
    assert "services: {}" in text and "amazon-cloudwatch-agent" not in text


def test_instance_role_is_ssm_ecr_pull_and_logs_only(tmp_path: Path) -> None:
    role = stack(tmp_path, "host-app")["Resources"]["Role"]["Properties"]
    assert role["ManagedPolicyArns"] == [
        {"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/AmazonSSMManagedInstanceCore"},
        {"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"},
    ]
    statements = {s["Sid"]: s for s in role["Policies"][0]["PolicyDocument"]["Statement"]}
    assert sorted(statements) == ["AgentMetrics", "ContainerLogs", "ReadComposeFile"]
    assert statements["AgentMetrics"]["Condition"] == {
        "StringEquals": {"cloudwatch:namespace": "CWAgent"}
    }
    assert statements["ReadComposeFile"]["Resource"] == [
        {
            "Fn::Sub": [
                "${Arn}/compose/app.yml",
                {
                    "Arn": {
                        "Fn::ImportValue": {
                            "Fn::Sub": "${EnvironmentName}-bucket-artifacts-BucketArn"
                        }
                    }
                },
            ]
        }
    ]


def test_target_group_of_type_instance_with_a_listener_rule(tmp_path: Path) -> None:
    res = stack(tmp_path, "host-app")["Resources"]
    tg = res["TargetGroup"]["Properties"]
    assert (tg["TargetType"], tg["Port"], tg["HealthCheckPath"]) == (
        "instance",
        8080,
        "/actuator/health",
    )
    assert tg["Matcher"] == {"HttpCode": "200-399"}
    assert tg["Targets"] == [{"Id": {"Ref": "Instance"}, "Port": 8080}]
    rule = res["ListenerRule"]["Properties"]
    assert rule["ListenerArn"] == {
        "Fn::ImportValue": {"Fn::Sub": "${EnvironmentName}-lb-public-Listener443Arn"}
    }
    assert [c["Field"] for c in rule["Conditions"]] == ["host-header", "path-pattern"]


def test_ssh_only_from_listed_cidrs_and_8080_only_from_the_load_balancer(tmp_path: Path) -> None:
    res = stack(tmp_path, "security")["Resources"]
    group = res["HostAppSecurityGroup"]["Properties"]
    assert group["SecurityGroupIngress"] == [
        {
            "CidrIp": "198.51.100.0/24",
            "Description": "SSH from 198.51.100.0/24",
            "FromPort": 22,
            "ToPort": 22,
            "IpProtocol": "tcp",
        }
    ]
    ingress = [
        v["Properties"]
        for v in res.values()
        if v["Type"] == "AWS::EC2::SecurityGroupIngress"
        and v["Properties"]["GroupId"] == {"Fn::GetAtt": ["HostAppSecurityGroup", "GroupId"]}
    ]
    assert [(r["FromPort"], r["SourceSecurityGroupId"]) for r in ingress] == [
        (8080, {"Fn::GetAtt": ["LbPublicSecurityGroup", "GroupId"]})
    ]
    assert "SecurityGroupIngress" not in res["HostWorkerSecurityGroup"]["Properties"]


def test_alarms_for_memory_and_both_disks_notify_the_alerts_topic(tmp_path: Path) -> None:
    res = stack(tmp_path, "host-app")["Resources"]
    alarms = {k: v["Properties"] for k, v in res.items() if v["Type"] == "AWS::CloudWatch::Alarm"}
    assert sorted(alarms) == [
        "CpuAlarm",
        "DataDiskAlarm",
        "MemoryAlarm",
        "RootDiskAlarm",
        "StatusCheckAlarm",
        "Target5xxAlarm",
        "UnhealthyAlarm",
    ]
    assert alarms["Target5xxAlarm"]["Dimensions"] == [
        {
            "Name": "LoadBalancer",
            "Value": {
                "Fn::Select": [
                    1,
                    {
                        "Fn::Split": [
                            "loadbalancer/",
                            {
                                "Fn::ImportValue": {
                                    "Fn::Sub": "${EnvironmentName}-lb-public-LoadBalancerArn"
                                }
                            },
                        ]
                    },
                ]
            },
        },
        {"Name": "TargetGroup", "Value": {"Fn::GetAtt": ["TargetGroup", "TargetGroupFullName"]}},
    ]
    assert alarms["DataDiskAlarm"]["Dimensions"] == [
        {"Name": "InstanceId", "Value": {"Ref": "Instance"}},
        {"Name": "path", "Value": "/data"},
    ]
    assert alarms["MemoryAlarm"]["AlarmActions"] == [
        {"Fn::ImportValue": {"Fn::Sub": "${EnvironmentName}-alerts-TopicArn"}}
    ]


SECRETS = """\
blueprint: shop
region: eu-west-1
databases:
  app-db: {engine: postgres}
hosts:
  app:
    instance_type: t4g.small
    compose: {inline: "services: {}"}
    connects_to: [app-db]
    secrets:
      DB_PASSWORD: {from: app-db, attribute: secret_arn, key: password}
      API_KEY: "ssm:/shop/prod/api-key"
      TOKEN: "secretsmanager:shop/token#value"
    environment:
      DB_HOST: {from: app-db, attribute: endpoint}
environments:
  prod: {}
"""


def test_secrets_and_values_reach_the_env_file_by_reference_only(tmp_path: Path) -> None:
    rendered = compile_text(tmp_path, SECRETS, "prod")
    host = rendered.stack("host-app")
    assert "database-app-db" in host.depends_on
    res = load_template(host.body)["Resources"]
    script, variables = res["Instance"]["Properties"]["UserData"]["Fn::Base64"]["Fn::Sub"]
    assert "dnf install -y docker amazon-cloudwatch-agent jq" in script
    assert "ExecStartPre=/usr/local/bin/compose-env" in script
    assert (
        "aws ssm get-parameter --region ${AWS::Region} --with-decryption "
        "--name '/shop/prod/api-key' --query Parameter.Value --output text" in script
    )
    assert (
        "--secret-id '${Secret2}' --query SecretString --output text | jq -er '.[\"password\"]'"
        in script
    )
    assert "printf \"%s='%s'\\n\" DB_HOST '${Secret4}' >> \"$tmp\"" in script
    assert variables == {
        "Secret2": {"Fn::ImportValue": {"Fn::Sub": "${EnvironmentName}-database-app-db-SecretArn"}},
        "Secret4": {"Fn::ImportValue": {"Fn::Sub": "${EnvironmentName}-database-app-db-Endpoint"}},
    }
    statements = {
        s["Sid"]: s["Resource"]
        for s in res["Role"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    }
    assert statements["ReadProjectSecrets"] == [
        {"Fn::ImportValue": {"Fn::Sub": "${EnvironmentName}-database-app-db-SecretArn"}},
        {
            "Fn::Sub": "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:"
            "secret:shop/token-??????"
        },
    ]
    assert statements["ReadProjectParameters"] == [
        {
            "Fn::Sub": "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:"
            "parameter/shop/prod/api-key"
        }
    ]
