"""Readable diffs of nested property values for the plan (container definitions, policies).

A value that is a mapping or a list, or a long or multi-line string, is shown as a unified diff
of its YAML (keys sorted, so only real changes differ), complete: nothing is cut. Short scalars
stay on one line (`cpu: 256 -> 512`).
"""

from __future__ import annotations

import difflib
import functools
from typing import Any

SHORT = 80
"""Longest scalar shown inline."""


def needs_diff(before: Any, after: Any) -> bool:
    """True when `before -> after` would not be readable on one line."""
    return any(
        isinstance(v, dict | list) or (isinstance(v, str) and (len(v) > SHORT or "\n" in v))
        for v in (before, after)
    )


@functools.cache
def _dumper() -> Any:
    import yaml

    class Dumper(yaml.SafeDumper):
        pass

    def string(dumper: Any, value: str) -> Any:
        style = "|" if "\n" in value else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)

    Dumper.add_representer(str, string)
    return Dumper


def _lines(value: Any) -> list[str]:
    if value is None:
        return []
    import yaml

    text = yaml.dump(
        value,
        Dumper=_dumper(),
        sort_keys=True,
        default_flow_style=False,
        allow_unicode=True,
        width=10_000,
    )
    if text.endswith("\n...\n"):  # a plain scalar document
        text = text[: -len("...\n")]
    return text.splitlines()


def value_diff(before: Any, after: Any, context: int = 3) -> list[str]:
    """A unified diff (without file headers) from `before` to `after`, each as sorted YAML;
    an absent value is empty. Every changed line is kept."""
    diff = difflib.unified_diff(_lines(before), _lines(after), lineterm="", n=context)
    return [line for line in diff if not line.startswith(("---", "+++"))]


def resolve_parameters(value: Any, parameters: dict[str, str]) -> Any:
    """`value` with `Ref` and `Fn::Sub` uses of these template parameters filled in, so a value
    that changes only through a parameter (an image tag) shows what really changes. Other
    intrinsics stay as written."""
    if not parameters:
        return value
    if isinstance(value, list):
        return [resolve_parameters(v, parameters) for v in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        ((key, arg),) = value.items()
        if key == "Ref" and isinstance(arg, str) and arg in parameters:
            return parameters[arg]
        if key == "Fn::Sub":
            return _sub(arg, parameters)
    return {k: resolve_parameters(v, parameters) for k, v in value.items()}


def _sub(arg: Any, parameters: dict[str, str]) -> Any:
    import re

    text: str | None = arg if isinstance(arg, str) else None
    names: Any = {}
    if isinstance(arg, list) and len(arg) == 2 and isinstance(arg[0], str):
        text, names = arg
    if text is None or not isinstance(names, dict):
        return {"Fn::Sub": arg}
    known = {k: v for k, v in parameters.items() if k not in names}

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        return known.get(name, match.group(0))

    filled = re.sub(r"\$\{([A-Za-z0-9_.:]+)\}", fill, text)
    if "${" not in filled.replace("${!", "") and not names:
        return filled
    return {"Fn::Sub": filled if not names else [filled, names]}
