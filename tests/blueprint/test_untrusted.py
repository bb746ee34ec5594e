"""Hostile and broken blueprints: sandboxed templates, bounded YAML, safe paths, strict types,
and values CloudFormation would reject caught at validate. Exact messages, file:line:col."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from cfngen.blueprint import interpolate
from cfngen.blueprint.source import MAX_FILE_BYTES, load_file, read_text
from cfngen.compiler import Inputs, validate_blueprint
from cfngen.errors import BlueprintError, UsageError
from tests.helpers import errors_of, write

HEAD = "blueprint: shop\nregion: eu-west-1\n"
TAIL = "environments: {dev: {}}\n"


def tag_errors(tmp_path: Path, template: str) -> list[str]:
    quoted = template.replace("'", "''")
    return errors_of(tmp_path, f"{HEAD}tags: {{owner: '{quoted}'}}\n{TAIL}")


def validate_errors(tmp_path: Path, text: str) -> list[str]:
    path = write(tmp_path, text)
    with pytest.raises(BlueprintError) as exc:
        validate_blueprint(Inputs(path))
    return [
        line.replace(str(path), "bp.yaml")
        for line in exc.value.render().splitlines()
        if not line.endswith(" errors")
    ]


# --- templates ---------------------------------------------------------------------------------

REFUSED = {
    "code execution": "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    "include": "{% include '/etc/passwd' %}",
    "import": "{% import 'x' as y %}",
    "extends": "{% extends 'base' %}",
    "recursive macro": "{% macro f(x) %}{{ f(x) }}{% endmacro %}{{ f(1) }}",
    "loop": "{% for i in range(10) %}x{% endfor %}",
    "set": "{% set x = 1 %}{{ x }}",
    "huge range": "{{ range(300000000)|join(',') }}",
    "huge repeat": "{{ 'x' * 10**10 }}",
    "repeat of a list": "{{ [1] * 100000 }}",
    "huge power": "{{ 9 ** 999999 }}",
    "doubling by concatenation": "{{ ('ab' * 30000) ~ ('ab' * 30000) }}",
    "doubling by addition": "{{ ('ab' * 30000) + ('ab' * 30000) }}",
    "replace amplification": "{{ 'a' | replace('a', 'a' * 60000) | replace('a', 'aa') }}",
    "join amplification": "{{ ['x', 'y'] | join('z' * 70000) }}",
    "unlisted filter": "{{ 'x' | center(1000000000) }}",
    "string formatting": "{{ '%999999999s' % 'x' }}",
    "method call": "{{ 'x'.ljust(1000000000) }}",
    "dunder attribute": "{{ ''.__class__ }}",
    "deep brackets": "{{ " + "(" * 300 + "1" + ")" * 300 + " }}",
}


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_templates_that_could_run_code_or_exhaust_memory_are_refused(
    tmp_path: Path, name: str
) -> None:
    start = time.process_time()
    (error,) = tag_errors(tmp_path, REFUSED[name])
    assert error.startswith("bp.yaml:3:15: tags.owner: "), error
    assert "not allowed in a blueprint template" in error or "template error" in error, error
    assert time.process_time() - start < 2  # a bound, not a benchmark: unbounded takes minutes


def test_refusal_names_what_is_not_allowed_and_what_is(tmp_path: Path) -> None:
    assert tag_errors(tmp_path, REFUSED["include"]) == [
        "bp.yaml:3:15: tags.owner: not allowed in a blueprint template: {% include %} "
        "(templates substitute values: names, literals, operators, {% if %} and the filters "
        "default, lower, upper, title, capitalize, trim, replace, join, length, int, float, "
        "string, first, last, tojson)"
    ]


def test_a_long_unary_chain_is_an_error_not_a_crash(tmp_path: Path) -> None:
    assert tag_errors(tmp_path, "{{ " + "-" * 3000 + "1 }}") == [
        "bp.yaml:3:15: tags.owner: template error: the expression is nested too deeply "
        "(write it more simply)"
    ]


@pytest.mark.parametrize(
    ("template", "value"),
    [
        ("{{ env.name }}-{{ blueprint.name }}", "dev-shop"),
        ("{{ env.name | upper ~ '-' ~ blueprint.region }}", "DEV-eu-west-1"),
        ("{% if env.name == 'dev' %}d{% else %}p{% endif %}", "d"),
        ("{{ 'prod' if env.name == 'prod' else 'other' }}", "other"),
        ("{{ vars.n * 2 }}", "42"),
        ("{{ vars.items | join(',') }}", "a,b"),
        ("{{ vars.missing | default('x') }}", "x"),
    ],
)
def test_allowed_expressions_render(template: str, value: str) -> None:
    renderer = interpolate._Renderer(
        {
            "env": {"name": "dev"},
            "blueprint": {"name": "shop", "region": "eu-west-1"},
            "vars": {"n": 21, "items": ["a", "b"]},
        }
    )
    assert renderer.render(template) == value


def test_too_many_distinct_expressions_stop_at_the_budget() -> None:
    renderer = interpolate._Renderer({"env": {"name": "dev"}})
    for i in range(interpolate.MAX_JINJA_TEMPLATES):
        renderer.render(f"{{{{ env.name ~ '{i}' }}}}")
    with pytest.raises(interpolate.TemplateLimit, match="distinct template expressions"):
        renderer.render("{{ env.name ~ 'one more' }}")


def test_rendered_values_of_a_document_have_a_total_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(interpolate, "MAX_TOTAL_CHARS", 10)
    renderer = interpolate._Renderer({"env": {"name": "development"}})
    with pytest.raises(interpolate.TemplateLimit, match="characters of rendered values"):
        renderer.render("{{ env.name }}")


# --- YAML --------------------------------------------------------------------------------------


def _bomb(levels: int) -> str:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    return HEAD + "vars:\n" + "".join(f"  {line}\n" for line in lines) + TAIL


def test_an_alias_bomb_is_refused_at_the_alias_in_well_under_a_second(tmp_path: Path) -> None:
    start = time.process_time()
    (error,) = errors_of(tmp_path, _bomb(9))
    assert time.process_time() - start < 1
    assert error.startswith("bp.yaml:9:12: document too large: aliases expand to more than "), error
    assert "at alias *a4" in error


def test_nesting_is_bounded_with_a_position(tmp_path: Path) -> None:
    text = HEAD + "vars: {a: " + "[" * 500 + "]" * 500 + "}\n" + TAIL
    assert errors_of(tmp_path, text) == [
        "bp.yaml:3:73: document too large: nesting deeper than 64 levels (write the values "
        "out, or split the blueprint; cfngen bounds documents so that a hostile one cannot "
        "exhaust memory)"
    ]


def test_a_recursive_alias_is_an_error(tmp_path: Path) -> None:
    text = HEAD + "vars: &loop\n  self: *loop\n" + TAIL
    (error,) = errors_of(tmp_path, text)
    assert error.startswith("bp.yaml:4:9: document too large: alias *loop refers to a node "), error


def test_merge_keys_take_local_overrides(tmp_path: Path) -> None:
    text = (
        HEAD
        + "vars:\n  svc: &svc {image: {uri: nginx}, cpu: 256, memory: 512}\n"
        + "cluster: {}\nservices:\n  web:\n    <<: *svc\n    memory: 1024\n"
        + TAIL
    )
    doc = load_file(write(tmp_path, text))
    assert doc.data["services"]["web"] == {"image": {"uri": "nginx"}, "cpu": 256, "memory": 1024}
    mark = doc.positions.value(("services", "web", "memory"))
    assert mark is not None and mark.line == 9  # the override's line, not the anchor's


def test_duplicate_keys_written_in_one_mapping_are_still_errors(tmp_path: Path) -> None:
    text = HEAD + "vars:\n  base: &b {a: 1}\n  x:\n    <<: *b\n    c: 1\n    c: 2\n" + TAIL
    assert errors_of(tmp_path, text) == [
        "bp.yaml:8:5: vars.x.c: duplicate key (first defined at line 7) (remove one of the two "
        "entries or merge them)"
    ]


def test_control_characters_are_a_positioned_error(tmp_path: Path) -> None:
    assert errors_of(tmp_path, HEAD + "description: a\x01b\n" + TAIL) == [
        "bp.yaml:3:15: YAML error: character U+0001 is not allowed in YAML (remove it or quote "
        "the value with escapes)"
    ]


def test_an_empty_file_names_the_file(tmp_path: Path) -> None:
    assert validate_errors(tmp_path, "") == [
        "bp.yaml:1:1: environments: the blueprint declares no environments (add e.g. "
        "`environments: {dev: {}, prod: {}}`)"
    ]


# --- paths -------------------------------------------------------------------------------------


def test_a_fifo_is_refused_without_reading_it(tmp_path: Path) -> None:
    fifo = tmp_path / "bp.yaml"
    os.mkfifo(fifo)
    with pytest.raises(UsageError, match=r"bp.yaml: is a named pipe \(FIFO\), expected a "):
        read_text(fifo)


@pytest.mark.parametrize(
    ("target", "message"),
    [("/dev/zero", "/dev/zero: is a device, expected a blueprint file")],
)
def test_devices_are_refused(target: str, message: str) -> None:
    with pytest.raises(UsageError) as exc:
        read_text(Path(target))
    assert str(exc.value) == message


def test_an_oversized_file_is_refused_before_reading(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    with big.open("wb") as handle:
        handle.truncate(MAX_FILE_BYTES + 1)  # sparse: nothing is written or read
    with pytest.raises(UsageError) as exc:
        read_text(big)
    assert str(exc.value) == (
        f"{big}: blueprint file is {MAX_FILE_BYTES + 1:,} bytes; at most {MAX_FILE_BYTES:,} "
        "are read"
    )


def test_a_symlink_loop_is_refused(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").symlink_to(tmp_path / "b.yaml")
    (tmp_path / "b.yaml").symlink_to(tmp_path / "a.yaml")
    with pytest.raises(UsageError, match=r"a\.yaml: symbolic link loop"):
        read_text(tmp_path / "a.yaml")


def test_a_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="is a directory, expected a blueprint file"):
        read_text(tmp_path)


# --- strict types --------------------------------------------------------------------------------


def test_booleans_are_not_numbers(tmp_path: Path) -> None:
    text = (
        HEAD
        + "cluster: {}\nservices:\n  api:\n    image: {uri: nginx}\n    port: true\n"
        + "    desired_count: yes\n"
        + TAIL
    )
    assert errors_of(tmp_path, text) == [
        "bp.yaml:7:11: services.api.port: wrong type: expected a number, got true (write a "
        "number here (YAML reads true/false/yes/no as booleans))",
        "bp.yaml:8:20: services.api.desired_count: wrong type: expected a number, got true "
        "(write a number here (YAML reads true/false/yes/no as booleans))",
    ]


def test_alerts_without_recipients_are_an_error(tmp_path: Path) -> None:
    assert errors_of(tmp_path, HEAD + "alerts: {emails: []}\n" + TAIL) == [
        "bp.yaml:3:18: alerts.emails: needs at least 1 item (add one, or leave the key out)"
    ]


# --- validate rejects what render rejects --------------------------------------------------------


def test_validate_reports_a_waiver_for_a_resource_the_entry_does_not_have(tmp_path: Path) -> None:
    text = (
        HEAD
        + (
            "network:\n  waivers:\n    - {check: CFG011, reason: no hosts here at all, "
            "resource: Vcp}\n"
        )
        + TAIL
    )
    (error,) = validate_errors(tmp_path, text)
    assert error.startswith(
        "bp.yaml:5:63: network.waivers[0].resource: network renders no resource 'Vcp' "
        "(did you mean 'Vpc'?"
    ), error


def test_validate_reports_an_override_of_an_unknown_resource(tmp_path: Path) -> None:
    text = HEAD + "overrides:\n  network:\n    properties:\n      Vcp: {CidrBlock: x}\n" + TAIL
    assert validate_errors(tmp_path, text) == [
        "bp.yaml:6:7: overrides.network.properties.Vcp: stack network has no resource 'Vcp' "
        "(did you mean 'Vpc'?)"
    ]


# --- what CloudFormation would reject ------------------------------------------------------------


def test_rds_engine_version_class_and_user_name(tmp_path: Path) -> None:
    text = (
        HEAD
        + (
            "databases:\n"
            "  main: {engine: postgres, engine_version: '17.99', master_username: admin}\n"
            "  other: {engine: mysql, instance_class: db.t1.micro}\n"
        )
        + TAIL
    )
    assert validate_errors(tmp_path, text) == [
        "bp.yaml:4:44: databases.main.engine_version: RDS does not offer postgres 17.99 "
        "(did you mean 17.9?)",
        "bp.yaml:4:70: databases.main.master_username: 'admin' is a reserved word of postgres "
        "or an RDS account; RDS refuses it as master user name (e.g. dbadmin)",
        "bp.yaml:5:42: databases.other.instance_class: mysql 8.4.5 does not run on db.t1.micro "
        "(pick another instance class)",
    ]


def test_alb_path_patterns_over_128_characters(tmp_path: Path) -> None:
    path = "/" + "a" * 128
    text = (
        HEAD
        + (
            "cluster: {}\nload_balancers:\n  web: {type: application, plain_http_reason: internal "
            "tools only}\nservices:\n  api:\n    image: {uri: nginx}\n    port: 80\n"
            f"    routes: [{{load_balancer: web, path: {path}}}]\n"
        )
        + TAIL
    )
    assert validate_errors(tmp_path, text) == [
        "bp.yaml:10:41: services.api.routes[0].path: is 129 characters long; at most 128 are "
        "allowed (shorten it)"
    ]


def test_an_ssl_policy_that_does_not_exist(tmp_path: Path) -> None:
    text = (
        HEAD
        + (
            "load_balancers:\n  web: {type: application, certificate: "
            "'arn:aws:acm:eu-west-1:123456789012:certificate/abc', "
            "ssl_policy: ELBSecurityPolicy-TLS13-1-2-2021-07}\n"
        )
        + TAIL
    )
    (error,) = validate_errors(tmp_path, text)
    assert error.endswith(
        "load_balancers.web.ssl_policy: 'ELBSecurityPolicy-TLS13-1-2-2021-07' is not a "
        "predefined ELB security policy that allows only TLS 1.2+ (did you mean "
        "ELBSecurityPolicy-TLS13-1-2-2021-06?)"
    ), error


@pytest.mark.parametrize(
    ("schedule", "problem"),
    [
        ("cron(61 3 * * ? *)", "minutes: '61' is outside 0-59"),
        ("cron(0 3 * * * *)", "one of day-of-month and day-of-week must be '?' (and only one)"),
        ("cron(0 3 * 13 ? *)", "month: '13' is outside 1-12 or JAN-DEC"),
        ("rate(2 weeks)", "unknown unit 'weeks'"),
        ("at(2030-02-30T00:00:00)", "'2030-02-30T00:00:00' is not a date and time"),
    ],
)
def test_invalid_schedule_expressions(tmp_path: Path, schedule: str, problem: str) -> None:
    text = (
        HEAD
        + (
            "cluster: {}\ntasks:\n  job:\n    image: {uri: nginx}\n"
            f"    schedule: '{schedule}'\n"
        )
        + TAIL
    )
    (error,) = validate_errors(tmp_path, text)
    assert f"tasks.job.schedule: invalid schedule '{schedule}': {problem} (" in error, error


def test_stack_tags_within_aws_limits(tmp_path: Path) -> None:
    many = ", ".join(f"t{i}: v" for i in range(49))
    text = HEAD + f"tags: {{{many}, 'aws:team': x, v: '{'x' * 257}'}}\n" + TAIL
    errors = validate_errors(tmp_path, text)
    assert errors[0].startswith("bp.yaml:3:7: tags: 51 tags; a stack takes at most 50"), errors
    assert any("tags.aws:team: tag key 'aws:team' uses the prefix aws:" in e for e in errors)
    assert any("tags.v: tag value is 257 characters long; AWS allows 256" in e for e in errors)


# --- overrides ----------------------------------------------------------------------------------


def test_override_resources_are_checked_against_cloudformation_schemas(tmp_path: Path) -> None:
    text = (
        HEAD
        + (
            "overrides:\n  network:\n    resources:\n"
            "      Extra: {Type: 'AWS::S3::Buckett'}\n"
            "      Endpoint:\n        Type: AWS::EC2::VPCEndpoint\n"
            "        Properties: {VpcId: {Ref: Vpc}, ServiceName: x, VpcEndpointType: Sideways}\n"
            "    outputs:\n      Dangling: {Value: {Ref: Nothing}}\n"
        )
        + TAIL
    )
    errors = validate_errors(tmp_path, text)
    assert [e.split(": CloudFormation")[0] for e in errors] == [
        "bp.yaml:6:21: overrides.network.resources.Extra.Type",
        "bp.yaml:9:74: overrides.network.resources.Endpoint.Properties.VpcEndpointType",
        "bp.yaml:11:31: overrides.network.outputs.Dangling.Value.Ref",
    ], errors


def test_an_override_resource_may_not_silently_replace_a_rendered_one(tmp_path: Path) -> None:
    text = (
        HEAD
        + (
            "overrides:\n  network:\n    resources:\n"
            "      Vpc: {Type: 'AWS::EC2::VPC', Properties: {CidrBlock: 10.1.0.0/16}}\n"
        )
        + TAIL
    )
    assert validate_errors(tmp_path, text) == [
        "bp.yaml:6:7: overrides.network.resources.Vpc: stack network already renders a resource "
        "'Vpc'; an entry under `resources` would silently replace it (move it to "
        "`overrides.network.replace` to replace the rendered resource, or give it another "
        "logical ID)"
    ]
    replaced = text.replace("    resources:\n", "    replace:\n")
    assert validate_blueprint(Inputs(write(tmp_path, replaced)))


def test_a_logical_id_cloudformation_refuses(tmp_path: Path) -> None:
    text = (
        HEAD
        + "overrides:\n  network:\n    resources:\n      my-bucket: {Type: 'AWS::S3::Bucket'}\n"
    )
    (error,) = validate_errors(tmp_path, text + TAIL)
    assert error == (
        "bp.yaml:6:7: overrides.network.resources.my-bucket: 'my-bucket' is not a logical ID "
        "CloudFormation accepts (use letters and digits only (at most 255), e.g. ExtraBucket)"
    )


# --- per-stack quotas ---------------------------------------------------------------------------


def test_a_stack_over_500_resources_names_the_entries_that_fill_it(tmp_path: Path) -> None:
    """501 groups split into shards (docs/blueprint.md, Large environments); one entry that
    alone passes the quota cannot be split: an existing group with 501 CIDR rules, each a
    resource of its own."""
    rules = "".join(
        f"      - {{port: {1000 + i}, cidr: 10.0.0.0/8, description: rule {i}}}\n"
        for i in range(501)
    )
    bp = HEAD + "security_groups:\n  g0:\n    existing: {id: sg-0123456789abcdef0}\n"
    errors = validate_errors(tmp_path, bp + "    ingress:\n" + rules + TAIL)
    assert len(errors) == 1, errors
    assert errors[0].startswith(
        "bp.yaml:4:3: security_groups.g0: stack security would have 501 resources; "
        "CloudFormation allows 500 per stack (its resources come from security_groups.g0 (501)"
    ), errors


def test_501_groups_split_into_shards(tmp_path: Path) -> None:
    groups = "".join(
        f"  g{i}: {{description: group {i}, ingress: [{{port: 443, cidr: 10.0.0.0/8, "
        "description: https}]}\n"
        for i in range(501)
    )
    path = write(tmp_path, HEAD + "security_groups:\n" + groups + TAIL)
    (prepared,) = validate_blueprint(Inputs(path))
    shards = [p.component for p in prepared.plans if p.component.startswith("security")]
    assert shards == [f"security{'' if i == 1 else f'-{i}'}" for i in range(1, 12)]
