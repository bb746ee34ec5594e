"""Plan report pieces: template comparison by meaning, property values, ordering, formats."""

from __future__ import annotations

import json

from cfngen.deploy.diff import (
    PlanReport,
    StackPlan,
    changed_outputs,
    render_json,
    render_markdown,
    render_text,
    resource_changes,
)
from cfngen.deploy.safety import refusals
from cfngen.render import load_template

OLD = """
Resources:
  Db:
    Type: AWS::RDS::DBInstance
    Properties: {DBInstanceClass: db.t4g.micro, Engine: postgres}
  Queue:
    Type: AWS::SQS::Queue
    Properties: {VisibilityTimeout: 30}
  Old:
    Type: AWS::SNS::Topic
Outputs:
  DbEndpoint:
    Value: !GetAtt Db.Endpoint.Address
  QueueUrl:
    Value: !Ref Queue
"""
NEW = OLD.replace("db.t4g.micro", "db.t4g.medium").replace(
    "VisibilityTimeout: 30", "VisibilityTimeout: 60"
)

CHANGES = [
    {
        "Type": "Resource",
        "ResourceChange": {
            "Action": "Modify",
            "LogicalResourceId": "Queue",
            "ResourceType": "AWS::SQS::Queue",
            "Replacement": "False",
            "Details": [
                {
                    "Target": {
                        "Attribute": "Properties",
                        "Name": "VisibilityTimeout",
                        "RequiresRecreation": "Never",
                    }
                }
            ],
        },
    },
    {
        "Type": "Resource",
        "ResourceChange": {
            "Action": "Modify",
            "LogicalResourceId": "Db",
            "ResourceType": "AWS::RDS::DBInstance",
            "Replacement": "True",
            "Details": [
                {
                    "Target": {
                        "Attribute": "Properties",
                        "Name": "DBInstanceClass",
                        "RequiresRecreation": "Always",
                    }
                }
            ],
        },
    },
    {
        "Type": "Resource",
        "ResourceChange": {
            "Action": "Remove",
            "LogicalResourceId": "Old",
            "ResourceType": "AWS::SNS::Topic",
        },
    },
]


def test_short_and_long_form_templates_compare_equal() -> None:
    short = (
        "Resources:\n  T:\n    Type: AWS::SNS::Topic\n    Properties:\n"
        "      TopicName: !Sub '${AWS::StackName}-t'\n      Tags: [{Key: a, Value: !Ref X}]\n"
    )
    long = json.dumps(
        {
            "Resources": {
                "T": {
                    "Type": "AWS::SNS::Topic",
                    "Properties": {
                        "TopicName": {"Fn::Sub": "${AWS::StackName}-t"},
                        "Tags": [{"Key": "a", "Value": {"Ref": "X"}}],
                    },
                }
            }
        }
    )
    assert load_template(short) == load_template(long)
    assert load_template("A: !GetAtt Db.Endpoint.Address") == {
        "A": {"Fn::GetAtt": ["Db", "Endpoint.Address"]}
    }
    # nested short forms keep their meaning; a YAML flow mapping is not mistaken for JSON;
    # GetTemplate's already-parsed JSON templates pass through
    assert load_template("A: !GetAtt [Db, !Ref Attribute]") == {
        "A": {"Fn::GetAtt": ["Db", {"Ref": "Attribute"}]}
    }
    assert load_template("{A: !Ref B}") == {"A": {"Ref": "B"}}
    assert load_template({"A": 1}) == {"A": 1}
    reads = "A: !GetStackOutput {StackName: s-cert, OutputName: Arn, Region: us-east-1}"
    assert load_template(reads) == {
        "A": {
            "Fn::GetStackOutput": {
                "StackName": "s-cert",
                "OutputName": "Arn",
                "Region": "us-east-1",
            }
        }
    }


def test_stateful_replacement_comes_first_with_values_from_the_templates() -> None:
    found = resource_changes(CHANGES, load_template(OLD), load_template(NEW))
    assert [c.logical_id for c in found] == ["Db", "Old", "Queue"]
    db = found[0]
    assert db.risk == "would be replaced (a new, empty resource)"
    assert (db.properties[0].before, db.properties[0].after) == ("db.t4g.micro", "db.t4g.medium")
    queue = found[2]
    assert (queue.properties[0].before, queue.properties[0].after) == (30, 60)
    assert queue.risk is None


def test_api_property_values_win_when_present() -> None:
    change = json.loads(json.dumps(CHANGES[0]))
    target = change["ResourceChange"]["Details"][0]["Target"]
    target.update(BeforeValue="30", AfterValue="90")
    found = resource_changes([change], load_template(OLD), load_template(NEW))
    assert (found[0].properties[0].before, found[0].properties[0].after) == (30, 90)


