"""What the deploy commands share: the environment, the AWS target, errors, the lock, signals.

`--emulator` and the lock live here so plan, deploy, destroy, status, outputs and unlock pick
them up the same way.
"""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from cfngen.cli import signals
from cfngen.cli.options import blueprint_argument, env_option, parse_variables, variable_options
from cfngen.errors import UsageError

if TYPE_CHECKING:
    from cfngen.deploy.aws import Clients
    from cfngen.deploy.lock import EnvironmentLock
    from cfngen.render import RenderedEnvironment

F = Callable[..., Any]


def load_environment(
    blueprint: Path, env: str, variables: tuple[str, ...], var_files: tuple[Path, ...]
) -> RenderedEnvironment:
    """A rendered environment from a rendered directory, or by compiling the blueprint."""
    from cfngen.render import RenderedEnvironment

    for directory in (blueprint, blueprint / env):
        if directory.is_dir() and (directory / "manifest.json").is_file():
            if variables or var_files:
                raise UsageError(
                    f"{directory} is rendered already: --var and --var-file change nothing "
                    "there. Render the blueprint again with them (cfngen render BLUEPRINT "
                    "--env ENV --var NAME=VALUE), or deploy the blueprint itself with --var"
                )
            rendered = RenderedEnvironment.from_directory(directory)
            if rendered.environment != env:
                raise UsageError(
                    f"{directory} holds environment {rendered.environment!r}, not {env!r}"
                )
            return rendered
    if not blueprint.is_file():
        raise UsageError(f"no blueprint file or rendered directory at {blueprint}")
    from cfngen.compiler import compile_environment

    return compile_environment(blueprint, env, parse_variables(variables), list(var_files))


@contextmanager
def aws_errors() -> Iterator[None]:
    """AWS errors outside a stack's own work (credentials, endpoint) become a clean exit 1."""
    from botocore.exceptions import BotoCoreError, ClientError
    from botocore.parsers import ResponseParserError

    from cfngen.deploy.aws import aws_failure
    from cfngen.errors import OperationError

    try:
        yield
    except ClientError as err:
        raise aws_failure("AWS", err) from err
    except (BotoCoreError, ResponseParserError) as err:  # the last: an answer cut off
        failure = aws_failure("AWS", err)
        raise OperationError(
            f"{failure}\ncheck the connection to AWS (endpoint, network, credentials), "
            "then run the same command again: it continues where this run stopped"
        ) from err


def target_options(func: F) -> F:
    """BLUEPRINT, --env, --var, --var-file (shared with render) and the AWS target flags."""
    for option in reversed(
        [
            blueprint_argument,
            env_option(required=True),
            variable_options,
            click.option(
                "--profile",
                default=None,
                help="AWS profile (default: AWS_PROFILE, then the default profile).",
            ),
            click.option(
                "--region",
                default=None,
                help="AWS region (default: AWS_REGION / the profile's, then the blueprint's); "
                "a stack with its own region (a us-east-1 certificate) always goes there.",
            ),
            click.option(
                "--endpoint-url",
                default=None,
                help="AWS endpoint (default: AWS_ENDPOINT_URL), e.g. a local emulator.",
            ),
            click.option(
                "--emulator",
                is_flag=True,
                help="Target a local MiniStack (--endpoint-url, else AWS_ENDPOINT_URL, else "
                "http://127.0.0.1:4566) with dummy credentials, never your AWS profile; what "
                "MiniStack cannot create is left out and listed on stderr.",
            ),
        ]
    ):
        func = option(func)
    return func


