"""The containers of one task as the builders and checks see them: the main container, the
blueprint's extra containers, and the init container cfngen adds to write `files`.

`files` are written before any other container starts by one init container (`cfngen-files`,
busybox from ECR Public): each file's content travels as an environment variable (text or a
composed value) or an ECS secret (an SSM parameter or a secret, read by the execution role like
every other secret), and the init container writes it into a scratch volume per directory, which
the main container mounts read-only at that directory.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from msgspec import Struct, field

from cfngen.blueprint.models.containers import (
    PLACEHOLDER as _PLACEHOLDER,
)
from cfngen.blueprint.models.containers import (
    ComponentValue,
    ContainerOptions,
    EnvValue,
    HealthCheck,
    Image,
    Mount,
    PortMapping,
    ScratchMount,
    Secret,
    SecretValue,
)
from cfngen.blueprint.models.files import ConfigFile
from cfngen.blueprint.models.services import ContainerSettings
from cfngen.blueprint.source import Path_
from cfngen.blueprint.validate import Checker

FILES_CONTAINER = "cfngen-files"
FILES_IMAGE_URI, FILES_IMAGE_TAG = "public.ecr.aws/docker/library/busybox", "1.37"
FILES_VOLUME = "cfngen-files"  # + "-<n>", one per directory
FILES_MEMORY = 16  # MiB reserved for the init container


class ContainerView(Struct, frozen=True):
    """One container of a task as the builder and the checks see it: the main container (named
    like the service or task, its tag the ImageTag parameter) or one of its `containers`."""

    name: str
    path: Path_  # where it is declared
    main: bool
    image: Image
    options: ContainerOptions
    essential: bool
    init: bool
    ports: tuple[PortMapping, ...]
    command: list[str] | None
    entry_point: list[str] | None
    environment: dict[str, EnvValue]
    secrets: dict[str, Secret]
    health_check: HealthCheck | None
    mounts: tuple[Mount, ...]
    writable_root: str | None
    cpu: int | None = None
    memory: int | None = None
    # where a variable's value is written in the blueprint, when not under environment/secrets
    # of `path` (the files writer's variables are `files.<path>.content` / `.secret`)
    value_paths: Mapping[str, Path_] = field(default_factory=dict)
    compositions: tuple[Composition, ...] = ()  # composed secrets, exported by a start shell


class Composition(Struct, frozen=True):
    """A composed secret: `var` = `format` with each ${name} replaced by the variable holding
    that part (URL-encoded where asked) when the container starts."""

    var: str
    format: str
    parts: Mapping[str, tuple[str, bool]]  # name -> (variable holding the part, url-encode)


def split_secrets(
    secrets: Mapping[str, SecretValue], path: Path_
) -> tuple[dict[str, Secret], dict[str, EnvValue], dict[str, Path_], tuple[Composition, ...]]:
    """A container's secrets with each composed one replaced by its parts: ECS secrets and
    plain values in variables `CFNGEN_<VAR>_<n>`, and the composition that joins them."""
    plain_secrets: dict[str, Secret] = {}
    environment: dict[str, EnvValue] = {}
    paths: dict[str, Path_] = {}
    compositions: list[Composition] = []
    for var, value in secrets.items():
        if isinstance(value, Secret):
            plain_secrets[var] = value
            continue
        parts: dict[str, tuple[str, bool]] = {}
        for i, (name, part) in enumerate(sorted(value.values.items()), 1):
            holder = f"CFNGEN_{var}_{i}"
            if part.is_secret:
                plain_secrets[holder] = part.as_secret()
            else:
                environment[holder] = ComponentValue.model_validate(
                    {"from": part.from_, "attribute": part.attribute}
                )
            paths[holder] = (*path, "secrets", var, "values", name)
            parts[name] = (holder, part.encode == "url")
        compositions.append(Composition(var, value.format, parts))
    return plain_secrets, environment, paths, tuple(compositions)


def file_directories(files: dict[str, ConfigFile]) -> dict[str, str]:
    """Each directory holding a file -> the scratch volume written there, in path order."""
    directories = sorted({path.rsplit("/", 1)[0] for path in files})
    return {d: f"{FILES_VOLUME}-{i}" for i, d in enumerate(directories, 1)}


def files_view(c: ContainerSettings, base: Path_) -> ContainerView:
    """The init container that writes `c.files` into their scratch volumes."""
    volumes = file_directories(c.files)
    environment: dict[str, EnvValue] = {}
    secrets: dict[str, Secret] = {}
    value_paths: dict[str, Path_] = {}
    script = ["set -e"]
    for i, (path, spec) in enumerate(sorted(c.files.items()), 1):
        var = f"CFNGEN_FILE_{i}"
        if spec.secret is not None:
            secrets[var] = spec.secret
            value_paths[var] = (*base, "files", path, "secret")
        elif spec.content is not None:
            environment[var] = spec.content
            value_paths[var] = (*base, "files", path, "content")
        directory, filename = path.rsplit("/", 1)
        target = f"/{volumes[directory]}/{filename}"
        # paths are validated plain names; the content only ever travels in the variable
        script.append(f"printf '%s' \"${var}\" > '{target}'")
        script.append(f"chmod {spec.mode} '{target}'")
        if spec.owner is not None:
            script.append(f"chown {spec.owner} '{target}'")
    return ContainerView(
        name=FILES_CONTAINER,
        path=(*base, "files"),
        main=False,
        # built here, not at import: a model instance at import builds its validator (~10 ms)
        # in every run, also of blueprints without `files`
        image=Image(uri=FILES_IMAGE_URI, tag=FILES_IMAGE_TAG),
        options=ContainerOptions(),
        essential=False,
        init=True,
        ports=(),
        command=["sh", "-c", "; ".join(script)],
        entry_point=None,
        environment=environment,
        secrets=secrets,
        health_check=None,
        mounts=tuple(ScratchMount(scratch=v, path=f"/{v}") for v in volumes.values()),
        writable_root=None,
        memory=FILES_MEMORY,
        value_paths=value_paths,
    )


def container_views(
    name: str, c: ContainerSettings, base: Path_, ports: Sequence[PortMapping] = ()
) -> list[ContainerView]:
    """The main container first, then the extra ones in blueprint order, then cfngen's files
    writer when the task has `files`."""
    secrets, hidden_env, paths, compositions = split_secrets(c.secrets, base)
    file_mounts = tuple(
        ScratchMount(scratch=volume, path=directory, read_only=True)
        for directory, volume in file_directories(c.files).items()
    )
    views = [
        ContainerView(
            name=name,
            path=base,
            main=True,
            image=c.image,
            options=c,
            essential=True,
            init=False,
            ports=tuple(ports),
            command=c.command,
            entry_point=c.entry_point,
            environment={**c.environment, **hidden_env},
            secrets=secrets,
            health_check=c.health_check,
            mounts=(*c.volumes, *file_mounts),
            writable_root=c.writable_root,
            value_paths=paths,
            compositions=compositions,
        )
    ]
    for cname, side in c.containers.items():
        side_path: Path_ = (*base, "containers", cname)
        side_secrets, side_env, side_paths, side_compositions = split_secrets(
            side.secrets, side_path
        )
        views.append(
            ContainerView(
                name=cname,
                path=side_path,
                main=False,
                image=side.image,
                options=side,
                essential=side.is_essential,
                init=side.init,
                ports=tuple(side.ports),
                command=side.command,
                entry_point=side.entry_point,
                environment={**side.environment, **side_env},
                secrets=side_secrets,
                health_check=side.health_check,
                mounts=tuple(side.mounts),
                writable_root=side.writable_root,
                cpu=side.cpu,
                memory=side.memory,
                value_paths=side_paths,
                compositions=side_compositions,
            )
        )
    if c.files:
        views.append(files_view(c, base))
    return views


def check_files(
    s: ContainerSettings, base: Path_, views: Sequence[ContainerView], c: Checker
) -> None:
    """Names starting with cfngen- are the files writer's; its volumes overlap no other."""
    for cname in s.containers:
        if cname.startswith("cfngen-"):
            c.error(
                (*base, "containers", cname),
                "container names starting with cfngen- are cfngen's own (`files` adds one)",
                "name the container differently",
                at_key=True,
            )
    for view in views:
        for i, mount in enumerate(view.mounts):
            if isinstance(mount, ScratchMount) and mount.scratch.startswith("cfngen-"):
                if view.name == FILES_CONTAINER or (view.main and i >= len(s.volumes)):
                    continue  # the files writer's own volumes
                c.error(
                    (*view.path, "volumes" if view.main else "mounts", i, "scratch"),
                    "scratch volume names starting with cfngen- are cfngen's own",
                    "name the volume differently",
                )
    file_dirs = file_directories(s.files)
    for i, mount in enumerate(s.volumes):
        for directory in file_dirs:
            if (
                mount.path == directory
                or directory.startswith(mount.path.rstrip("/") + "/")
                or (mount.path.startswith(directory + "/"))
            ):
                c.error(
                    (*base, "volumes", i, "path"),
                    f"{mount.path} overlaps {directory}, where `files` mounts its volume",
                    "put the files or the volume in another directory",
                )
    for view in views:
        for composition in view.compositions:
            if view.command is None and view.entry_point is None:
                c.error(
                    (*view.path, "secrets", composition.var),
                    f"{composition.var} is composed when the container starts, by a shell that "
                    "then runs the container's command, which the blueprint does not give",
                    "set `command` (and `entry_point` if the image has one) to what the image runs",
                )


