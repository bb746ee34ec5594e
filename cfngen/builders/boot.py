"""cfn-init metadata, the boot lines that run it and signal CloudFormation, the creation and
update policies that wait for those signals, and the IAM statement the instance needs to send
them. Shared by the cluster's EC2 capacity (a launch template and an Auto Scaling group) and
hosts (one instance)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from troposphere import Sub
from troposphere.policies import (
    AutoScalingRollingUpdate,
    CreationPolicy,
    ResourceSignal,
    UpdatePolicy,
)

from cfngen.blueprint.models.boot import Init, RollingUpdate
from cfngen.builders.iam import statement

# cfn-hup: what a long-lived instance (a host) runs so a changed `init` reaches it. cfn-init
# runs once at boot; on a stack update CloudFormation changes only the instance's metadata, and
# cfn-hup polls it and runs cfn-init again when it changed (AWS's cfn-hup reference).
CFN_HUP_CONF = "/etc/cfn/cfn-hup.conf"
CFN_HUP_HOOK = "/etc/cfn/hooks.d/cfn-auto-reloader.conf"
CFN_HUP_UNIT = "/etc/systemd/system/cfn-hup.service"
CFN_HUP_SERVICE = "cfn-hup"
CFN_HUP_INTERVAL_MINUTES = 5


def _reloader_files(resource: str) -> dict[str, Any]:
    """cfn-hup's configuration, its hook that re-runs cfn-init, and its systemd unit."""
    return {
        CFN_HUP_CONF: {
            "content": Sub(
                "[main]\nstack=${AWS::StackId}\nregion=${AWS::Region}\n"
                f"interval={CFN_HUP_INTERVAL_MINUTES}\n"
            ),
            "mode": "000400",
            "owner": "root",
            "group": "root",
        },
        CFN_HUP_HOOK: {
            "content": Sub(
                "[cfn-auto-reloader-hook]\ntriggers=post.update\n"
                f"path=Resources.{resource}.Metadata.AWS::CloudFormation::Init\n"
                "action=/opt/aws/bin/cfn-init -v --stack ${AWS::StackName} "
                f"--resource {resource} --region ${{AWS::Region}}\nrunas=root\n"
            ),
            "mode": "000400",
            "owner": "root",
            "group": "root",
        },
        CFN_HUP_UNIT: {
            "content": "[Unit]\nDescription=cfn-hup daemon\n[Service]\nType=simple\n"
            "ExecStart=/opt/aws/bin/cfn-hup\nRestart=always\n[Install]\n"
            "WantedBy=multi-user.target\n",
            "mode": "000644",
            "owner": "root",
            "group": "root",
        },
    }


def init_metadata(init: Init, reload: str | None = None) -> dict[str, Any]:
    """`AWS::CloudFormation::Init` with one config. With `reload` (the resource's logical ID),
    cfn-hup re-runs it on that resource when a stack update changes it."""
    config: dict[str, Any] = {}
    if init.packages:
        config["packages"] = {"yum": {name: [] for name in sorted(init.packages)}}
    files: dict[str, Any] = {
        path: {"content": f.content, "mode": f.mode, "owner": f.owner, "group": f.group}
        for path, f in init.files.items()
    }
    if reload is not None:
        files.update(_reloader_files(reload))
    if files:
        config["files"] = dict(sorted(files.items()))
    if init.commands:
        commands: dict[str, Any] = {}
        for name, c in sorted(init.commands.items()):
            entry: dict[str, Any] = {"command": c.command}
            if c.cwd:
                entry["cwd"] = c.cwd
            if c.env:
                entry["env"] = dict(sorted(c.env.items()))
            if c.test:
                entry["test"] = c.test
            if c.ignore_errors:
                entry["ignoreErrors"] = "true"
            commands[name] = entry
        config["commands"] = commands
    services: dict[str, Any] = {
        name: {
            "enabled": "true" if s.enabled else "false",
            "ensureRunning": "true" if s.ensure_running else "false",
            **({"files": list(s.files)} if s.files else {}),
        }
        for name, s in init.services.items()
    }
    if reload is not None:
        services[CFN_HUP_SERVICE] = {
            "enabled": "true",
            "ensureRunning": "true",
            "files": [CFN_HUP_CONF, CFN_HUP_HOOK],
        }
    if services:
        config["services"] = {"systemd": dict(sorted(services.items()))}
    return {"AWS::CloudFormation::Init": {"config": config}}


def boot_lines(init_resource: str, signal_resource: str) -> str:
    """Shell lines (Fn::Sub text) that run cfn-init for `init_resource` and send its exit code
    to `signal_resource`; the script carries on either way, CloudFormation decides."""
    return (
        "dnf install -y aws-cfn-bootstrap\n"
        "/opt/aws/bin/cfn-init -v --stack ${AWS::StackName} "
        f"--resource {init_resource} --region ${{AWS::Region}} && status=0 || status=$?\n"
        "/opt/aws/bin/cfn-signal -e $status --stack ${AWS::StackName} "
        f"--resource {signal_resource} --region ${{AWS::Region}}\n"
    )


def creation_policy(init: Init, count: int) -> CreationPolicy:
    """Wait for `count` success signals (one per instance launched at creation)."""
    return CreationPolicy(
        ResourceSignal=ResourceSignal(Count=count, Timeout=f"PT{init.timeout_minutes}M")
    )


# What AWS recommends suspending during a rolling update, so Auto Scaling does not replace,
# rebalance or scale the group under CloudFormation (which then fails the update): health-check
# replacements, AZ rebalancing, scaling policies' alarms (ECS managed scaling's too) and
# scheduled actions. Launch and Terminate stay: the update itself needs them.
SUSPENDED_DURING_UPDATE = (
    "HealthCheck",
    "ReplaceUnhealthy",
    "AZRebalance",
    "AlarmNotification",
    "ScheduledActions",
)


def rolling_update(update: RollingUpdate, init: Init | None) -> UpdatePolicy:
    """Replace instances a batch at a time; with cfn-init, each new batch must signal."""
    return UpdatePolicy(
        AutoScalingRollingUpdate=AutoScalingRollingUpdate(
            MaxBatchSize=update.max_batch,
            MinInstancesInService=update.min_in_service,
            PauseTime=f"PT{update.pause(init)}M",
            SuspendProcesses=list(SUSPENDED_DURING_UPDATE),
            WaitOnResourceSignals=init is not None,
        )
    )


def init_marker(init: Init) -> str:
    """A user-data comment with a digest of the cfn-init configuration. Metadata is not part
    of the launch template's data, so without it a changed `init` would make no new launch
    template version and roll no instance; with it, the change rolls them like any other."""
    text = json.dumps(init_metadata(init), sort_keys=True, separators=(",", ":"))
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    return f"# cfn-init configuration {digest}\n"


def signal_statement() -> Any:
    """What an instance needs to read its cfn-init metadata and signal: its own stack only."""
    return statement(
        ["cloudformation:DescribeStackResource", "cloudformation:SignalResource"],
        [
            Sub(
                "arn:${AWS::Partition}:cloudformation:${AWS::Region}:${AWS::AccountId}:"
                "stack/${AWS::StackName}/*"
            )
        ],
        Sid="CfnInitAndSignal",
    )