def test_replacement_refused_unless_allowed_and_exports_of_replaced_resources_change() -> None:
    old, new = load_template(OLD), load_template(NEW)
    plan = StackPlan("s", "db", "update", resources=resource_changes(CHANGES, old, new))
    assert refusals(plan, allow_replace=False) == [
        "Db (AWS::RDS::DBInstance) would be replaced (a new, empty resource); "
        "re-run with --allow-replace if that is intended"
    ]
    assert refusals(plan, allow_replace=True) == []
    assert changed_outputs(old, new, {"Db"}) == {"DbEndpoint"}
    assert changed_outputs(old, new, set()) == set()


def test_formats_show_the_same_facts() -> None:
    old, new = load_template(OLD), load_template(NEW)
    plan = StackPlan(
        "app-db",
        "db",
        "update",
        resources=resource_changes(CHANGES, old, new),
        changed_exports=["env-db-DbEndpoint"],
        affected_stacks=["env-service-api"],
    )
    report = PlanReport("env", [plan, StackPlan("env-net", "net", "unchanged")])
    text = render_text(report)
    assert "~ Db (AWS::RDS::DBInstance) REPLACEMENT  !! stateful" in text
    assert "DBInstanceClass: db.t4g.micro -> db.t4g.medium [recreation: Always]" in text
    assert "dependent stacks affected: env-service-api" in text
    assert text.endswith("plan for env: 1 update, 1 unchanged")
    markdown = render_markdown(report)
    assert "| **~ ⚠** | `Db` | AWS::RDS::DBInstance | True |" in markdown
    data = json.loads(render_json(report))
    assert data["has_changes"] is True
    assert data["stacks"][0]["resources"][0]["risk"].startswith("would be replaced")


TASK = """
Parameters:
  ImageTag: {Type: String}
Resources:
  Task:
    Type: AWS::ECS::TaskDefinition
    Properties:
      ContainerDefinitions:
        - Name: api
          Image: !Sub "${AWS::AccountId}.dkr.ecr.eu-west-1.amazonaws.com/api:${ImageTag}"
          Essential: true
          Environment: [{Name: LOG_LEVEL, Value: info}, {Name: MODE, Value: web}]
"""
TASK_CHANGES = [
    {
        "Type": "Resource",
        "ResourceChange": {
            "Action": "Modify",
            "LogicalResourceId": "Task",
            "ResourceType": "AWS::ECS::TaskDefinition",
            "Replacement": "True",
            "Details": [
                {
                    "Target": {
                        "Attribute": "Properties",
                        "Name": "ContainerDefinitions",
                        "RequiresRecreation": "Always",
                    },
                    "ChangeSource": "DirectModification",
                }
            ],
        },
    }
]


def _task_report() -> PlanReport:
    old = load_template(TASK)
    new = load_template(TASK.replace("Value: info", "Value: debug"))
    params = ({"ImageTag": "v1"}, {"ImageTag": "v2"})
    plan = StackPlan(
        "app-api", "api", "update", resources=resource_changes(TASK_CHANGES, old, new, params)
    )
    return PlanReport("env", [plan])


def test_nested_values_show_a_complete_diff_with_parameters_filled_in() -> None:
    text = render_text(_task_report())
    assert "      ContainerDefinitions: (diff below) [recreation: Always]" in text
    diff = [line.strip() for line in text.splitlines() if line.startswith("          ")]
    assert "-  - Name: LOG_LEVEL" not in diff  # unchanged lines are context, not changes
    assert "-    Value: info" in diff and "+    Value: debug" in diff
    image = "Image:\n    Fn::Sub: ${AWS::AccountId}.dkr.ecr.eu-west-1.amazonaws.com/api:"
    assert f"- {image.splitlines()[0]}" not in text  # the key itself did not change
    assert "-    Fn::Sub: ${AWS::AccountId}.dkr.ecr.eu-west-1.amazonaws.com/api:v1" in diff
    assert "+    Fn::Sub: ${AWS::AccountId}.dkr.ecr.eu-west-1.amazonaws.com/api:v2" in diff
    assert "..." not in text


def test_markdown_and_json_carry_the_same_complete_diff() -> None:
    report = _task_report()
    text_diff = [
        line[10:] for line in render_text(report).splitlines() if line.startswith("          ")
    ]
    markdown = render_markdown(report)
    assert "| `ContainerDefinitions`: (diff below) |" not in markdown
    assert "ContainerDefinitions: (diff below)" in markdown
    block = markdown.split("`Task` `ContainerDefinitions`:\n\n```diff\n")[1].split("\n```")[0]
    assert block.splitlines() == text_diff
    prop = json.loads(render_json(report))["stacks"][0]["resources"][0]["properties"][0]
    assert prop["diff"] == text_diff
    assert prop["after"][0]["Environment"][0] == {"Name": "LOG_LEVEL", "Value": "debug"}
