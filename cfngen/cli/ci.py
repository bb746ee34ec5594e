"""`cfngen ci github|gitlab BLUEPRINT`: write a CI pipeline for a blueprint (cfngen.ci)."""

from __future__ import annotations

from pathlib import Path

import click

from cfngen.cli.completion import complete_env
from cfngen.cli.options import blueprint_argument


@click.command("ci")
@click.argument("provider", type=click.Choice(["github", "gitlab"]))
@blueprint_argument
@click.option(
    "--env",
    "-e",
    "envs",
    multiple=True,
    metavar="ENV",
    shell_complete=complete_env,
    help="Environment to deploy, in deploy order (repeatable; default: all, production last).",
)
@click.option(
    "--role",
    default=None,
    metavar="NAME",
    help="The deploy role (deploy_roles.NAME) the pipeline assumes; needed when the blueprint "
    "has several for the provider.",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Write the pipeline to this file (e.g. .github/workflows/deploy.yml or "
    ".gitlab-ci.yml) instead of standard output.",
)
@click.option(
    "--context",
    "contexts",
    multiple=True,
    metavar="REPOSITORY=DIR",
    help="Docker build context of a repository the deploy role pushes to (repeatable; default: "
    "the repository root for a single image, else a directory named after the repository).",
)
def ci(
    provider: str,
    blueprint: Path,
    envs: tuple[str, ...],
    role: str | None,
    output: Path | None,
    contexts: tuple[str, ...],
) -> None:
    """Write a CI pipeline: validate, lint and plan on pull/merge requests, deploy on the branch
    the blueprint's OIDC deploy role trusts (environments in order, production waits for a
    person), and a manual rollback to an earlier image tag. See docs/ci.md.

    \b
    Examples:
      cfngen ci github blueprints/production-lb.yaml -o .github/workflows/deploy.yml
      cfngen ci gitlab blueprints/connexing.yaml -o .gitlab-ci.yml
    """
    from cfngen.ci import collect
    from cfngen.ci import github as github_ci
    from cfngen.ci import gitlab as gitlab_ci
    from cfngen.errors import UsageError

    given: dict[str, str] = {}
    for item in contexts:
        name, sep, directory = item.partition("=")
        if not sep or not name or not directory:
            raise UsageError(f"--context {item!r}: expected REPOSITORY=DIR")
        given[name] = directory
    pipeline = collect(blueprint, provider, envs, role, given)
    writer = github_ci if provider == "github" else gitlab_ci
    text = writer.workflow(pipeline) if writer is github_ci else gitlab_ci.pipeline(pipeline)
    for warning in writer.warnings(pipeline):
        click.echo(f"warning: {warning}", err=True)
    if output is None:
        click.echo(text, nl=False)
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text)
    click.echo(f"wrote {output} ({', '.join(t.env for t in pipeline.targets)})", err=True)
