"""What each declared access needs, in IAM actions, as AWS documents it: the one place CFG028
(`uses`, a host's own needs) and CFG029 (deploy pipelines) read the required actions from.

The manifest's `accesses` say which role needs what on which resource (`uses: read-write` of
bucket `results` with prefix `results/`; a host's secret; a deploy role's repository). These
tables turn that into actions and the resource they must be allowed on; they are written from
the AWS documentation cited next to each entry, never from what cfngen's kinds grant, so a
grant that forgets an action is found rather than copied.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Need:
    """Actions required on one resource of the used component."""

    actions: tuple[str, ...]
    on: str  # "arn" (the component), "objects" (a bucket's objects under the prefix)
    # a statement constraining this key must allow the access's value (s3:prefix: the prefix;
    # elasticfilesystem:AccessPointArn: the access point)
    condition_key: str = ""


# (resource type, access) -> needs. The access levels are those docs/containers.md documents.
USES: dict[tuple[str, str], tuple[Need, ...]] = {
    # https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-with-s3-policy-actions.html
    ("AWS::S3::Bucket", "read"): (
        Need(("s3:GetObject",), "objects"),
        Need(("s3:ListBucket",), "arn", "s3:prefix"),
    ),
    ("AWS::S3::Bucket", "read-write"): (
        Need(("s3:GetObject", "s3:PutObject", "s3:DeleteObject"), "objects"),
        Need(("s3:ListBucket",), "arn", "s3:prefix"),
    ),
    # https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/
    # sqs-api-permissions-reference.html
    ("AWS::SQS::Queue", "send"): (Need(("sqs:SendMessage",), "arn"),),
    ("AWS::SQS::Queue", "consume"): (
        Need(("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility"), "arn"),
    ),
    # https://docs.aws.amazon.com/sns/latest/dg/sns-access-policy-language-api-permissions-reference.html
    ("AWS::SNS::Topic", "publish"): (Need(("sns:Publish",), "arn"),),
    # https://docs.aws.amazon.com/efs/latest/ug/iam-access-control-nfs-efs.html: a mount through
    # an access point is authorized with the access point's ARN in the request context
    ("AWS::EFS::FileSystem", "read"): (
        Need(("elasticfilesystem:ClientMount",), "arn", "elasticfilesystem:AccessPointArn"),
    ),
    ("AWS::EFS::FileSystem", "read-write"): (
        Need(
            ("elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"),
            "arn",
            "elasticfilesystem:AccessPointArn",
        ),
    ),
}

# An ARN of a component outside the environment (an existing bucket) -> its resource type.
ARN_TYPES = {
    ":s3:::": "AWS::S3::Bucket",
    ":sqs:": "AWS::SQS::Queue",
    ":sns:": "AWS::SNS::Topic",
    ":elasticfilesystem:": "AWS::EFS::FileSystem",  # an existing file system, by its ARN
}

# With a customer-managed KMS key on the used component, the key actions of each access:
# SQS https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/
#   sqs-key-management.html (producers GenerateDataKey + Decrypt, consumers Decrypt);
# SNS https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html (publishers the same);
# S3 https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html
#   (GetObject needs Decrypt, PutObject GenerateDataKey).
KMS: dict[str, tuple[str, ...]] = {
    "send": ("kms:GenerateDataKey", "kms:Decrypt"),
    "consume": ("kms:Decrypt",),
    "publish": ("kms:GenerateDataKey", "kms:Decrypt"),
    "read": ("kms:Decrypt",),
    "read-write": ("kms:Decrypt", "kms:GenerateDataKey"),
}

# A host's own needs (docs/data-edge-ops.md, hosts): Docker's awslogs driver writes the log
# group (https://docs.docker.com/engine/logging/drivers/awslogs/#credentials), compose-env reads
# each secret and parameter, the boot script copies the compose file from S3.
HOST: dict[str, tuple[str, ...]] = {
    "log-group": ("logs:CreateLogStream", "logs:PutLogEvents"),
    # https://docs.aws.amazon.com/secretsmanager/latest/userguide/auth-and-access_examples.html
    "secret": ("secretsmanager:GetSecretValue",),
    # https://docs.aws.amazon.com/systems-manager/latest/userguide/sysman-paramstore-access.html
    "parameter": ("ssm:GetParameter",),
    # https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html#API_GetObject_Permissions
    "object": ("s3:GetObject",),
}


@dataclass(frozen=True)
class Step:
    """One step of a deploy pipeline, on one kind of target the deploy role is given.

    `target` is the manifest need it applies to (`deploy:<target>`); `on` says which resource
    the actions must be allowed on: "*" (actions without resource-level permissions), "target"
    (the recorded resource: a repository, a site's bucket), "objects" (the bucket's objects),
    "service" (the ECS service's ARN), "roles" (the task and execution roles of the service's
    task definition, to pass to ECS), "instance" (a host's instance ARN), "document" (the
    AWS-RunShellScript document) or "distribution" (the site's CloudFront distribution)."""

    what: str
    target: str
    actions: tuple[str, ...]
    on: str
    doc: str
    conditioned: tuple[str, ...] = ()  # actions whose request carries the revision's ARN


# The pipelines docs/containers.md and docs/data-edge-ops.md (deploy_roles) describe: push the
# image, register a task definition revision, point the service at it (GitHub); push, run the
# deploy script on hosts through Run Command, publish sites (GitLab). One more step
# (CloudFormation change sets, say) is one more entry here.
DEPLOY_STEPS: tuple[Step, ...] = (
    Step(
        "log in to ECR",
        "repository",
        ("ecr:GetAuthorizationToken",),
        "*",
        "https://docs.aws.amazon.com/AmazonECR/latest/userguide/registry_auth.html",
    ),
    Step(
        "push the image",
        "repository",
        (
            "ecr:BatchCheckLayerAvailability",
            "ecr:InitiateLayerUpload",
            "ecr:UploadLayerPart",
            "ecr:CompleteLayerUpload",
            "ecr:PutImage",
            "ecr:BatchGetImage",
        ),
        "target",
        "https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-push-iam.html",
    ),
    Step(
        "register a task definition revision",
        "service",
        ("ecs:DescribeTaskDefinition", "ecs:RegisterTaskDefinition"),
        "*",
        "https://github.com/aws-actions/amazon-ecs-deploy-task-definition#permissions",
    ),
    Step(
        "update the service to the new revision",
        "service",
        ("ecs:DescribeServices", "ecs:UpdateService"),
        "service",
        "https://github.com/aws-actions/amazon-ecs-deploy-task-definition#permissions",
        # https://docs.aws.amazon.com/service-authorization/latest/reference/
        # list_amazonelasticcontainerservice.html: UpdateService has ecs:task-definition
        ("ecs:UpdateService",),
    ),
    Step(
        "pass the task's roles to ECS",
        "service",
        ("iam:PassRole",),
        "roles",
        "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-iam-roles.html",
    ),
    Step(
        "run the deploy script on the host",
        "host",
        ("ssm:SendCommand",),
        "instance",
        "https://docs.aws.amazon.com/systems-manager/latest/userguide/run-command-setting-up.html",
    ),
    Step(
        "run it with the AWS-RunShellScript document",
        "host",
        ("ssm:SendCommand",),
        "document",
        "https://docs.aws.amazon.com/systems-manager/latest/userguide/run-command-setting-up.html",
    ),
    Step(
        "follow the command's output",
        "host",
        ("ssm:GetCommandInvocation",),
        "*",
        "https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetCommandInvocation.html",
    ),
    Step(
        "list the site's bucket",
        "site",
        ("s3:ListBucket",),
        "target",
        "https://docs.aws.amazon.com/cli/latest/reference/s3/sync.html",
    ),
    Step(
        "upload and delete the site's files",
        "site",
        ("s3:PutObject", "s3:DeleteObject"),
        "objects",
        "https://docs.aws.amazon.com/cli/latest/reference/s3/sync.html",
    ),
    Step(
        "invalidate the site's distribution",
        "site",
        ("cloudfront:CreateInvalidation",),
        "distribution",
        "https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/Invalidation.html",
    ),
    Step(
        "pass the CloudFormation service role to the change sets of `cfngen deploy`",
        "stacks",
        ("iam:PassRole",),
        "target",
        "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-iam-servicerole.html",
    ),
)
