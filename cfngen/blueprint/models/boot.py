"""How EC2 instances are set up and replaced: cfn-init configuration (packages, files, commands,
systemd services) with a signal that the instance is ready, and rolling updates of an Auto
Scaling group. Used by the cluster's EC2 capacity and by hosts."""

import re
from typing import Annotated, Self

from pydantic import AfterValidator, Field, model_validator

from cfngen.blueprint.models.common import Model, fail

_PATH = re.compile(r"^(/[A-Za-z0-9._@+-]+)+$")
_PACKAGE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]*$")


def _check_path(path: str) -> str:
    if not _PATH.match(path) or any(part in (".", "..") for part in path.split("/")):
        raise fail(f"invalid file path '{path}'", "an absolute path of plain names")
    return path


def _check_package(name: str) -> str:
    if not _PACKAGE.match(name):
        raise fail(f"invalid package name '{name}'", "a dnf package name, e.g. nginx")
    return name


InitPath = Annotated[str, AfterValidator(_check_path)]
Package = Annotated[str, AfterValidator(_check_package)]
CommandName = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")]
UnitName = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,127}$")]


class InitFile(Model):
    """A file cfn-init writes."""

    content: str = Field(max_length=65536, description="The file's text.")
    mode: str = Field("000644", pattern=r"^[0-7]{6}$", description="Mode, six octal digits.")
    owner: str = Field("root", pattern=r"^[a-z_][a-z0-9_-]{0,31}$", description="Owner.")
    group: str = Field("root", pattern=r"^[a-z_][a-z0-9_-]{0,31}$", description="Group.")


class InitCommand(Model):
    """A command cfn-init runs (commands run in the order of their names)."""

    command: str | list[str] = Field(description="A shell command, or an argument list.")
    cwd: InitPath | None = Field(None, description="Working directory.")
    env: dict[str, str] = Field(default_factory=dict, description="Environment variables.")
    test: str | None = Field(None, description="Run only when this shell test exits 0.")
    ignore_errors: bool = Field(False, description="Carry on when the command fails.")


class InitService(Model):
    """A systemd service cfn-init enables and starts, restarted when its files change."""

    enabled: bool = Field(True, description="Start at boot.")
    ensure_running: bool = Field(True, description="Running after cfn-init.")
    files: list[InitPath] = Field(
        default_factory=list, description="Files of `files` whose change restarts it."
    )


class Init(Model):
    """cfn-init: what an instance installs, writes, runs and starts at launch, from the
    template's `AWS::CloudFormation::Init` metadata; the instance then signals CloudFormation,
    which waits for the signal before it counts the instance as created."""

    packages: list[Package] = Field(default_factory=list, description="dnf packages.")
    files: dict[InitPath, InitFile] = Field(default_factory=dict, description="Files.")
    commands: dict[CommandName, InitCommand] = Field(
        default_factory=dict,
        description="Commands, run in the order of their names (e.g. 01-migrate, 02-seed).",
    )
    services: dict[UnitName, InitService] = Field(
        default_factory=dict, description="systemd services to enable and start."
    )
    timeout_minutes: int = Field(
        15, ge=1, le=720, description="How long CloudFormation waits for the signal."
    )

    @model_validator(mode="after")
    def _files_known(self) -> Self:
        for name, service in self.services.items():
            for path in service.files:
                if path not in self.files:
                    raise fail(
                        f"service {name} restarts on {path}, which is not one of `files`",
                        "add it to `files`, or remove it from the service",
                    )
        return self


class RollingUpdate(Model):
    """How CloudFormation replaces the instances of an Auto Scaling group when its launch
    template changes: a batch at a time, keeping some in service."""

    max_batch: int = Field(1, ge=1, le=100, description="Instances replaced at once.")
    min_in_service: int = Field(
        0, ge=0, le=1000, description="Instances kept in service during the update."
    )
    pause_minutes: int | None = Field(
        None,
        ge=0,
        le=60,
        description="Wait after each batch; with `init`, how long each new batch has to signal "
        "(default: init's timeout_minutes, at most 60; without init: 5).",
    )

    def pause(self, init: Init | None) -> int:
        """Minutes CloudFormation waits after a batch (for its signals, with cfn-init)."""
        if self.pause_minutes is not None:
            return self.pause_minutes
        return min(init.timeout_minutes, 60) if init is not None else 5
