"""Throttling is retried by botocore's standard mode, as configured by cfngen.deploy.aws.

Stubber short-circuits botocore's retry loop, so this test runs a tiny HTTP server on
127.0.0.1 that answers like CloudFormation: two throttling errors with AWS's real wording
("Rate exceeded"), then the real answer. The clients come from make_clients, as in production.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import botocore.endpoint
import pytest

from cfngen.deploy.aws import MAX_ATTEMPTS, AwsTarget, make_clients
from cfngen.deploy.state import describe_stack

THROTTLED = b"""<ErrorResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/">
  <Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error>
  <RequestId>3f1f0c2e-0000-4000-8000-000000000000</RequestId>
</ErrorResponse>"""

DESCRIBED = b"""<DescribeStacksResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/">
  <DescribeStacksResult><Stacks><member>
    <StackName>sample-test-network</StackName>
    <StackId>arn:aws:cloudformation:eu-west-1:123456789012:stack/sample-test-network/1</StackId>
    <StackStatus>CREATE_COMPLETE</StackStatus>
    <CreationTime>2026-01-01T00:00:00Z</CreationTime>
  </member></Stacks></DescribeStacksResult>
  <ResponseMetadata><RequestId>4f1f0c2e-0000-4000-8000-000000000000</RequestId></ResponseMetadata>
</DescribeStacksResponse>"""


class _Throttling(BaseHTTPRequestHandler):
    throttle = 2
    seen = 0

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        type(self).seen += 1
        throttled = type(self).seen <= type(self).throttle
        body = THROTTLED if throttled else DESCRIBED
        self.send_response(400 if throttled else 200)
        self.send_header("Content-Type", "text/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: object) -> None:
        return None


@pytest.fixture
def throttling_endpoint() -> Iterator[str]:
    _Throttling.seen = 0
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Throttling)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_retry_mode_is_standard(aws_env: None) -> None:
    clients = make_clients(AwsTarget(endpoint_url="http://127.0.0.1:9"), "eu-west-1")
    for client in (clients.cloudformation, clients.s3):
        retries = getattr(client.meta.config, "retries")  # noqa: B009 - untyped in the stubs
        assert retries["mode"] == "standard"
        assert retries["total_max_attempts"] == MAX_ATTEMPTS


def test_throttled_calls_are_retried(
    throttling_endpoint: str, aws_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # botocore sleeps between attempts (backoff with jitter, up to seconds): the delays it asks
    # for are recorded instead of slept
    delays: list[float] = []
    monkeypatch.setattr(botocore.endpoint.time, "sleep", delays.append)
    clients = make_clients(AwsTarget(endpoint_url=throttling_endpoint), "eu-west-1")
    state = describe_stack(clients.cloudformation, "sample-test-network")
    assert state is not None and state.status == "CREATE_COMPLETE"
    assert _Throttling.seen == 3  # two "Rate exceeded" answers, then the real one
    assert len(delays) == 2  # a backoff before each retry


def test_flags_override_environment(aws_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_REGION", "us-west-2")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    from_env = make_clients(AwsTarget(), "eu-west-1")
    assert from_env.region == "us-west-2"
    assert from_env.cloudformation.meta.endpoint_url == "http://127.0.0.1:9"
    flagged = make_clients(AwsTarget(region="ap-south-1", endpoint_url="http://127.0.0.1:8"), "x")
    assert flagged.region == "ap-south-1"
    assert flagged.cloudformation.meta.endpoint_url == "http://127.0.0.1:8"
    monkeypatch.delenv("AWS_REGION")
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    assert make_clients(AwsTarget(), "eu-west-1").region == "eu-west-1"  # the blueprint's
