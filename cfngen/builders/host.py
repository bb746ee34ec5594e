"""EC2 hosts running a Docker Compose project: one stack `host-<name>` each.

The instance boots the latest Amazon Linux 2023 (public SSM parameter, arm64 or x86_64), requires
IMDSv2, and has an instance profile with exactly Session Manager, ECR pull and CloudWatch Logs
(plus agent metrics and the compose object when used). User data installs Docker and the Compose
plugin, mounts the encrypted gp3 data volume (a separate volume with `Snapshot` policies, so
replacing the instance keeps the data), sends container logs to the host's log group (Docker's
awslogs driver) and starts the project. A `target_group` registers the instance for a load
balancer and adds a listener rule there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from awacs import cloudwatch as awacs_cw
from awacs import logs as awacs_logs
from awacs import s3 as awacs_s3
from awacs import secretsmanager as awacs_sm
from awacs import ssm as awacs_ssm
from awacs.aws import Allow, Condition, PolicyDocument, Statement, StringEquals
from troposphere import (
    Base64,
    GetAtt,
    GetAZs,
    Parameter,
    Ref,
    Select,
    Split,
    Sub,
    ec2,
    iam,
)
from troposphere import elasticloadbalancingv2 as elb

from cfngen.blueprint.models import Blueprint, SecurityGroup
from cfngen.blueprint.models.hosts import Host
from cfngen.builders import network, ops, security
from cfngen.builders.base import Context, StackPlan
from cfngen.builders.common import log_group, service_trust, waive
from cfngen.builders.relations import Attribute, targets
from cfngen.builders.relations import attributes as attributes_of
from cfngen.builders.security import Derived, Relation
from cfngen.stacks import Output

INSTANCE_ID = "InstanceId"
PRIVATE_DNS = "PrivateDnsName"
TARGET_GROUP_ARN = "TargetGroupArn"
LOG_GROUP = "LogGroupName"
DATA_DEVICE = "/dev/sdf"

AMI_PARAMETER = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-{arch}"


def component(name: str) -> str:
    return f"host-{name}"


@dataclass(frozen=True)
class ListenerRule:
    load_balancer: str  # stack component of the load balancer
    listener_output: str
    arn_output: str  # the load balancer's ARN (for the alarms' LoadBalancer dimension)
    priority: int
    host: str | None
    path: str | None


@dataclass(frozen=True)
class SecretRef:
    """One variable of the project's .env and where its value comes from."""

    var: str
    source: str  # "arn" (an imported secret ARN), "secretsmanager" (a name), "ssm" (a path)
    # or "value" (an imported plain value, written as is)
    ref: Output | str
    key: str | None


@dataclass(frozen=True)
class HostSpec:
    name: str
    host: Host
    rule: ListenerRule | None
    compose_bucket: tuple[Output, Output] | None = None  # (name, arn) of a blueprint bucket
    secrets: tuple[SecretRef, ...] = ()


def secret_refs(bp: Blueprint, host: Host) -> tuple[SecretRef, ...]:
    """The host's secrets resolved to imports, names and paths (unknown ones are skipped: the
    semantic checks report them)."""
    attrs = attributes_of(bp)
    out = []
    for var, s in sorted(host.secrets.items()):
        if s.from_ is not None:
            found = attrs.get(s.from_, {}).get(s.attribute or "")
            if found is not None and found.kind == "secret_arn":
                out.append(SecretRef(var, "arn", found.output, s.key))
        elif s.secretsmanager is not None:
            out.append(SecretRef(var, "secretsmanager", s.secretsmanager, s.key))
        elif s.ssm is not None:
            out.append(SecretRef(var, "ssm", s.ssm, None))
    for var, v in sorted(host.environment.items()):
        found = attrs.get(v.from_, {}).get(v.attribute)
        if found is not None and found.kind == "value":
            out.append(SecretRef(var, "value", found.output, None))
    return tuple(out)


