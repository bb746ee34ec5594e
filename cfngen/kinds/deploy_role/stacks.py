"""What a CI deploy role needs to run `cfngen deploy` on its own environment's stacks.

The resource permissions live in a CloudFormation **service role** (`RoleARN` on every change
set the pipeline creates), which only CloudFormation can assume. The deploy role itself gets:
change sets on the environment's stacks (`${EnvironmentName}-*`), and only when they name that
service role; `iam:PassRole` on the service role alone, to CloudFormation alone; the reads
`cfngen deploy` makes; the environment's lock parameter; the artifact bucket for large
templates. So a stolen CI token can change the environment through CloudFormation, not the
account through the API.

Both roles have fixed names (`${EnvironmentName}-<name>-deploy`, `-<name>-cfn`), so a pipeline
can name them before they are deployed, and so the service role can be denied changing itself,
the deploy role, and the deploy-role stacks (an administrator deploys those; a pipeline that
could widen its own rights would have them all).

What the service role may do is a fixed table from CloudFormation resource-type namespaces to
IAM namespaces (NAMESPACES): every type cfngen renders, which tests/kinds/test_deploy_role_stacks
keeps complete over every reference and example blueprint. IAM is limited to the environment's
own roles, instance profiles and policies (CloudFormation names them `<stack name>-...`, and
every stack name starts with `${EnvironmentName}-`). Custom resources (`Custom::`) are Lambda
functions CloudFormation invokes (`lambda`).
"""

from __future__ import annotations

from typing import Any

from awacs.aws import (
    Action,
    Allow,
    ArnEquals,
    Condition,
    Deny,
    PolicyDocument,
    Principal,
    Statement,
    StringEquals,
)
from troposphere import GetAtt, Sub, iam

from cfngen.builders.base import Context
from cfngen.builders.common import waive

SERVICE_ROLE_ARN = "ServiceRoleArn"
SERVICE_ROLE = "CloudFormationServiceRole"

#: CloudFormation type namespace (AWS::<this>::...) -> the IAM namespaces that manage it.
NAMESPACES: dict[str, tuple[str, ...]] = {
    "ApiGateway": ("apigateway",),
    "ApplicationAutoScaling": ("application-autoscaling", "cloudwatch"),
    "AutoScaling": ("autoscaling", "ec2"),
    "Budgets": ("budgets",),
    "CertificateManager": ("acm", "route53"),
    "CloudFormation": (),  # wait condition handles (placeholders) need no permission
    "CloudFront": ("cloudfront",),
    "CloudWatch": ("cloudwatch",),
    "EC2": ("ec2",),
    "ECR": ("ecr",),
    "ECS": ("ecs",),
    "EFS": ("elasticfilesystem",),
    "ElastiCache": ("elasticache",),
    "ElasticLoadBalancingV2": ("elasticloadbalancing",),
    "Events": ("events",),
    "IAM": (),  # only the environment's own roles: see _iam_statements
    "KMS": ("kms",),
    "Lambda": ("lambda",),
    "Logs": ("logs",),
    "OpenSearchService": ("es",),
    "RDS": ("rds",),
    "Route53": ("route53",),
    "S3": ("s3",),
    "SNS": ("sns",),
    "SQS": ("sqs",),
    "SSM": ("ssm",),
    "Scheduler": ("scheduler",),
    "SecretsManager": ("secretsmanager",),
    "ServiceDiscovery": ("servicediscovery", "route53"),
    "StepFunctions": ("states",),
}


def role_names(name: str) -> tuple[str, str]:
    """(deploy role, service role) names, as `Fn::Sub` text, of the deploy role `name`."""
    return f"${{EnvironmentName}}-{name}-deploy", f"${{EnvironmentName}}-{name}-cfn"


def namespaces() -> list[str]:
    return sorted({ns for group in NAMESPACES.values() for ns in group})


def _st(sid: str, actions: list[str], resources: list[Any], **extra: Any) -> Statement:
    return Statement(
        Sid=sid,
        Effect=extra.pop("Effect", Allow),
        Action=[Action(*a.split(":", 1)) for a in actions],
        Resource=resources,
        **extra,
    )


def _arn(service: str, resource: str, region: str = "", account: bool = True) -> Sub:
    acct = "${AWS::AccountId}" if account else ""
    return Sub(f"arn:${{AWS::Partition}}:{service}:{region}:{acct}:{resource}")


def _iam_statements(name: str) -> list[Statement]:
    deploy, service = role_names(name)
    own = [
        _arn("iam", "role/${EnvironmentName}-*"),
        _arn("iam", "instance-profile/${EnvironmentName}-*"),
        _arn("iam", "policy/${EnvironmentName}-*"),
    ]
    return [
        _st("ManageEnvironmentRoles", ["iam:*"], own),
        _st(
            "ServiceLinkedRoles",
            ["iam:CreateServiceLinkedRole"],
            [_arn("iam", "role/aws-service-role/*")],
        ),
        _st(
            "NeverTheCiRoles",
            ["iam:*"],
            [_arn("iam", f"role/{deploy}"), _arn("iam", f"role/{service}")],
            Effect=Deny,
        ),
    ]


