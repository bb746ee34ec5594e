"""`cfngen lint` (a blueprint, a rendered folder, or plain CloudFormation templates) and
`cfngen checks` (the catalog of cfngen's own checks)."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from cfngen.cli.completion import complete_check, complete_env
from cfngen.cli.options import parse_variables, variable_options
from cfngen.errors import OperationError, UsageError

if TYPE_CHECKING:
    from cfngen.lint import Origins, Report, Template
    from cfngen.lint_cache import Cache
    from cfngen.lint_pool import Pool

TEMPLATE_SUFFIXES = (".yaml", ".yml", ".json", ".template")
_JSON_TEMPLATE = re.compile(r'"(Resources|AWSTemplateFormatVersion)"\s*:')
_TOP_KEY = re.compile(r"^(?P<indent>[ \t]*)(?P<key>[A-Za-z][A-Za-z0-9_]*)\s*:")


def _top_level_keys(text: str) -> set[str]:
    """The keys of a YAML mapping at its top level, however far the whole document is
    indented (the first key's indentation is the top level)."""
    indent: str | None = None
    keys: set[str] = set()
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith(("#", "---")):
            continue
        match = _TOP_KEY.match(line)
        if indent is None:
            if match is None:
                return keys
            indent = match.group("indent")
        if match is not None and match.group("indent") == indent:
            keys.add(match.group("key"))
    return keys


def _looks_like_template(text: str) -> bool:
    """A CloudFormation template, not a blueprint: a top-level Resources or
    AWSTemplateFormatVersion and no top-level `blueprint` (YAML at any indentation, or JSON)."""
    if text.lstrip().startswith("{"):
        return bool(_JSON_TEMPLATE.search(text)) and '"blueprint"' not in text
    keys = _top_level_keys(text)
    return bool(keys & {"Resources", "AWSTemplateFormatVersion"}) and "blueprint" not in keys


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise UsageError(f"cannot read {path}: {err}") from None


def _from_blueprint(
    path: Path,
    envs: Sequence[str],
    variables: tuple[str, ...],
    var_files: tuple[Path, ...],
    keep: list[Any] | None = None,
) -> list[tuple[str, list[Template], Origins]]:
    from cfngen.compiler import Inputs, validate_and_build
    from cfngen.lint import Template

    inputs = Inputs(path, tuple(parse_variables(variables).items()), var_files)
    groups: list[tuple[str, list[Template], Origins]] = []
    for _, env in validate_and_build(inputs, list(envs) or None):
        templates = [
            Template(
                name=s.name,
                file=f"{env.environment}/{s.file}",
                body=s.body,
                region=s.region or env.region,
                also_in=s.regions[1:],  # a stack set: cfn-lint in its other regions too
            )
            for s in env.stacks
        ]
        groups.append((env.environment_name, templates, env.origin))
        if keep is not None:  # for the verifier: the environment and its files as shown
            keep.append(
                (env, {s.component: t.file for s, t in zip(env.stacks, templates, strict=True)})
            )
    return groups


def _from_rendered(directory: Path) -> tuple[str, list[Template], Origins]:
    from cfngen.lint import Template
    from cfngen.render import RenderedEnvironment

    try:
        env = RenderedEnvironment.from_directory(directory)
    except (OSError, KeyError, ValueError) as err:
        raise UsageError(f"{directory}/manifest.json is not a cfngen manifest: {err}") from None
    templates = [
        Template(
            name=s.name,
            file=str(directory / s.file),
            key=s.file,
            body=s.body,
            region=s.region or env.region,
            also_in=s.regions[1:],
        )
        for s in env.stacks
    ]
    return env.environment_name, templates, env.origin


def _from_files(path: Path, region: str, production: bool) -> tuple[list[Template], list[Path]]:
    """Plain templates: `path` itself, or every template file under the folder `path`."""
    from cfngen.lint import Template

    if path.is_file():
        candidates, explicit = [path], True
    else:
        candidates = sorted(
            p for p in path.rglob("*") if p.is_file() and p.suffix in TEMPLATE_SUFFIXES
        )
        explicit = False
    templates, skipped = [], []
    for file in candidates:
        text = _read(file)
        if not explicit and not _looks_like_template(text):
            skipped.append(file)
            continue
        rel = file.name if explicit else str(file.relative_to(path))
        templates.append(
            Template(
                name=file.stem,
                file=str(file),
                key=rel,
                body=text,
                region=region,
                production=production,
            )
        )
    return templates, skipped


def _print_text(name: str, report: Report, show_waived: bool, tools: str) -> None:
    for f in report.findings:
        what = f"{f.resource}: {f.message}" if f.resource else f.message
        click.echo(f"{f.file}:{f.line}: {f.severity} {f.rule}: {what}")
        where = f"stack {f.stack}" + (f", from {f.origin}" if f.origin else "")
        click.echo(f"    {where}")
        if f.title or f.link:
            click.echo(f"    {f.rule} {f.title}" + (f": {f.link}" if f.link else ""))
    if show_waived:
        for f, reason in report.waived:
            click.echo(
                f"{f.file}:{f.line}: waived {f.rule}: {f.resource}: {f.message}\n"
                f"    reason: {reason}"
            )
    counts = report.counts()
    found = ", ".join(f"{n} {sev}" for sev, n in sorted(counts.items()))
    waived = f"; {len(report.waived)} waived" if report.waived else ""
    templates = f"{report.templates} template{'s' if report.templates != 1 else ''}"
    cached = f", {report.cached} unchanged from the cache" if report.cached else ""
    click.echo(f"{name}: {templates} ({tools}{cached}): {found or 'no findings'}{waived}")


@click.command()
@click.argument("path", type=click.Path(path_type=Path, exists=True))
@click.option(
    "--env",
    "-e",
    "envs",
    shell_complete=complete_env,
    multiple=True,
    metavar="ENV",
    help="Environment of a blueprint to lint; repeatable (default: all of them).",
)
@click.option(
    "--checkov",
    is_flag=True,
    help="Also run checkov (offline) and merge its failed checks into the report. checkov is "
    "found through CHECKOV_BIN or on PATH; an error when it is missing.",
)
@click.option(
    "--region",
    default="us-east-1",
    show_default=True,
    help="Region cfn-lint checks templates cfngen did not write against.",
)
@click.option(
    "--production",
    is_flag=True,
    help="Treat templates cfngen did not write as production (runs the production checks).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Report format.",
)
@click.option("--show-waived", is_flag=True, help="Also list waived findings with their reasons.")
@click.option(
    "--no-cache",
    is_flag=True,
    help="Lint every template again: neither read nor write the lint cache "
    "($XDG_CACHE_HOME/cfngen, else ~/.cache/cfngen).",
)
@variable_options
def lint(
    path: Path,
    envs: tuple[str, ...],
    checkov: bool,
    region: str,
    production: bool,
    fmt: str,
    show_waived: bool,
    no_cache: bool,
    variables: tuple[str, ...],
    var_files: tuple[Path, ...],
) -> None:
    """Lint templates in one pass: cfngen's security checks (`cfngen checks`), cfn-lint with
    informational rules, in-process, and with --checkov also checkov.

    PATH is a blueprint (every environment, or those given with --env), a folder `cfngen
    render` wrote (it has a manifest.json), or CloudFormation templates cfngen did not write: a
    file or a folder of them. Each finding names the template file and line, the stack, the
    resource and, for cfngen's templates, the blueprint entry that produced it (template lines
    are those `cfngen render` writes). Findings are waived only per resource, with a reason:
    `waivers:` on the blueprint entry, or in the resource's Metadata. Exit code 1 when there
    are findings, 3 when a template could not be linted (the others still are).

    Templates are linted on every available core, and what a template's lint found is cached
    by its content: an unchanged template is not linted again (--no-cache lints everything).

    \b
    Examples:
      cfngen lint blueprints/legocity.yaml --env prod
      cfngen lint blueprints/legocity.yaml --checkov
      cfngen lint out/prod
      cfngen lint received-templates/ --production --region eu-west-1
    """

    from cfngen.lint_session import session

    inputs = (str(path.resolve()), envs, variables, region, production, checkov)
    with session(path, var_files, inputs, region, cache=not no_cache) as (cache, pool):
        skipped, reports = _lint(
            path, envs, checkov, region, production, variables, var_files, cache, pool
        )
    if cache is not None and cache.problem:
        click.echo(f"warning: {cache.problem}; linted without it", err=True)

    tools = "cfngen checks, cfn-lint" + (", checkov" if checkov else "")
    if fmt == "json":
        out: dict[str, Any] = {
            "reports": [
                {
                    "name": name,
                    "templates": r.templates,
                    "cached": r.cached,
                    "findings": [f.as_json() for f in r.findings],
                    "waived": [{**f.as_json(), "reason": why} for f, why in r.waived],
                }
                for name, r in reports
            ],
            "skipped": [str(p) for p in skipped],
        }
        click.echo(json.dumps(out, indent=2))
    else:
        for p in skipped:
            click.echo(f"skipped {p}: not a CloudFormation template")
        for name, r in reports:
            _print_text(name, r, show_waived, tools)
    total = sum(len(r.findings) for _, r in reports)
    unlintable = sorted({f for _, r in reports for f in r.unlintable})
    if unlintable:
        raise CouldNotLint(
            f"{len(unlintable)} template(s) could not be linted: {', '.join(unlintable)}"
            f" ({total} finding(s) in all)"
        )
    if total:
        raise OperationError(f"{total} finding(s)")


class CouldNotLint(OperationError):
    """A tool failed on a template (exit 3): different from findings (1) and bad input (2)."""

    exit_code = 3


def _lint(
    path: Path,
    envs: tuple[str, ...],
    checkov: bool,
    region: str,
    production: bool,
    variables: tuple[str, ...],
    var_files: tuple[Path, ...],
    cache: Cache | None,
    pool: Pool | None,
) -> tuple[list[Path], list[tuple[str, Report]]]:
    """Lint and verify what PATH names: (files skipped, (name, report) per group)."""
    from cfngen.cli.verify import environments
    from cfngen.lint import Group
    from cfngen.lint_run import Verification, run
    from cfngen.verify import shared_scope_of

    groups: list[tuple[str, list[Template], Origins | None]] = []
    skipped: list[Path] = []
    compiled: list[Any] = []  # (RenderedEnvironment, files) of a blueprint, for the verifier
    if path.is_dir() and (path / "manifest.json").is_file():
        groups.append(_from_rendered(path))
    elif path.is_dir() or _looks_like_template(_read(path)):
        if envs or variables or var_files:
            raise UsageError("--env, --var and --var-file apply to blueprints, not templates")
        templates, skipped = _from_files(path, region, production)
        if not templates:
            raise UsageError(f"no CloudFormation templates under {path}")
        groups.append((str(path), templates, None))
    else:
        groups.extend(_from_blueprint(path, envs, variables, var_files, compiled))
        from cfngen import placeholders

        found = compiled[0][0].placeholders if compiled else placeholders.warnings(path)
        for warning in found:  # stderr: findings stay on stdout
            click.echo(f"warning: {warning}", err=True)

    # the environment checks (`cfngen verify`) of a blueprint or a rendered folder
    to_verify: list[tuple[Any, dict[str, str]]] = []
    shared = None
    if groups and not skipped and groups[0][2] is not None:
        to_verify = compiled or environments(path, envs, variables, var_files)
        shared = shared_scope_of(path, [env for env, _ in to_verify])
    done, verified = run(
        [Group(n, t, o) for n, t, o in groups],
        checkov,
        cache,
        pool,
        [Verification(env, files, shared) for env, files in to_verify],
    )
    reports: list[tuple[str, Report]] = [(g[0], r) for g, r in zip(groups, done, strict=True)]
    by_name = dict(reports)
    for (env, _), found in zip(to_verify, verified, strict=True):
        report = by_name.get(env.environment_name)
        if report is not None:
            report.findings.extend(found.findings)
            report.waived.extend(found.waived)
    return skipped, reports


@click.command()
@click.argument("check_id", required=False, shell_complete=complete_check)
def checks(check_id: str | None) -> None:
    """List cfngen's own security checks, or explain one.

    \b
    Examples:
      cfngen checks
      cfngen checks CFG001
    """
    from cfngen.checks import CHECKS

    if check_id is None:
        for c in CHECKS.values():
            click.echo(f"{c.id}  {c.severity:<7}  {c.title}")
        return
    found = CHECKS.get(check_id.upper())
    if found is None:
        raise UsageError(f"no check {check_id}; `cfngen checks` lists them")
    click.echo(
        f"{found.id} ({found.severity}): {found.title}\n\n{found.why}\n\nGuidance: {found.source}"
    )
