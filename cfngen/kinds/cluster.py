"""The cluster kind: the ECS cluster, its capacity providers (Fargate, Fargate Spot, an EC2 Auto
Scaling group) and the Cloud Map namespace that discovery and Service Connect use, in the stack
`cluster`. It exists when the blueprint declares it or another kind `needs` it ("cluster"; the
namespace when something needs "namespace").

The capacity providers are associated through AWS::ECS::ClusterCapacityProviderAssociations so
the launch template can name the cluster without a cycle (cluster <- user data <- ASG <- provider
-> association -> cluster).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from msgspec import Struct
from troposphere import Base64, GetAtt, Parameter, Ref, Split, Sub, autoscaling, ec2, ecs, iam
from troposphere import servicediscovery as sd

from cfngen.blueprint.instance_types import supports_ebs_optimized
from cfngen.blueprint.models import Blueprint
from cfngen.blueprint.models.cluster import Cluster, Ec2Capacity, FargateCapacity
from cfngen.blueprint.models.security import SecurityGroup
from cfngen.blueprint.source import Path_
from cfngen.blueprint.validate import Checker
from cfngen.builders.base import Context, StackPlan
from cfngen.builders.boot import (
    boot_lines,
    creation_policy,
    init_marker,
    init_metadata,
    rolling_update,
    signal_statement,
)
from cfngen.builders.common import service_trust
from cfngen.builders.hardened import encrypted_gp3, metadata_options
from cfngen.builders.iam import policy
from cfngen.kinds import network, security
from cfngen.kinds.base import Derived, Facts, Kind
from cfngen.stacks import logical_id

CLUSTER = "cluster"
INSTANCE_GROUP = CLUSTER  # the EC2 instances' security group (bridge-mode tasks use it too)
NEEDS_CLUSTER = "cluster"
NEEDS_NAMESPACE = "namespace"

# Outputs (imported by services and tasks)
CLUSTER_NAME = "ClusterName"
CLUSTER_ARN = "ClusterArn"
EC2_CAPACITY_PROVIDER = "Ec2CapacityProvider"
NAMESPACE_ARN = "NamespaceArn"
NAMESPACE_ID = "NamespaceId"


def effective(bp: Blueprint, facts: Facts) -> Cluster | None:
    """The cluster of the environment: as declared, or Fargate when a kind needs one."""
    declared = CLUSTERS.one(bp)
    if declared is not None:
        return declared
    return Cluster() if NEEDS_CLUSTER in facts.needs else None


def namespace_name(bp: Blueprint) -> str:
    """The Cloud Map namespace: the cluster's setting, or `<blueprint>.internal`."""
    cluster = CLUSTERS.one(bp)
    if cluster is not None and cluster.service_connect.namespace:
        return cluster.service_connect.namespace
    return f"{bp.blueprint}.internal"


class ClusterSpec(Struct, frozen=True):
    cluster: Cluster
    namespace: str | None  # Cloud Map namespace name, when services use discovery or SC


def plan(bp: Blueprint, facts: Facts) -> Sequence[StackPlan[Any]]:
    cluster = effective(bp, facts)
    if cluster is None:
        return []
    namespace = NEEDS_NAMESPACE in facts.needs
    deps: list[str] = []
    if cluster.has_ec2 or namespace:
        deps.append(network.COMPONENT)
    if cluster.has_ec2:
        deps.append(security.group_stack(facts, INSTANCE_GROUP))
    declared = CLUSTERS.one(bp) is not None
    return [
        StackPlan(
            component=CLUSTER,
            title="ECS cluster and capacity providers",
            build=build,
            spec=ClusterSpec(cluster, namespace_name(bp) if namespace else None),
            depends_on=tuple(deps),
            source=("cluster",) if declared else facts.needs.get(NEEDS_CLUSTER, ("cluster",)),
        )
    ]


def groups(bp: Blueprint, facts: Facts) -> Derived:
    cluster = effective(bp, facts)
    if cluster is None or not cluster.has_ec2:
        return Derived()
    return Derived(
        groups={
            INSTANCE_GROUP: SecurityGroup(
                description="ECS container instances (EC2 capacity) and their bridge-mode tasks"
            )
        },
        sources={INSTANCE_GROUP: ("cluster", "ec2")},
    )


def strategy(cluster: Cluster, ec2_provider: Any | None) -> list[ecs.CapacityProviderStrategy]:
    """The default capacity provider strategy: every capacity with its weight and base."""
    items = []
    fargate = cluster.fargate
    if fargate is None and cluster.fargate_spot is None and cluster.ec2 is None:
        fargate = FargateCapacity()
    if fargate is not None:
        items.append(
            ecs.CapacityProviderStrategy(
                CapacityProvider="FARGATE", Weight=fargate.weight, Base=fargate.base
            )
        )
    if cluster.fargate_spot is not None:
        items.append(
            ecs.CapacityProviderStrategy(
                CapacityProvider="FARGATE_SPOT",
                Weight=cluster.fargate_spot.weight,
                Base=cluster.fargate_spot.base,
            )
        )
    if cluster.ec2 is not None and ec2_provider is not None:
        items.append(
            ecs.CapacityProviderStrategy(
                CapacityProvider=ec2_provider, Weight=cluster.ec2.weight, Base=cluster.ec2.base
            )
        )
    return items


