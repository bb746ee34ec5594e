"""The environment lock against botocore's Stubber with SSM's real answers.

Stubber fails a test on any call it did not expect, so these tests pin down that a lock is only
ever created with Overwrite=False and that a stale lock is taken over by exactly one run.
The real-process tests (two deploys at once, SIGTERM, kill -9) are in test_faults.py.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import EndpointConnectionError
from botocore.stub import ANY, Stubber

from cfngen.deploy.lock import EnvironmentLock, LockHeld, LockInfo, remove_lock

NAME = "/cfngen/locks/sample-test"
NOW = 1_800_000_000.0
UNLOCK = "cfngen unlock out --env test"


@pytest.fixture
def ssm() -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client(
        "ssm", region_name="eu-west-1", aws_access_key_id="t", aws_secret_access_key="t"
    )
    with Stubber(client) as stub:
        yield client, stub
        stub.assert_no_pending_responses()


def make_lock(client: Any, run_id: str = "mine00000000") -> EnvironmentLock:
    return EnvironmentLock(
        client, "sample-test", "deploy", unlock_command=UNLOCK, run_id=run_id, clock=lambda: NOW
    )


def held_by(
    run_id: str, *, host: str = "ci-runner-7", pid: int = 4242, expires: float = NOW + 300
) -> str:
    return LockInfo(
        run_id, "deploy", "alice", host, pid, "arn:aws:iam::1:user/alice", NOW - 60, expires
    ).to_json()


def put(stub: Stubber, name: str = NAME, *, exists: bool = False) -> None:
    expected = {
        "Name": name,
        "Value": ANY,
        "Type": "String",
        "Overwrite": False,
        "Description": ANY,
    }
    if exists:
        stub.add_client_error(
            "put_parameter",
            "ParameterAlreadyExists",
            "The parameter already exists. To overwrite this value, set the overwrite option "
            "in the request to true.",
            400,
            expected_params=expected,
        )
    else:
        stub.add_response("put_parameter", {"Version": 1, "Tier": "Standard"}, expected)


def get(stub: Stubber, value: str | None) -> None:
    if value is None:
        stub.add_client_error("get_parameter", "ParameterNotFound", "", 400, {"Name": NAME})
    else:
        stub.add_response(
            "get_parameter",
            {"Parameter": {"Name": NAME, "Type": "String", "Value": value, "Version": 1}},
            {"Name": NAME},
        )


def delete(stub: Stubber, name: str = NAME) -> None:
    stub.add_response("delete_parameter", {}, {"Name": name})


def test_a_free_environment_is_locked_with_overwrite_disabled(ssm: tuple[Any, Stubber]) -> None:
    client, stub = ssm
    put(stub)
    lock = make_lock(client)
    assert lock.try_acquire() is None
    assert lock.held is not None and lock.held.run_id == "mine00000000"
    assert lock.held.expires == NOW + 600 and lock.held.pid == os.getpid()


def test_a_live_holder_makes_the_second_run_exit_naming_it(ssm: tuple[Any, Stubber]) -> None:
    client, stub = ssm
    put(stub, exists=True)
    get(stub, held_by("other1234567"))
    lock = make_lock(client)
    import threading

    with pytest.raises(LockHeld) as caught:
        lock.acquire(wait=False, cancel=threading.Event())
    message = caught.value.render()
    assert "sample-test is locked by `cfngen deploy` run other1234567" in message
    assert "alice@ci-runner-7, pid 4242, arn:aws:iam::1:user/alice" in message
    assert "--wait-for-lock" in message and UNLOCK in message
    assert lock.held is None


def test_an_expired_lock_is_taken_over_through_one_marker(ssm: tuple[Any, Stubber]) -> None:
    client, stub = ssm
    stale = held_by("stale0000000", expires=NOW - 1)
    put(stub, exists=True)
    get(stub, stale)
    put(stub, "/cfngen/lock-takeovers/sample-test/stale0000000")
    get(stub, stale)
    delete(stub)
    put(stub)
    delete(stub, "/cfngen/lock-takeovers/sample-test/stale0000000")
    lock = make_lock(client)
    assert lock.try_acquire() is None
    assert lock.held is not None and lock.held.run_id == "mine00000000"


def test_a_run_that_loses_the_takeover_race_leaves_the_lock_alone(
    ssm: tuple[Any, Stubber],
) -> None:
    client, stub = ssm
    stale = held_by("stale0000000", expires=NOW - 1)
    winner = held_by("winner000000")
    put(stub, exists=True)
    get(stub, stale)
    put(stub, "/cfngen/lock-takeovers/sample-test/stale0000000", exists=True)  # another run won
    put(stub, exists=True)
    get(stub, winner)
    holder = make_lock(client).try_acquire()
    assert holder is not None and holder.run_id == "winner000000"


def test_a_late_taker_does_not_delete_the_winners_new_lock(ssm: tuple[Any, Stubber]) -> None:
    client, stub = ssm
    stale = held_by("stale0000000", expires=NOW - 1)
    winner = held_by("winner000000")
    put(stub, exists=True)
    get(stub, stale)
    put(stub, "/cfngen/lock-takeovers/sample-test/stale0000000")  # the winner removed its marker
    get(stub, winner)  # ... because it already holds the lock: no delete
    delete(stub, "/cfngen/lock-takeovers/sample-test/stale0000000")
    put(stub, exists=True)
    get(stub, winner)
    holder = make_lock(client).try_acquire()
    assert holder is not None and holder.run_id == "winner000000"


def test_a_lock_of_a_dead_process_on_this_machine_is_stale_at_once() -> None:
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    pid = int(dead.stdout)
    here = socket.gethostname()
    assert LockInfo("r", "deploy", "u", here, pid, "", NOW, NOW + 600).stale(NOW)
    assert not LockInfo("r", "deploy", "u", here, os.getpid(), "", NOW, NOW + 600).stale(NOW)
    assert not LockInfo("r", "deploy", "u", "elsewhere", pid, "", NOW, NOW + 600).stale(NOW)
    assert LockInfo("r", "deploy", "u", "elsewhere", pid, "", NOW, NOW + 600).stale(NOW + 601)


def test_a_lock_not_written_by_cfngen_never_expires() -> None:
    info = LockInfo.from_json("hand-made")
    assert not info.stale(NOW + 10**9)
    assert "never (not a cfngen lock)" in info.describe()


def test_renewal_pushes_the_expiry_forward(ssm: tuple[Any, Stubber]) -> None:
    client, stub = ssm
    put(stub)
    lock = make_lock(client)
    lock.try_acquire()
    get(stub, lock.held.to_json() if lock.held else "")
    stub.add_response(
        "put_parameter",
        {"Version": 2},
        {"Name": NAME, "Value": ANY, "Type": "String", "Overwrite": True},
    )
    lock.clock = lambda: NOW + 60
    assert lock.renew()
    assert lock.held is not None and lock.held.expires == NOW + 660
    assert lock.held.started == NOW


def test_a_run_whose_lock_was_removed_is_told_so(ssm: tuple[Any, Stubber]) -> None:
    client, stub = ssm
    put(stub)
    lock = make_lock(client)
    lock.try_acquire()
    reasons: list[str] = []
    lock._on_lost = reasons.append
    get(stub, held_by("thief0000000"))
    assert not lock.renew()
    assert lock.lost.is_set()
    assert "taken away; it is now held by `cfngen deploy` run thief0000000" in reasons[0]
    assert lock.release() == ""  # not ours any more: nothing deleted (Stubber would fail)


def test_release_with_the_endpoint_gone_prints_expiry_and_unlock(
    ssm: tuple[Any, Stubber],
) -> None:
    client, stub = ssm
    put(stub)
    lock = make_lock(client)
    lock.try_acquire()

    def unreachable(**_: Any) -> None:
        raise EndpointConnectionError(endpoint_url="http://127.0.0.1:9")

    client.meta.events.register("before-call.ssm.GetParameter", unreachable)
    warning = lock.release()
    assert "expires by itself at 2027-01-15T08:10:00Z" in warning
    assert UNLOCK in warning


def test_unlock_removes_the_lock_and_names_its_holder(ssm: tuple[Any, Stubber]) -> None:
    client, stub = ssm
    get(stub, held_by("gone00000000"))
    delete(stub)
    holder = remove_lock(client, "sample-test")
    assert holder is not None and holder.run_id == "gone00000000"
    get(stub, None)
    assert remove_lock(client, "sample-test") is None


def test_lock_record_round_trips_as_json() -> None:
    info = LockInfo("r1", "destroy", "bob", "h", 7, "arn", NOW, NOW + 600)
    assert LockInfo.from_json(info.to_json()) == info
    assert json.loads(info.to_json())["command"] == "destroy"


def test_a_signal_while_renewal_starts_does_not_break_the_release(
    ssm: tuple[Any, Stubber], monkeypatch: pytest.MonkeyPatch
) -> None:
    """SIGTERM arriving as the renewal thread is being started (seen under load in
    test_faults) raises in the main thread: release() must not join a thread that never ran."""
    import threading

    client, _ = ssm
    lock = make_lock(client)

    def interrupted(self: threading.Thread) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(threading.Thread, "start", interrupted)
    with pytest.raises(KeyboardInterrupt):
        lock.start_renewal(lambda reason: None)
    assert lock.release() == ""  # nothing held: nothing to delete, and no RuntimeError


def test_a_lock_taken_without_the_answer_arriving_is_still_released() -> None:
    """PutParameter reached AWS, but its answer never came back (a cut connection, or a
    SIGTERM while waiting): the lock is this run's without it knowing. It is released on the
    way out all the same (test_faults left such locks behind under load)."""
    from botocore.awsrequest import AWSResponse
    from botocore.parsers import ResponseParserError

    stored: dict[str, str] = {}
    reachable = {"get": True}

    def ok(parsed: dict[str, Any]) -> tuple[AWSResponse, dict[str, Any]]:
        return AWSResponse("http://ssm", 200, {}, None), parsed  # type: ignore[arg-type]

    asked: dict[str, Any] = {}

    def remember(params: dict[str, Any], **_: Any) -> None:  # the call's own parameters
        asked.clear()
        asked.update(params)

    def put_then_cut(**_: Any) -> None:
        stored[asked["Name"]] = asked["Value"]  # AWS took it ...
        raise ResponseParserError("Unable to parse response (no element found)")  # ... no answer

    def get_parameter(**_: Any) -> Any:
        if not reachable["get"]:
            raise ResponseParserError("Unable to parse response (no element found)")
        return ok({"Parameter": {"Name": asked["Name"], "Value": stored[asked["Name"]]}})

    def delete_parameter(**_: Any) -> Any:
        del stored[asked["Name"]]
        return ok({})

    client = boto3.client(
        "ssm", region_name="eu-west-1", aws_access_key_id="t", aws_secret_access_key="t"
    )
    client.meta.events.register_first("before-parameter-build.ssm.*", remember)
    client.meta.events.register_first("before-call.ssm.PutParameter", put_then_cut)
    client.meta.events.register_first("before-call.ssm.GetParameter", get_parameter)
    client.meta.events.register_first("before-call.ssm.DeleteParameter", delete_parameter)
    lock = make_lock(client)
    with pytest.raises(ResponseParserError):
        lock.try_acquire()
    assert lock.held is None and NAME in stored
    assert lock.release() == ""
    assert stored == {}  # released
    # one that cannot even be read back is reported, with how to remove it
    lock = make_lock(client)
    with pytest.raises(ResponseParserError):
        lock.try_acquire()
    reachable["get"] = False
    warning = lock.release()
    assert "if this run took it, it expires by itself at" in warning
    assert UNLOCK in warning
