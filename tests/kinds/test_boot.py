"""cfn-init and signals for EC2 capacity and hosts; rolling updates of the Auto Scaling group."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

from tests.helpers import errors_of
from tests.kinds.helpers import blueprint, build

INIT = {
    "packages": ["amazon-cloudwatch-agent", "jq"],
    "files": {"/etc/app/app.conf": {"content": "level=info\n", "mode": "000640"}},
    "commands": {"01-migrate": {"command": "echo migrate", "cwd": "/etc/app"}},
    "services": {"app-agent": {"files": ["/etc/app/app.conf"]}},
    "timeout_minutes": 20,
}


def _config(meta: dict[str, Any]) -> dict[str, Any]:
    config: dict[str, Any] = meta["AWS::CloudFormation::Init"]["config"]
    return config


def test_cluster_capacity_runs_cfn_init_signals_and_rolls() -> None:
    bp = blueprint(
        cluster={
            "ec2": {
                "instance_type": "t3.small",
                "min": 2,
                "max": 4,
                "init": INIT,
                "rolling_update": {"max_batch": 1, "min_in_service": 1, "pause_minutes": 10},
            }
        },
        services={"web": {"image": {"uri": "nginx"}, "capacity": "ec2"}},
    )
    res = build(bp, "cluster")["Resources"]
    config = _config(res["LaunchTemplate"]["Metadata"])
    assert config["packages"] == {"yum": {"amazon-cloudwatch-agent": [], "jq": []}}
    assert config["files"]["/etc/app/app.conf"]["mode"] == "000640"
    assert config["commands"]["01-migrate"] == {"command": "echo migrate", "cwd": "/etc/app"}
    assert config["services"]["systemd"]["app-agent"]["files"] == ["/etc/app/app.conf"]
    user_data = res["LaunchTemplate"]["Properties"]["LaunchTemplateData"]["UserData"]
    script = user_data["Fn::Base64"]["Fn::Sub"][0]
    assert "cfn-init -v --stack ${AWS::StackName} --resource LaunchTemplate " in script
    assert "cfn-signal -e $status --stack ${AWS::StackName} --resource AutoScalingGroup " in script
    group = res["AutoScalingGroup"]
    assert group["CreationPolicy"] == {"ResourceSignal": {"Count": 2, "Timeout": "PT20M"}}
    assert group["UpdatePolicy"]["AutoScalingRollingUpdate"] == {
        "MaxBatchSize": 1,
        "MinInstancesInService": 1,
        "PauseTime": "PT10M",
        "SuspendProcesses": [
            "HealthCheck",
            "ReplaceUnhealthy",
            "AZRebalance",
            "AlarmNotification",
            "ScheduledActions",
        ],
        "WaitOnResourceSignals": True,
    }
    statements = res["InstanceRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    assert statements[0]["Action"] == [
        "cloudformation:DescribeStackResource",
        "cloudformation:SignalResource",
    ]
    assert "stack/${AWS::StackName}/*" in statements[0]["Resource"][0]["Fn::Sub"]


def test_without_init_no_signals_and_a_plain_rolling_update() -> None:
    bp = blueprint(
        cluster={"ec2": {"instance_type": "t3.small", "rolling_update": {"max_batch": 2}}},
        services={"web": {"image": {"uri": "nginx"}, "capacity": "ec2"}},
    )
    res = build(bp, "cluster")["Resources"]
    assert "Metadata" not in res["LaunchTemplate"]
    assert "CreationPolicy" not in res["AutoScalingGroup"]
    update = res["AutoScalingGroup"]["UpdatePolicy"]["AutoScalingRollingUpdate"]
    assert update["WaitOnResourceSignals"] is False and update["MaxBatchSize"] == 2
    assert update["PauseTime"] == "PT5M"  # a short settling pause between batches
    assert "Policies" not in res["InstanceRole"]["Properties"]


def test_a_host_runs_cfn_init_last_and_signals_itself() -> None:
    bp = blueprint(hosts={"app": {"instance_type": "t3.small", "init": INIT}})
    res = build(bp, "host-app")["Resources"]
    instance = res["Instance"]
    assert _config(instance["Metadata"])["commands"]["01-migrate"]["command"] == "echo migrate"
    assert instance["CreationPolicy"] == {"ResourceSignal": {"Count": 1, "Timeout": "PT20M"}}
    script = instance["Properties"]["UserData"]["Fn::Base64"]["Fn::Sub"]
    text = script[0] if isinstance(script, list) else script
    assert text.rstrip().endswith("--resource Instance --region ${AWS::Region}")


def test_a_host_runs_cfn_hup_so_a_changed_init_reaches_it() -> None:
    bp = blueprint(hosts={"app": {"instance_type": "t3.small", "init": INIT}})
    config = _config(build(bp, "host-app")["Resources"]["Instance"]["Metadata"])
    files = config["files"]
    assert list(files) == [
        "/etc/app/app.conf",
        "/etc/cfn/cfn-hup.conf",
        "/etc/cfn/hooks.d/cfn-auto-reloader.conf",
        "/etc/systemd/system/cfn-hup.service",
    ]
    assert files["/etc/cfn/cfn-hup.conf"]["content"] == {
        "Fn::Sub": "[main]\nstack=${AWS::StackId}\nregion=${AWS::Region}\ninterval=5\n"
    }
    hook = files["/etc/cfn/hooks.d/cfn-auto-reloader.conf"]["content"]["Fn::Sub"]
    assert (
        "triggers=post.update\npath=Resources.Instance.Metadata.AWS::CloudFormation::Init\n" in hook
    )
    assert "action=/opt/aws/bin/cfn-init -v --stack ${AWS::StackName} --resource Instance " in hook
    assert config["services"]["systemd"]["cfn-hup"] == {
        "enabled": "true",
        "ensureRunning": "true",
        "files": ["/etc/cfn/cfn-hup.conf", "/etc/cfn/hooks.d/cfn-auto-reloader.conf"],
    }
    assert "app-agent" in config["services"]["systemd"]


def test_cfn_hup_files_and_service_are_cfngens_on_hosts(tmp_path: Path) -> None:
    text = textwrap.dedent(
        """\
        blueprint: shop
        region: eu-west-1
        hosts:
          app:
            instance_type: t3.small
            init:
              files: {/etc/cfn/cfn-hup.conf: {content: x}}
              services: {cfn-hup: {}}
        environments: {dev: {}}
        """
    )
    assert errors_of(tmp_path, text) == [
        "bp.yaml:7:15: hosts.app.init.files./etc/cfn/cfn-hup.conf: /etc/cfn/cfn-hup.conf "
        "belongs to cfn-hup, which cfngen sets up on hosts with `init` (it applies a changed "
        "`init` to the running host) (write your file to another path)",
        "bp.yaml:8:18: hosts.app.init.services.cfn-hup: cfngen runs cfn-hup on hosts with "
        "`init` already (remove this service)",
    ]


def test_boot_errors(tmp_path: Path) -> None:
    text = textwrap.dedent(
        """\
        blueprint: shop
        region: eu-west-1
        cluster:
          ec2:
            max: 2
            rolling_update: {min_in_service: 2}
            init:
              packages: ["bad pkg"]
              services: {a: {files: [/etc/x.conf]}}
        environments: {dev: {}}
        """
    )
    errors = errors_of(tmp_path, text)
    assert errors == [
        "bp.yaml:8:18: cluster.ec2.init.packages[0]: invalid package name 'bad pkg' (a dnf "
        "package name, e.g. nginx)"
    ]
    fixed = text.replace('["bad pkg"]', "[jq]")
    assert errors_of(tmp_path, fixed) == [
        "bp.yaml:8:7: cluster.ec2.init: service a restarts on /etc/x.conf, which is not one of "
        "`files` (add it to `files`, or remove it from the service)"
    ]
    text = text.replace('      packages: ["bad pkg"]\n', "").replace(
        "      services: {a: {files: [/etc/x.conf]}}\n", "      packages: [jq]\n"
    )
    assert errors_of(tmp_path, text) == [
        "bp.yaml:5:5: cluster.ec2: rolling_update keeps 2 instances in service, but the group "
        "has at most 2: no instance could be replaced (lower min_in_service below 2)"
    ]


def _capacity(init: dict[str, Any] | None, **update: Any) -> dict[str, Any]:
    bp = blueprint(
        cluster={
            "ec2": {
                "instance_type": "t3.small",
                "max": 3,
                **({"init": init} if init is not None else {}),
                "rolling_update": {"max_batch": 1, **update},
            }
        },
        services={"web": {"image": {"uri": "nginx"}, "capacity": "ec2"}},
    )
    resources: dict[str, Any] = build(bp, "cluster")["Resources"]
    return resources


def _user_data(res: dict[str, Any]) -> str:
    data = res["LaunchTemplate"]["Properties"]["LaunchTemplateData"]["UserData"]
    text: str = data["Fn::Base64"]["Fn::Sub"][0]
    return text


def test_a_changed_init_changes_the_launch_template_data_so_the_instances_roll() -> None:
    first = _user_data(_capacity(INIT))
    assert first == _user_data(_capacity(INIT))  # deterministic
    changed = {**INIT, "packages": ["amazon-cloudwatch-agent"]}
    second = _user_data(_capacity(changed))
    assert first != second
    (marker,) = [line for line in first.splitlines() if "cfn-init configuration" in line]
    assert marker.startswith("# cfn-init configuration ") and len(marker.split()[-1]) == 16
    assert "cfn-init configuration" not in _user_data(_capacity(None))


def test_with_init_each_batch_has_the_init_timeout_to_signal_unless_told() -> None:
    update = _capacity(INIT)["AutoScalingGroup"]["UpdatePolicy"]["AutoScalingRollingUpdate"]
    assert update["PauseTime"] == "PT20M" and update["WaitOnResourceSignals"] is True
    slow = {**INIT, "timeout_minutes": 90}  # a batch waits at most an hour (PT1H)
    update = _capacity(slow)["AutoScalingGroup"]["UpdatePolicy"]["AutoScalingRollingUpdate"]
    assert update["PauseTime"] == "PT60M"
    told = _capacity(INIT, pause_minutes=12)["AutoScalingGroup"]["UpdatePolicy"]
    assert told["AutoScalingRollingUpdate"]["PauseTime"] == "PT12M"


def test_signals_need_a_way_out_and_a_batch_needs_time_to_signal(tmp_path: Path) -> None:
    text = textwrap.dedent(
        """\
        blueprint: shop
        region: eu-west-1
        network: {nat: none}
        cluster:
          ec2:
            init: {packages: [jq]}
          ec2_groups:
            big:
              instance_type: m7i.xlarge
              init: {packages: [jq]}
        hosts:
          app:
            instance_type: t3.small
            agent: false
            init: {packages: [jq]}
        environments: {dev: {}}
        """
    )
    route = "private subnets have no route to the internet (network.nat: none)"
    assert errors_of(tmp_path, text) == [
        f"bp.yaml:6:5: cluster.ec2.init: the instances run cfn-init and signal CloudFormation "
        f"at launch, but their {route} (give the network a NAT gateway (nat: single), or "
        "remove `init`)",
        f"bp.yaml:10:7: cluster.ec2_groups.big.init: the instances run cfn-init and signal "
        f"CloudFormation at launch, but their {route} (give the network a NAT gateway (nat: "
        "single), or remove `init`)",
        "bp.yaml:13:5: hosts.app.subnet: the host runs cfn-init and signals CloudFormation at "
        "boot but a private subnet has no route to the internet (network.nat: none) (set "
        "`subnet: public` with `public_ip: true`, or give the network a NAT gateway)",
    ]
    paused = textwrap.dedent(
        """\
        blueprint: shop
        region: eu-west-1
        cluster:
          ec2:
            init: {packages: [jq]}
            rolling_update: {pause_minutes: 0}
        environments: {dev: {}}
        """
    )
    assert errors_of(tmp_path, paused) == [
        "bp.yaml:5:5: cluster.ec2: rolling_update.pause_minutes is 0, but with `init` it is how "
        "long each new batch of instances has to signal: every rolling update would fail "
        "(remove pause_minutes (it then follows init.timeout_minutes) or raise it)"
    ]
