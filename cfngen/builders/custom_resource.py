"""Inline custom-resource functions: the part every one of cfngen's shares.

Inline so the template is the whole deployment (no artifact bucket, no packaging step).
"""

from __future__ import annotations


def runner_head(client: str) -> str:
    """The start of an inline custom-resource function: imports, `client`, and `respond`,
    which answers CloudFormation itself (cfn-response is not importable from every runtime)."""
    return RUNNER_HEAD.replace("{client}", client)


RUNNER_HEAD = """\
import json
import time
import urllib.request

import boto3

{client}


def respond(event, context, status, reason="", physical=None, data=None):
    body = json.dumps({
        "Status": status,
        "Reason": (reason or "see CloudWatch Logs " + context.log_stream_name)[:1000],
        "PhysicalResourceId": physical or event.get("PhysicalResourceId")
        or context.log_stream_name,
        "StackId": event["StackId"],
        "RequestId": event["RequestId"],
        "LogicalResourceId": event["LogicalResourceId"],
        "Data": data or {},
    }).encode()
    request = urllib.request.Request(
        event["ResponseURL"], data=body, method="PUT",
        headers={"Content-Type": "", "Content-Length": str(len(body))},
    )
    urllib.request.urlopen(request, timeout=30)


"""
