"""Wiring: checks that read every stack of an environment together (`cfngen verify`).

Each proves one kind of relation works on the rendered templates: an import names an export, a
target group is attached, a load balancer reaches its targets, an execution role can pull the
image and write the logs. They yield (stack component, logical id, message); the message names
both ends of the relation, the finding names the blueprint entry of the resource.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator
from typing import Any

from cfngen.checks.base import Resource, as_dict, as_int, as_list, check
from cfngen.verify.iam import missing, role_of
from cfngen.verify.model import Environment, Missing, Ref, Stack, imports_in, partition
from cfngen.verify.network import DYNAMIC, Group, groups_of, ports, rules_of

EnvHit = tuple[str, str, str]  # (stack component, logical id, message)

ECR_IMAGE_URI = re.compile(
    # the account may be the deploying one (${AWS::AccountId} reads as *): a shared scope's
    r"^(?P<account>\d{12}|\*)\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/"
    r"(?P<repo>[a-z0-9._/-]+?)(?::[^@/]*|@sha256:[0-9a-f]+)?$"
)
PULL = ("ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer")


@check(
    "CFG020",
    "Import of an export no earlier stack makes",
    why="CloudFormation resolves Fn::ImportValue at deploy time: a misspelled export fails the "
    "stack, and an export of a stack this one does not depend on may not exist yet when both "
    "deploy in parallel.",
    source="https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/"
    "intrinsic-function-reference-importvalue.html",
    scope="environment",
)
def imports_resolve(env: Environment) -> Iterator[EnvHit]:
    for stack in env.stacks.values():
        upstream = env.upstream(stack.component)
        namespace = stack.name.removesuffix(stack.component)  # "<environment name>-"
        for section in ("Resources", "Outputs"):
            for name, body in as_dict(as_dict(stack.template).get(section)).items():
                for node in imports_in(body):
                    export = env.text(stack, node["Fn::ImportValue"])
                    if export is None:
                        continue
                    found = env.exports.get(export)
                    if found is None and not export.startswith(namespace):
                        continue  # another environment's export (a shared network): not provable
                    if found is None:
                        close = difflib.get_close_matches(export, list(env.exports), n=1)
                        hint = f"; did you mean '{close[0]}'?" if close else ""
                        yield (
                            stack.component,
                            str(name),
                            (f"imports '{export}', which no stack here exports{hint}"),
                        )
                    elif found.component == stack.component:
                        yield (
                            stack.component,
                            str(name),
                            (f"imports '{export}', which this same stack exports (use Ref/GetAtt)"),
                        )
                    elif found.component not in upstream:
                        yield (
                            stack.component,
                            str(name),
                            (
                                f"imports '{export}' from {found.component}, which this stack "
                                "does not depend on: both may deploy at once"
                            ),
                        )


# --- load balancers -------------------------------------------------------------------------


def _forwards(env: Environment, stack: Stack, actions: Any) -> list[Any]:
    out: list[Any] = []
    for action in as_list(actions):
        a = as_dict(action)
        if a.get("TargetGroupArn") is not None:
            out.append(env.resolve(stack, a["TargetGroupArn"]))
        for tg in as_list(as_dict(a.get("ForwardConfig")).get("TargetGroups")):
            out.append(env.resolve(stack, as_dict(tg).get("TargetGroupArn")))
    return out


def _listeners_of(env: Environment) -> dict[Ref, list[Ref]]:
    """Target group -> the listeners that forward to it (default action or a rule)."""
    out: dict[Ref, list[Ref]] = {}
    for stack, res in env.of_type("AWS::ElasticLoadBalancingV2::Listener"):
        for tg in _forwards(env, stack, res.props.get("DefaultActions")):
            if isinstance(tg, Ref):
                out.setdefault(tg, []).append(Ref(stack.component, res.id))
    for stack, res in env.of_type("AWS::ElasticLoadBalancingV2::ListenerRule"):
        listener = env.resolve(stack, res.props.get("ListenerArn"))
        for tg in _forwards(env, stack, res.props.get("Actions")):
            if isinstance(tg, Ref) and isinstance(listener, Ref):
                out.setdefault(tg, []).append(listener)
    return out


def _registered(env: Environment) -> dict[Ref, list[tuple[Stack, Resource, dict[str, Any]]]]:
    """Target group -> the ECS services (and their LoadBalancers entry) registered in it."""
    out: dict[Ref, list[tuple[Stack, Resource, dict[str, Any]]]] = {}
    for stack, res in env.of_type("AWS::ECS::Service"):
        for entry in as_list(res.props.get("LoadBalancers")):
            tg = env.resolve(stack, as_dict(entry).get("TargetGroupArn"))
            if isinstance(tg, Ref):
                out.setdefault(tg, []).append((stack, res, as_dict(entry)))
    return out


def _other_targets(env: Environment) -> set[Ref]:
    found: set[Ref] = set()
    for stack, res in env.of_type("AWS::AutoScaling::AutoScalingGroup"):
        found.update(r for r in env.resolve_all(stack, res.props.get("TargetGroupARNs")))
    for stack, res in env.of_type("AWS::ElasticLoadBalancingV2::TargetGroup"):
        if as_list(res.props.get("Targets")):
            found.add(Ref(stack.component, res.id))
    return {r for r in found if isinstance(r, Ref)}


@check(
    "CFG021",
    "Target group that no listener forwards to or nothing registers in",
    why="A target group without a listener never receives traffic, and one without targets "
    "answers every request with 503: the service behind it is unreachable.",
    source="https://docs.aws.amazon.com/elasticloadbalancing/latest/application/"
    "load-balancer-target-groups.html",
    scope="environment",
)
def target_groups_attached(env: Environment) -> Iterator[EnvHit]:
    listeners, registered, others = _listeners_of(env), _registered(env), _other_targets(env)
    for stack, res in env.of_type("AWS::ElasticLoadBalancingV2::TargetGroup"):
        me = Ref(stack.component, res.id)
        if me not in listeners:
            yield stack.component, res.id, "no listener or listener rule forwards to it"
        if me not in registered and me not in others:
            yield (
                stack.component,
                res.id,
                "no ECS service, Auto Scaling group or target is registered in it",
            )


def _balancer_groups(env: Environment, listeners: list[Ref]) -> list[tuple[Ref, list[Ref]]]:
    """(load balancer, its security groups) of each listener."""
    out: list[tuple[Ref, list[Ref]]] = []
    for listener in listeners:
        res, stack = env.resource(listener), env.stacks[listener.component]
        lb = env.resolve(stack, as_dict(res.props if res else {}).get("LoadBalancerArn"))
        lb_res = env.resource(lb)
        if isinstance(lb, Ref) and lb_res is not None and lb not in [x for x, _ in out]:
            groups = env.resolve_all(env.stacks[lb.component], lb_res.props.get("SecurityGroups"))
            out.append((lb, [g for g in groups if isinstance(g, Ref)]))
    return out


def _container(
    env: Environment, stack: Stack, service: Resource, name: Any
) -> tuple[Resource | None, dict[str, Any]]:
    task = env.resource(env.resolve(stack, service.props.get("TaskDefinition")))
    if task is None:
        return None, {}
    for c in as_list(task.props.get("ContainerDefinitions")):
        if as_dict(c).get("Name") == name:
            return task, as_dict(c)
    return task, {}


def _instance_groups(env: Environment, stack: Stack, service: Resource) -> list[Ref]:
    """Security groups of the container instances of the service's cluster (bridge/host mode)."""
    cluster = env.resolve(stack, service.props.get("Cluster"))
    if not isinstance(cluster, Ref):
        return []
    home = env.stacks[cluster.component]
    found: list[Any] = []
    for lt in home.view.of_type("AWS::EC2::LaunchTemplate"):
        data = as_dict(lt.props.get("LaunchTemplateData"))
        found += env.resolve_all(home, data.get("SecurityGroupIds"))
        for nic in as_list(data.get("NetworkInterfaces")):
            found += env.resolve_all(home, as_dict(nic).get("Groups"))
    return [g for g in found if isinstance(g, Ref)]


