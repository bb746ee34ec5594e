"""The environment verifier: would the stacks of one environment work together on AWS?

`verify(rendered)` reads every stack of one environment (from a blueprint compiled in memory, or
a rendered folder with its manifest), resolves imports across them (cfngen.verify.model) and runs
the environment checks of the catalog (`scope="environment"`, cfngen.checks.wiring). Findings
are lint findings: template file and line, stack, resource and the blueprint entry (file:line)
of the resource whose relation is broken; a resource's `cfngen.waivers` Metadata waives them
like any other check.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cfngen.checks  # noqa: F401  first: the catalog imports this package's modules
from cfngen.verify.model import Environment, Stack

if TYPE_CHECKING:
    from cfngen.lint import Origins, Report
    from cfngen.render import RenderedEnvironment

__all__ = ["Environment", "Stack", "environment_of", "run_checks", "verify"]


def environment_of(
    rendered: RenderedEnvironment,
    files: dict[str, str] | None = None,
    shared: RenderedEnvironment | None = None,
) -> Environment:
    """Parse every stack of a rendered environment; `files` maps component -> file as shown;
    `shared`: the blueprint's shared scope, which cross-scope checks read too."""
    from cfngen.lint import _decode

    stacks = []
    for s in rendered.stacks:
        parsed, errors = _decode(s.body)
        stacks.append(
            Stack(
                component=s.component,
                name=s.name,
                file=(files or {}).get(s.component, s.file),
                template=parsed if not errors and isinstance(parsed, dict) else {},
                parameters=dict(s.parameters),
                depends_on=tuple(s.depends_on),
            )
        )
    env = Environment(
        stacks,
        rendered.region,
        rendered.environment_name,
        rendered.relations,
        rendered.accesses,
    )
    env.account = rendered.target.get("account")
    env.scope = rendered.environment
    if shared is not None and shared is not rendered:
        env.peers = {"shared": environment_of(shared)}
    return env


def shared_scope_of(
    path: Path, compiled: Sequence[RenderedEnvironment]
) -> RenderedEnvironment | None:
    """The shared scope of what PATH names: compiled with the others, rendered beside a
    rendered folder (`out/shared` next to `out/prod`), or compiled from the blueprint."""
    from cfngen.blueprint.environments import SHARED
    from cfngen.errors import CfngenError
    from cfngen.render import RenderedEnvironment

    for env in compiled:
        if env.environment == SHARED:
            return env
    blueprints = {env.blueprint for env in compiled}
    if path.is_dir():
        folder = path if (path / "manifest.json").is_file() else None
        sibling = (folder.parent if folder else path) / SHARED
        if (sibling / "manifest.json").is_file():
            try:
                found = RenderedEnvironment.from_directory(sibling)
            except (OSError, KeyError, ValueError):
                return None
            return found if found.blueprint in blueprints else None
        return None
    try:
        from cfngen.blueprint.environments import environment_names
        from cfngen.blueprint.source import load_file
        from cfngen.compiler import compile_environment

        if SHARED not in environment_names(load_file(path)):
            return None
        return compile_environment(path, SHARED)
    except CfngenError:
        return None


def run_checks(env: Environment, origins: Origins | None = None, ids: Sequence[str] = ()) -> Report:
    """Every environment check over `env` (or those in `ids`), as one lint report."""
    from cfngen.checks import CHECKS
    from cfngen.lint import Finding, Report, Template, _line, _Located

    report = Report(templates=len(env.stacks))
    located: dict[str, _Located] = {}
    for s in env.stacks.values():
        located[s.component] = _Located(
            Template(s.name, s.file, "", env.region), s.template, origins
        )
    for check in CHECKS.values():
        if check.scope != "environment" or (ids and check.id not in ids):
            continue
        try:
            hits: list[Any] = list(check.run(env))
        except Exception as exc:  # one broken check must not hide the others
            report.findings.append(
                Finding(
                    "",
                    1,
                    "CFG000",
                    "error",
                    f"check {check.id} failed ({type(exc).__name__}: "
                    f"{exc}); please report it with the templates",
                    "",
                )
            )
            continue
        for component, resource, message, *path in dict.fromkeys(hits):
            loc, stack = located[component], env.stacks[component]
            section = "Resources" if resource in stack.view.resources else "Outputs"
            f = loc.finding(
                check.id,
                check.severity,
                message if section == "Resources" else f"output {resource}: {message}",
                resource if section == "Resources" else "",
                _line(stack.template, section, resource),
                "cfngen",
                check.title,
                check.source,
            )
            if path and path[0]:  # the relation's own blueprint entry, not the resource's
                where = origins(path[0]) if origins else None
                f = replace(f, origin=f"{where} ({path[0]})" if where else path[0])
            reason = loc.waiver(resource, check.id) if section == "Resources" else None
            if reason is None:
                report.findings.append(f)
            else:
                report.waived.append((f, reason))
    order = {s.file: i for i, s in enumerate(env.stacks.values())}
    report.findings.sort(key=lambda f: (order.get(f.file, 0), f.line, f.rule, f.message))
    return report


def verify(
    rendered: RenderedEnvironment,
    files: dict[str, str] | None = None,
    shared: RenderedEnvironment | None = None,
) -> Report:
    return run_checks(environment_of(rendered, files, shared), rendered.origin)