def build(spec: ClusterSpec, ctx: Context) -> None:
    cluster = spec.cluster
    props: dict[str, Any] = {
        "ClusterName": ctx.env_ref,
        "ClusterSettings": [
            ecs.ClusterSetting(Name="containerInsights", Value=cluster.container_insights)
        ],
        "Tags": ctx.name_tag("cluster"),
    }
    namespace = None
    if spec.namespace is not None:
        namespace = ctx.add(
            sd.PrivateDnsNamespace(
                "Namespace",
                Name=spec.namespace,
                Vpc=ctx.import_value(network.COMPONENT, network.VPC_ID),
                Description="Service discovery and Service Connect for this environment",
                Tags=ctx.name_tag("namespace"),
            )
        )
        props["ServiceConnectDefaults"] = ecs.ServiceConnectDefaults(
            Namespace=GetAtt(namespace, "Arn")
        )
    ecs_cluster = ctx.add(ecs.Cluster("Cluster", **props))

    provider = None
    if cluster.ec2 is not None:
        provider = _ec2_capacity(cluster.ec2, ecs_cluster, ctx)
    group_providers = {
        name: _ec2_capacity(group, ecs_cluster, ctx, name)
        for name, group in sorted(cluster.ec2_groups.items())
    }
    providers: list[Any] = []
    if cluster.uses_fargate:
        providers.append("FARGATE")
    if cluster.fargate_spot is not None:
        providers.append("FARGATE_SPOT")
    if provider is not None:
        providers.append(Ref(provider))
    providers.extend(Ref(p) for p in group_providers.values())
    ctx.add(
        ecs.ClusterCapacityProviderAssociations(
            "CapacityProviderAssociations",
            Cluster=Ref(ecs_cluster),
            CapacityProviders=providers,
            DefaultCapacityProviderStrategy=strategy(
                cluster, Ref(provider) if provider is not None else None
            ),
        )
    )

    ctx.export(CLUSTER_NAME, Ref(ecs_cluster), "ECS cluster name")
    ctx.export(CLUSTER_ARN, GetAtt(ecs_cluster, "Arn"), "ECS cluster ARN")
    if provider is not None:
        ctx.export(EC2_CAPACITY_PROVIDER, Ref(provider), "EC2 capacity provider name")
    for name, group_provider in group_providers.items():
        ctx.export(
            ec2_group_output(name), Ref(group_provider), f"EC2 capacity provider of group {name}"
        )
    if namespace is not None:
        ctx.export(NAMESPACE_ARN, GetAtt(namespace, "Arn"), "Cloud Map namespace ARN")
        ctx.export(NAMESPACE_ID, GetAtt(namespace, "Id"), "Cloud Map namespace ID")


def ec2_group_output(group: str) -> str:
    """The export naming an EC2 group's capacity provider: Ec2CapacityProvider<Group>."""
    return EC2_CAPACITY_PROVIDER + logical_id(group)


