"""The hostile-blueprint corpus: broken and malicious blueprints and arguments, as data.

Each `Case` is a blueprint text (or a special file) plus command-line arguments; every one must
make the real CLI exit 2 with a message naming the file (and line:col where the fault has a
position), print no traceback, write nothing, and stay under 2 s of CPU and 300 MB. Add a case by
appending to one of the generators below; `CASES` is built once, deterministically.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from cfngen import registry

HEAD = "blueprint: shop\nregion: eu-west-1\n"
TAIL = "environments: {dev: {}}\n"
OK_SERVICE = "services:\n  api:\n    image: {uri: nginx}\n    port: 80\n"


@dataclass(frozen=True)
class Case:
    id: str
    text: str | bytes | None = None  # the blueprint (None: `special` makes the path)
    args: tuple[str, ...] = ("validate",)  # the command, the blueprint path appended
    extra: tuple[str, ...] = ()  # arguments after the path
    special: str | None = None  # fifo | dir | missing | symlink-loop | devzero | big
    positioned: bool = True  # the message has file:line:col
    names: str | None = None  # what the message must name instead of the blueprint file
    tags: tuple[str, ...] = field(default_factory=tuple)


def _tag(payload: str) -> str:
    quoted = payload.replace("'", "''")
    return f"{HEAD}tags: {{owner: '{quoted}'}}\n{TAIL}"


TEMPLATE_PAYLOADS = [
    "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    "{{ joiner.__init__.__globals__ }}",
    "{{ namespace.__init__.__globals__ }}",
    "{{ lipsum.__globals__['os'] }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ ''.__class__ }}",
    "{{ vars.__class__ }}",
    "{{ env|attr('__class__') }}",
    "{{ self.__init__.__globals__ }}",
    "{{ config.items() }}",
    "{{ request.application }}",
    "{% include '/etc/passwd' %}",
    "{% import 'os' as os %}",
    "{% extends '/etc/hosts' %}",
    "{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}",
    "{% for i in range(10**9) %}x{% endfor %}",
    "{{ range(300000000)|join(',') }}",
    "{{ 'x' * 10**10 }}",
    "{{ 9**999999 }}",
    "{{ 'a' ~ 'b' * 99999999 }}",
    "{{ [0] * 100000000 }}",
    "{{ '%s' % vars }}",
    "{{ '{0.__class__}'.format(vars) }}",
    "{{ vars.nope }}",
    "{{ undefined_name }}",
    "{{ }}",
    "{{ 1 +* 2 }}",
    "{% set x = 1 %}{{ x }}",
    "{{ vars|list }}",
    "{{ (1,2,3).__len__() }}",
    "{{ 'abc'.upper() }}",
    "{{ -" + "-" * 400 + "1 }}",
    "{{ ((((((((((((((((((((((((((((((((((((((((1)))))))))))))))))))))))))))))))))))))))) }}",
    "{{ " + "[" * 300 + "]" * 300 + " }}",
    "{{ 'x'|replace('x', 'y' * 10**7) }}",
    "{{ lipsum(10**6) }}",
]


def template_cases() -> Iterator[Case]:
    for i, payload in enumerate(TEMPLATE_PAYLOADS):
        yield Case(f"template-{i:02d}", _tag(payload), tags=("template",))
    yield Case(
        "template-in-var",
        HEAD + 'vars: {a: "{{ cycler.__init__.__globals__ }}"}\n'
        "tags: {owner: '{{ vars.a }}'}\n" + TAIL,
        tags=("template",),
    )
    yield Case(
        "template-cli-var",
        HEAD + "tags: {owner: '{{ vars.who }}'}\n" + TAIL,
        extra=("--var", "who={{ cycler.__init__.__globals__ }}"),
        tags=("template",),
    )


def _bomb(levels: int, width: int) -> str:
    lines = ["a0: &a0 [x]"]
    for i in range(1, levels):
        refs = ", ".join([f"*a{i - 1}"] * width)
        lines.append(f"a{i}: &a{i} [{refs}]")
    return HEAD + "\n".join(lines) + f"\ntags: {{x: *a{levels - 1}}}\n" + TAIL


def yaml_cases() -> Iterator[Case]:
    yield Case("yaml-bomb-9x9", _bomb(9, 9), tags=("yaml",))
    yield Case("yaml-bomb-20x3", _bomb(20, 3), tags=("yaml",))
    yield Case("yaml-bomb-6x40", _bomb(6, 40), tags=("yaml",))
    yield Case("yaml-deep-lists", HEAD + "tags: " + "[" * 500 + "]" * 500 + "\n" + TAIL)
    yield Case("yaml-deep-maps", HEAD + "tags: " + "{a: " * 300 + "1" + "}" * 300 + "\n" + TAIL)
    yield Case(
        "yaml-deep-block",
        HEAD + "tags:\n" + "".join("  " * i + f"k{i}:\n" for i in range(1, 120)) + TAIL,
    )
    yield Case("yaml-unclosed", HEAD + "tags: [a, b\n" + TAIL)
    yield Case("yaml-tab-indent", HEAD + "tags:\n\towner: x\n" + TAIL)
    yield Case("yaml-bad-indent", HEAD + "network:\n  cidr: 10.0.0.0/16\n cidr2: x\n" + TAIL)
    yield Case("yaml-duplicate-key", HEAD + "region: us-east-1\n" + TAIL)
    yield Case("yaml-python-object", HEAD + "tags: !!python/object:os.system {}\n" + TAIL)
    yield Case("yaml-python-name", HEAD + "tags: !!python/name:os.system\n" + TAIL)
    yield Case("yaml-python-apply", HEAD + "tags: !!python/object/apply:os.system ['id']\n" + TAIL)
    yield Case("yaml-custom-tag", HEAD + "tags: !Ref Something\n" + TAIL)
    yield Case("yaml-binary-tag", HEAD + "tags: !!binary aGVsbG8=\n" + TAIL)
    yield Case("yaml-set-tag", HEAD + "tags: !!set {a, b}\n" + TAIL)
    yield Case("yaml-omap-tag", HEAD + "tags: !!omap [{a: 1}]\n" + TAIL)
    yield Case("yaml-undefined-alias", HEAD + "tags: *nothing\n" + TAIL)
    yield Case("yaml-merge-non-map", HEAD + "tags: {<<: [1, 2]}\n" + TAIL)
    yield Case("yaml-merge-scalar", HEAD + "tags:\n  <<: 5\n" + TAIL)
    yield Case("yaml-two-documents", HEAD + TAIL + "---\n" + HEAD + TAIL)
    yield Case("yaml-top-list", "- blueprint: shop\n- region: eu-west-1\n", positioned=False)
    yield Case("yaml-top-scalar", "just a string\n", positioned=False)
    yield Case("yaml-empty", "", positioned=False)
    yield Case("yaml-only-comment", "# nothing here\n", positioned=False)
    yield Case("yaml-null-document", "~\n", positioned=False)
    yield Case("yaml-nul-byte", (HEAD + "tags: {a: b}\n").encode() + b"\x00\n" + TAIL.encode())
    yield Case("yaml-invalid-utf8", HEAD.encode() + b"description: \xff\xfe\xfd\n" + TAIL.encode())
    yield Case("yaml-control-char", HEAD + "description: \x07bell\n" + TAIL)
    yield Case("yaml-long-key", HEAD + "tags: {" + "k" * 2000 + ": v}\n" + TAIL)
    yield Case(
        "yaml-many-keys",
        HEAD + "tags: {" + ", ".join(f"k{i}: v" for i in range(5000)) + "}\n" + TAIL,
    )
    yield Case("yaml-long-scalar", HEAD + "description: " + "x" * 400_000 + "\n" + TAIL)
    yield Case("yaml-huge-int", HEAD + "network: {availability_zones: " + "9" * 5000 + "}\n" + TAIL)
    yield Case("yaml-complex-key", HEAD + "tags: {? [a, b] : c}\n" + TAIL)


def _kind_cases() -> Iterator[Case]:
    """Every kind's section written wrong: as a list, a scalar, an entry of the wrong type, an
    unknown key, and (named kinds) an invalid entry name."""
    for kind in registry.KINDS:
        s = kind.section
        yield Case(f"kind-{s}-list", f"{HEAD}{s}: [1, 2, 3]\n{TAIL}", tags=("kinds",))
        yield Case(f"kind-{s}-scalar", f"{HEAD}{s}: 42\n{TAIL}", tags=("kinds",))
        if kind.singleton:
            yield Case(f"kind-{s}-unknown-key", f"{HEAD}{s}: {{zzz_unknown: 1}}\n{TAIL}")
            yield Case(f"kind-{s}-bool-map", f"{HEAD}{s}: true\n{TAIL}")
        else:
            yield Case(f"kind-{s}-entry-list", f"{HEAD}{s}:\n  x1: [1]\n{TAIL}")
            yield Case(f"kind-{s}-entry-unknown", f"{HEAD}{s}:\n  x1: {{zzz_unknown: 1}}\n{TAIL}")
            yield Case(f"kind-{s}-bad-name", f"{HEAD}{s}:\n  'Bad Name!': {{}}\n{TAIL}")


def type_cases() -> Iterator[Case]:
    yield Case("type-port-bool", HEAD + OK_SERVICE.replace("port: 80", "port: true") + TAIL)
    yield Case("type-port-float", HEAD + OK_SERVICE.replace("port: 80", "port: 80.5") + TAIL)
    yield Case("type-port-nan", HEAD + OK_SERVICE.replace("port: 80", "port: .nan") + TAIL)
    yield Case("type-port-inf", HEAD + OK_SERVICE.replace("port: 80", "port: .inf") + TAIL)
    yield Case("type-port-huge", HEAD + OK_SERVICE.replace("port: 80", "port: 99999999999") + TAIL)
    yield Case("type-port-negative", HEAD + OK_SERVICE.replace("port: 80", "port: -1") + TAIL)
    yield Case("type-port-string", HEAD + OK_SERVICE.replace("port: 80", "port: eighty") + TAIL)
    yield Case("type-desired-bool", HEAD + OK_SERVICE + "    desired_count: true\n" + TAIL)
    yield Case("type-cpu-list", HEAD + OK_SERVICE + "    cpu: [256]\n" + TAIL)
    yield Case("type-image-null", HEAD + "services:\n  api:\n    image: ~\n" + TAIL)
    yield Case("type-env-map", HEAD + OK_SERVICE + "    environment: {A: {b: c}}\n" + TAIL)
    yield Case("type-env-name", HEAD + OK_SERVICE + "    environment: {'1BAD': x}\n" + TAIL)
    yield Case("type-secret-bad", HEAD + OK_SERVICE + "    secrets: {A: 'vault:/x'}\n" + TAIL)
    yield Case("type-emails-empty", HEAD + "alerts: {emails: []}\n" + TAIL)
    yield Case("type-emails-bad", HEAD + "alerts: {emails: [not-an-email]}\n" + TAIL)
    yield Case("type-cidr-bad", HEAD + "network: {cidr: 999.0.0.0/16}\n" + TAIL)
    yield Case(
        "type-cidr-open-ssh",
        HEAD + "hosts:\n  h: {instance_type: t3.small, ssh_cidrs: [0.0.0.0/0]}\n" + TAIL,
    )
    yield Case("type-region-bad", "blueprint: shop\nregion: mars-1\n" + TAIL)
    yield Case("type-blueprint-name", "blueprint: 'Shop!!'\nregion: eu-west-1\n" + TAIL)
    yield Case("type-blueprint-list", "blueprint: [a]\nregion: eu-west-1\n" + TAIL)
    yield Case("type-environments-list", HEAD + "environments: [dev, prod]\n")
    yield Case("type-environments-missing", HEAD)
    yield Case("type-environment-bad-name", HEAD + "environments: {'DEV ENV': {}}\n")
    yield Case("type-env-overlay-list", HEAD + "environments: {dev: [1]}\n")
    yield Case("type-vars-list", HEAD + "vars: [1, 2]\ntags: {a: '{{ vars.x }}'}\n" + TAIL)
    yield Case("type-vars-undefined", HEAD + "tags: {a: '{{ vars.missing }}'}\n" + TAIL)
    yield Case("type-tags-list", HEAD + "tags: [a, b]\n" + TAIL)
    yield Case("type-tags-aws-prefix", HEAD + "tags: {'aws:x': y}\n" + TAIL)
    yield Case(
        "type-tags-too-many",
        HEAD + "tags: {" + ", ".join(f"t{i}: v" for i in range(60)) + "}\n" + TAIL,
    )
    yield Case("type-tag-value-long", HEAD + "tags: {a: " + "v" * 300 + "}\n" + TAIL)
    yield Case(
        "type-schedule-bad",
        HEAD + "tasks:\n  t: {image: {uri: nginx}, schedule: 'cron(99 99 * * * *)'}\n" + TAIL,
    )
    yield Case(
        "type-rate-bad",
        HEAD + "tasks:\n  t: {image: {uri: nginx}, schedule: 'rate(0 minutes)'}\n" + TAIL,
    )
    yield Case("type-fargate-size", HEAD + OK_SERVICE + "    cpu: 256\n    memory: 8192\n" + TAIL)
    yield Case(
        "type-db-user-reserved",
        HEAD + "databases:\n  db: {engine: postgres, master_username: rdsadmin}\n" + TAIL,
    )
    yield Case(
        "type-db-version",
        HEAD + "databases:\n  db: {engine: postgres, engine_version: '1.0'}\n" + TAIL,
    )
    yield Case(
        "type-ssl-policy",
        HEAD
        + "load_balancers:\n  lb: {type: application, ssl_policy: ELBSecurityPolicy-NOPE}\n"
        + TAIL,
    )
    yield Case(
        "type-lb-path-long",
        HEAD
        + "load_balancers:\n  lb: {type: application, plain_http_reason: internal tools here}\n"
        + OK_SERVICE
        + "    routes: [{load_balancer: lb, path: '/"
        + "a" * 200
        + "'}]\n"
        + TAIL,
    )
    confusable = "\u0430pi"  # a Cyrillic a
    yield Case(
        "type-unicode-name", HEAD + f"services:\n  {confusable}:\n    image: {{uri: x}}\n" + TAIL
    )
    yield Case(
        "type-long-component-name",
        HEAD + "services:\n  " + "a" * 200 + ":\n    image: {uri: nginx}\n" + TAIL,
    )
    yield Case("type-long-env-name", HEAD + "environments: {" + "e" * 200 + ": {}}\n")
    yield Case("type-env-name-override-bad", HEAD + "environment_name: 'bad name'\n" + TAIL)
    yield Case("type-unknown-top-key", HEAD + "servics: {}\n" + TAIL)
    yield Case("type-unknown-connects", HEAD + OK_SERVICE + "    connects_to: [nowhere]\n" + TAIL)
    yield Case("type-self-depends", HEAD + OK_SERVICE + "    depends_on: [api]\n" + TAIL)
    yield Case(
        "type-cycle",
        HEAD
        + "services:\n  a: {image: {uri: n}, depends_on: [b]}\n"
        + "  b: {image: {uri: n}, depends_on: [a]}\n"
        + TAIL,
    )
    yield Case(
        "type-path-traversal-file",
        HEAD + OK_SERVICE + "    files: {'/etc/app/../../x': {content: a}}\n" + TAIL,
    )
    yield Case(
        "type-waiver-unknown",
        HEAD + "network:\n  waivers: [{check: CKV_AWS_1, reason: r, resource: Nope}]\n" + TAIL,
    )


def override_cases() -> Iterator[Case]:
    base = HEAD + "network: {}\noverrides:\n  network:\n"
    yield Case("ovr-unknown-stack", HEAD + "overrides:\n  nowhere: {properties: {X: {}}}\n" + TAIL)
    yield Case("ovr-unknown-resource", base + "    properties: {Vcp: {CidrBlock: x}}\n" + TAIL)
    yield Case("ovr-bad-type", base + "    resources: {Extra: {Type: 'AWS::S3::Buckett'}}\n" + TAIL)
    yield Case(
        "ovr-bad-logical-id",
        base + "    resources: {'my-bucket': {Type: 'AWS::S3::Bucket'}}\n" + TAIL,
    )
    yield Case(
        "ovr-silent-replace", base + "    resources: {Vpc: {Type: 'AWS::EC2::VPC'}}\n" + TAIL
    )
    yield Case("ovr-dangling-output", base + "    outputs: {X: {Value: {Ref: Nothing}}}\n" + TAIL)
    yield Case(
        "ovr-bad-property", base + "    properties: {Vpc: {CidrBlock: 42, Nope: 1}}\n" + TAIL
    )
    yield Case("ovr-list", base.removesuffix("  network:\n") + "  network: [1]\n" + TAIL)
    yield Case(
        "ovr-attr-unknown", base + "    attributes: {Nope: {DeletionPolicy: Retain}}\n" + TAIL
    )
    yield Case(
        "ovr-attr-bad-policy", base + "    attributes: {Vpc: {DeletionPolicy: Maybe}}\n" + TAIL
    )
    yield Case("ovr-containers-no-td", base + "    containers: {api: {Memory: 1}}\n" + TAIL)
    yield Case(
        "ovr-import-junk",
        base + "    properties: {Vpc: {CidrBlock: {'Fn::ImportValue': [1, 2]}}}\n" + TAIL,
    )


def file_cases() -> Iterator[Case]:
    yield Case("file-fifo", special="fifo", positioned=False)
    yield Case("file-directory", special="dir", positioned=False)
    yield Case("file-missing", special="missing", positioned=False)
    yield Case("file-symlink-loop", special="symlink-loop", positioned=False)
    yield Case("file-dev-zero", special="devzero", positioned=False, names="/dev/zero")
    yield Case("file-too-big", special="big", positioned=False)


def cli_cases() -> Iterator[Case]:
    ok = HEAD + OK_SERVICE + TAIL
    yield Case("cli-unknown-env", ok, extra=("--env", "nope"), args=("render",), positioned=False)
    yield Case(
        "cli-var-no-equals",
        HEAD + "tags: {a: '{{ vars.x }}'}\n" + TAIL,
        extra=("--var", "x"),
        positioned=False,
        names="--var",
    )
    yield Case(
        "cli-var-file-missing",
        ok,
        extra=("--var-file", "/nonexistent/vars.yaml"),
        positioned=False,
        names="/nonexistent/vars.yaml",
    )
    yield Case("cli-var-file-dir", ok, extra=("--var-file", "/"), positioned=False, names="/")
    yield Case(
        "cli-output-is-file",
        ok,
        args=("render",),
        extra=("--env", "dev", "-o", "/etc/hostname"),
        positioned=False,
        names="/etc/hostname",
    )
    yield Case(
        "cli-output-in-proc",
        ok,
        args=("render",),
        extra=("--env", "dev", "-o", "/proc/cfngen-out"),
        positioned=False,
        names="/proc/cfngen-out",
    )
    yield Case(
        "cli-render-hostile", _tag(TEMPLATE_PAYLOADS[0]), args=("render",), extra=("--env", "dev")
    )
    yield Case("cli-lint-hostile", _tag(TEMPLATE_PAYLOADS[0]), args=("lint",))
    yield Case(
        "cli-plan-hostile", _tag(TEMPLATE_PAYLOADS[0]), args=("plan",), extra=("--env", "dev")
    )
    yield Case("cli-render-bomb", _bomb(9, 9), args=("render",), extra=("--env", "dev"))
    yield Case("cli-lint-bomb", _bomb(9, 9), args=("lint",))


def all_cases() -> list[Case]:
    out = [
        *template_cases(),
        *yaml_cases(),
        *_kind_cases(),
        *type_cases(),
        *override_cases(),
        *file_cases(),
        *cli_cases(),
    ]
    ids = [c.id for c in out]
    assert len(ids) == len(set(ids)), "case ids are unique"
    return out


CASES = all_cases()
