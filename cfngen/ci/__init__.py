"""`cfngen ci`: a CI pipeline (GitHub Actions or GitLab CI) for one blueprint.

What goes into the pipeline is read from the validated blueprint, one environment at a time,
so the file says what the deploy role's trust says: the branch (or GitHub environment) the
role trusts, its name (`<EnvironmentName>-<role>-deploy`, fixed by deploy_stacks), the
service role the change sets run with, the region, and the account when the environment names
it (else a CI variable per environment). Environments deploy in the order given, by default
the blueprint's with production environments last; a production environment waits for a
person (a manual job, or a protected GitHub environment).

The providers' files are written by github.py and gitlab.py from a `Pipeline`; this module
knows no CI syntax. The output is deterministic: no dates, no versions, sorted where the
blueprint gives no order.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml

from cfngen.blueprint.environments import SHARED
from cfngen.blueprint.models import PRODUCTION_NAMES
from cfngen.blueprint.models.deploy_roles import GithubDeployRole, GitlabDeployRole
from cfngen.compiler import Inputs, Prepared, validate_blueprint
from cfngen.errors import UsageError
from cfngen.kinds.deploy_role import DEPLOY_ROLES
from cfngen.kinds.deploy_role.stacks import role_names

PROVIDERS = {"github": GithubDeployRole, "gitlab": GitlabDeployRole}

#: The CI variable that says how to install cfngen (a pip requirement: a git URL, a wheel).
INSTALL_VARIABLE = "CFNGEN_INSTALL"
INSTALL_HELP = (
    "cfngen is not on PyPI: set the {kind} " + INSTALL_VARIABLE + " to a pip requirement for "
    "it, e.g. git+https://github.com/<owner>/cfngen@<tag>"
)


@dataclass(frozen=True)
class Image:
    """An image the pipeline builds and pushes to one of the environment's repositories."""

    repository: str  # the blueprint's name for it
    name: str  # the ECR repository: <EnvironmentName>-<repository>
    context: str  # the docker build context, relative to the repository root


@dataclass(frozen=True)
class HostDeploy:
    """A Compose host the pipeline restarts on the new tag (SSM Run Command)."""

    stack: str  # the host's stack, whose InstanceId output names the instance
    directory: str  # the compose project directory on the host


@dataclass(frozen=True)
class Target:
    """One environment the pipeline deploys."""

    env: str
    environment_name: str  # EnvironmentName, e.g. shop-prod
    region: str
    production: bool
    account: str | None  # None: a CI variable (`account_variable`) gives it
    partition: str
    role: Any  # the deploy role (after the environment's overrides)
    role_name: str  # its key in deploy_roles
    images: tuple[Image, ...] = ()  # built and pushed before the deploy, tagged IMAGE_TAG
    image_stacks: bool = False  # services or tasks run those images: deploy with --image-tag
    hosts: tuple[HostDeploy, ...] = ()
    # the shared scope: the environments whose tags (<env>-<commit>) its images are pushed with
    push_for: tuple[str, ...] = ()
    # an environment running images the shared scope's job pushed: deploy with --image-tag
    shared_images: bool = False

    def registry(self, account: str) -> str:
        suffix = "amazonaws.com.cn" if self.region.startswith("cn-") else "amazonaws.com"
        return f"{account}.dkr.ecr.{self.region}.{suffix}"

    @property
    def key(self) -> str:
        """The environment as a CI identifier suffix: DEV, PROD_EU ..."""
        return re.sub(r"[^A-Za-z0-9]", "_", self.env).upper()

    @property
    def account_variable(self) -> str:
        return f"AWS_ACCOUNT_ID_{self.key}"

    @property
    def plan_role_variable(self) -> str:
        return f"CFNGEN_PLAN_ROLE_ARN_{self.key}"

    def role_arn(self, account: str, service: bool = False) -> str:
        """The deploy role's ARN (or its CloudFormation service role's), in `account` (a
        number, or the CI's expression for the account variable)."""
        name = role_names(self.role_name)[1 if service else 0]
        name = name.replace("${EnvironmentName}", self.environment_name)
        return f"arn:{self.partition}:iam::{account}:role/{name}"


@dataclass(frozen=True)
class Pipeline:
    provider: str
    blueprint: str  # the path as the pipeline names it (relative to the repository root)
    role_name: str  # the environments' deploy role
    targets: tuple[Target, ...]  # the shared scope first, when its own deploy role deploys it

    @property
    def environments(self) -> tuple[Target, ...]:
        """The targets that are environments (rollbacks are theirs; the shared scope has no
        images running to roll back)."""
        return tuple(t for t in self.targets if t.env != SHARED)

    @property
    def shared_role(self) -> str | None:
        return next((t.role_name for t in self.targets if t.env == SHARED), None)

    @property
    def branches(self) -> list[str]:
        """The branches that deploy, in first-use order (one, usually)."""
        return list(dict.fromkeys(branch(t.role) for t in self.targets))


