"""The pieces of a container: image, ports, environment, secrets, health check, mounts, the
options every container has, and the extra containers (sidecars, init containers) a service or
task runs beside its main one."""

import re
from collections.abc import Iterable
from typing import Annotated, Any, Literal, Self

from pydantic import ConfigDict, Discriminator, Field, Tag, field_validator, model_validator

from cfngen.blueprint.models.common import Model, Name, Port, fail
from cfngen.schema import short_form

# Fargate's valid task sizes: CPU units -> allowed memory (MiB).
FARGATE_SIZES: dict[int, tuple[int, ...]] = {
    256: (512, 1024, 2048),
    512: tuple(range(1024, 4097, 1024)),
    1024: tuple(range(2048, 8193, 1024)),
    2048: tuple(range(4096, 16385, 1024)),
    4096: tuple(range(8192, 30721, 1024)),
    8192: tuple(range(16384, 61441, 4096)),
    16384: tuple(range(32768, 122881, 8192)),
}

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")


def fargate_memory_hint(cpu: int) -> str:
    sizes = FARGATE_SIZES[cpu]
    return f"{sizes[0]}-{sizes[-1]}" if len(sizes) > 3 else ", ".join(map(str, sizes))


class Image(Model):
    """The container image: an ECR repository of this blueprint, or any image URI.

    The tag becomes the template parameter `ImageTag` (its default is `tag`), so a pipeline can
    deploy a new image with `--parameter-overrides ImageTag=...` without re-rendering.
    """

    repository: Name | None = Field(None, description="A repository under `repositories`.")
    uri: str | None = Field(
        None,
        pattern=r"^[a-z0-9][a-z0-9._-]*(:[0-9]+)?(/[a-z0-9._/-]+)?$",
        description="Image URI without tag, e.g. ghcr.io/dbward-dev/dbward-server.",
    )
    tag: str = Field("latest", description="Default image tag (template parameter ImageTag).")

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        if (self.repository is None) == (self.uri is None):
            raise fail(
                "an image needs exactly one of `repository` or `uri`",
                "e.g. `repository: app` (declared under repositories) or `uri: ghcr.io/org/image`",
            )
        if not _TAG.match(self.tag):
            raise fail(f"invalid image tag '{self.tag}'", "e.g. latest or v1.2.3")
        return self


class PortMapping(Model):
    """A container port; `host` only in bridge network mode (EC2)."""

    container: Port = Field(description="Port the container listens on.")
    host: Port | None = Field(None, description="Host port (bridge network mode only).")
    protocol: Literal["tcp", "udp"] = Field("tcp", description="tcp or udp.")
    app_protocol: Literal["http", "http2", "grpc"] | None = Field(
        None, description="Application protocol for Service Connect."
    )


class ComponentValue(Model):
    """A typed reference to a value another component exports, e.g. a database's secret ARN."""

    from_: Name = Field(alias="from", description="The component that provides the value.")
    attribute: str = Field(
        pattern=r"^[a-z][a-z0-9_]*$", description="Which value, e.g. secret_arn or endpoint."
    )
    key: str | None = Field(
        None,
        pattern=r"^[A-Za-z0-9_.-]+$",
        description="For a secret: the JSON key inside it (e.g. password).",
    )


class ImportedValue(Model):
    """The value of an export: of a stack cfngen did not write (`{import: shared-VpcId}`), or of
    an output an override adds to this environment (`{import: "${EnvironmentName}-extra-Arn"}`)."""

    import_: str = Field(
        alias="import",
        pattern=r"^(\$\{EnvironmentName\})?[A-Za-z0-9:_.-]{1,255}$",
        description="The export's name, exactly as that stack exports it; a leading "
        "${EnvironmentName} is this environment's name.",
    )


Reference = ComponentValue | ImportedValue
PLACEHOLDER = re.compile(r"\$\{([^}!]*)\}")
_PLACEHOLDER = PLACEHOLDER
_PSEUDO = {
    "AWS::AccountId",
    "AWS::Partition",
    "AWS::Region",
    "AWS::StackName",
    "AWS::URLSuffix",
    "EnvironmentName",
}


