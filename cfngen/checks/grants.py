"""Wiring, permissions the blueprint grants: a task role can mount its file systems and do what
its `uses` grant, a host's instance role can read its secrets and compose file and write its
logs (CFG028), an OIDC deploy role can run each step of its pipeline (CFG029).

The required actions come from the manifest's `accesses` (what the blueprint declares, at which
line) through the documented tables in cfngen.verify.needs; the proof reads only the rendered
policies (cfngen.verify.iam), through imports, conditions included.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from cfngen.checks.base import Resource, as_dict, as_list, check
from cfngen.checks.wiring import _key_of  # a secret's own KMS key (database secrets)
from cfngen.verify.iam import grants, missing, role_of
from cfngen.verify.model import Environment, Missing, Ref, Stack, partition, token
from cfngen.verify.needs import ARN_TYPES, DEPLOY_STEPS, HOST, KMS, USES, Step

# (component, logical id, message[, the blueprint entry of the access when it is finer])
EnvHit = tuple[str, ...]


def _target(env: Environment, home: str, text: str) -> Any:
    """A manifest resource: `export:<name>` (resolved), `ref:<id>` of the role's stack, or a
    name/ARN as written. Missing when the export is not there (CFG020 names it)."""
    if text.startswith("export:"):
        export = env.exports.get(text.removeprefix("export:"))
        if export is None:
            return Missing(text)
        return env.resolve(env.stacks[export.component], export.value)
    if text.startswith("ref:"):
        return Ref(home, text.removeprefix("ref:"))
    return text


def _shown(value: Any) -> str:
    """A resource as a finding names it: its logical id, an ARN with tokens as logical ids."""
    return value.id if isinstance(value, Ref) else re.sub(r"@\{[^/}]+/([^}]+)\}", r"\1", str(value))


_DOES = {
    "log-group": "write its containers' logs",
    "secret": "read its secret",
    "parameter": "read its parameter",
    "object": "read its compose file",
}


def _type(env: Environment, resource: Any) -> str:
    res = env.resource(resource)
    if res is not None:
        return res.type
    text = str(resource)
    return next((t for marker, t in ARN_TYPES.items() if marker in text), "")


def _customer_key(env: Environment, resource: Any) -> Any:
    """The customer-managed KMS key a queue, topic or bucket of the environment encrypts with."""
    res = env.resource(resource)
    if res is None:
        return None
    stack = env.stacks[resource.component]
    value: Any = res.props.get("KmsMasterKeyId")
    if res.type == "AWS::S3::Bucket":
        rules = as_list(
            as_dict(res.props.get("BucketEncryption")).get("ServerSideEncryptionConfiguration")
        )
        for rule in rules:
            default = as_dict(as_dict(rule).get("ServerSideEncryptionByDefault"))
            if default.get("SSEAlgorithm") in ("aws:kms", "aws:kms:dsse"):
                value = default.get("KMSMasterKeyID")
    if value is None:
        return None
    key = env.resolve(stack, value)
    if isinstance(key, str) and ("alias/aws/" in key or (":" not in key and "/" not in key)):
        return None  # an AWS-managed key: its key policy lets the account's principals use it
    return key


def _uses(env: Environment, role: Ref, access: dict[str, str], used: Any) -> Iterator[str]:
    kind, level = _type(env, used), access["need"].removeprefix("uses:")
    needs = USES.get((kind, level))
    if needs is None:
        return
    arn = token(used) if isinstance(used, Ref) else str(used)
    prefix = access.get("prefix", "")
    point = (
        _target(env, role.component, access.get("access_point", ""))
        if access.get("access_point")
        else None
    )
    # an existing access point is known by its ARN text, a created one by its resource
    value = token(point) if isinstance(point, Ref) else point if isinstance(point, str) else prefix
    for need in needs:
        resource = f"{arn}/{prefix}*" if need.on == "objects" else used
        condition = (need.condition_key, value) if need.condition_key and value else None
        lacking = missing(env, role, need.actions, resource, condition=condition)
        if lacking:
            where = f" under {prefix!r}" if need.on == "objects" and prefix else ""
            yield f"missing {', '.join(lacking)} on {_shown(used)}{where}"
    key = _customer_key(env, used)
    if key is not None and level in KMS:
        lacking = missing(env, role, KMS[level], key)
        if lacking:
            yield f"missing {', '.join(lacking)} on its KMS key {_shown(key)}"


def _host(env: Environment, role: Ref, access: dict[str, str], used: Any) -> Iterator[str]:
    need = access["need"]
    actions = HOST[need]
    region, part = env.region, partition(env.region)
    if need == "secret" and not isinstance(used, Ref):
        name = str(used)
        used = (
            name
            if name.startswith("arn:")
            else (f"arn:{part}:secretsmanager:{region}:*:secret:{name}-AbCdEf")
        )
    elif need == "parameter" and not str(used).startswith("arn:"):
        used = f"arn:{part}:ssm:{region}:*:parameter/{str(used).lstrip('/')}"
    elif need == "object":
        bucket = token(used) if isinstance(used, Ref) else str(used)
        bucket = bucket if ":" in bucket or isinstance(used, Ref) else f"arn:{part}:s3:::{bucket}"
        used = f"{bucket}/{access.get('key', '')}"
    lacking = missing(env, role, actions, used)
    if lacking:
        yield f"missing {', '.join(lacking)} on {_shown(used)}"
        return
    if need == "secret":
        key = _key_of(env, used)
        if key is not None and missing(env, role, ("kms:Decrypt",), key):
            yield f"missing kms:Decrypt on {_shown(key)}, the key of secret {_shown(used)}"


def _mounts(env: Environment) -> Iterator[EnvHit]:
    """Every EFS volume with IAM authorization that no declared access covers (a template
    cfngen did not write): its task role can mount it (reported at the task)."""
    declared = set()
    for access in env.accesses:
        home, _, role_id = access.get("role", "").partition("/")
        used = _target(env, home, access.get("resource", ""))
        if access.get("need", "").startswith("uses:") and isinstance(used, Ref):
            declared.add((Ref(home, role_id), used))
    for stack, task in env.of_type("AWS::ECS::TaskDefinition"):
        role = role_of(env, stack, task.props.get("TaskRoleArn"))
        writable = {
            str(as_dict(m).get("SourceVolume"))
            for c in as_list(task.props.get("ContainerDefinitions"))
            for m in as_list(as_dict(c).get("MountPoints"))
            if not as_dict(m).get("ReadOnly")
        }
        for volume in as_list(task.props.get("Volumes")):
            volume = as_dict(volume)
            efs = as_dict(volume.get("EFSVolumeConfiguration"))
            auth = as_dict(efs.get("AuthorizationConfig"))
            if str(auth.get("IAM", "")) != "ENABLED":
                continue
            fs = env.resolve(stack, efs.get("FilesystemId"))
            point = env.resolve(stack, auth.get("AccessPointId"))
            if not isinstance(fs, Ref) or (role, fs) in declared:
                continue  # a declared access proves it, at the volume's own blueprint line
            actions: tuple[str, ...] = ("elasticfilesystem:ClientMount",)
            if str(volume.get("Name")) in writable:
                actions += ("elasticfilesystem:ClientWrite",)
            if role is None:
                yield (
                    stack.component,
                    task.id,
                    f"volume {volume.get('Name')} mounts {_shown(fs)} with IAM but has no task "
                    "role",
                )
                continue
            lacking = missing(env, role, actions, fs, point if isinstance(point, Ref) else None)
            if lacking:
                yield (
                    stack.component,
                    task.id,
                    (
                        f"task role {role.id} cannot mount volume {volume.get('Name')} "
                        f"({_shown(fs)}): missing {', '.join(lacking)}"
                    ),
                )


@check(
    "CFG028",
    "Task or instance role cannot do what the blueprint grants it",
    why="The application reaches AWS with its task role (a host with its instance role): a "
    "`uses` entry that its role's policy does not fully allow (the queue's receive actions, the "
    "objects under a bucket prefix, the KMS key of an encrypted queue), an EFS volume without "
    "ClientMount/ClientWrite for its access point, or a host that cannot read its secrets, its "
    "compose file or write its logs fails at runtime with AccessDenied or a mount error.",
    source="https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-iam-roles.html",
    scope="environment",
)
def roles_do_what_is_granted(env: Environment) -> Iterator[EnvHit]:
    yield from _mounts(env)
    for access in env.accesses:
        need = access.get("need", "")
        if not (need.startswith("uses:") or need in HOST):
            continue
        home, _, role_id = access.get("role", "").partition("/")
        role = Ref(home, role_id)
        if env.resource(role) is None:
            continue  # a stack the folder does not hold
        used = _target(env, home, access.get("resource", ""))
        if used is None or isinstance(used, Missing):
            continue
        check_one = _uses if need.startswith("uses:") else _host
        name = access.get("component") or _shown(used)
        does = _DOES.get(need) or f"use {name} ({need.removeprefix('uses:')})"
        for problem in check_one(env, role, access, used):
            yield (
                home,
                role_id,
                f"role {role_id} cannot {does}: {problem}",
                access.get("source", ""),
            )


# --- deploy roles ---------------------------------------------------------------------------


def _service(env: Environment, component: str) -> tuple[Stack, Resource] | None:
    stack = env.stacks.get(component)
    found = list(stack.view.of_type("AWS::ECS::Service")) if stack else []
    return (stack, found[0]) if stack and found else None


def _service_arn(env: Environment, stack: Stack, service: Resource) -> str | None:
    cluster = env.pattern(stack, service.props.get("Cluster"))
    name = env.text(stack, service.props.get("ServiceName"))
    if cluster is None or name is None:
        return None
    return f"arn:{partition(env.region)}:ecs:{env.region}:*:service/{cluster}/{name}"


def _step_targets(
    env: Environment, step: Step, resource: Any, access: dict[str, str]
) -> tuple[list[Any], tuple[str, str] | None]:
    """The resources a step's actions must be allowed on, and a condition the service step
    must pass (UpdateService to a revision of the service's own family)."""
    region, part = env.region, partition(env.region)
    named = token(resource) if isinstance(resource, Ref) else str(resource)
    if step.on == "*":
        return ["*"], None
    if step.on == "target":
        return [resource], None
    if step.on == "objects":
        return [f"{named}/*"], None
    if step.on == "instance":
        return [f"arn:{part}:ec2:{region}:*:instance/{named}"], None
    if step.on == "document":
        return [f"arn:{part}:ssm:{region}::document/AWS-RunShellScript"], None
    if step.on == "distribution":
        dist = _target(
            env, access.get("role", "").partition("/")[0], access.get("distribution", "")
        )
        if not isinstance(dist, Ref):
            return [], None
        return [f"arn:{part}:cloudfront::*:distribution/{token(dist)}"], None
    found = _service(env, str(resource).removeprefix("stack:"))
    if found is None:
        return [], None
    stack, service = found
    task = env.resource(env.resolve(stack, service.props.get("TaskDefinition")))
    if step.on == "roles":
        if task is None:
            return [], None
        roles = [
            role_of(env, stack, task.props.get(k)) for k in ("ExecutionRoleArn", "TaskRoleArn")
        ]
        return [r for r in roles if r is not None], None
    arn = _service_arn(env, stack, service)
    family = env.text(stack, task.props.get("Family")) if task else None
    condition = None
    if family:
        region = env.region
        revision = f"arn:{partition(region)}:ecs:{region}:*:task-definition/{family}:1"
        condition = ("ecs:task-definition", revision)
    return ([arn] if arn else []), condition


def _passes_others(env: Environment, role: Ref, allowed: set[Ref]) -> list[str]:
    """Roles of the environment the deploy role may pass beyond its services' own."""
    out: list[str] = []
    for g in grants(env, role):
        if not any(a.lower() in ("iam:passrole", "iam:*", "*") for a in g.actions):
            continue
        for r in g.resources:
            if r == "*" or (isinstance(r, Ref) and r not in allowed):
                out.append(_shown(r))
    return sorted(set(out))


@check(
    "CFG029",
    "Deploy role cannot run a step of its pipeline",
    why="A CI job that assumes the deploy role pushes the image, registers a task definition "
    "revision, updates the service and passes the task's roles to ECS; a step its policy does "
    "not allow fails the pipeline with AccessDenied, and a role that may pass other roles can "
    "hand their rights to tasks it starts.",
    source="https://github.com/aws-actions/amazon-ecs-deploy-task-definition#permissions",
    scope="environment",
)
def deploy_roles_run_their_pipeline(env: Environment) -> Iterator[EnvHit]:
    passable: dict[Ref, set[Ref]] = {}
    sources: dict[Ref, str] = {}
    for access in env.accesses:
        need = access.get("need", "")
        if not need.startswith("deploy:"):
            continue
        home, _, role_id = access.get("role", "").partition("/")
        role = Ref(home, role_id)
        if env.resource(role) is None:
            continue
        sources.setdefault(role, access.get("source", ""))
        target = access.get("resource", "")
        resource = target if target.startswith("stack:") else _target(env, home, target)
        if isinstance(resource, Missing):
            continue
        for step in DEPLOY_STEPS:
            if f"deploy:{step.target}" != need:
                continue
            wanted, condition = _step_targets(env, step, resource, access)
            if "iam:PassRole" in step.actions:  # the roles a step passes: all it may pass
                passable.setdefault(role, set()).update(w for w in wanted if isinstance(w, Ref))
            for w in wanted:
                lacking = [
                    a
                    for a in step.actions
                    if missing(
                        env, role, (a,), w, condition=condition if a in step.conditioned else None
                    )
                ]
                if lacking:
                    yield (
                        home,
                        role_id,
                        (
                            f"cannot {step.what} ({_shown(w)}): missing {', '.join(lacking)} "
                            f"(see {step.doc})"
                        ),
                        access.get("source", ""),
                    )
    for role, allowed in passable.items():
        others = _passes_others(env, role, allowed)
        if others:
            yield (
                role.component,
                role.id,
                "may pass roles beyond its services' task and execution roles: "
                + ", ".join(others),
                sources.get(role, ""),
            )
