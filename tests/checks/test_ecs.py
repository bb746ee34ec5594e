"""ECS checks: public IPs (CFG002), privileged containers (CFG003), secrets in the environment
(CFG004), one role for execution and task (CFG005), logs (CFG014), plain HTTP listeners (CFG016);
and waivers in the resource's Metadata."""

from __future__ import annotations

from tests.checks.helpers import hits, line_of, lint, ours

TASK = """\
Resources:
  Logs:
    Type: AWS::Logs::LogGroup
    Properties:
      RetentionInDays: 30
  ExecutionRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Statement:
          - {Effect: Allow, Principal: {Service: ecs-tasks.amazonaws.com}, Action: sts:AssumeRole}
  AppRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Statement:
          - {Effect: Allow, Principal: {Service: ecs-tasks.amazonaws.com}, Action: sts:AssumeRole}
  Task:
    Type: AWS::ECS::TaskDefinition
    Properties:
      Family: app
      Cpu: "256"
      Memory: "512"
      NetworkMode: awsvpc
      RequiresCompatibilities: [FARGATE]
      ExecutionRoleArn: !GetAtt ExecutionRole.Arn
      TaskRoleArn: !GetAtt AppRole.Arn
      ContainerDefinitions:
        - Name: app
          Image: public.ecr.aws/nginx/nginx:latest
          Essential: true
          LogConfiguration:
            LogDriver: awslogs
            Options:
              awslogs-group: !Ref Logs
              awslogs-region: !Ref AWS::Region
              awslogs-stream-prefix: app
          Environment:
            - {Name: LOG_LEVEL, Value: info}
            - {Name: DB_PASSWORD_ARN, Value: arn:aws:secretsmanager:us-east-1:1:secret:x}
            - {Name: API_TOKEN, Value: !ImportValue shop-token-name}
          Secrets:
            - {Name: DB_PASSWORD, ValueFrom: arn:aws:secretsmanager:us-east-1:1:secret:db}
"""


def task(*edits: tuple[str, str]) -> str:
    """TASK with each (old, new) text replaced; the old text must be there."""
    text = TASK
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new)
    return text


PRIVILEGED = ("Essential: true", "Essential: true\n          Privileged: true")
NO_LOGS = (
    "          LogConfiguration:\n            LogDriver: awslogs\n            Options:\n"
    "              awslogs-group: !Ref Logs\n"
    "              awslogs-region: !Ref AWS::Region\n"
    "              awslogs-stream-prefix: app\n",
    "",
)


def test_the_base_task_definition_is_clean() -> None:
    for rule in ("CFG002", "CFG003", "CFG004", "CFG005", "CFG014", "CFG016"):
        assert hits(rule, TASK) == [], rule


# --- CFG002 public IPs --------------------------------------------------------------------------

SERVICE = """\
Resources:
  Service:
    Type: AWS::ECS::Service
    Properties:
      Cluster: shop
      TaskDefinition: arn:aws:ecs:us-east-1:123456789012:task-definition/app:1
      LaunchType: FARGATE
      NetworkConfiguration:
        AwsvpcConfiguration:
          AssignPublicIp: ASSIGN
          Subnets: [subnet-1]
"""


def test_cfg002_bad_service_assigns_public_ip() -> None:
    text = SERVICE.replace("ASSIGN", "ENABLED")
    assert hits("CFG002", text) == [
        ("Service", "the service's tasks get public IPs (AssignPublicIp: ENABLED)")
    ]
    assert ours(lint(text), "CFG002") == [("Service", line_of(text, "Service"))]


def test_cfg002_bad_scheduled_and_event_tasks() -> None:
    text = """\
    Resources:
      Nightly:
        Type: AWS::Scheduler::Schedule
        Properties:
          ScheduleExpression: rate(1 day)
          FlexibleTimeWindow: {Mode: "OFF"}
          Target:
            Arn: arn:aws:ecs:us-east-1:123456789012:cluster/shop
            RoleArn: arn:aws:iam::123456789012:role/scheduler
            EcsParameters:
              TaskDefinitionArn: arn:aws:ecs:us-east-1:123456789012:task-definition/app
              NetworkConfiguration:
                AwsvpcConfiguration: {AssignPublicIp: ENABLED, Subnets: [subnet-1]}
      OnUpload:
        Type: AWS::Events::Rule
        Properties:
          EventPattern: {source: [aws.s3]}
          Targets:
            - Id: run
              Arn: arn:aws:ecs:us-east-1:123456789012:cluster/shop
              EcsParameters:
                TaskDefinitionArn: arn:aws:ecs:us-east-1:123456789012:task-definition/app
                NetworkConfiguration:
                  AwsVpcConfiguration: {AssignPublicIp: ENABLED, Subnets: [subnet-1]}
    """
    assert [r for r, _ in hits("CFG002", text)] == ["Nightly", "OnUpload"]


def test_cfg002_good_private_tasks() -> None:
    assert hits("CFG002", SERVICE.replace("ASSIGN", "DISABLED")) == []
    assert hits("CFG002", SERVICE.replace("ASSIGN", "!Ref AssignPublicIp")) == []


# --- CFG003 privileged containers, and waivers ---------------------------------------------------


def test_cfg003_bad_privileged_container() -> None:
    text = task(PRIVILEGED)
    assert hits("CFG003", text) == [("Task", "container 'app' runs privileged")]
    assert ours(lint(text), "CFG003") == [("Task", line_of(text, "Task"))]