def _target_port(task: Resource, container: dict[str, Any], port: int) -> tuple[int, int] | None:
    mode = str(task.props.get("NetworkMode", "bridge"))
    for m in as_list(container.get("PortMappings")):
        m = as_dict(m)
        if as_int(m.get("ContainerPort")) != port:
            continue
        if mode == "bridge":
            host = as_int(m.get("HostPort"))
            return DYNAMIC if not host else (host, host)
        return port, port
    return None


@check(
    "CFG022",
    "Load balancer cannot reach the service's targets",
    why="The listener forwards to a target group, the group to the service's port; if the "
    "balancer's egress or the targets' ingress does not allow that port (or the dynamic range "
    "32768-65535 for bridge mode without a host port), health checks fail and the service "
    "never receives traffic.",
    source="https://docs.aws.amazon.com/elasticloadbalancing/latest/application/"
    "target-group-register-targets.html#target-security-groups",
    scope="environment",
)
def balancer_reaches_targets(env: Environment) -> Iterator[EnvHit]:
    rules, listeners = rules_of(env), _listeners_of(env)
    for tg, services in _registered(env).items():
        tg_res = env.resource(tg)
        if tg_res is None:
            continue
        for stack, service, entry in services:
            task, container = _container(env, stack, service, entry.get("ContainerName"))
            cport = as_int(entry.get("ContainerPort"))
            if task is None or cport is None:
                continue
            span = _target_port(task, container, cport) if container else None
            if span is None:
                yield (
                    stack.component,
                    service.id,
                    (
                        f"target group {tg.id} sends to {entry.get('ContainerName')} port "
                        f"{cport}, which the task definition does not map"
                    ),
                )
                continue
            awsvpc = str(task.props.get("NetworkMode", "")) == "awsvpc"
            if awsvpc:
                net = as_dict(
                    as_dict(service.props.get("NetworkConfiguration")).get("AwsvpcConfiguration")
                )
                targets: list[Group] = groups_of(env, stack, net.get("SecurityGroups"))
            else:
                targets = list(_instance_groups(env, stack, service))
            wanted = [span]
            health = as_int(tg_res.props.get("HealthCheckPort"))
            if health is not None and not span[0] <= health <= span[1]:
                wanted.append((health, health))
            for lb, groups in _balancer_groups(env, listeners.get(tg, [])):
                if not groups or not targets:
                    continue  # no groups to compare (an NLB without one): nothing provable
                for low, high in wanted:
                    what = f"{ports(low, high)} (target group {tg.id}, load balancer {lb.id})"
                    if not rules.allows("egress", groups, targets, low, high):
                        yield (
                            stack.component,
                            service.id,
                            (
                                f"the load balancer's group does not allow egress on {what} "
                                "to the targets' group"
                            ),
                        )
                    if not rules.allows("ingress", targets, groups, low, high):
                        yield (
                            stack.component,
                            service.id,
                            (
                                f"the targets' security group does not admit the load balancer on "
                                f"{what}"
                            ),
                        )


