"""Deploy timings on an emulator: from nothing, no-op redeploy, --concurrency 1 vs default.

`make bench` calls `bench_deploy(env, endpoint)` with the legocity dev environment and a running
MiniStack. Each scenario starts from an empty environment (it destroys what the previous one
made), counts CloudFormation calls with botocore event hooks, and splits wall time into time in
API calls, time sleeping between polls, and the rest: the tool's own overhead. The no-op
redeploy is also timed as a user runs it: `cfngen deploy DIR --yes` in a new interpreter.
"""

from __future__ import annotations

import time
from typing import Any

from cfngen.deploy.aws import CallCounter, Clients, emulator_clients
from cfngen.deploy.deployer import Deployment, DeployOptions, DeploySummary
from cfngen.deploy.destroy import destroy_environment
from cfngen.deploy.poll import PollPolicy
from cfngen.errors import OperationError
from cfngen.render import RenderedEnvironment

#: The emulator answers in milliseconds; polls start short and stay short.
EMULATOR_POLL = PollPolicy(initial=0.1, factor=1.5, maximum=1.0, timeout=600)


def _deploy(
    env: RenderedEnvironment, clients: Clients, counter: CallCounter, concurrency: int
) -> tuple[DeploySummary, dict[str, Any]]:
    counter.reset()
    deployment = Deployment(
        env, clients, DeployOptions(concurrency=concurrency, poll=EMULATOR_POLL)
    )
    started = time.perf_counter()
    summary = deployment.deploy()
    wall = time.perf_counter() - started
    if not summary.ok:
        raise OperationError("benchmark deploy failed:\n" + summary.render())
    stacks = len(env.stacks)
    overhead = max(0.0, wall - counter.api_seconds - deployment.poller.slept)
    return summary, {
        "concurrency": concurrency,
        "wall_seconds": round(wall, 3),
        "api_seconds": round(counter.api_seconds, 3),
        "poll_sleep_seconds": round(deployment.poller.slept, 3),
        # with concurrency > 1 API time overlaps, so this is a lower bound there
        "overhead_seconds_per_stack": round(overhead / stacks, 3) if concurrency == 1 else None,
        "api_calls": counter.total(),
        "api_calls_per_stack": round(counter.total() / stacks, 1),
        "calls_by_operation": dict(sorted(counter.calls.items())),
        "change_sets_created": counter.calls["CreateChangeSet"],
        "outcomes": summary.counts(),
    }


def _destroy(env: RenderedEnvironment, clients: Clients) -> float:
    started = time.perf_counter()
    summary = destroy_environment(env, clients, concurrency=8, poll=EMULATOR_POLL)
    if summary.exit_code != 0:
        raise OperationError("benchmark destroy failed:\n" + summary.render())
    return round(time.perf_counter() - started, 3)


def _cli_noop(env: RenderedEnvironment, endpoint: str) -> float:
    """Wall time of `cfngen deploy DIR --yes` on the deployed environment, as a user sees it:
    a new interpreter, imports, reading the rendered directory, then the no-op deploy."""
    import os
    import subprocess
    import sys
    import tempfile
    from pathlib import Path

    from cfngen.render import write_environment

    cfngen = str(Path(sys.executable).parent / "cfngen")
    aws = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_REGION": env.region,
        "AWS_ENDPOINT_URL": endpoint,
    }
    aws.pop("AWS_PROFILE", None)
    _create_prerequisites(env, endpoint)  # as a user would before a deploy from the CLI
    with tempfile.TemporaryDirectory(prefix="cfngen-bench-") as tmp:
        directory = write_environment(env, Path(tmp))
        started = time.perf_counter()
        proc = subprocess.run(
            [cfngen, "deploy", str(directory), "--env", env.environment, "--yes"],
            env=aws,
            capture_output=True,
            text=True,
        )
        wall = time.perf_counter() - started
    if proc.returncode != 0 or f"{len(env.stacks)} unchanged" not in proc.stdout:
        raise OperationError("benchmark CLI no-op deploy failed:\n" + proc.stdout + proc.stderr)
    return round(wall, 3)