def test_cfg003_good_unprivileged_container() -> None:
    text = task(("Essential: true", "Essential: true\n          Privileged: false"))
    assert hits("CFG003", text) == []


def test_cfg003_waiver_in_metadata_moves_the_finding_to_waived() -> None:
    reason = "the build agent runs docker-in-docker; reviewed by security in TICKET-42"
    waiver = (
        "  Task:\n    Type: AWS::ECS::TaskDefinition\n",
        "  Task:\n    Type: AWS::ECS::TaskDefinition\n"
        f'    Metadata:\n      cfngen:\n        waivers:\n          CFG003: "{reason}"\n',
    )
    text = task(PRIVILEGED, NO_LOGS, waiver)
    report = lint(text)
    assert ours(report, "CFG003") == []
    waived = [(f.rule, f.resource, f.line, why) for f, why in report.waived]
    assert waived == [("CFG003", "Task", line_of(text, "Task"), reason)]
    # a waiver names one rule: the same resource's other findings stay
    assert ours(report, "CFG014") == [("Task", line_of(text, "Task"))]


# --- CFG004 secrets in environment variables ----------------------------------------------------


def test_cfg004_bad_password_in_environment() -> None:
    text = task(("LOG_LEVEL", "DB_PASSWORD"), ("info", "hunter2"))
    assert hits("CFG004", text) == [
        ("Task", "container 'app': DB_PASSWORD looks like a secret; pass it through Secrets")
    ]
    assert ours(lint(text), "CFG004") == [("Task", line_of(text, "Task"))]


def test_cfg004_bad_credentials_in_a_url() -> None:
    text = task(
        ("LOG_LEVEL", "DATABASE_URL"), ("info", "postgres://app:s3cret@db.internal:5432/app")
    )
    assert hits("CFG004", text) == [
        ("Task", "container 'app': DATABASE_URL holds credentials in a URL")
    ]


def test_cfg004_good_references_and_harmless_names() -> None:
    # DB_PASSWORD_ARN is a reference; API_TOKEN comes from an import, never a literal
    assert hits("CFG004", TASK) == []
    text = task(("LOG_LEVEL", "DATABASE_URL"), ("info", "postgres://db.internal:5432/app"))
    assert hits("CFG004", text) == []


# --- CFG005 one role for execution and task ------------------------------------------------------


def test_cfg005_bad_same_role_for_both() -> None:
    text = task(("TaskRoleArn: !GetAtt AppRole.Arn", "TaskRoleArn: !GetAtt ExecutionRole.Arn"))
    assert hits("CFG005", text) == [("Task", "ExecutionRoleArn and TaskRoleArn are the same role")]
    assert ours(lint(text), "CFG005") == [("Task", line_of(text, "Task"))]


def test_cfg005_good_separate_roles_or_no_task_role() -> None:
    assert hits("CFG005", TASK) == []
    text = task(("      TaskRoleArn: !GetAtt AppRole.Arn\n", ""))
    assert hits("CFG005", text) == []


# --- CFG014 log configuration -------------------------------------------------------------------


def test_cfg014_bad_container_without_logs() -> None:
    text = """\
    Resources:
      Task:
        Type: AWS::ECS::TaskDefinition
        Properties:
          ContainerDefinitions:
            - Name: app
              Image: nginx
              Memory: 512
            - Image: sidecar
              Memory: 64
              LogConfiguration: {Options: {}}
    """
    assert hits("CFG014", text) == [
        ("Task", "container 'app' has no LogConfiguration; its output is lost"),
        ("Task", "container (unnamed) has no LogConfiguration; its output is lost"),
    ]
    assert ours(lint(text), "CFG014") == [("Task", line_of(text, "Task"))] * 2


def test_cfg014_good_awslogs() -> None:
    assert hits("CFG014", TASK) == []
    assert [r for r, _ in hits("CFG014", task(NO_LOGS))] == ["Task"]


# --- CFG016 plain HTTP listeners ----------------------------------------------------------------

LISTENER = """\
Resources:
  Http:
    Type: AWS::ElasticLoadBalancingV2::Listener
    Properties:
      LoadBalancerArn: arn:aws:elasticloadbalancing:us-east-1:1:loadbalancer/app/x/y
      Port: 80
      Protocol: HTTP
      DefaultActions:
        - ACTION
"""


def test_cfg016_bad_http_forward() -> None:
    text = LISTENER.replace(
        "ACTION", "{Type: forward, TargetGroupArn: arn:aws:elasticloadbalancing:us-east-1:1:tg/x}"
    )
    assert hits("CFG016", text) == [
        ("Http", "the HTTP listener forwards traffic instead of redirecting to HTTPS")
    ]
    assert ours(lint(text), "CFG016") == [("Http", line_of(text, "Http"))]


def test_cfg016_good_redirect_to_https_and_tcp() -> None:
    redirect = LISTENER.replace(
        "ACTION",
        '{Type: redirect, RedirectConfig: {Protocol: HTTPS, Port: "443", StatusCode: HTTP_301}}',
    )
    assert hits("CFG016", redirect) == []
    tcp = LISTENER.replace("Protocol: HTTP\n", "Protocol: TCP\n").replace(
        "ACTION", "{Type: forward, TargetGroupArn: x}"
    )
    assert hits("CFG016", tcp) == []