def role_arn_option(func: F) -> F:
    """--role-arn: the change sets' CloudFormation service role (deploy.cloudformation_role)."""

    def check(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
        if value is None:  # importing the blueprint models costs ~0.3 s: only when given
            return None
        from cfngen.blueprint.models import is_role_arn

        if not is_role_arn(value):
            raise click.BadParameter(
                f"{value!r} is not an IAM role ARN (e.g. "
                "arn:aws:iam::111122223333:role/shop-prod-github-cfn)"
            )
        return value

    return click.option(
        "--role-arn",
        default=None,
        metavar="ARN",
        callback=check,
        help="CloudFormation service role for the change sets (RoleARN), e.g. the "
        "<EnvironmentName>-<name>-cfn role of a deploy role; default: the environment's "
        "deploy.cloudformation_role, else none (CloudFormation uses the caller's credentials, "
        "or the role a stack already has).",
    )(func)


def image_tag_option(func: F) -> F:
    """--image-tag: the ImageTag parameter of every service, task and job stack."""
    return click.option(
        "--image-tag",
        default=None,
        metavar="TAG",
        help="Deploy this image tag (the ImageTag parameter of every service, task and job "
        "stack the run deploys) instead of the rendered one, e.g. to roll back. The next "
        "deploy without it returns to the rendered tag.",
    )(func)


def make_target_clients(
    env: RenderedEnvironment, profile: str | None, region: str | None, endpoint_url: str | None
) -> Clients:
    """Clients for the environment's target: its profile (a --profile flag wins), its role
    assumed from those credentials, and then the account check, before any other call."""
    from cfngen.deploy.aws import AwsTarget, make_clients, make_session, retry_config
    from cfngen.deploy.identity import assume_role, check_account

    if env.multi_region:  # its stack sets and lock live in the home region, whatever else says
        if region and region != env.regions[0]:
            raise UsageError(
                f"{env.environment_name} runs in {', '.join(env.regions)} and is deployed from its "
                f"home region {env.regions[0]} (its stack sets and lock live there): leave out "
                f"--region {region}"
            )
        region = env.regions[0]
    profile = profile or env.target.get("profile")
    session = make_session(profile)
    with aws_errors():
        if env.target.get("role_arn"):
            caller_sts = session.client(
                "sts",
                region_name=region or session.region_name or env.region,
                endpoint_url=endpoint_url,
                config=retry_config(),
            )
            session = assume_role(session, env.target, caller_sts)
        clients = make_clients(AwsTarget(profile, region, endpoint_url), env.region, session)
        if env.target.get("account"):  # no account named: no call (bad input fails first)
            check_account(clients.sts, env.target["account"], env.environment)
    return clients


def resolve_target(
    blueprint: Path,
    env: str,
    variables: tuple[str, ...],
    var_files: tuple[Path, ...],
    profile: str | None,
    region: str | None,
    endpoint_url: str | None,
    emulator: bool,
) -> tuple[RenderedEnvironment, Clients]:
    """The environment and the clients for it: AWS as the AWS CLI would pick, or the emulator."""
    if not emulator:
        environment = load_environment(blueprint, env, variables, var_files)
        return environment, make_target_clients(environment, profile, region, endpoint_url)
    if profile:
        raise UsageError("--emulator never uses an AWS profile: leave out --profile")
    from cfngen.deploy.aws import emulator_clients
    from cfngen.deploy.emulator import DEFAULT_ENDPOINT, check_health, emulator_variables
    from cfngen.deploy.emulator_gaps import emulator_environment

    endpoint = endpoint_url or os.environ.get("AWS_ENDPOINT_URL") or DEFAULT_ENDPOINT
    check_health(endpoint)
    _isolate_from_aws_config()
    made: dict[str, str] = {}
    if blueprint.is_file():
        given = set(parse_variables(variables))
        with aws_errors():
            made = {
                k: v for k, v in emulator_variables(endpoint, blueprint).items() if k not in given
            }
    environment = load_environment(
        blueprint, env, (*(f"{k}={v}" for k, v in made.items()), *variables), var_files
    )
    if environment.multi_region:
        raise UsageError(
            f"{environment.environment_name} deploys to {', '.join(environment.regions)} through "
            "CloudFormation StackSets, which MiniStack does not have: on the emulator, use an "
            "environment with one region (without `regions`)"
        )
    kept, excluded = emulator_environment(environment)
    for item in excluded:  # stderr, so `plan --format json` stays JSON
        click.echo(f"not on the emulator: {item.stack}: {item.why}", err=True)
    clients = emulator_clients(endpoint, region or kept.region)
    from cfngen.deploy.identity import check_account

    if kept.target.get("account"):  # the emulator's account is fixed: another one stops here
        with aws_errors():
            check_account(clients.sts, kept.target["account"], kept.environment)
    return kept, clients


def _isolate_from_aws_config() -> None:
    """No profile, config or credentials file of the user's is read in emulator mode."""
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN"):
        os.environ.pop(name, None)
    os.environ["AWS_CONFIG_FILE"] = os.devnull
    os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull


def unlock_command(
    blueprint: Path,
    env: str,
    profile: str | None,
    region: str | None,
    endpoint_url: str | None,
    emulator: bool = False,
) -> str:
    """The exact `cfngen unlock ...` line for this target (printed when a lock is in the way)."""
    words = ["cfngen", "unlock", str(blueprint), "--env", env]
    if emulator:
        words.append("--emulator")
    for flag, value in (
        ("--profile", profile),
        ("--region", region),
        ("--endpoint-url", endpoint_url),
    ):
        if value:
            words += [flag, value]
    return shlex.join(words)


def prerequisites_option(func: F) -> F:
    return click.option(
        "--skip-prerequisites",
        is_flag=True,
        help="Do not check that the SSM parameters, secrets, hosted zones and certificates the "
        "environment names exist before the first change.",
    )(func)


def check_prerequisites(env: RenderedEnvironment, clients: Clients, skip: bool) -> None:
    """Stop (exit 1) before any change set when a prerequisite is missing; say what creates it.
    Printed on stderr, so `plan --format json` stays JSON."""
    if skip:
        return
    from cfngen.deploy.prerequisites import check
    from cfngen.errors import OperationError
    from cfngen.prerequisites import find

    items = find(env)
    if not items:
        return
    result = check(items, clients)
    if result.missing or result.unchecked:
        click.echo(result.render(), err=True)
    if result.missing:
        raise OperationError(
            f"{len(result.missing)} prerequisite(s) of {env.environment_name} missing; nothing "
            "was changed (--skip-prerequisites deploys anyway)"
        )


def concurrency_option(func: F) -> F:
    return click.option(
        "--concurrency",
        default=4,
        show_default=True,
        type=click.IntRange(1, 32),
        help="Stacks worked on at once (a stack still waits for its dependencies).",
    )(func)


def poll_option(func: F) -> F:
    return click.option(
        "--poll-interval",
        default=0.5,
        show_default=True,
        type=click.FloatRange(0.05, 30.0),
        help="First delay between status polls, in seconds; it grows to 5 s.",
    )(func)


def wait_for_lock_option(func: F) -> F:
    return click.option(
        "--wait-for-lock",
        is_flag=True,
        help="If another deploy or destroy holds the environment's lock, wait for it "
        "instead of exiting 1.",
    )(func)


@contextmanager
def environment_lock(
    env: RenderedEnvironment,
    clients: Clients,
    command: str,
    unlock: str,
    *,
    wait: bool,
    on_lost: Callable[[str], None],
    poll_interval: float = 0.5,
    run_id: str | None = None,
) -> Iterator[EnvironmentLock]:
    """Hold the environment's lock for the block; renewed in the background, released after."""
    import threading

    from cfngen.deploy.lock import EnvironmentLock, caller_principal

    with aws_errors():
        lock = EnvironmentLock(
            clients.ssm,
            env.environment_name,
            command,
            unlock_command=unlock,
            principal=caller_principal(clients.sts),
            run_id=run_id,
        )

        def waiting(holder: Any) -> None:
            click.echo(
                f"waiting for the lock: {env.environment_name} is locked by {holder.describe()}",
                err=True,
            )

        # a waiting run looks again every 0.5-5 s (ten poll intervals)
        interval = min(5.0, max(0.5, poll_interval * 10))
    try:
        # inside: a signal or a cut connection while the lock is being taken still releases it
        with aws_errors():
            lock.acquire(wait=wait, cancel=threading.Event(), on_wait=waiting, interval=interval)
        lock.start_renewal(on_lost)
        yield lock
    finally:
        warning = lock.release()
        if warning:
            click.echo(f"warning: {warning}", err=True)


@contextmanager
def interruptible() -> Iterator[None]:
    """SIGTERM acts as Ctrl-C; an interruption escaping the command exits 130 (143 for TERM)."""
    from cfngen.deploy.poll import Interrupted

    ctx = click.get_current_context()
    try:
        with signals.sigterm_interrupts():
            yield
    except KeyboardInterrupt:
        word = "terminated" if signals.STATE.terminated else "interrupted"
        click.echo(
            f"{word}; nothing more was started. Run the same command again to continue.", err=True
        )
        ctx.exit(signals.exit_code(signals.EXIT_INTERRUPTED))
    except Interrupted as err:
        click.echo(err.render(), err=True)
        ctx.exit(signals.exit_code(err.exit_code))


def finish(code: int) -> None:
    """Exit with `code`, 130 turned into 143 after a SIGTERM."""
    sys.stdout.flush()
    click.get_current_context().exit(signals.exit_code(code))