def _create_prerequisites(env: RenderedEnvironment, endpoint: str) -> None:
    from cfngen.deploy.emulator import create_stand_ins

    create_stand_ins(env, endpoint, "bench")


def bench_deploy(env: RenderedEnvironment, endpoint: str, concurrency: int = 4) -> dict[str, Any]:
    """Measure deploys of `env` on the emulator at `endpoint`; returns a JSON-ready dict.

    Leaves the environment destroyed. Targets: overhead below 1 s per stack, default
    concurrency at least 2x faster than --concurrency 1 (issue 5); a no-op redeploy as a new
    process under 1 s with two CloudFormation reads per stack (issue 16).
    """
    clients = emulator_clients(endpoint, env.region)
    counter = CallCounter()
    counter.attach_clients(clients)
    _destroy(env, clients)  # start from nothing even after an interrupted run
    _, parallel = _deploy(env, clients, counter, concurrency)
    _, noop = _deploy(env, clients, counter, concurrency)
    per_stack_noop = dict(sorted(counter.per_stack.items()))
    cli_noop = _cli_noop(env, endpoint)
    destroy_seconds = _destroy(env, clients)
    _, serial = _deploy(env, clients, counter, 1)
    per_stack_create = dict(sorted(counter.per_stack.items()))
    _destroy(env, clients)
    speedup = serial["wall_seconds"] / parallel["wall_seconds"] if parallel["wall_seconds"] else 0
    return {
        "environment": env.environment_name,
        "stacks": len(env.stacks),
        "deploy_from_nothing": parallel,
        "noop_redeploy": noop,
        "noop_redeploy_cli_wall_seconds": cli_noop,
        "deploy_concurrency_1": serial,
        "destroy_seconds": destroy_seconds,
        "parallel_speedup": round(speedup, 2),
        "api_calls_per_stack_create": per_stack_create,
        "api_calls_per_stack_noop": per_stack_noop,
        "targets": {
            "overhead_below_1s_per_stack": (serial["overhead_seconds_per_stack"] or 0) < 1.0,
            # issue 16: a no-op redeploy as a new process under 1 s, two reads per stack
            "noop_cli_below_1s": cli_noop < 1.0,
            "noop_two_reads_per_stack": set(per_stack_noop.values()) == {2},
            "parallel_at_least_2x": speedup >= 2.0,
        },
    }


def main() -> None:
    """`make bench`, deploy half: legocity dev (less the emulator's gaps) on a fresh MiniStack."""
    import json
    import tempfile
    from pathlib import Path

    from cfngen.compiler import compile_environment
    from cfngen.deploy.emulator import MiniStack, emulator_variables
    from cfngen.deploy.emulator_gaps import emulator_environment

    blueprint = Path(__file__).resolve().parent.parent / "blueprints" / "legocity.yaml"
    with (
        tempfile.TemporaryDirectory(prefix="cfngen-bench-") as tmp,
        MiniStack(Path(tmp) / "ministack.log") as endpoint,
    ):
        variables = emulator_variables(endpoint, blueprint)
        env, excluded = emulator_environment(compile_environment(blueprint, "dev", variables))
        print(f"\ndeploy on MiniStack: {env.environment_name}, {len(env.stacks)} stacks")
        for item in excluded:
            print(f"  not on the emulator: {item.stack}: {item.why}")
        report = bench_deploy(env, endpoint)
    print(json.dumps(report, indent=2))
    noop_calls = sorted(set(report["api_calls_per_stack_noop"].values()))
    print(
        f"  no-op redeploy, new process: {report['noop_redeploy_cli_wall_seconds']:.3f} s "
        f"(< 1 s: {'ok' if report['targets']['noop_cli_below_1s'] else 'OVER'}); "
        f"CloudFormation calls per stack: {'/'.join(map(str, noop_calls))} "
        f"(2: {'ok' if report['targets']['noop_two_reads_per_stack'] else 'OVER'}); "
        f"parallel speedup {report['parallel_speedup']:.2f}x "
        f"(>= 2: {'ok' if report['targets']['parallel_at_least_2x'] else 'UNDER'})"
    )
