"""Start and stop a local MiniStack for tests, `make demo` and `make bench`.

MiniStack pins its own botocore, so it runs from its own virtual environment
(`.ministack-venv`, made by `make emulator`) as a subprocess, bound to 127.0.0.1 only, on a free
port. One implementation serves the test fixtures and the tools, so they start it the same way.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from cfngen.errors import OperationError, UsageError

if TYPE_CHECKING:
    from cfngen.render import RenderedEnvironment

_VAR = re.compile(r"\{\{\s*vars\.(\w+)\s*\}\}")

REPO = Path(__file__).resolve().parents[2]
DEFAULT_BIN = REPO / ".ministack-venv" / "bin" / "ministack"


def ministack_binary() -> Path:
    """MINISTACK_BIN, or the project's .ministack-venv."""
    return Path(os.environ.get("MINISTACK_BIN", str(DEFAULT_BIN)))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _http(method: str, url: str) -> int:
    request = urllib.request.Request(url, method=method)
    with urllib.request.urlopen(request, timeout=5) as response:
        return int(response.status)


class MiniStack:
    """`with MiniStack(log) as endpoint:` a healthy emulator, stopped on exit."""

    def __init__(self, log_path: Path, binary: Path | None = None, timeout: float = 60) -> None:
        self.binary = binary or ministack_binary()
        self.log_path = log_path
        self.timeout = timeout
        self.port = 0
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> str:
        if not self.binary.is_file():
            raise UsageError(
                f"MiniStack not found at {self.binary}: run `make emulator` (or set MINISTACK_BIN)"
            )
        self.port = free_port()
        env = {**os.environ, "BIND_HOST": "127.0.0.1", "GATEWAY_PORT": str(self.port)}
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("wb") as log:
            self._process = subprocess.Popen(
                [str(self.binary)], env=env, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + self.timeout
        while True:
            if self._process.poll() is not None:
                tail = self.log_path.read_text(errors="replace")[-2000:]
                raise OperationError(f"MiniStack exited ({self._process.returncode}):\n{tail}")
            try:
                if _http("GET", f"{self.endpoint}/_ministack/health") == 200:
                    return self.endpoint
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise OperationError(f"MiniStack did not become healthy on {self.endpoint}")
            time.sleep(0.1)

    def reset(self) -> None:
        """Forget every resource (between tests)."""
        _http("POST", f"{self.endpoint}/_ministack/reset")

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def __enter__(self) -> str:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def emulator_variables(endpoint: str, blueprint: Path) -> dict[str, str]:
    """`--var` values for what the blueprint expects to exist already, made on the emulator.

    A blueprint names things it does not own through variables: legocity's hosted zone is
    `dns.zone: "{{ vars.zone }}"` with `zone_id: "{{ vars.zone_id }}"`, which a user sets to
    their zone (docs/reference-systems.md). On the emulator the zone is created first, as a
    user would have it, and its ID is passed the way a user passes theirs. The templates are
    the ones rendered for AWS; only the input differs. Only the hosted zone is needed so far.
    A zone of that name already on the emulator is reused, so a redeploy changes nothing.
    """
    import boto3
    import yaml

    raw = yaml.safe_load(blueprint.read_text()) or {}
    defaults = {str(k): str(v) for k, v in (raw.get("vars") or {}).items()}
    dns = raw.get("dns") or {}
    zone_id = _VAR.fullmatch(str(dns.get("zone_id", "")).strip())
    if not zone_id or not dns.get("zone"):
        return {}
    zone = _VAR.sub(lambda m: defaults.get(m.group(1), m.group(0)), str(dns["zone"]))
    route53 = boto3.client(
        "route53",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    listed = route53.list_hosted_zones_by_name(DNSName=zone).get("HostedZones", [])
    for existing in listed:  # reuse it, so a second deploy compiles the same templates
        if str(existing["Name"]).rstrip(".") == zone.rstrip("."):
            return {zone_id.group(1): str(existing["Id"]).rsplit("/", 1)[-1]}
    reference = f"cfngen-{zone}-{time.time_ns()}"  # unique per call, as AWS requires
    created = route53.create_hosted_zone(Name=zone, CallerReference=reference)
    return {zone_id.group(1): str(created["HostedZone"]["Id"]).rsplit("/", 1)[-1]}


DEFAULT_ENDPOINT = "http://127.0.0.1:4566"  # MiniStack's own default port


def check_health(endpoint: str) -> None:
    """UsageError unless a MiniStack answers its health check at `endpoint`."""
    try:
        if _http("GET", f"{endpoint.rstrip('/')}/_ministack/health") == 200:
            return
    except (urllib.error.URLError, ConnectionError, TimeoutError, ValueError):
        pass
    raise UsageError(
        f"--emulator: no MiniStack answers at {endpoint} (GET /_ministack/health). Start one "
        "(`make emulator`, then `.ministack-venv/bin/ministack`, which listens on 4566) or "
        "pass its address with --endpoint-url"
    )


def create_stand_ins(
    env: RenderedEnvironment, endpoint: str, value: str = "demo-value"
) -> list[str]:
    """On the emulator only: create what the environment's prerequisites name (SSM parameters
    and secrets with `value`, images as an empty manifest under their tag, in their repository,
    which is created when the shared scope that owns it is not deployed), as its owner would on
    AWS. Returns the commands a user would have typed."""
    import json

    from cfngen.deploy.aws import emulator_clients
    from cfngen.prerequisites import find

    typed: list[str] = []
    for item in find(env):
        clients = emulator_clients(endpoint, item.region or env.region)
        if item.kind == "ssm-value":
            list_ = item.string_list
            clients.client("ssm").put_parameter(
                Name=item.name,
                Type="StringList" if list_ else "String",
                Value=f"{value},{value}" if list_ else value,
                Overwrite=True,
            )
        elif item.kind == "ssm-parameter":
            clients.client("ssm").put_parameter(
                Name=item.name, Type="SecureString", Value=value, Overwrite=True
            )
        elif item.kind == "secret":
            secrets = clients.client("secretsmanager")
            with contextlib.suppress(secrets.exceptions.ResourceExistsException):
                secrets.create_secret(Name=item.name, SecretString=value)
        elif item.kind == "image":
            repo, _, tag = item.name.rpartition(":")
            manifest = json.dumps({"schemaVersion": 2, "config": {}, "layers": []})
            ecr = clients.client("ecr")
            try:
                ecr.put_image(repositoryName=repo, imageManifest=manifest, imageTag=tag)
            except ecr.exceptions.RepositoryNotFoundException:
                # the shared scope is not deployed here: a stand-in repository holds the image
                ecr.create_repository(repositoryName=repo)
                ecr.put_image(repositoryName=repo, imageManifest=manifest, imageTag=tag)
        else:
            continue
        typed.append(item.create().replace("'...'", f"'{value}'"))
    return typed