def _listener(bp: Blueprint, name: str, host: Host) -> ListenerRule | None:
    tg = host.target_group
    if tg is None or tg.load_balancer is None or tg.load_balancer not in bp.load_balancers:
        return None
    from cfngen.builders.containers import LB_ARN, lb_key, listener_output

    lb = bp.load_balancers[tg.load_balancer]
    return ListenerRule(
        lb_key(tg.load_balancer),
        listener_output(lb.main_port),
        LB_ARN,
        tg.priority,
        tg.host,
        tg.path,
    )


def plan(bp: Blueprint) -> Sequence[StackPlan[Any]]:
    plans = []
    for name, host in bp.hosts.items():
        rule = _listener(bp, name, host)
        deps = [network.COMPONENT, security.COMPONENT, *ops.alerts_dependency(bp)]
        sources: dict[str, tuple[str | int, ...]] = {}
        bucket = None
        secrets = secret_refs(bp, host)
        for ref in secrets:
            if isinstance(ref.ref, Output):
                deps.append(ref.ref.component)
                sources.setdefault(ref.ref.component, ("hosts", name, "secrets", ref.var))
        if host.compose is not None and host.compose.bucket is not None:
            found = attributes_of(bp).get(host.compose.bucket, {})
            if "name" in found and "arn" in found:
                bucket = (found["name"].output, found["arn"].output)
                deps.append(bucket[0].component)
                sources[bucket[0].component] = ("hosts", name, "compose", "bucket")
        if rule is not None:
            deps.append(rule.load_balancer)
            sources[rule.load_balancer] = ("hosts", name, "target_group", "load_balancer")
        plans.append(
            StackPlan(
                component=component(name),
                title=f"EC2 host {name}",
                build=build,
                spec=HostSpec(name, host, rule, bucket, secrets),
                depends_on=tuple(dict.fromkeys(deps)),
                source=("hosts", name),
                dependency_sources=sources,
            )
        )
    return plans


def groups(bp: Blueprint) -> Derived:
    out = Derived()
    known = targets(bp)
    for name, host in bp.hosts.items():
        key = component(name)
        ingress = list(host.ingress)
        for cidr in host.ssh_cidrs:
            from cfngen.blueprint.models import IngressRule

            ingress.append(IngressRule(port=22, cidr=cidr, description=f"SSH from {cidr}"))
        out.groups[key] = SecurityGroup(description=f"EC2 host {name}", ingress=ingress)
        out.sources[key] = ("hosts", name)
        for i, target in enumerate(host.connects_to):
            t = known.get(target)
            if t is None:
                continue  # reported by check_hosts
            for port in t.ports:
                out.relations.append(
                    Relation(key, t.group, port, f"Host {name} to {t.kind} {target}")
                )
            _ = i
        tg = host.target_group
        if tg is not None and tg.load_balancer is not None:
            from cfngen.builders.containers import lb_key

            out.relations.append(
                Relation(
                    lb_key(tg.load_balancer),
                    key,
                    tg.port,
                    f"Load balancer {tg.load_balancer} to host {name}",
                )
            )
    return out


def attributes(bp: Blueprint) -> dict[str, dict[str, Attribute]]:
    out: dict[str, dict[str, Attribute]] = {}
    for name, host in bp.hosts.items():
        c = component(name)
        out[name] = {
            "instance_id": Attribute(Output(c, INSTANCE_ID), "value", "EC2 instance ID"),
            "private_dns": Attribute(Output(c, PRIVATE_DNS), "value", "Private DNS name"),
        }
        if host.target_group is not None:
            out[name]["target_group_arn"] = Attribute(
                Output(c, TARGET_GROUP_ARN), "value", "Target group (type instance)"
            )
    return out


# --- user data ------------------------------------------------------------------------------


def _sub_escape(text: str) -> str:
    """Make shell text literal inside Fn::Sub (`${x}` -> `${!x}`)."""
    return text.replace("${", "${!")