# --- task definitions -------------------------------------------------------------------------


def _tasks(env: Environment) -> Iterator[tuple[Stack, Resource, Ref | None]]:
    for stack, task in env.of_type("AWS::ECS::TaskDefinition"):
        yield stack, task, role_of(env, stack, task.props.get("ExecutionRoleArn"))


def _images(env: Environment, stack: Stack, container: dict[str, Any]) -> list[Any]:
    """The ECR repositories an image comes from: Refs, or repository ARNs from a private URI."""
    image = container.get("Image")
    repos: list[Any] = [
        r
        for r in env.refs_in(stack, image)
        if (res := env.resource(r)) is not None and res.type == "AWS::ECR::Repository"
    ]
    text = env.text(stack, image)
    m = ECR_IMAGE_URI.match(text or "")
    if m:
        arn = f"arn:{partition(m['region'])}:ecr:{m['region']}:{m['account']}"
        repos.append(f"{arn}:repository/{m['repo']}")
    return repos


@check(
    "CFG025",
    "Execution role cannot pull the task's image",
    why="ECS pulls a private ECR image with the task's execution role: without "
    "ecr:GetAuthorizationToken and the pull actions on the repository, the task stops with "
    "CannotPullContainerError.",
    source="https://docs.aws.amazon.com/AmazonECS/latest/developerguide/"
    "task_execution_IAM_role.html",
    scope="environment",
)
def execution_role_pulls(env: Environment) -> Iterator[EnvHit]:
    for stack, task, role in _tasks(env):
        for c in as_list(task.props.get("ContainerDefinitions")):
            c = as_dict(c)
            for repo in _images(env, stack, c):
                name = repo.id if isinstance(repo, Ref) else repo
                if role is None:
                    yield (
                        stack.component,
                        task.id,
                        (
                            f"container {c.get('Name')} pulls from ECR repository {name} but "
                            "the task has no execution role here"
                        ),
                    )
                    continue
                lacking = missing(env, role, ("ecr:GetAuthorizationToken",), "*")
                lacking += missing(env, role, PULL, repo)
                if lacking:
                    yield (
                        stack.component,
                        task.id,
                        (
                            f"execution role {role.id} cannot pull {c.get('Name')}'s image "
                            f"from {name}: missing {', '.join(lacking)}"
                        ),
                    )


