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