def _env_script(directory: str, secrets: Sequence[SecretRef]) -> list[str]:
    """/usr/local/bin/compose-env: writes the project's .env from its secrets (mode 600)."""
    lines = [
        "cat > /usr/local/bin/compose-env <<'EOF'",
        "#!/bin/bash",
        "# Generated by cfngen: the compose project's .env, read from its secrets at every start.",
        "set -euo pipefail",
        "umask 077",
        f'tmp="$(mktemp {directory}/.env.XXXXXX)"',
    ]
    for i, ref in enumerate(secrets, 1):
        if ref.source == "value":
            lines.append(f"printf \"%s='%s'\\n\" {ref.var} '@@SECRET{i}@@' >> \"$tmp\"")
            continue
        if ref.source == "ssm":
            read = (
                "aws ssm get-parameter --region @@REGION@@ --with-decryption "
                f"--name '{ref.ref}' --query Parameter.Value --output text"
            )
        else:
            secret_id = f"@@SECRET{i}@@" if ref.source == "arn" else str(ref.ref)
            read = (
                "aws secretsmanager get-secret-value --region @@REGION@@ "
                f"--secret-id '{secret_id}' --query SecretString --output text"
            )
            if ref.key:
                read += f" | jq -er '.[\"{ref.key}\"]'"
        lines.append(f'printf "%s=\'%s\'\\n" {ref.var} "$({read})" >> "$tmp"')
    lines += [f'mv "$tmp" {directory}/.env', "EOF", "chmod 0700 /usr/local/bin/compose-env"]
    return lines


