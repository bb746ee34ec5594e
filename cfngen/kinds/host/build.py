"""The host stack: the instance with its role, profile, boot script (cfngen.builders.user_data)
and data volume, its target group and listener rule, and its alarms."""

from __future__ import annotations

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

from cfngen.blueprint.instance_types import supports_ebs_optimized
from cfngen.blueprint.source import Path_
from cfngen.builders.base import Context
from cfngen.builders.boot import creation_policy, init_metadata, signal_statement
from cfngen.builders.common import log_group, service_trust, waive
from cfngen.builders.containers import record_uses, resolve_grants, use_requests
from cfngen.builders.hardened import encrypted_gp3, metadata_options
from cfngen.builders.iam import grant_statements, permission_statements, policy, role_extras
from cfngen.builders.user_data import user_data
from cfngen.kinds import alerts, network, security
from cfngen.kinds.host.spec import (
    AMI_PARAMETER,
    DATA_DEVICE,
    INSTANCE_ID,
    LOG_GROUP,
    PRIVATE_DNS,
    TARGET_GROUP_ARN,
    HostSpec,
    component,
)
from cfngen.stacks import Output


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
    if host.init is not None:
        statements.append(signal_statement())
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
    grants = resolve_grants(ctx.blueprint, ctx.facts, use_requests(host.uses, ()))
    for _, _, _, grant in grants:
        statements += grant_statements(ctx, grant)
    _record(spec, ctx, grants)
    extras = role_extras(ctx, host.permissions)
    managed = [
        Sub("arn:${AWS::Partition}:iam::aws:policy/AmazonSSMManagedInstanceCore"),
        Sub("arn:${AWS::Partition}:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"),
        *extras.pop("ManagedPolicyArns", []),
    ]
    policies = [
        iam.Policy(
            PolicyName="host",
            PolicyDocument=PolicyDocument(Version="2012-10-17", Statement=statements),
        )
    ]
    if host.permissions.statements:
        policies.append(policy("blueprint", permission_statements(ctx, host.permissions)))
    role: iam.Role = ctx.add(
        iam.Role(
            "Role",
            AssumeRolePolicyDocument=service_trust("ec2.amazonaws.com"),
            ManagedPolicyArns=managed,
            Policies=policies,
            **extras,
        )
    )
    return role


def _record(spec: HostSpec, ctx: Context, grants: Any) -> None:
    """What the instance role must be able to do, for `cfngen verify` (manifest.json): write its
    containers' logs, read each secret and the compose file, and its `uses`."""
    base: Path_ = ("hosts", spec.name)
    ctx.access("Role", "log-group", "ref:LogGroup", base)
    for ref in spec.secrets:
        if ref.source == "value":
            continue
        need = "parameter" if ref.source == "ssm" else "secret"
        ctx.access("Role", need, ref.ref, (*base, "secrets", ref.var))
    compose = spec.host.compose
    if compose is not None and spec.compose_bucket is not None:
        ctx.access(
            "Role", "object", spec.compose_bucket[1], (*base, "compose"), key=compose.key or ""
        )
    elif compose is not None and compose.s3 is not None:
        bucket, key = compose.bucket_and_key
        ctx.access("Role", "object", bucket, (*base, "compose"), key=key)
    record_uses(ctx, "Role", grants, base)


def build(spec: HostSpec, ctx: Context) -> None:
    name, host = spec.name, spec.host
    group = security.group_id(ctx, component(name))
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

    bucket_name = spec.compose_bucket[0] if spec.compose_bucket is not None else None
    script, variables = user_data(host, spec.secrets, bucket_name)
    sub_vars = {name: ctx.import_value(o.component, o.name) for name, o in variables.items()}
    props: dict[str, Any] = {
        "ImageId": Ref(image),
        "InstanceType": host.instance_type,
        "IamInstanceProfile": Ref(profile),
        "MetadataOptions": metadata_options(),
        "BlockDeviceMappings": [
            ec2.BlockDeviceMapping(
                DeviceName="/dev/xvda", Ebs=ec2.EbsBlockDevice(**encrypted_gp3(host.root_volume_gb))
            )
        ],
        "Monitoring": True,
        **({"EbsOptimized": True} if supports_ebs_optimized(host.instance_type) else {}),
        "DisableApiTermination": host.termination_protection,
        **({"KeyName": host.key_pair} if host.key_pair else {}),
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
    if host.init is not None:
        props["Metadata"] = init_metadata(host.init, reload="Instance")
        props["CreationPolicy"] = creation_policy(host.init, 1)
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
        alerts.add_alarm(
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
        alerts.add_alarm(
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
        alerts.add_alarm(
            ctx,
            "CpuAlarm",
            description=f"Host {name}: CPU above {alarms.cpu_percent}% for 10 minutes",
            namespace="AWS/EC2",
            metric="CPUUtilization",
            dimensions=dims,
            threshold=alarms.cpu_percent,
        )
    if alarms.status_check:
        alerts.add_alarm(
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
        alerts.add_alarm(
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
            alerts.add_alarm(
                ctx,
                title,
                description=f"Host {name}: disk {path} used above {alarms.disk_percent}%",
                namespace="CWAgent",
                metric="disk_used_percent",
                dimensions={**dims, "path": path},
                threshold=alarms.disk_percent,
            )