@check(
    "CFG027",
    "Execution role cannot write the task's log group",
    why="With the awslogs driver the ECS agent creates log streams and puts events with the "
    "execution role; without logs:CreateLogStream and logs:PutLogEvents on the group the task "
    "fails to start.",
    source="https://docs.aws.amazon.com/AmazonECS/latest/developerguide/using_awslogs.html",
    scope="environment",
)
def execution_role_logs(env: Environment) -> Iterator[EnvHit]:
    for stack, task, role in _tasks(env):
        for c in as_list(task.props.get("ContainerDefinitions")):
            c = as_dict(c)
            log = as_dict(c.get("LogConfiguration"))
            if log.get("LogDriver") != "awslogs":
                continue
            group = env.resolve(stack, as_dict(log.get("Options")).get("awslogs-group"))
            if group is None or isinstance(group, Missing):
                continue
            if role is None:
                yield (
                    stack.component,
                    task.id,
                    (f"container {c.get('Name')} logs with awslogs but has no execution role"),
                )
                continue
            wanted = group if isinstance(group, Ref) else f"arn:aws:logs:*:*:log-group:{group}:*"
            lacking = missing(env, role, ("logs:CreateLogStream", "logs:PutLogEvents"), wanted)
            if lacking:
                name = group.id if isinstance(group, Ref) else group
                yield (
                    stack.component,
                    task.id,
                    (
                        f"execution role {role.id} cannot write container {c.get('Name')}'s log "
                        f"group {name}: missing {', '.join(lacking)}"
                    ),
                )


def _key_of(env: Environment, secret: Any) -> Any:
    """The customer-managed KMS key a secret of the environment names (a Ref or a key ARN)."""
    res = env.resource(secret)
    if res is None:
        return None
    if res.type == "AWS::SecretsManager::Secret":
        value = res.props.get("KmsKeyId")
    elif res.type in ("AWS::RDS::DBInstance", "AWS::RDS::DBCluster"):
        value = as_dict(res.props.get("MasterUserSecret")).get("KmsKeyId")
    else:
        return None
    if value is None:
        return None
    key = env.resolve(env.stacks[secret.component], value)
    return key if isinstance(key, Ref) or (isinstance(key, str) and ":key/" in key) else None


def _secret_targets(env: Environment, stack: Stack, value: Any) -> tuple[str, list[Any]] | None:
    """(action, the resources it must be allowed on) for one `ValueFrom`."""
    refs = sorted(env.refs_in(stack, value), key=lambda r: (r.component, r.id))
    text = env.text(stack, value)
    if refs:
        res = env.resource(refs[0])
        kind = res.type if res is not None else ""
        action = (
            "ssm:GetParameters"
            if kind == "AWS::SSM::Parameter"
            else "secretsmanager:GetSecretValue"
        )
        return action, list(refs)
    if text is None:
        return None
    if ":secretsmanager:" in text:
        arn = ":".join(text.split(":")[:7])  # without :json-key:version-stage:version-id
        return "secretsmanager:GetSecretValue", [arn, f"{arn}-XXXXXX"]  # the ARN's random suffix
    if not text.startswith("arn:"):
        text = f"arn:{partition(env.region)}:ssm:{env.region}:*:parameter/{text.lstrip('/')}"
    return "ssm:GetParameters", [text]


@check(
    "CFG026",
    "Execution role cannot read a secret the task names",
    why="ECS reads `Secrets` from SSM Parameter Store or Secrets Manager with the execution role "
    "before the container starts; without the read permission on that parameter or secret the "
    "task stops with ResourceInitializationError.",
    source="https://docs.aws.amazon.com/AmazonECS/latest/developerguide/secrets-envvar.html",
    scope="environment",
)
def execution_role_secrets(env: Environment) -> Iterator[EnvHit]:
    for stack, task, role in _tasks(env):
        for c in as_list(task.props.get("ContainerDefinitions")):
            c = as_dict(c)
            for secret in as_list(c.get("Secrets")):
                secret = as_dict(secret)
                found = _secret_targets(env, stack, secret.get("ValueFrom"))
                if found is None:
                    continue
                action, resources = found
                shown = resources[0].id if isinstance(resources[0], Ref) else resources[0]
                if role is None:
                    yield (
                        stack.component,
                        task.id,
                        (
                            f"container {c.get('Name')} reads secret {secret.get('Name')} but the "
                            "task has no execution role"
                        ),
                    )
                elif all(missing(env, role, (action,), r) for r in resources):
                    yield (
                        stack.component,
                        task.id,
                        (
                            f"execution role {role.id} cannot read {c.get('Name')}'s secret "
                            f"{secret.get('Name')} ({shown}): missing {action}"
                        ),
                    )
                else:
                    key = _key_of(env, resources[0])
                    if key is not None and missing(env, role, ("kms:Decrypt",), key):
                        name = key.id if isinstance(key, Ref) else key
                        yield (
                            stack.component,
                            task.id,
                            (
                                f"execution role {role.id} cannot decrypt {c.get('Name')}'s secret "
                                f"{secret.get('Name')} ({shown}) with its key {name}: missing "
                                "kms:Decrypt"
                            ),
                        )