def user_data(host: Host, secrets: Sequence[SecretRef] = ()) -> tuple[str, dict[str, Any]]:
    """The boot script (Fn::Sub text) and its variables."""
    packages = ["docker"]
    if host.agent:
        packages.append("amazon-cloudwatch-agent")
    if any(ref.key for ref in secrets):
        packages.append("jq")
    lines = [
        "#!/bin/bash",
        "# Generated by cfngen: Docker, Compose plugin, data volume, CloudWatch agent, project.",
        "set -euo pipefail",
        "dnf install -y " + " ".join(packages),
        "mkdir -p /etc/docker",
        "cat > /etc/docker/daemon.json <<'EOF'",
        '{"log-driver": "awslogs", "log-opts": {"awslogs-group": "@@LOG_GROUP@@", '
        '"awslogs-region": "@@REGION@@", "tag": "{{.Name}}"}}',
        "EOF",
        "systemctl enable --now docker",
    ]
    variables: dict[str, Any] = {}
    if host.compose is not None:
        lines += [
            "mkdir -p /usr/local/lib/docker/cli-plugins",
            "curl -fsSL --retry 5 -o /usr/local/lib/docker/cli-plugins/docker-compose "
            f"https://github.com/docker/compose/releases/download/v{host.compose.version}/"
            'docker-compose-linux-"$(uname -m)"',
            "chmod 0755 /usr/local/lib/docker/cli-plugins/docker-compose",
        ]
    if host.data_volume is not None:
        mount = host.data_volume.mount
        lines += [
            "# The data volume: found by its ID (NVMe serial), formatted only when empty.",
            'vol="@@VOLUME@@"',
            'dev="/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_${vol//-/}"',
            'for _ in $(seq 1 60); do [ -e "$dev" ] && break; sleep 5; done',
            'blkid "$dev" >/dev/null || mkfs -t xfs "$dev"',
            f"mkdir -p {mount}",
            'uuid="$(blkid -s UUID -o value "$dev")"',
            f'grep -q "$uuid" /etc/fstab || echo "UUID=$uuid {mount} xfs defaults,nofail 0 2"'
            " >> /etc/fstab",
            "mount -a",
        ]
    if host.agent:
        disks = ["/"] + ([host.data_volume.mount] if host.data_volume else [])
        config = (
            '{"metrics": {"namespace": "CWAgent", '
            '"append_dimensions": {"InstanceId": "${aws:InstanceId}"}, '
            '"aggregation_dimensions": [["InstanceId"], ["InstanceId", "path"]], '
            '"metrics_collected": {"mem": {"measurement": ["mem_used_percent"]}, '
            '"disk": {"measurement": ["used_percent"], "resources": ['
            + ", ".join(f'"{d}"' for d in disks)
            + "]}}}}"
        )
        lines += [
            "cat > /opt/aws/amazon-cloudwatch-agent/etc/amazon-cloudwatch-agent.json <<'EOF'",
            config,
            "EOF",
            "/opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl -a fetch-config "
            "-m ec2 -s -c file:/opt/aws/amazon-cloudwatch-agent/etc/amazon-cloudwatch-agent.json",
        ]
    if host.compose is not None:
        directory = host.compose.directory
        lines += [f"mkdir -p {directory}"]
        if host.compose.s3 is not None:
            lines += [f"aws s3 cp {host.compose.s3} {directory}/docker-compose.yml"]
        elif host.compose.bucket is not None:
            lines += [
                f"aws s3 cp s3://@@BUCKET@@/{host.compose.key} {directory}/docker-compose.yml"
            ]
        else:
            assert host.compose.inline is not None
            lines += [
                f"cat > {directory}/docker-compose.yml <<'CFNGEN_COMPOSE_EOF'",
                host.compose.inline.rstrip("\n"),
                "CFNGEN_COMPOSE_EOF",
            ]
        if secrets:
            lines += _env_script(directory, secrets)
        lines += [
            "cat > /etc/systemd/system/compose-app.service <<'EOF'",
            "[Unit]",
            "Description=Docker Compose project",
            "Requires=docker.service",
            "After=docker.service network-online.target",
            "[Service]",
            "Type=oneshot",
            "RemainAfterExit=yes",
            f"WorkingDirectory={directory}",
            *(["ExecStartPre=/usr/local/bin/compose-env"] if secrets else []),
            "ExecStartPre=/bin/sh -c 'aws ecr get-login-password --region @@REGION@@ | "
            "docker login --username AWS --password-stdin @@REGISTRY@@ || true'",
            "ExecStart=/usr/bin/docker compose up -d --remove-orphans",
            "ExecStop=/usr/bin/docker compose down",
            "[Install]",
            "WantedBy=multi-user.target",
            "EOF",
            "systemctl daemon-reload",
            "systemctl enable --now compose-app.service",
        ]
    text = _sub_escape("\n".join(lines) + "\n")
    text = (
        text.replace("@@LOG_GROUP@@", "${LogGroup}")
        .replace("@@REGION@@", "${AWS::Region}")
        .replace("@@REGISTRY@@", "${AWS::AccountId}.dkr.ecr.${AWS::Region}.${AWS::URLSuffix}")
        .replace("@@VOLUME@@", "${DataVolume}")
        .replace("@@BUCKET@@", "${ComposeBucket}")
    )
    for i, ref in enumerate(secrets, 1):
        if isinstance(ref.ref, Output):
            text = text.replace(f"@@SECRET{i}@@", f"${{Secret{i}}}")
    return text, variables


# --- the stack ------------------------------------------------------------------------------