def _shared_reads(ctx: Context) -> list[Statement]:
    """Fn::GetStackOutput reads the shared scope's zone ID with the execution role: this one."""
    scope = ctx.blueprint.shared
    if scope is None or scope.dns is None:  # no shared zone: the dns kind is not loaded
        return []
    from cfngen.kinds.dns import shared_zone_stack

    shared = shared_zone_stack(ctx.blueprint)
    if shared is None:
        return []
    stack = f"stack/{shared.stack}/*"
    return [
        _st(
            "ReadSharedScopeOutputs",
            ["cloudformation:DescribeStacks"],
            [_arn("cloudformation", stack, region=shared.region)],
        )
    ]


def add_service_role(ctx: Context, name: str, deploy_role: str) -> Any:
    """The CloudFormation service role of deploy role `name`; returns its `GetAtt Arn`.
    `deploy_role` (the logical id of the role that passes it) is recorded as an access, so
    `cfngen verify` (CFG029) proves it may pass this role and no other."""
    _, service = role_names(name)
    role = iam.Role(
        SERVICE_ROLE,
        RoleName=Sub(service),
        Description="CloudFormation changes this environment's stacks with this role "
        "(RoleARN of the pipeline's change sets)",
        AssumeRolePolicyDocument=PolicyDocument(
            Version="2012-10-17",
            Statement=[
                Statement(
                    Effect=Allow,
                    Principal=Principal("Service", "cloudformation.amazonaws.com"),
                    Action=[Action("sts", "AssumeRole")],
                )
            ],
        ),
        Policies=[
            iam.Policy(
                PolicyName="environment-resources",
                PolicyDocument=PolicyDocument(
                    Version="2012-10-17",
                    Statement=[
                        _st(
                            "ManageEnvironmentResources",
                            [f"{ns}:*" for ns in namespaces()],
                            ["*"],
                        ),
                        *_iam_statements(name),
                        *_shared_reads(ctx),
                    ],
                ),
            )
        ],
        Tags=ctx.name_tag(f"cfn-{name}"),
    )
    reason = (
        "a CloudFormation service role creates, changes and deletes every resource type the "
        "environment's templates hold, most without names known in advance; only "
        "CloudFormation can assume it, only the deploy role may pass it, IAM is limited to the "
        "environment's own roles and it may not change itself or the deploy role"
    )
    waive(
        role,
        {
            "CFG015": "it passes the environment's own roles (<EnvironmentName>-*) to the "
            "services of the environment's stacks, as CloudFormation needs to create them",
            **{
                ckv: reason
                for ckv in (
                    "CKV_AWS_107",
                    "CKV_AWS_108",
                    "CKV_AWS_109",
                    "CKV_AWS_110",
                    "CKV_AWS_111",
                )
            },
        },
    )
    res = ctx.add(role)
    ctx.access(deploy_role, "deploy:stacks", f"ref:{SERVICE_ROLE}", ("deploy_roles", name))
    arn = GetAtt(res, "Arn")
    ctx.export(SERVICE_ROLE_ARN, arn, "CloudFormation service role of the pipeline's deploys")
    return arn


#: What `cfngen deploy`, `status` and `destroy` call on a multi-region environment's stack
#: sets (cfngen/deploy/stacksets.py, stackset_deploy.py).
STACK_SET_ACTIONS = (
    "cloudformation:CreateStackInstances",
    "cloudformation:CreateStackSet",
    "cloudformation:DeleteStackInstances",
    "cloudformation:DeleteStackSet",
    "cloudformation:DescribeStackSet",
    "cloudformation:DescribeStackSetOperation",
    "cloudformation:ListStackInstances",
    "cloudformation:ListStackSetOperations",
    "cloudformation:UpdateStackSet",
)
ADMINISTRATION_ROLE = "AWSCloudFormationStackSetAdministrationRole"


def stack_set_statements(administration_role: str | None) -> list[Statement]:
    """A multi-region environment's rights on its own stack sets (`${EnvironmentName}-*`):
    create, update and delete them and their instances, pass the StackSets administration
    role (self-managed permissions: AWS's default name, or `deploy.stack_sets`'), and plan
    an update with a change set on the home region's instance, a stack CloudFormation names
    `StackSet-<stack set name>-<id>`. The instances themselves are changed by the execution
    role in the target account, not by this role."""
    admin = (
        Sub(administration_role)
        if administration_role
        else _arn("iam", f"role/{ADMINISTRATION_ROLE}")
    )
    return [
        _st(
            "EnvironmentStackSets",
            list(STACK_SET_ACTIONS),
            [
                _arn("cloudformation", "stackset/${EnvironmentName}-*:*", region="*"),
                # the other resource types AWS lists for these actions (deployment targets,
                # registry types): not named after the environment, and no right of their own
                # without the stack set above
                _arn("cloudformation", "stackset-target/*", region="*"),
                _arn("cloudformation", "type/resource/*", region="*"),
            ],
        ),
        _st(
            "PlanOnTheHomeInstance",
            [
                "cloudformation:DeleteChangeSet",
                "cloudformation:DescribeChangeSet",
                "cloudformation:GetTemplate",
                "cloudformation:UpdateTerminationProtection",
            ],
            [_arn("cloudformation", "stack/StackSet-${EnvironmentName}-*/*", region="*")],
        ),
        _st(
            "PassTheStackSetsAdministrationRole",
            ["iam:PassRole"],
            [admin],
            Condition=Condition(
                StringEquals({"iam:PassedToService": "cloudformation.amazonaws.com"})
            ),
        ),
    ]