def check_placeholders(
    format_: str, values: Iterable[str], pseudo: Iterable[str], hint: str
) -> None:
    """Every ${name} of a format is one of `values` (or a pseudo parameter), and every value is
    used; `hint` ends the fix of an unknown name (NAME stands for it)."""
    used = set(_PLACEHOLDER.findall(format_))
    unknown = sorted(used - set(values) - set(pseudo))
    if unknown:
        name = unknown[0]
        fix = f"add `{name}:` to `values`" + hint.replace("NAME", name)
        raise fail(f"${{{name}}} is not one of the values", fix)
    unused = sorted(set(values) - used)
    if unused:
        raise fail(
            f"value '{unused[0]}' is not used in the format", f"write ${{{unused[0]}}} in it"
        )


class ComposedValue(Model):
    """A string built from literals and references: `{format: "http://${lb}/products", values:
    {lb: {from: web, attribute: dns_name}}}`. Rendered as `Fn::Sub`, so `${AWS::Region}` and
    `${EnvironmentName}` work too; write `${!x}` for a literal `${x}`."""

    format: str = Field(min_length=1, max_length=4096, description="The text with ${name}s.")
    values: dict[str, Reference] = Field(
        default_factory=dict,
        description="What each ${name} stands for: {from: component, attribute: name} or "
        "{import: export-name}.",
    )

    @model_validator(mode="after")
    def _placeholders(self) -> Self:
        check_placeholders(self.format, self.values, _PSEUDO, ", or write ${!NAME} for the text")
        return self


def _env_kind(value: Any) -> str:
    """Which kind of environment value a mapping is, by its keys (errors then name only that
    kind's fields, not every kind's)."""
    if isinstance(value, dict):
        if "format" in value or "values" in value:
            return "<composed>"
        if "import" in value:
            return "<import>"
        return "<reference>"
    return "<text>"


EnvValue = Annotated[
    Annotated[str, Tag("<text>")]
    | Annotated[ComponentValue, Tag("<reference>")]
    | Annotated[ImportedValue, Tag("<import>")]
    | Annotated[ComposedValue, Tag("<composed>")],
    Discriminator(_env_kind),
]
"""A plain environment value: text, a typed reference, an export, or a composition of them."""


def secret_short_form(value: Any) -> Any:
    """`ssm:/name` and `secretsmanager:name#key` as their mappings (other values unchanged)."""
    if not isinstance(value, str):
        return value
    scheme, sep, rest = value.partition(":")
    if sep and scheme == "ssm":
        return {"ssm": rest}
    if sep and scheme == "secretsmanager":
        name, _, key = rest.partition("#")
        return {"secretsmanager": name, **({"key": key} if key else {})}
    raise fail(
        f"invalid secret reference '{value}'",
        "write ssm:/parameter/name, secretsmanager:secret-name[#json-key], or "
        "{from: component, attribute: secret_arn}",
    )


class Secret(Model):
    """A secret injected as an environment variable, by reference only (never a value).

    Written as `ssm:/path/to/parameter`, `secretsmanager:name` (optionally `#json-key`), or as a
    mapping `{from: component, attribute: secret_arn, key: ...}`. The execution role may read
    exactly the secrets its task names.
    """

    model_config = ConfigDict(
        **Model.model_config,
        json_schema_extra=short_form(
            {
                "type": "string",
                "pattern": r"^ssm:/\S+$",
                "description": "An SSM parameter: ssm:/path/to/parameter",
                "examples": ["ssm:/app/dev/api-key"],
            },
            {
                "type": "string",
                "pattern": r"^secretsmanager:[^#\s]+(#[A-Za-z0-9_.-]+)?$",
                "description": "A Secrets Manager secret, optionally one JSON key of it: "
                "secretsmanager:name[#key]",
                "examples": ["secretsmanager:app/dev/database#password"],
            },
        ),
    )

    ssm: str | None = Field(
        None, pattern=r"^/[A-Za-z0-9_.\-/]+$", description="SSM parameter name (starts with /)."
    )
    secretsmanager: str | None = Field(
        None, pattern=r"^[A-Za-z0-9/_+=.@-]+$", description="Secrets Manager secret name."
    )
    key: str | None = Field(
        None, pattern=r"^[A-Za-z0-9_.-]+$", description="JSON key inside the secret."
    )
    from_: Name | None = Field(None, alias="from", description="Component providing the secret.")
    attribute: str | None = Field(None, description="Its attribute (kind secret_arn).")

    @model_validator(mode="before")
    @classmethod
    def _short_form(cls, value: Any) -> Any:
        return secret_short_form(value)

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        sources = [s for s in (self.ssm, self.secretsmanager, self.from_) if s is not None]
        if len(sources) != 1:
            raise fail(
                "a secret needs exactly one of `ssm`, `secretsmanager` or `from`",
                "e.g. secretsmanager:dbward/database-url",
            )
        if self.from_ is not None and self.attribute is None:
            raise fail(
                "a secret `from` a component needs `attribute`", "e.g. attribute: secret_arn"
            )
        if self.ssm is not None and self.key is not None:
            raise fail("`key` applies to Secrets Manager secrets only", "remove `key`")
        return self


