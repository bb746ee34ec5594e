"""Fixtures for deploy tests: a real MiniStack on 127.0.0.1, started and stopped here.

The server is session-scoped (one per pytest worker; the emulator tests share one worker through
`pytest.mark.xdist_group("ministack")`) and reset before every test, so tests never see each
other's stacks. A missing MiniStack fails loudly: these tests are the proof that deploy works.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from cfngen.deploy.aws import AwsTarget, CallCounter, Clients, make_clients

REPO = Path(__file__).resolve().parents[2]
DEFAULT_BIN = REPO / ".ministack-venv" / "bin" / "ministack"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _http(method: str, url: str) -> int:
    request = urllib.request.Request(url, method=method)
    with urllib.request.urlopen(request, timeout=5) as response:
        return int(response.status)


@pytest.fixture(scope="session")
def ministack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Start MiniStack on a free 127.0.0.1 port; yields its endpoint URL; stops it afterwards."""
    binary = Path(os.environ.get("MINISTACK_BIN", str(DEFAULT_BIN)))
    if not binary.is_file():
        pytest.fail(
            f"MiniStack not found at {binary}: run `make emulator` (or set MINISTACK_BIN). "
            "Deploy tests need it and are not skipped without it.",
            pytrace=False,
        )
    port = _free_port()
    log_path = tmp_path_factory.mktemp("ministack") / "ministack.log"
    env = {**os.environ, "BIND_HOST": "127.0.0.1", "GATEWAY_PORT": str(port)}
    with log_path.open("wb") as log:
        process = subprocess.Popen([str(binary)], env=env, stdout=log, stderr=subprocess.STDOUT)
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                pytest.fail(
                    f"MiniStack exited ({process.returncode}):\n{log_path.read_text()[-2000:]}",
                    pytrace=False,
                )
            try:
                if _http("GET", f"{endpoint}/_ministack/health") == 200:
                    break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"MiniStack did not become healthy on {endpoint}", pytrace=False)
            time.sleep(0.1)
        yield endpoint
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Dummy credentials and no user profile: tests never touch a real account."""
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)


@pytest.fixture
def emulator(ministack: str, aws_env: None) -> str:
    """A freshly reset MiniStack endpoint."""
    assert _http("POST", f"{ministack}/_ministack/reset") == 200
    return ministack


@pytest.fixture
def counter() -> CallCounter:
    return CallCounter()


@pytest.fixture
def clients(emulator: str, counter: CallCounter) -> Clients:
    """Clients against the emulator; every CloudFormation call is counted in `counter`."""
    made = make_clients(AwsTarget(endpoint_url=emulator), "eu-west-1")
    counter.attach(made.cloudformation)
    return made