def _role(spec: HostSpec, logs_arn: Any, ctx: Context) -> iam.Role:
    host = spec.host
    statements = [
        Statement(
            Sid="ContainerLogs",
            Effect=Allow,
            Action=[
                awacs_logs.CreateLogStream,
                awacs_logs.PutLogEvents,
                awacs_logs.DescribeLogStreams,
            ],
            Resource=[logs_arn],  # the group's Arn ends in :*, covering its streams
        )
    ]
    if host.agent:
        statements.append(
            Statement(
                Sid="AgentMetrics",
                Effect=Allow,
                Action=[awacs_cw.PutMetricData],
                Resource=["*"],  # PutMetricData has no resource; the namespace is pinned
                Condition=Condition(StringEquals("cloudwatch:namespace", "CWAgent")),
            )
        )
    arns: list[Any] = []
    params: list[Any] = []
    seen: set[Output | str] = set()
    for ref in spec.secrets:
        if ref.source == "value" or ref.ref in seen:
            continue
        seen.add(ref.ref)
        if isinstance(ref.ref, Output):
            arns.append(ctx.import_value(ref.ref.component, ref.ref.name))
        elif ref.source == "secretsmanager":
            arns.append(
                Sub(
                    "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:"
                    f"secret:{ref.ref}-??????"
                )
            )
        else:
            params.append(
                Sub(
                    "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:"
                    f"parameter{ref.ref}"
                )
            )
    if arns:
        statements.append(
            Statement(
                Sid="ReadProjectSecrets",
                Effect=Allow,
                Action=[awacs_sm.GetSecretValue],
                Resource=arns,
            )
        )
    if params:
        statements.append(
            Statement(
                Sid="ReadProjectParameters",
                Effect=Allow,
                Action=[awacs_ssm.GetParameter],
                Resource=params,
            )
        )
    if spec.compose_bucket is not None and host.compose is not None:
        arn = spec.compose_bucket[1]
        statements.append(
            Statement(
                Sid="ReadComposeFile",
                Effect=Allow,
                Action=[awacs_s3.GetObject],
                Resource=[
                    Sub(
                        f"${{Arn}}/{host.compose.key}",
                        Arn=ctx.import_value(arn.component, arn.name),
                    )
                ],
            )
        )
    if host.compose is not None and host.compose.s3 is not None:
        bucket, key = host.compose.bucket_and_key
        statements.append(
            Statement(
                Sid="ReadComposeFile",
                Effect=Allow,
                Action=[awacs_s3.GetObject],
                Resource=[Sub(f"arn:${{AWS::Partition}}:s3:::{bucket}/{key}")],
            )
        )
    role: iam.Role = ctx.add(
        iam.Role(
            "Role",
            AssumeRolePolicyDocument=service_trust("ec2.amazonaws.com"),
            ManagedPolicyArns=[
                Sub("arn:${AWS::Partition}:iam::aws:policy/AmazonSSMManagedInstanceCore"),
                Sub("arn:${AWS::Partition}:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"),
            ],
            Policies=[
                iam.Policy(
                    PolicyName="host",
                    PolicyDocument=PolicyDocument(Version="2012-10-17", Statement=statements),
                )
            ],
        )
    )
    return role


