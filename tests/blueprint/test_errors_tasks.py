"""Bad task, discovery and alarm settings: exact messages with file:line:col, field and fix."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from cfngen.cli import cli
from tests.helpers import errors_of, write

HEAD = "blueprint: shop\nregion: eu-west-1\n"


def task(body: str, extra: str = "") -> str:
    return HEAD + "tasks:\n  job:\n    image: {uri: nginx}\n" + body + extra + ENVS


ENVS = "environments: {dev: {}}\n"


def test_bad_schedule_exits_2_on_the_cli_and_writes_nothing(tmp_path: Path) -> None:
    path = write(tmp_path, task("    schedule: every 5 minutes\n"))
    out = tmp_path / "out"
    result = CliRunner().invoke(
        cli, ["render", str(path), "--env", "dev", "-o", str(out)], catch_exceptions=False
    )
    assert result.exit_code == 2
    assert result.stderr == (
        f"{path}:6:15: tasks.job.schedule: invalid schedule 'every 5 minutes': not a schedule "
        "expression (write rate(15 minutes), cron(0 3 * * ? *) or at(2030-01-01T00:00:00))\n"
    )
    assert not out.exists()


CASES = {
    "neither": (
        task(""),
        "bp.yaml:5:5: tasks.job: a task needs `schedule` or `run` "
        "(e.g. schedule: rate(15 minutes), or run: once)",
    ),
    "both": (
        task("    schedule: rate(1 hour)\n    run: once\n"),
        "bp.yaml:7:5: tasks.job.run: a task runs on a `schedule` or `run: once`, not both "
        "(remove `run`)",
    ),
    "rate_unit": (
        task("    schedule: rate(1 hours)\n"),
        "bp.yaml:6:15: tasks.job.schedule: invalid schedule 'rate(1 hours)': 1 takes the unit "
        "'hour' (write rate(1 hour))",
    ),
    "rate_plural": (
        task("    schedule: rate(5 minute)\n"),
        "bp.yaml:6:15: tasks.job.schedule: invalid schedule 'rate(5 minute)': 5 takes the unit "
        "'minutes' (write rate(5 minutes))",
    ),
    "rate_zero": (
        task("    schedule: rate(0 days)\n"),
        "bp.yaml:6:15: tasks.job.schedule: invalid schedule 'rate(0 days)': a rate must be at "
        "least 1 (e.g. rate(1 day))",
    ),
    "cron_fields": (
        task("    schedule: cron(0 3 * * *)\n"),
        "bp.yaml:6:15: tasks.job.schedule: invalid schedule 'cron(0 3 * * *)': a cron expression "
        "has 6 fields (minutes hours day-of-month month day-of-week year), this one has 5 "
        "(e.g. cron(0 3 * * ? *) for 03:00 every day)",
    ),
    "wait_on_schedule": (
        task("    schedule: rate(5 minutes)\n    wait_minutes: 3\n"),
        "bp.yaml:7:5: tasks.job.wait_minutes: `wait_minutes` applies to `run: once` tasks only "
        "(remove `wait_minutes`)",
    ),
    "retries_on_once": (
        task("    run: once\n    retries: 3\n"),
        "bp.yaml:7:5: tasks.job.retries: `retries` applies to scheduled tasks only "
        "(remove `retries`)",
    ),
    "timezone": (
        task("    schedule: cron(0 3 * * ? *)\n    timezone: berlin\n"),
        "bp.yaml:7:15: tasks.job.timezone: invalid time zone 'berlin' "
        "(an IANA name, e.g. UTC or Europe/Berlin)",
    ),
    "wait_limit": (
        task("    run: once\n    wait_minutes: 15\n"),
        "bp.yaml:7:19: tasks.job.wait_minutes: input should be less than or equal to 14",
    ),
    "run_value": (
        task("    run: twice\n"),
        "bp.yaml:6:10: tasks.job.run: invalid value 'twice' (expected 'once')",
    ),
    "fargate_size": (
        task("    run: once\n    cpu: 256\n    memory: 4096\n"),
        "bp.yaml:8:13: tasks.job.memory: invalid Fargate CPU/memory pair: 256 CPU units take "
        "512, 1024, 2048 MiB of memory, not 4096 (change memory, or pick the cpu that fits it)",
    ),
    "connects_to": (
        task("    run: once\n    connects_to: [dbb]\n", "databases:\n  db: {engine: postgres}\n"),
        "bp.yaml:7:19: tasks.job.connects_to[0]: unknown connection target 'dbb' "
        "(did you mean 'db'?)",
    ),
    "depends_on_itself": (
        task("    run: once\n    depends_on: [job]\n"),
        "bp.yaml:7:18: tasks.job.depends_on[0]: a task cannot depend on itself (remove it)",
    ),
    "name_clash": (
        task("    run: once\n", "services:\n  job: {image: {uri: nginx}}\n"),
        "bp.yaml:8:3: services.job: name 'job' is already used by tasks.job "
        "(component names are unique across kinds; rename one of them)",
    ),
    "address_of_a_service_without_discovery": (
        task(
            "    run: once\n    environment:\n      API: {from: api, attribute: host}\n",
            "services:\n  api: {image: {uri: nginx}, port: 80}\n",
        ),
        "bp.yaml:8:19: tasks.job.environment.API.from: service 'api' has no address others can "
        "take (it is not registered in Cloud Map or served through Service Connect) "
        "(set `discovery: true` on services.api (and give it a port))",
    ),
    "unknown_address_attribute": (
        task(
            "    run: once\n    environment:\n      API: {from: api, attribute: hots}\n",
            "services:\n  api: {image: {uri: nginx}, port: 80, discovery: true}\n",
        ),
        "bp.yaml:8:35: tasks.job.environment.API.attribute: 'api' has no attribute 'hots' "
        "(did you mean 'host'?)",
    ),
    "address_as_a_secret": (
        task(
            "    run: once\n    secrets:\n      API: {from: api, attribute: url}\n",
            "services:\n  api: {image: {uri: nginx}, port: 80, discovery: true}\n",
        ),
        "bp.yaml:8:35: tasks.job.secrets.API.attribute: 'api.url' is a plain value, not a "
        "secret (move it to `environment`, or use a secret_arn attribute)",
    ),
    "own_address": (
        HEAD + "services:\n  api:\n    image: {uri: nginx}\n    port: 80\n    discovery: true\n"
        "    environment:\n      ME: {from: api, attribute: host}\n" + ENVS,
        "bp.yaml:9:18: services.api.environment.ME.from: a service cannot take a value from "
        "itself (name another component)",
    ),
    "alarms_without_container_insights": (
        HEAD + "alerts: {emails: [a@example.com]}\ncluster: {container_insights: disabled}\n"
        "services:\n  api: {image: {uri: nginx}}\n" + ENVS,
        "bp.yaml:4:31: cluster.container_insights: service api's running-task alarm reads "
        "Container Insights metrics, which this cluster turns off (enable container_insights, "
        "or set alarms: {running_below_desired: false} on services.api)",
    ),
    "alarm_threshold": (
        HEAD
        + "services:\n  api:\n    image: {uri: nginx}\n    alarms: {cpu_percent: 120}\n"
        + ENVS,
        "bp.yaml:6:27: services.api.alarms.cpu_percent: input should be less than or equal to 100",
    ),
    "alarm_key": (
        HEAD + "services:\n  api:\n    image: {uri: nginx}\n    alarms: {cpu_precent: 80}\n" + ENVS,
        "bp.yaml:6:14: services.api.alarms.cpu_precent: unknown key 'cpu_precent' "
        "(did you mean 'cpu_percent'?)",
    ),
}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_bad_input(tmp_path: Path, case: str) -> None:
    text, expected = CASES[case]
    assert errors_of(tmp_path, text) == [expected]


def test_service_keys_on_a_task_list_the_tasks_own_keys(tmp_path: Path) -> None:
    (error,) = errors_of(tmp_path, task("    run: once\n    desired_count: 2\n"))
    prefix = "bp.yaml:7:5: tasks.job.desired_count: unknown key 'desired_count' (known keys: "
    assert error.startswith(prefix), error
    known = error.removeprefix(prefix).removesuffix(")").split(", ")
    assert known == sorted(known)
    assert {"run", "schedule", "wait_minutes", "containers", "uses"} <= set(known)
    assert "desired_count" not in known and "routes" not in known


def test_a_task_may_not_run_where_the_cluster_has_no_fargate(tmp_path: Path) -> None:
    text = task("    run: once\n", "cluster: {ec2: {instance_type: t3.small}}\n")
    assert errors_of(tmp_path, text) == [
        "bp.yaml:5:5: tasks.job: the cluster has no Fargate capacity "
        "(add `fargate: {}` to `cluster`)"
    ]
