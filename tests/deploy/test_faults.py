"""Fault tests: real `cfngen` processes against MiniStack, stopped, killed and raced.

Timing is made deterministic with signals instead of sleeps: a run is paused with SIGSTOP as
soon as its lock exists (so it provably holds the lock while the other run starts), and resumed
with SIGCONT. Every test ends by checking the state in the emulator and that a rerun converges.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest

from cfngen.deploy.lock import LockInfo
from tests.deploy.sample import broken, sample_environment, write_rendered

pytestmark = pytest.mark.xdist_group("ministack")

LOCK = "/cfngen/locks/sample-test"
STACKS = ["network", "app-a", "app-b", "edge", "solo"]


class Target:
    """One rendered sample environment on one emulator, driven through real processes."""

    def __init__(self, endpoint: str, tmp_path: Path) -> None:
        self.endpoint = endpoint
        self.tmp = tmp_path
        self.directory = write_rendered(sample_environment(), tmp_path / "out")
        session = boto3.Session(
            aws_access_key_id="test", aws_secret_access_key="test", region_name="eu-west-1"
        )
        self.ssm = session.client("ssm", endpoint_url=endpoint)
        self.cfn = session.client("cloudformation", endpoint_url=endpoint)
        self.env = {**os.environ, "PYTHONUNBUFFERED": "1", "AWS_MAX_ATTEMPTS": "2"}
        self.count = 0

    def args(self, command: str, *extra: str) -> list[str]:
        words = [sys.executable, "-m", "cfngen", command, str(self.directory), "--env", "test"]
        words += ["--endpoint-url", self.endpoint]
        if command in ("deploy", "destroy"):
            words += ["--yes", "--poll-interval", "0.1"]
        return words + list(extra)

    def start(self, command: str, *extra: str) -> tuple[subprocess.Popen[str], Path]:
        """Start a run in the background; its combined output goes to a file."""
        self.count += 1
        log = self.tmp / f"{command}-{self.count}.log"
        process = subprocess.Popen(
            self.args(command, *extra),
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
            text=True,
            env=self.env,
        )
        return process, log

    def run(self, command: str, *extra: str) -> tuple[int, str]:
        done = subprocess.run(
            self.args(command, *extra),
            capture_output=True,
            text=True,
            env=self.env,
            timeout=120,
        )
        return done.returncode, done.stdout + done.stderr

    def lock(self) -> LockInfo | None:
        try:
            value = self.ssm.get_parameter(Name=LOCK)["Parameter"]["Value"]
        except self.ssm.exceptions.ParameterNotFound:
            return None
        return LockInfo.from_json(value)

    def statuses(self) -> dict[str, Any]:
        found = {}
        for key in STACKS:
            name = f"sample-test-{key}"
            with contextlib.suppress(self.cfn.exceptions.ClientError):
                found[key] = self.cfn.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"]
        return found


def wait_until(check: Callable[[], object], what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def finish(process: subprocess.Popen[str], log: Path) -> tuple[int, str]:
    code = process.wait(timeout=120)
    return code, log.read_text()


@pytest.fixture
def target(emulator: str, tmp_path: Path) -> Target:
    return Target(emulator, tmp_path)


def test_two_deploys_at_once_the_second_exits_naming_the_holder(target: Target) -> None:
    first, first_log = target.start("deploy")
    wait_until(target.lock, "the first run's lock")
    os.kill(first.pid, signal.SIGSTOP)  # it holds the lock for as long as we like
    try:
        code, output = target.run("deploy")
        assert code == 1, output
        assert re.search(
            r"sample-test is locked by `cfngen deploy` run \w+ \(.*pid " + str(first.pid), output
        )
        assert "--wait-for-lock" in output
        assert f"cfngen unlock {target.directory} --env test --endpoint-url" in output
        assert "delet" not in output.lower()  # the second run touched no stack
    finally:
        os.kill(first.pid, signal.SIGCONT)
    code, output = finish(first, first_log)
    assert code == 0, output
    assert "5 stacks: 5 created" in output
    assert target.statuses() == dict.fromkeys(STACKS, "CREATE_COMPLETE")
    assert target.lock() is None


def test_a_destroy_waits_for_a_running_deploy(target: Target) -> None:
    deploy, deploy_log = target.start("deploy")
    wait_until(target.lock, "the deploy's lock")
    os.kill(deploy.pid, signal.SIGSTOP)
    destroy, destroy_log = target.start("destroy", "--wait-for-lock")
    try:
        wait_until(lambda: "waiting for the lock" in destroy_log.read_text(), "destroy to wait")
        assert destroy.poll() is None
    finally:
        os.kill(deploy.pid, signal.SIGCONT)
    code, output = finish(deploy, deploy_log)
    assert code == 0 and "5 stacks: 5 created" in output, output
    code, output = finish(destroy, destroy_log)
    assert code == 0, output
    assert output.count("deleted") == 5
    assert target.statuses() == {}
    assert target.lock() is None


def test_sigterm_during_a_deploy_summarises_releases_and_resumes(target: Target) -> None:
    deploy, log = target.start("deploy")
    wait_until(target.lock, "the deploy's lock")
    os.kill(deploy.pid, signal.SIGSTOP)
    os.kill(deploy.pid, signal.SIGTERM)  # delivered as soon as it runs again
    os.kill(deploy.pid, signal.SIGCONT)
    code, output = finish(deploy, log)
    assert code == 143, output
    assert "deploy summary for sample-test" in output or "terminated" in output
    assert "Run the same command again" in output
    assert "Traceback" not in output
    assert target.lock() is None  # released on the way out
    code, output = target.run("deploy")
    assert code == 0, output
    assert target.statuses() == dict.fromkeys(STACKS, "CREATE_COMPLETE")


def test_sigterm_while_waiting_for_the_lock_changes_nothing(target: Target) -> None:
    deploy, deploy_log = target.start("deploy")
    wait_until(target.lock, "the deploy's lock")
    os.kill(deploy.pid, signal.SIGSTOP)
    try:
        holder = target.lock()
        waiting, waiting_log = target.start("deploy", "--wait-for-lock")
        wait_until(lambda: "waiting for the lock" in waiting_log.read_text(), "the second run")
        waiting.send_signal(signal.SIGTERM)
        code, output = finish(waiting, waiting_log)
        assert code == 143, output
        assert "Traceback" not in output
        assert target.lock() == holder  # the holder's lock is untouched
    finally:
        os.kill(deploy.pid, signal.SIGCONT)
    code, output = finish(deploy, deploy_log)
    assert code == 0, output
    # the holder's run id is in the names of the change sets it created
    assert holder is not None
    summaries = target.cfn.list_change_sets(StackName="sample-test-network")["Summaries"]
    assert any(holder.run_id in s["ChangeSetName"] for s in summaries), summaries


@pytest.mark.parametrize(
    "point",
    ["lock taken", "first stack exists", "network complete", "four stacks complete"],
)
def test_kill_9_during_a_deploy_then_a_rerun_converges(target: Target, point: str) -> None:
    checks: dict[str, Callable[[], object]] = {
        "lock taken": target.lock,
        "first stack exists": target.statuses,
        "network complete": lambda: target.statuses().get("network") == "CREATE_COMPLETE",
        "four stacks complete": lambda: (
            list(target.statuses().values()).count("CREATE_COMPLETE") >= 4
        ),
    }
    deploy, _ = target.start("deploy")
    wait_until(lambda: checks[point]() or deploy.poll() is not None, point)
    deploy.kill()
    deploy.wait()
    # the dead run's lock stays behind; its process is gone, so the rerun takes it over at once
    code, output = target.run("deploy")
    assert code == 0, output
    assert target.statuses() == dict.fromkeys(STACKS, "CREATE_COMPLETE")
    assert target.lock() is None
    code, output = target.run("deploy")
    assert code == 0 and "5 stacks: 5 unchanged" in output, output


def test_kill_9_during_a_destroy_then_a_rerun_converges(target: Target) -> None:
    code, output = target.run("deploy")
    assert code == 0, output
    destroy, _ = target.start("destroy")
    wait_until(lambda: len(target.statuses()) < 5 or destroy.poll() is not None, "a deletion")
    destroy.kill()
    destroy.wait()
    code, output = target.run("destroy")
    assert code == 0, output
    assert target.statuses() == {}
    assert target.lock() is None


def test_a_lock_from_another_machine_blocks_until_unlocked(target: Target) -> None:
    other = LockInfo(
        "elsewhere001", "deploy", "bob", "laptop-9", 99, "", time.time(), time.time() + 600
    )
    target.ssm.put_parameter(Name=LOCK, Value=other.to_json(), Type="String")
    code, output = target.run("deploy")
    assert code == 1, output
    assert "run elsewhere001 (bob@laptop-9, pid 99)" in output
    unlock = re.search(r"remove the lock with: (cfngen unlock .*)", output)
    assert unlock is not None
    words = unlock.group(1).split()
    assert words[:2] == ["cfngen", "unlock"]
    done = subprocess.run(  # exactly the printed line
        [sys.executable, "-m", *words], capture_output=True, text=True, env=target.env, timeout=60
    )
    code, output = done.returncode, done.stdout + done.stderr
    assert code == 0 and "removed the lock of `cfngen deploy` run elsewhere001" in output, output
    code, output = target.run("deploy")
    assert code == 0, output


class Proxy:
    """A TCP proxy on 127.0.0.1 to the emulator; `cut()` drops it and every open connection."""

    def __init__(self, endpoint: str) -> None:
        self.target = int(endpoint.rsplit(":", 1)[1])
        self.server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(64)
        self.endpoint = f"http://127.0.0.1:{self.server.getsockname()[1]}"
        self.open: list[socket.socket] = []
        self.closed = False
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target))
            with self.lock:
                if self.closed:  # accepted just before cut(): never piped after it
                    for s in (client, upstream):
                        s.close()
                    return
                self.open += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                with contextlib.suppress(OSError):
                    s.close()

    def cut(self) -> None:
        with self.lock:
            self.closed = True
        self.server.close()
        with self.lock:
            for s in self.open:
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                    s.close()


def test_the_endpoint_disappearing_mid_run_ends_cleanly_and_a_rerun_converges(
    target: Target,
) -> None:
    proxy = Proxy(target.endpoint)
    through = Target(proxy.endpoint, target.tmp / "via-proxy")
    deploy, log = through.start("deploy")
    wait_until(target.lock, "the deploy's lock")
    os.kill(deploy.pid, signal.SIGSTOP)
    proxy.cut()
    os.kill(deploy.pid, signal.SIGCONT)
    code, output = finish(deploy, log)
    assert code == 1, output
    assert "Traceback" not in output
    # where the cut lands depends on timing: in a stack's work (the summary, then the lock) or
    # in the run's own reads (the lock, prerequisites): both end the same clean way
    assert "Could not connect" in output or "Connection was closed" in output, output
    assert "check the connection to AWS (endpoint, network, credentials)" in output, output
    assert "could not release the lock" in output, output  # maybe taken: it says so
    if "deploy summary" in output:
        assert output.index("deploy summary") < output.index("could not release the lock")
    # its lock could not be released: it says when it expires and how to remove it now
    assert re.search(r"could not release the lock .*expires by itself at \d{4}-", output), output
    assert f"cfngen unlock {through.directory} --env test --endpoint-url {proxy.endpoint}" in output
    assert target.lock() is not None
    code, output = target.run("deploy")  # the dead run's lock is taken over at once
    assert code == 0, output
    assert target.statuses() == dict.fromkeys(STACKS, "CREATE_COMPLETE")
    assert target.lock() is None


def test_a_failing_resource_names_the_next_step_and_a_fixed_rerun_converges(
    target: Target,
) -> None:
    write_rendered(broken(sample_environment(), "app-b"), target.tmp / "out")
    code, output = target.run("deploy")
    assert code == 1, output
    assert re.search(r"sample-test-app-b +failed +ROLLBACK_COMPLETE", output), output
    assert re.search(r"sample-test-edge +skipped +needs sample-test-app-b", output)
    assert (
        "sample-test-app-b rolled back and holds nothing; fix the cause and deploy again" in output
    )
    assert target.lock() is None
    write_rendered(sample_environment(), target.tmp / "out")
    code, output = target.run("deploy")
    assert code == 0, output
    assert target.statuses() == dict.fromkeys(STACKS, "CREATE_COMPLETE")