def stack_sets_of(bp: Any) -> dict[str, Any] | None:
    """The environment's `deploy.stack_sets` when it deploys to several regions, else None."""
    regions = getattr(bp, "deploy_regions", None)  # the shared scope has one region
    if regions is None or len(regions()) < 2:
        return None
    return dict(bp.deploy.stack_sets.settings())


def deploy_statements(
    name: str,
    service_role_arn: Any,
    protected: tuple[str, ...] = (),
    stack_sets: dict[str, Any] | None = None,
) -> list[Statement]:
    """The deploy role's rights to run `cfngen deploy` with the service role. `protected`:
    more stack components an administrator changes, never the pipeline (the shared scope's
    OIDC providers, which decide who may assume the deploy roles). `stack_sets`: the
    environment's `deploy.stack_sets` when it deploys to several regions."""
    stacks: Any = _arn("cloudformation", "stack/${EnvironmentName}-*/*", region="*")
    instances = _arn("cloudformation", "stack/StackSet-${EnvironmentName}-*/*", region="*")
    role_stacks: Any = _arn(
        "cloudformation", "stack/${EnvironmentName}-deploy-role-*/*", region="*"
    )
    if protected:
        role_stacks = [
            role_stacks,
            *(
                _arn("cloudformation", f"stack/${{EnvironmentName}}-{c}/*", region="*")
                for c in protected
            ),
        ]
    bucket = Sub("arn:${AWS::Partition}:s3:::cfngen-artifacts-${AWS::AccountId}-*")
    return [
        _st(
            "ChangeSetsThroughTheServiceRole",
            ["cloudformation:CreateChangeSet"],
            [stacks, instances] if stack_sets is not None else [stacks],
            Condition=Condition(ArnEquals({"cloudformation:RoleArn": service_role_arn})),
        ),
        _st(
            "DeployEnvironmentStacks",
            [
                "cloudformation:ContinueUpdateRollback",
                "cloudformation:DeleteChangeSet",
                "cloudformation:DeleteStack",
                "cloudformation:DescribeChangeSet",
                "cloudformation:DescribeStackEvents",
                "cloudformation:DescribeStackResource",
                "cloudformation:ExecuteChangeSet",
                "cloudformation:GetTemplate",
                "cloudformation:UpdateTerminationProtection",
            ],
            [stacks],
        ),
        _st(
            "NotTheDeployRoleStacks",
            [
                "cloudformation:CreateChangeSet",
                "cloudformation:DeleteStack",
                "cloudformation:ExecuteChangeSet",
                "cloudformation:UpdateTerminationProtection",
            ],
            role_stacks if isinstance(role_stacks, list) else [role_stacks],
            Effect=Deny,
        ),
        _st(
            "PassOnlyTheServiceRole",
            ["iam:PassRole"],
            [service_role_arn],
            Condition=Condition(
                StringEquals({"iam:PassedToService": "cloudformation.amazonaws.com"})
            ),
        ),
        _st(
            "EnvironmentLock",
            ["ssm:DeleteParameter", "ssm:GetParameter", "ssm:PutParameter"],
            [
                _arn("ssm", "parameter/cfngen/locks/${EnvironmentName}", region="${AWS::Region}"),
                _arn(
                    "ssm",
                    "parameter/cfngen/lock-takeovers/${EnvironmentName}/*",
                    region="${AWS::Region}",
                ),
            ],
        ),
        _st(
            "ArtifactBucket",
            [
                "s3:CreateBucket",
                "s3:ListBucket",
                "s3:PutBucketOwnershipControls",
                "s3:PutBucketPolicy",
                "s3:PutBucketPublicAccessBlock",
                "s3:PutEncryptionConfiguration",
                "s3:PutLifecycleConfiguration",
            ],
            [bucket],
        ),
        _st(
            "ArtifactTemplates",
            ["s3:GetObject", "s3:PutObject"],
            [
                Sub(
                    "arn:${AWS::Partition}:s3:::cfngen-artifacts-${AWS::AccountId}-*/"
                    "${EnvironmentName}/*"
                )
            ],
        ),
        *(
            stack_set_statements(stack_sets.get("administration_role"))
            if stack_sets is not None
            else []
        ),
    ]


#: Reads `cfngen deploy` makes that AWS does not scope by resource.
UNSCOPED_READS = ("cloudformation:DescribeStacks", "cloudformation:ListImports")