def build(spec: HostSpec, ctx: Context) -> None:
    name, host = spec.name, spec.host
    group = ctx.import_value(security.COMPONENT, security.group_output(component(name)))
    image = ctx.template.add_parameter(
        Parameter(
            "ImageId",
            Type="AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>",
            Default=AMI_PARAMETER.format(arch=host.arch),
            Description="Amazon Linux 2023 AMI (latest, via the public SSM parameter)",
        )
    )
    logs = ctx.add(
        log_group(
            "LogGroup",
            host.log_retention_days,
            LogGroupName=Sub(f"/cfngen/${{EnvironmentName}}/host/{name}"),
        )
    )
    role = _role(spec, GetAtt(logs, "Arn"), ctx)
    profile = ctx.add(iam.InstanceProfile("InstanceProfile", Roles=[Ref(role)]))

    tier = network.PUBLIC_SUBNETS if host.subnet == "public" else network.PRIVATE_SUBNETS
    subnet = Select(0, Split(",", ctx.import_value(network.COMPONENT, tier)))
    volume = None
    if host.data_volume is not None:
        dv = host.data_volume
        vprops: dict[str, Any] = {
            "AvailabilityZone": Select(0, GetAZs("")),  # the AZ of the first subnet
            "Size": dv.size_gb,
            "VolumeType": "gp3",
            "Encrypted": True,
            "Tags": ctx.name_tag(f"{name}-data"),
        }
        if dv.iops:
            vprops["Iops"] = dv.iops
        if dv.throughput:
            vprops["Throughput"] = dv.throughput
        if dv.kms_key_arn:
            vprops["KmsKeyId"] = dv.kms_key_arn
        volume = ctx.add(
            ec2.Volume(
                "DataVolume", DeletionPolicy="Snapshot", UpdateReplacePolicy="Snapshot", **vprops
            )
        )

    script, _ = user_data(host, spec.secrets)
    sub_vars: dict[str, Any] = {}
    for i, ref in enumerate(spec.secrets, 1):
        if isinstance(ref.ref, Output):
            sub_vars[f"Secret{i}"] = ctx.import_value(ref.ref.component, ref.ref.name)
    if spec.compose_bucket is not None:
        out = spec.compose_bucket[0]
        sub_vars["ComposeBucket"] = ctx.import_value(out.component, out.name)
    props: dict[str, Any] = {
        "ImageId": Ref(image),
        "InstanceType": host.instance_type,
        "IamInstanceProfile": Ref(profile),
        "MetadataOptions": ec2.MetadataOptions(
            HttpTokens="required", HttpEndpoint="enabled", HttpPutResponseHopLimit=1
        ),
        "BlockDeviceMappings": [
            ec2.BlockDeviceMapping(
                DeviceName="/dev/xvda",
                Ebs=ec2.EbsBlockDevice(
                    VolumeSize=host.root_volume_gb,
                    VolumeType="gp3",
                    Encrypted=True,
                    DeleteOnTermination=True,
                ),
            )
        ],
        "Monitoring": True,
        "EbsOptimized": True,
        "DisableApiTermination": host.termination_protection,
        "UserData": Base64(Sub(script, **sub_vars)),
        "Tags": ctx.name_tag(name),
    }
    waivers: dict[str, str] = {}  # the builder's own; blueprint waivers: cfngen.waivers
    if host.public_ip:
        props["NetworkInterfaces"] = [
            ec2.NetworkInterfaceProperty(
                DeviceIndex="0",
                AssociatePublicIpAddress=True,
                SubnetId=subnet,
                GroupSet=[group],
                DeleteOnTermination=True,
            )
        ]
        waivers["CKV_AWS_88"] = (
            f"hosts.{name}.public_ip: outbound internet without a NAT gateway; inbound "
            "traffic only as its security group allows"
        )
    else:
        props["SubnetId"] = subnet
        props["SecurityGroupIds"] = [group]
    instance = ctx.add(waive(ec2.Instance("Instance", **props), waivers))
    if volume is not None:
        ctx.add(
            ec2.VolumeAttachment(
                "DataVolumeAttachment",
                InstanceId=Ref(instance),
                VolumeId=Ref(volume),
                Device=DATA_DEVICE,
            )
        )

    group = _target_group(spec, instance, ctx) if host.target_group is not None else None
    _alarms(spec, instance, ctx)
    if group is not None and spec.rule is not None:
        _target_alarms(spec, group, ctx)

    ctx.export(INSTANCE_ID, Ref(instance), f"Host {name}: instance ID")
    ctx.export(PRIVATE_DNS, GetAtt(instance, "PrivateDnsName"), f"Host {name}: private DNS")
    ctx.export(LOG_GROUP, Ref(logs), f"Host {name}: log group of its containers")
    ctx.output("RoleArn", GetAtt(role, "Arn"), f"Host {name}: instance role")


def _target_group(spec: HostSpec, instance: Any, ctx: Context) -> elb.TargetGroup:
    tg = spec.host.target_group
    assert tg is not None
    hc = tg.health_check
    group = ctx.add(
        elb.TargetGroup(
            "TargetGroup",
            VpcId=ctx.import_value(network.COMPONENT, network.VPC_ID),
            TargetType="instance",
            Port=tg.port,
            Protocol=tg.protocol,
            Targets=[elb.TargetDescription(Id=Ref(instance), Port=tg.port)],
            HealthCheckEnabled=True,
            HealthCheckProtocol=tg.protocol,
            HealthCheckPath=hc.path,
            HealthCheckIntervalSeconds=hc.interval_seconds,
            Matcher=elb.Matcher(HttpCode=hc.matcher),
            Tags=ctx.name_tag(f"{spec.name}-{tg.port}"),
        )
    )
    ctx.export(TARGET_GROUP_ARN, Ref(group), f"Host {spec.name}: target group (type instance)")
    rule = spec.rule
    if rule is None:
        return group
    conditions = []
    if rule.host:
        conditions.append(
            elb.Condition(
                Field="host-header", HostHeaderConfig=elb.HostHeaderConfig(Values=[rule.host])
            )
        )
    conditions.append(
        elb.Condition(
            Field="path-pattern",
            PathPatternConfig=elb.PathPatternConfig(Values=[rule.path or "/*"]),
        )
    )
    ctx.add(
        elb.ListenerRule(
            "ListenerRule",
            ListenerArn=ctx.import_value(rule.load_balancer, rule.listener_output),
            Priority=rule.priority,
            Conditions=conditions,
            Actions=[elb.ListenerRuleAction(Type="forward", TargetGroupArn=Ref(group))],
        )
    )
    return group