def _ec2_capacity(
    ec2cap: Ec2Capacity, ecs_cluster: ecs.Cluster, ctx: Context, group_name: str | None = None
) -> Any:
    """An Auto Scaling group of ECS instances and its capacity provider: the cluster's default
    EC2 capacity, or one of its `ec2_groups` (resource names end in the group's name)."""
    sfx = logical_id(group_name) if group_name else ""
    tag = f"ecs-{group_name}" if group_name else "ecs"
    ami = ctx.template.add_parameter(
        Parameter(
            f"Ec2ImageId{sfx}",
            Type="AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>",
            Default=ec2cap.ami,
            Description="ECS-optimised AMI, resolved from AWS's public SSM parameter at deploy.",
        )
    )
    role = ctx.add(
        iam.Role(
            f"InstanceRole{sfx}",
            AssumeRolePolicyDocument=service_trust("ec2.amazonaws.com"),
            ManagedPolicyArns=[
                Sub(
                    "arn:${AWS::Partition}:iam::aws:policy/service-role/"
                    "AmazonEC2ContainerServiceforEC2Role"
                )
            ],
            Tags=ctx.name_tag(f"{tag}-instance"),
            **(
                {"Policies": [policy("CfnInit", [signal_statement()])]}
                if ec2cap.init is not None
                else {}
            ),
        )
    )
    profile = ctx.add(iam.InstanceProfile(f"InstanceProfile{sfx}", Roles=[Ref(role)]))
    template = ctx.add(
        ec2.LaunchTemplate(
            f"LaunchTemplate{sfx}",
            **({"Metadata": init_metadata(ec2cap.init)} if ec2cap.init is not None else {}),
            LaunchTemplateData=ec2.LaunchTemplateData(
                ImageId=Ref(ami),
                InstanceType=ec2cap.instance_type,
                IamInstanceProfile=ec2.IamInstanceProfile(Arn=GetAtt(profile, "Arn")),
                SecurityGroupIds=[security.group_id(ctx, INSTANCE_GROUP)],
                MetadataOptions=metadata_options(),
                Monitoring=ec2.Monitoring(Enabled=True),
                **({"EbsOptimized": True} if supports_ebs_optimized(ec2cap.instance_type) else {}),
                BlockDeviceMappings=[
                    ec2.LaunchTemplateBlockDeviceMapping(
                        DeviceName="/dev/xvda",
                        Ebs=ec2.EBSBlockDevice(**encrypted_gp3(ec2cap.root_volume_gb)),
                    )
                ],
                TagSpecifications=[
                    ec2.TagSpecifications(ResourceType="instance", Tags=ctx.name_tag(tag))
                ],
                UserData=Base64(
                    Sub(
                        "#!/bin/bash\n"
                        "echo ECS_CLUSTER=${Cluster} >> /etc/ecs/ecs.config\n"
                        "echo ECS_ENABLE_CONTAINER_METADATA=true >> /etc/ecs/ecs.config\n"
                        + (
                            init_marker(ec2cap.init)
                            + boot_lines(f"LaunchTemplate{sfx}", f"AutoScalingGroup{sfx}")
                            if ec2cap.init is not None
                            else ""
                        ),
                        Cluster=Ref(ecs_cluster),
                    )
                ),
            ),
        )
    )
    group = ctx.add(
        autoscaling.AutoScalingGroup(
            f"AutoScalingGroup{sfx}",
            LaunchTemplate=autoscaling.LaunchTemplateSpecification(
                LaunchTemplateId=Ref(template),
                Version=GetAtt(template, "LatestVersionNumber"),
            ),
            MinSize=str(ec2cap.min),
            MaxSize=str(ec2cap.max),
            VPCZoneIdentifier=Split(
                ",", ctx.import_value(network.COMPONENT, network.PRIVATE_SUBNETS)
            ),
            HealthCheckType="EC2",
            NewInstancesProtectedFromScaleIn=False,
            Tags=[
                autoscaling.Tag("Name", Sub(f"${{EnvironmentName}}-{tag}"), True),
            ],
            **_policies(ec2cap),
        )
    )
    return ctx.add(
        ecs.CapacityProvider(
            f"Ec2CapacityProvider{sfx}",
            AutoScalingGroupProvider=ecs.AutoScalingGroupProvider(
                AutoScalingGroupArn=Ref(group),
                ManagedScaling=ecs.ManagedScaling(
                    Status="ENABLED",
                    TargetCapacity=ec2cap.target_capacity,
                    MinimumScalingStepSize=1,
                    MaximumScalingStepSize=ec2cap.max_scaling_step,
                    InstanceWarmupPeriod=ec2cap.instance_warmup,
                ),
                ManagedTerminationProtection="DISABLED",
                ManagedDraining="ENABLED" if ec2cap.draining else "DISABLED",
            ),
            Tags=ctx.name_tag(f"ec2-capacity-{group_name}" if group_name else "ec2-capacity"),
        )
    )


def _policies(ec2cap: Ec2Capacity) -> dict[str, Any]:
    """The group's CreationPolicy (with cfn-init and instances at creation: wait for each
    one's signal) and UpdatePolicy (rolling updates, waiting for signals with cfn-init)."""
    out: dict[str, Any] = {}
    if ec2cap.init is not None and ec2cap.min > 0:
        out["CreationPolicy"] = creation_policy(ec2cap.init, ec2cap.min)
    if ec2cap.rolling_update is not None:
        out["UpdatePolicy"] = rolling_update(ec2cap.rolling_update, ec2cap.init)
    return out


def check(bp: Blueprint, facts: Facts, c: Checker) -> None:
    """cfn-init reads its configuration from CloudFormation and signals it over HTTPS: the
    instances' private subnets need a route out, or every launch waits for its timeout."""
    cluster = CLUSTERS.one(bp)
    if cluster is None or network.of(bp).nat != "none":
        return
    capacities: list[tuple[Path_, Ec2Capacity]] = [
        (("cluster", "ec2_groups", name), cap) for name, cap in cluster.ec2_groups.items()
    ]
    if cluster.ec2 is not None:
        capacities.insert(0, (("cluster", "ec2"), cluster.ec2))
    for path, cap in capacities:
        if cap.init is not None:
            c.error(
                (*path, "init"),
                "the instances run cfn-init and signal CloudFormation at launch, but their "
                "private subnets have no route to the internet (network.nat: none)",
                "give the network a NAT gateway (nat: single), or remove `init`",
                at_key=True,
            )


CLUSTERS: Kind[Cluster] = Kind(
    section="cluster",
    model=Cluster,
    description="The ECS cluster (created when services or tasks exist; defaults to Fargate).",
    prefix=CLUSTER,
    plan=plan,
    singleton=True,
    groups=groups,
    checks=(check,),
    implicit=True,
    order=60,
)
KIND = CLUSTERS