class SecretPart(Secret):
    """One value of a composed secret: a secret (an SSM parameter, a Secrets Manager secret or
    one JSON `key` of a component's secret) or a plain value of a component, optionally
    URL-encoded."""

    encode: Literal["url"] | None = Field(
        None, description="`url`: percent-encode the value (for passwords inside URLs)."
    )

    @property
    def is_secret(self) -> bool:
        """Read at start as an ECS secret (else a plain value of the task definition): SSM
        parameters, Secrets Manager secrets, and a component's secret attributes (their names
        end in secret_arn; `key` picks one JSON key)."""
        attribute = self.attribute or ""
        return self.from_ is None or self.key is not None or attribute.endswith("secret_arn")

    def as_secret(self) -> Secret:
        return Secret.model_validate(self.model_dump(by_alias=True, exclude={"encode"}))


class ComposedSecret(Model):
    """A secret built from parts when the container starts, e.g. a database URL with the
    current password: `{format: "postgres://${user}:${password}@${host}:${port}/app", values:
    {...}}`. cfngen starts the container through `/bin/sh`, which exports the composed variable
    and then runs the container's command, so the image needs a shell and the blueprint its
    command."""

    format: str = Field(min_length=1, max_length=4096, description="The text with ${name}s.")
    values: dict[str, SecretPart] = Field(
        min_length=1, max_length=10, description="What each ${name} stands for."
    )

    @model_validator(mode="after")
    def _placeholders(self) -> Self:
        check_placeholders(
            self.format, self.values, (), " (a composed secret has no pseudo parameters)"
        )
        if not any(part.is_secret for part in self.values.values()):
            raise fail(
                "no value of the composition is a secret",
                "compose it in `environment` instead (it needs no shell)",
            )
        return self


def _secret_kind(value: Any) -> str:
    return (
        "<composed>"
        if isinstance(value, dict) and ("format" in value or "values" in value)
        else "<secret>"
    )


SecretValue = Annotated[
    Annotated[Secret, Tag("<secret>")] | Annotated[ComposedSecret, Tag("<composed>")],
    Discriminator(_secret_kind),
]
"""A secret: a reference to one, or a composition of secrets and values made at start."""


class HealthCheck(Model):
    """A container health check (run by the ECS agent inside the container)."""

    command: list[str] = Field(
        min_length=1,
        description="CMD-SHELL form as one string, or exec form as a list, e.g. "
        "['CMD-SHELL', 'curl -f http://localhost:3000/health || exit 1'].",
    )
    interval: int = Field(30, ge=5, le=300, description="Seconds between checks.")
    timeout: int = Field(5, ge=2, le=120, description="Seconds before a check fails.")
    retries: int = Field(3, ge=1, le=10, description="Failures before unhealthy.")
    start_period: int = Field(0, ge=0, le=300, description="Grace seconds after start.")

    @field_validator("command", mode="before", json_schema_input_type=str | list[str])
    @classmethod
    def _shell(cls, value: Any) -> Any:
        if isinstance(value, str):
            return ["CMD-SHELL", value]
        return value


class Volume(Model):
    """An EFS file system mounted through one of its access points (TLS + IAM authorisation)."""

    file_system: Name = Field(description="A file system under `file_systems`.")
    access_point: Name = Field(description="One of its access points.")
    path: str = Field(pattern=r"^/", description="Mount path in the container.")
    read_only: bool = Field(False, description="Mount read-only.")


def check_env_names(value: dict[str, Any]) -> dict[str, Any]:
    """Environment variable names: letters, digits and underscores, not starting with a digit."""
    for name in value:
        if not _ENV_NAME.match(name):
            raise fail(
                f"invalid environment variable name '{name}'",
                "use letters, digits and underscores, not starting with a digit",
            )
    return value