def _target_alarms(spec: HostSpec, group: elb.TargetGroup, ctx: Context) -> None:
    """The load balancer's view of the host: failed health checks and 5xx responses."""
    assert spec.rule is not None
    alarms = spec.host.alarms
    lb_arn = ctx.import_value(spec.rule.load_balancer, spec.rule.arn_output)
    dims = {
        "TargetGroup": GetAtt(group, "TargetGroupFullName"),
        # app/<name>/<id>: the part of the ARN after "loadbalancer/"
        "LoadBalancer": Select(1, Split("loadbalancer/", lb_arn)),
    }
    if alarms.unhealthy:
        ops.add_alarm(
            ctx,
            "UnhealthyAlarm",
            description=f"Host {spec.name}: failing the load balancer health check",
            namespace="AWS/ApplicationELB",
            metric="UnHealthyHostCount",
            dimensions=dims,
            threshold=1,
            comparison="GreaterThanOrEqualToThreshold",
            statistic="Maximum",
            period=60,
            evaluation_periods=3,
        )
    if alarms.target_5xx_count is not None:
        ops.add_alarm(
            ctx,
            "Target5xxAlarm",
            description=f"Host {spec.name}: more than {alarms.target_5xx_count} HTTP 5xx "
            "responses in 5 minutes",
            namespace="AWS/ApplicationELB",
            metric="HTTPCode_Target_5XX_Count",
            dimensions=dims,
            threshold=alarms.target_5xx_count,
            statistic="Sum",
            evaluation_periods=1,
            missing_data="notBreaching",
        )


def _alarms(spec: HostSpec, instance: Any, ctx: Context) -> None:
    name, alarms = spec.name, spec.host.alarms
    dims = {"InstanceId": Ref(instance)}
    if alarms.cpu_percent is not None:
        ops.add_alarm(
            ctx,
            "CpuAlarm",
            description=f"Host {name}: CPU above {alarms.cpu_percent}% for 10 minutes",
            namespace="AWS/EC2",
            metric="CPUUtilization",
            dimensions=dims,
            threshold=alarms.cpu_percent,
        )
    if alarms.status_check:
        ops.add_alarm(
            ctx,
            "StatusCheckAlarm",
            description=f"Host {name}: EC2 status check failed",
            namespace="AWS/EC2",
            metric="StatusCheckFailed",
            dimensions=dims,
            threshold=1,
            comparison="GreaterThanOrEqualToThreshold",
            statistic="Maximum",
            period=60,
        )
    if not spec.host.agent:
        return
    if alarms.memory_percent is not None:
        ops.add_alarm(
            ctx,
            "MemoryAlarm",
            description=f"Host {name}: memory used above {alarms.memory_percent}%",
            namespace="CWAgent",
            metric="mem_used_percent",
            dimensions=dims,
            threshold=alarms.memory_percent,
        )
    if alarms.disk_percent is not None:
        disks = ["/"] + ([spec.host.data_volume.mount] if spec.host.data_volume else [])
        for path in disks:
            title = "RootDiskAlarm" if path == "/" else "DataDiskAlarm"
            ops.add_alarm(
                ctx,
                title,
                description=f"Host {name}: disk {path} used above {alarms.disk_percent}%",
                namespace="CWAgent",
                metric="disk_used_percent",
                dimensions={**dims, "path": path},
                threshold=alarms.disk_percent,
            )
