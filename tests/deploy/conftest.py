"""Fixtures for deploy tests: a real MiniStack on 127.0.0.1, started and stopped here.

The server is session-scoped (one per pytest worker; the emulator tests share one worker through
`pytest.mark.xdist_group("ministack")`) and reset before every test, so tests never see each
other's stacks. A missing MiniStack fails loudly: these tests are the proof that deploy works.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from cfngen.deploy.aws import AwsTarget, CallCounter, Clients, make_clients
from cfngen.deploy.emulator import MiniStack
from cfngen.errors import OperationError


@pytest.fixture(scope="session")
def ministack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MiniStack]:
    """Start MiniStack on a free 127.0.0.1 port; stop it when the session (worker) ends."""
    server = MiniStack(tmp_path_factory.mktemp("ministack") / "ministack.log")
    if not server.binary.is_file():
        pytest.fail(
            f"MiniStack not found at {server.binary}: run `make emulator` (or set MINISTACK_BIN). "
            "Deploy tests need it and are not skipped without it.",
            pytrace=False,
        )
    try:
        server.start()
    except OperationError as err:
        pytest.fail(str(err), pytrace=False)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Dummy credentials and no user profile: tests never touch a real account."""
    for name in (
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_ENDPOINT_URL",
        "AWS_SESSION_TOKEN",
        "AWS_MAX_ATTEMPTS",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)


@pytest.fixture
def emulator(ministack: MiniStack, aws_env: None) -> str:
    """A freshly reset MiniStack endpoint."""
    ministack.reset()
    return ministack.endpoint


@pytest.fixture
def counter() -> CallCounter:
    return CallCounter()


@pytest.fixture
def clients(emulator: str, counter: CallCounter) -> Clients:
    """Clients against the emulator; every CloudFormation call is counted in `counter`."""
    made = make_clients(AwsTarget(endpoint_url=emulator), "eu-west-1")
    counter.attach_clients(made)
    return made


def pytest_configure(config: pytest.Config) -> None:
    """Known without pytest-xdist too (`-p no:xdist`), so the emulator tests run serially."""
    config.addinivalue_line("markers", "xdist_group(name): run the group on one xdist worker")
