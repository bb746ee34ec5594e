"""Configuration files a task's main container finds when it starts (`files`)."""

import re
from typing import Self

from pydantic import Field, model_validator

from cfngen.blueprint.models.common import Model, fail
from cfngen.blueprint.models.containers import EnvValue, Secret

_FILE_PATH = re.compile(r"^(/[A-Za-z0-9._-]+){2,}$")
_SYSTEM_DIRS = frozenset(
    {
        "/bin",
        "/boot",
        "/dev",
        "/etc",
        "/lib",
        "/lib64",
        "/proc",
        "/root",
        "/run",
        "/sbin",
        "/sys",
        "/tmp",
        "/usr",
        "/var",
        "/usr/bin",
        "/usr/lib",
        "/usr/local",
        "/usr/sbin",
        "/var/lib",
    }
)


def check_file_path(path: str) -> str:
    """A configuration file's path: absolute, plain names, in a directory of its own (the
    directory becomes a volume that hides what the image has there)."""
    if not _FILE_PATH.match(path) or any(part in (".", "..") for part in path.split("/")):
        raise fail(
            f"invalid file path '{path}'",
            "an absolute path of letters, digits, '.', '_' and '-', in a directory, e.g. "
            "/etc/app/app.toml",
        )
    directory = path.rsplit("/", 1)[0]
    if directory in _SYSTEM_DIRS:
        raise fail(
            f"'{directory}' would be replaced by a volume holding only the declared files",
            f"write the file into a directory of its own, e.g. {directory}/app/"
            f"{path.rsplit('/', 1)[1]}, and point the application at it",
        )
    return path


class ConfigFile(Model):
    """A file the main container finds at its path when it starts, written by an init
    container: its content from the blueprint (text or a composed value), or from an SSM
    parameter or a secret (read by the execution role, like `secrets`)."""

    content: EnvValue | None = Field(
        None,
        description="The file's text, or {format, values} composing it from other components' "
        "values.",
    )
    secret: Secret | None = Field(
        None,
        description="Where the content is: ssm:/parameter, secretsmanager:name[#key], or {from, "
        "attribute: secret_arn}.",
    )
    mode: str = Field("0444", pattern=r"^0[0-7]{3}$", description="File mode, e.g. 0440.")
    owner: str | None = Field(
        None,
        pattern=r"^[0-9]{1,10}(:[0-9]{1,10})?$",
        description="uid[:gid] owning the file (default root), e.g. for mode 0400 read by a "
        "non-root user.",
    )

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        if (self.content is None) == (self.secret is None):
            raise fail("a file needs exactly one of `content` or `secret`", "e.g. content: |")
        if isinstance(self.content, str) and len(self.content.encode()) > 32768:
            raise fail(
                "the content is over 32 KiB (it travels in the task definition, which ECS caps "
                "at 64 KiB)",
                "store it in an SSM parameter (advanced tier) or a secret and use `secret:`",
            )
        return self
