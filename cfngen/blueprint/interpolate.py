"""Jinja2 over string values only, with StrictUndefined.

Available names: `env.name`, `env.environment_name`, `blueprint.name`, `blueprint.region` and
`vars.X` (blueprint `vars:` defaults, then --var-file files, then --var KEY=VALUE, last wins).
Errors keep the string's file:line:col. Keys are never interpolated.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cfngen.blueprint.source import Document, Path_, dotted, load_file, walk_strings
from cfngen.errors import BlueprintError, Diagnostic, UsageError


def parse_var(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise UsageError(f"--var {text!r}: expected KEY=VALUE")
    return key.strip(), value


def load_var_files(paths: list[Path]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for path in paths:
        doc = load_file(path, "variables")
        if not isinstance(doc.data, dict):
            raise BlueprintError(
                [
                    Diagnostic(
                        doc.positions.value(()),
                        "",
                        "a variables file must be a mapping of names to values",
                        "write `name: value` lines",
                    )
                ]
            )
        result.update(doc.data)
    return result


def _set(data: Any, path: Path_, value: str) -> None:
    node = data
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value


def interpolate(doc: Document, context: dict[str, Any]) -> Document:
    """Render every templated string value of `doc` in place (a copy); errors are collected."""
    import copy

    import jinja2

    data = copy.deepcopy(doc.data)
    errors: list[Diagnostic] = []
    environment: jinja2.Environment | None = None
    for path, text in list(walk_strings(data)):
        if "{{" not in text and "{%" not in text:
            continue
        if path and path[0] in ("environments", "vars"):
            continue
        if environment is None:
            environment = jinja2.Environment(
                undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=True
            )
        try:
            rendered = environment.from_string(text).render(context)
        except jinja2.UndefinedError as err:
            errors.append(
                Diagnostic(
                    doc.positions.value(path),
                    dotted(path),
                    f"undefined template variable: {err.message}",
                    "define it with --var NAME=VALUE, --var-file or the blueprint's `vars:`; "
                    "available: env.name, env.environment_name, blueprint.name, "
                    "blueprint.region, vars.NAME",
                )
            )
            continue
        except jinja2.TemplateError as err:
            errors.append(
                Diagnostic(
                    doc.positions.value(path),
                    dotted(path),
                    f"template error: {err}",
                    "check the {{ ... }} expression",
                )
            )
            continue
        _set(data, path, rendered)
    if errors:
        raise BlueprintError(errors)
    return Document(data=data, positions=doc.positions, file=doc.file)