def branch(role: Any) -> str:
    """The branch (or tag) whose pipelines the role trusts; a GitHub role that trusts an
    environment deploys from main (the environment's own rules narrow it further)."""
    return str(getattr(role, "branch", None) or "main")


def partition(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def _pick_role(provider: str, prep: Prepared, wanted: str | None) -> tuple[str, Any]:
    roles = DEPLOY_ROLES.entries(prep.blueprint)
    kind = PROVIDERS[provider]
    if wanted is not None:
        if wanted not in roles:
            known = ", ".join(sorted(roles)) or "none"
            raise UsageError(f"--role {wanted}: no such deploy role (deploy roles: {known})")
        if not isinstance(roles[wanted], kind):
            raise UsageError(
                f"--role {wanted}: the role is for {roles[wanted].provider}, not {provider}"
            )
        return wanted, roles[wanted]
    mine = sorted(n for n, r in roles.items() if isinstance(r, kind))
    if not mine:
        raise UsageError(
            f"{prep.env}: the blueprint has no `provider: {provider}` deploy role for the "
            f"pipeline to assume; add one under deploy_roles (see docs/ci.md)"
        )
    if len(mine) > 1:
        raise UsageError(
            f"the blueprint has {len(mine)} {provider} deploy roles ({', '.join(mine)}); "
            "pick one with --role"
        )
    return mine[0], roles[mine[0]]


def _ordered(preps: list[Prepared], envs: Sequence[str]) -> list[Prepared]:
    if envs:
        return preps  # validate_blueprint keeps the order given
    return sorted(preps, key=lambda p: _production(p))  # stable: blueprint order otherwise


def _production(prep: Prepared) -> bool:
    bp = prep.blueprint
    return bp.production if bp.production is not None else prep.env in PRODUCTION_NAMES


def _images(prep: Prepared, role: Any, contexts: dict[str, str]) -> tuple[Image, ...]:
    """The repositories the role pushes to, each with its build context: `contexts` (from
    --context), else the repository root for a single image, else a directory named after it."""
    from cfngen.kinds.repository import REPOSITORIES

    own = REPOSITORIES.entries(prep.blueprint)
    if isinstance(role, GitlabDeployRole):
        names = list(role.permissions.repositories)
    else:
        names = list(role.repositories) if role.repositories is not None else sorted(own)
    names = [n for n in names if n in own]
    return tuple(
        Image(n, f"{prep.env_name}-{n}", contexts.get(n, "." if len(names) == 1 else n))
        for n in names
    )


def _runs(prep: Prepared, repositories: set[str]) -> bool:
    """Whether a service or task's main container runs an image of these repositories (its
    stack then has the ImageTag parameter a pipeline sets)."""
    bp = prep.blueprint
    entries = [*dict(getattr(bp, "services", {}) or {}).values()]
    entries += [*dict(getattr(bp, "tasks", {}) or {}).values()]
    return any(
        getattr(getattr(e, "image", None), "repository", None) in repositories for e in entries
    )


def _hosts(prep: Prepared, role: Any) -> tuple[HostDeploy, ...]:
    from cfngen.kinds.host import HOSTS
    from cfngen.kinds.host.spec import component

    if not isinstance(role, GitlabDeployRole):
        return ()
    hosts = HOSTS.entries(prep.blueprint)
    found = []
    for h in role.permissions.run_command_on:
        compose = hosts[h].compose if h in hosts else None
        if compose is not None:
            found.append(HostDeploy(f"{prep.env_name}-{component(h)}", compose.directory))
    return tuple(found)


def _target(prep: Prepared, name: str, role: Any, contexts: dict[str, str]) -> Target:
    if not role.deploy_stacks:
        raise UsageError(
            f"{prep.env}: deploy role {name} has deploy_stacks: false, so it cannot run "
            "cfngen deploy; remove that setting (see docs/ci.md)"
        )
    bp = prep.blueprint
    images = _images(prep, role, contexts)
    return Target(
        env=prep.env,
        environment_name=prep.env_name,
        region=bp.region,
        production=_production(prep),
        account=bp.deploy.account,
        partition=partition(bp.region),
        role=role,
        role_name=name,
        images=images,
        image_stacks=_runs(prep, {i.repository for i in images}),
        hosts=_hosts(prep, role),
    )


def _shared_target(
    prep: Prepared, provider: str, wanted: str | None, contexts: dict[str, str]
) -> Target | None:
    """The shared scope's job, when the scope declares a deploy role for this provider (else an
    administrator deploys it): `--role` when the scope has it, else its only one."""
    roles = DEPLOY_ROLES.entries(prep.blueprint)
    mine = sorted(n for n, r in roles.items() if isinstance(r, PROVIDERS[provider]))
    if wanted in mine:
        mine = [wanted]
    if not mine:
        return None
    if len(mine) > 1:
        raise UsageError(
            f"the shared scope has {len(mine)} {provider} deploy roles ({', '.join(mine)}); "
            "keep one for the pipeline, or name it with --role"
        )
    return _target(prep, mine[0], roles[mine[0]], contexts)


def collect(
    path: Path,
    provider: str,
    envs: Sequence[str] = (),
    role: str | None = None,
    contexts: dict[str, str] | None = None,
) -> Pipeline:
    """The pipeline's facts, from the blueprint validated for every environment it deploys.
    The shared scope, when its own deploy role can deploy it, goes first: it deploys the
    shared stacks and pushes the images of the shared repositories once per environment
    (`<env>-<commit>`), which each environment then deploys with its own role."""
    preps = _ordered(validate_blueprint(Inputs(path), list(envs) or None), envs)
    targets: list[Target] = []
    names: set[str] = set()
    shared: Target | None = None
    for prep in preps:
        if prep.env == SHARED:
            shared = _shared_target(prep, provider, role, contexts or {})
            continue
        name, deploy_role = _pick_role(provider, prep, role)
        names.add(name)
        targets.append(_target(prep, name, deploy_role, contexts or {}))
    if shared is not None:
        pushed = {i.repository for i in shared.images}
        targets = [
            replace(t, shared_images=True) if _runs(prep, pushed) else t
            for t, prep in zip(targets, [p for p in preps if p.env != SHARED], strict=True)
        ]
        users = tuple(t.env for t in targets if t.shared_images)
        targets.insert(0, replace(shared, push_for=users))
    unknown = sorted(set(contexts or {}) - {i.repository for t in targets for i in t.images})
    if unknown:
        raise UsageError(
            f"--context {unknown[0]}: the deploy role pushes to no repository of that name"
        )
    if len(names) > 1:
        raise UsageError(
            f"the environments pick different {provider} deploy roles ({', '.join(sorted(names))});"
            " pick one with --role"
        )
    if not names:
        raise UsageError(f"{path}: no environment to deploy (the shared scope alone)")
    return Pipeline(provider, _in_repository(path), names.pop(), tuple(targets))


def _in_repository(path: Path) -> str:
    """The blueprint as the pipeline names it: relative to the directory cfngen runs in (the
    repository root, where the pipeline runs too)."""
    if path.is_absolute():
        try:
            return path.relative_to(Path.cwd()).as_posix()
        except ValueError:
            raise UsageError(
                f"{path}: the pipeline runs in the repository, so name the blueprint relative "
                "to it and run cfngen ci from the repository's root"
            ) from None
    return path.as_posix()


# -- YAML out ------------------------------------------------------------------------------


class _Dumper(yaml.SafeDumper):
    """Block style, multi-line strings as literal blocks, keys in the order written."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def header(p: Pipeline, requests: str, variables: str, optional: str) -> str:
    """The comment a generated pipeline starts with: how it was made, what it deploys through
    which role, and the variables it reads (`variables`: what the provider calls them;
    AWS_ACCOUNT_ID_<ENV> joins `optional` when an environment names no account)."""
    if any(t.account is None for t in p.targets):
        optional += ", AWS_ACCOUNT_ID_<ENV>"
    return (
        f"Generated by `cfngen ci {p.provider} {p.blueprint}`; see docs/ci.md in cfngen.\n"
        f"Deploys {', '.join(t.env for t in p.environments)} through the deploy role "
        f"{p.role_name} (<EnvironmentName>-<role>-deploy)"
        + (f", the shared scope first through {p.shared_role}" if p.shared_role else "")
        + f"; {requests}.\n{variables}: {INSTALL_VARIABLE} (required), {optional}."
    )


def dump(header: str, document: dict[str, Any]) -> str:
    body = yaml.dump(
        document, Dumper=_Dumper, sort_keys=False, default_flow_style=False, width=1000
    )
    comment = "".join(f"# {line}".rstrip() + "\n" for line in header.splitlines())
    return comment + body