_URL_ENCODE = (
    'cfngen_url() { s=$1; o=; while [ -n "$s" ]; do c=${s%"${s#?}"}; s=${s#?}; '
    "case $c in [A-Za-z0-9._~-]) o=$o$c;; *) o=$o$(printf '%%%02X' \"'$c\");; esac; done; "
    "printf '%s' \"$o\"; }"
)
START = "cfngen-start"  # $0 of the start shell


def _quoted(text: str) -> str:
    """Literal text inside a double-quoted shell word."""
    for char in ("\\", '"', "$", "`"):
        text = text.replace(char, "\\" + char)
    return text


def start_command(view: ContainerView) -> tuple[list[str], list[str]]:
    """(EntryPoint, Command) of a container with composed secrets: a shell exports each
    composition, drops the parts and then execs the container's own entry point and command."""
    lines = ["set -e"]
    if any(url for comp in view.compositions for _, url in comp.parts.values()):
        lines.append(_URL_ENCODE)
    holders: list[str] = []
    for comp in view.compositions:
        out, last = "", 0
        for match in _PLACEHOLDER.finditer(comp.format):
            holder, url = comp.parts[match.group(1)]
            out += _quoted(comp.format[last : match.start()])
            out += f'$(cfngen_url "${holder}")' if url else f"${{{holder}}}"
            last = match.end()
        out += _quoted(comp.format[last:])
        lines.append(f'export {comp.var}="{out}"')
        holders += [holder for holder, _ in comp.parts.values()]
    lines.append("unset " + " ".join(holders))
    lines.append('exec "$@"')
    return ["/bin/sh", "-c", "; ".join(lines)], [
        START,
        *(view.entry_point or []),
        *(view.command or []),
    ]