class ScratchMount(Model):
    """A volume the task's containers share for its lifetime (task storage, nothing kept):
    e.g. an init container writes configuration files that the main container reads."""

    scratch: Name = Field(
        description="The volume's name; containers mounting the same name share it."
    )
    path: str = Field(pattern=r"^/", description="Mount path in the container.")
    read_only: bool = Field(False, description="Mount read-only.")


Mount = Volume | ScratchMount

ULIMIT_NAMES = Literal[
    "core",
    "cpu",
    "data",
    "fsize",
    "locks",
    "memlock",
    "msgqueue",
    "nice",
    "nofile",
    "nproc",
    "rss",
    "rtprio",
    "rttime",
    "sigpending",
    "stack",
]
WaitCondition = Literal["START", "COMPLETE", "SUCCESS", "HEALTHY"]


class Ulimit(Model):
    soft: int = Field(ge=0, description="Soft limit.")
    hard: int = Field(ge=0, description="Hard limit.")

    @model_validator(mode="after")
    def _order(self) -> Self:
        if self.soft > self.hard:
            raise fail(f"soft limit {self.soft} is above hard limit {self.hard}", "swap them")
        return self


class ContainerOptions(Model):
    """What every container of a task may set, the main one and the extra ones."""

    user: str | None = Field(
        None,
        pattern=r"^[A-Za-z0-9_.-]+(:[A-Za-z0-9_.-]+)?$",
        description="user[:group] or uid[:gid].",
    )
    working_directory: str | None = Field(None, pattern=r"^/", description="Working directory.")
    ulimits: dict[ULIMIT_NAMES, Ulimit] = Field(
        default_factory=dict,
        description="Resource limits, e.g. {nofile: {soft: 65536, hard: 65536}}.",
    )
    docker_labels: dict[str, str] = Field(default_factory=dict, description="Docker labels.")
    stop_timeout: int | None = Field(
        None, ge=2, le=120, description="Seconds between SIGTERM and SIGKILL."
    )
    init_process: bool = Field(
        False, description="Run an init process as PID 1 (reaps zombies, forwards signals)."
    )
    wait_for: dict[Name, WaitCondition] = Field(
        default_factory=dict,
        description="Containers of this task to wait for before starting, and for what: START, "
        "COMPLETE, SUCCESS (exited 0) or HEALTHY.",
    )


class Sidecar(ContainerOptions):
    """An extra container of the task: a sidecar (runs beside the main container) or, with
    `init: true`, an init container (runs to completion before the task's other containers
    start)."""

    image: Image = Field(description="Container image (its tag is fixed, not ImageTag).")
    init: bool = Field(
        False,
        description="Run to completion first: the other containers start only after it exits 0.",
    )
    essential: bool | None = Field(
        None,
        description="Stop the task when this container stops (default: true for sidecars, "
        "false for init containers).",
    )
    cpu: int | None = Field(None, ge=0, le=16384, description="CPU units reserved for it.")
    memory: int | None = Field(None, ge=6, description="Memory reserved for it, in MiB (soft).")
    ports: list[PortMapping] = Field(default_factory=list, description="Port mappings.")
    command: list[str] | None = Field(None, min_length=1, description="Overrides CMD.")
    entry_point: list[str] | None = Field(None, min_length=1, description="Overrides ENTRYPOINT.")
    environment: dict[str, EnvValue] = Field(
        default_factory=dict,
        description="Plain environment variables: text, {from, attribute}, {import} or "
        "{format, values}.",
    )
    secrets: dict[str, SecretValue] = Field(
        default_factory=dict,
        description="Environment variables from SSM / Secrets Manager, or composed from them.",
    )
    health_check: HealthCheck | None = Field(None, description="Container health check.")
    mounts: list[Mount] = Field(
        default_factory=list, description="EFS and scratch volumes mounted into it."
    )
    writable_root: str | None = Field(
        None, min_length=10, description="Why it needs a writable root filesystem."
    )

    @field_validator("environment", "secrets")
    @classmethod
    def _env_names(cls, value: dict[str, Any]) -> dict[str, Any]:
        return check_env_names(value)

    @property
    def is_essential(self) -> bool:
        return self.essential if self.essential is not None else not self.init
