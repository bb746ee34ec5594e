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
from dataclasses import dataclass, field

from cfngen.blueprint.models.containers import (
    ConfigFile,
    ContainerOptions,
    EnvValue,
    HealthCheck,
    Image,
    Mount,
    PortMapping,
    ScratchMount,
    Secret,
)
from cfngen.blueprint.models.services import ContainerSettings
from cfngen.blueprint.source import Path_
from cfngen.blueprint.validate import Checker

FILES_CONTAINER = "cfngen-files"
FILES_IMAGE = Image(uri="public.ecr.aws/docker/library/busybox", tag="1.37")
FILES_VOLUME = "cfngen-files"  # + "-<n>", one per directory
FILES_MEMORY = 16  # MiB reserved for the init container


@dataclass(frozen=True)
class ContainerView:
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
        image=FILES_IMAGE,
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
            environment=dict(c.environment),
            secrets=dict(c.secrets),
            health_check=c.health_check,
            mounts=(*c.volumes, *file_mounts),
            writable_root=c.writable_root,
        )
    ]
    for cname, side in c.containers.items():
        views.append(
            ContainerView(
                name=cname,
                path=(*base, "containers", cname),
                main=False,
                image=side.image,
                options=side,
                essential=side.is_essential,
                init=side.init,
                ports=tuple(side.ports),
                command=side.command,
                entry_point=side.entry_point,
                environment=dict(side.environment),
                secrets=dict(side.secrets),
                health_check=side.health_check,
                mounts=tuple(side.mounts),
                writable_root=side.writable_root,
                cpu=side.cpu,
                memory=side.memory,
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
