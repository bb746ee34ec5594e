"""Template variables in string values: `{{ env.name }}`, `{{ vars.X | lower }}`.

Available names: `env.name`, `env.environment_name`, `blueprint.name`, `blueprint.region` and
`vars.X` (blueprint `vars:` defaults, then --var-file files, then --var KEY=VALUE, last wins).
Errors keep the string's file:line:col. Keys are never interpolated.

A blueprint is untrusted input (CI validates pull requests from anyone), so templating is a
small, bounded expression language, not a program:

- A value that only substitutes names (`ssm:/{{ blueprint.name }}/{{ env.name }}/db`) is
  filled in directly, without Jinja2.
- Anything else is parsed by Jinja2's immutable sandbox and checked before it runs: only
  expressions (names, attributes, literals, operators, the filters in `FILTERS`) and
  `{% if %}` are allowed. There is no loader (no include/import/extends), no macros, loops,
  assignments or calls, so nothing recurses or loops; `*`, `**`, `+`, `~`, `join` and `replace`
  check the size of what they would build before building it.
- Bounds: MAX_TEMPLATE_CHARS per templated value, MAX_VALUE_CHARS per computed value,
  MAX_TOTAL_CHARS for a whole document, MAX_NODES per expression and MAX_JINJA_TEMPLATES
  distinct expressions per document. Every violation is a positioned blueprint error.
"""

from __future__ import annotations

import copy
import functools
import json
import re
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from cfngen.blueprint.source import Document, Path_, dotted, load_file, walk_strings
from cfngen.errors import BlueprintError, Diagnostic, Mark, UsageError

MAX_TEMPLATE_CHARS = 16 * 1024
MAX_VALUE_CHARS = 64 * 1024
MAX_TOTAL_CHARS = 16 * 1024 * 1024
MAX_NODES = 200
MAX_NESTING = 16
MAX_JINJA_TEMPLATES = 500
MAX_INT_BITS = 4096

AVAILABLE = "env.name, env.environment_name, blueprint.name, blueprint.region, vars.NAME"
FILTERS = (
    "default",
    "lower",
    "upper",
    "title",
    "capitalize",
    "trim",
    "replace",
    "join",
    "length",
    "int",
    "float",
    "string",
    "first",
    "last",
    "tojson",
)
"""The filters a blueprint may use."""

_SIMPLE = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\s*\}\}")


class TemplateLimit(Exception):
    """A template would pass one of the bounds, or uses what blueprints may not."""


class _Undefined(Exception):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


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
                        doc.positions.value(()) or Mark(str(path), 1, 1),
                        "",
                        "a variables file must be a mapping of names to values",
                        "write `name: value` lines",
                    )
                ]
            )
        result.update(doc.data)
    return result


_VAR_USE = re.compile(r"\bvars\s*(?:\.\s*([A-Za-z_][A-Za-z0-9_]*)|\[\s*(['\"])(.*?)\2\s*\])")
_VAR_DYNAMIC = re.compile(r"\bvars\s*\[\s*[^'\"\s]|\bvars\b\s*(?:[|)}\],%]|$)")


def check_variable_names(data: Any, names: Iterable[str]) -> None:
    """Refuse a --var NAME the blueprint neither declares (`vars:`) nor uses (`{{ vars.NAME }}`
    anywhere, environments included): a typo would otherwise deploy the old value silently."""
    raw = data.get("vars") if isinstance(data, dict) else None
    known = {str(k) for k in raw} if isinstance(raw, dict) else set()
    for _, text in walk_strings(data):
        if "{{" not in text and "{%" not in text:
            continue
        if _VAR_DYNAMIC.search(text):
            return  # `vars[name]` or `vars` as a whole: any name may be read
        for match in _VAR_USE.finditer(text):
            known.add(match.group(1) or match.group(3))
    for name in names:
        if name in known:
            continue
        import difflib

        close = difflib.get_close_matches(name, sorted(known), n=1)
        hint = (
            f"did you mean '{close[0]}'?"
            if close
            else "the blueprint's variables: " + (", ".join(sorted(known)) or "none")
        )
        raise UsageError(
            f"--var {name}: the blueprint neither declares (`vars:`) nor uses "
            f"({{{{ vars.{name} }}}}) a variable '{name}'; {hint}"
        )


# --- the fast path: plain substitution ----------------------------------------------------


def _lookup(context: dict[str, Any], name: str) -> Any:
    value: Any = context
    for part in name.split("."):
        if not isinstance(value, dict) or part not in value:
            raise _Undefined(name)
        value = value[part]
    return value


def _substitute(text: str, context: dict[str, Any]) -> str | None:
    """`text` with its `{{ name.path }}` filled in, or None when it needs Jinja2."""
    if "{%" in text or "{#" in text:
        return None
    parts: list[str] = []
    last = 0
    for match in _SIMPLE.finditer(text):
        parts.append(text[last : match.start()])
        parts.append(str(_lookup(context, match.group(1))))
        last = match.end()
    parts.append(text[last:])
    if "{{" in text[last:] or any("{{" in p for p in parts[::2]):
        return None
    return "".join(parts)


# --- the sandbox --------------------------------------------------------------------------


def _limit(size: int, what: str = "value") -> None:
    if size > MAX_VALUE_CHARS:
        raise TemplateLimit(
            f"the {what} would be {size:,} characters; a template value may have at most "
            f"{MAX_VALUE_CHARS:,}"
        )


def _size(value: Any) -> int:
    return len(value) if isinstance(value, str | list | tuple) else 0


def _check_int(value: Any) -> Any:
    if isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
        raise TemplateLimit(f"an integer of more than {MAX_INT_BITS} bits")
    return value


def _both_ints(left: Any, right: Any) -> bool:
    return isinstance(left, int) and isinstance(right, int)


def _bits(bits: int) -> None:
    if bits > MAX_INT_BITS:
        raise TemplateLimit(f"an integer of more than {MAX_INT_BITS} bits")


@functools.cache
def _sandbox() -> Any:
    """Jinja2's immutable sandbox, without loader, globals or unbounded operations."""
    from jinja2 import StrictUndefined, filters, pass_eval_context
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    class Sandbox(ImmutableSandboxedEnvironment):
        intercepted_binops = frozenset({"+", "*", "**", "%"})

        def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
            if operator == "%" and isinstance(left, str):
                raise TemplateLimit("string formatting with % (join strings with ~)")
            if operator == "*":
                for seq, n in ((left, right), (right, left)):
                    if isinstance(seq, str | list | tuple) and isinstance(n, int):
                        _limit(len(seq) * max(n, 0))
                if _both_ints(left, right):
                    _bits(abs(left).bit_length() + abs(right).bit_length())
            if operator == "**" and _both_ints(left, right) and right > 0:
                _bits(max(abs(left).bit_length(), 1) * right)
            if operator == "+":
                _limit(_size(left) + _size(right))
            return _check_int(super().call_binop(context, operator, left, right))

        def getattr(self, obj: Any, attribute: str) -> Any:
            # `vars.items` is the variable `items`, not dict.items (as on the fast path)
            if isinstance(obj, dict) and attribute in obj:
                return obj[attribute]
            return super().getattr(obj, attribute)

        def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
            raise TemplateLimit("calls")  # the static check rejects them first

    def bounded_concat(pieces: Iterable[Any]) -> str:
        out: list[str] = []
        total = 0
        for piece in pieces:
            text = str(piece)
            total += len(text)
            _limit(total)
            out.append(text)
        return "".join(out)

    @pass_eval_context
    def replace(eval_ctx: Any, s: Any, old: Any, new: Any, count: int | None = None) -> Any:
        s, old, new = str(s), str(old), str(new)
        n = s.count(old) if count is None else min(max(count, 0), s.count(old))
        _limit(len(s) + n * (len(new) - len(old)))
        return filters.do_replace(eval_ctx, s, old, new, count)

    @pass_eval_context
    def join(eval_ctx: Any, value: Any, d: str = "", attribute: Any = None) -> Any:
        if attribute is not None:
            raise TemplateLimit("join with an attribute")
        items = [str(v) for v in (value if isinstance(value, list | tuple) else [value])]
        _limit(sum(map(len, items)) + len(str(d)) * max(len(items) - 1, 0))
        return str(d).join(items)

    def tojson(value: Any) -> str:
        text = json.dumps(value, sort_keys=True, default=str)
        _limit(len(text))
        return text

    env = Sandbox(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)
    env.globals.clear()
    own: dict[str, Callable[..., Any]] = {
        "replace": replace,
        "join": join,
        "tojson": tojson,
        "_concat": bounded_concat,
    }
    env.filters = {
        name: own.get(name) or filters.FILTERS[name] for name in (*FILTERS, "_concat", "d")
    }
    env.concat = bounded_concat  # type: ignore[method-assign]
    return env


@functools.cache
def _concat_rewriter() -> Any:
    """Rewrites `a ~ b` (compiled to an unbounded join) into the bounded `_concat` filter."""
    from jinja2 import nodes
    from jinja2.visitor import NodeTransformer

    class BoundedConcat(NodeTransformer):
        def visit_Concat(self, node: Any) -> Any:
            node = self.generic_visit(node)
            return nodes.Filter(
                nodes.List(node.nodes, lineno=node.lineno),
                "_concat",
                [],
                [],
                None,
                None,
                lineno=node.lineno,
            )

    return BoundedConcat()


_STATEMENTS = {
    "For": "{% for %} loops",
    "Macro": "{% macro %}",
    "CallBlock": "{% call %}",
    "Include": "{% include %}",
    "Import": "{% import %}",
    "FromImport": "{% from ... import %}",
    "Extends": "{% extends %}",
    "Block": "{% block %}",
    "Assign": "{% set %}",
    "AssignBlock": "{% set %}",
    "FilterBlock": "{% filter %}",
    "With": "{% with %}",
    "Call": "calls of functions or methods",
    "ExprStmt": "{% do %}",
}


def _compile(text: str) -> Any:
    """Parse, check and compile one template; TemplateLimit for what blueprints may not use."""
    from jinja2 import nodes

    env = _sandbox()
    depth = nesting = 0
    for ch in text:  # Jinja2's parser recurses on brackets: bound them before it runs
        if ch in "([{":
            depth += 1
            nesting = max(nesting, depth)
        elif ch in ")]}":
            depth -= 1
    if nesting > MAX_NESTING + 2:  # `{{` itself counts two
        raise TemplateLimit(f"brackets nested deeper than {MAX_NESTING}")
    tree = env.parse(text)
    allowed = (
        nodes.Template,
        nodes.Output,
        nodes.TemplateData,
        nodes.If,
        nodes.Name,
        nodes.Getattr,
        nodes.Getitem,
        nodes.Slice,
        nodes.Const,
        nodes.List,
        nodes.Tuple,
        nodes.Dict,
        nodes.Pair,
        nodes.Keyword,
        nodes.CondExpr,
        nodes.And,
        nodes.Or,
        nodes.Not,
        nodes.Neg,
        nodes.Pos,
        nodes.Compare,
        nodes.Operand,
        nodes.Concat,
        nodes.BinExpr,
        nodes.Filter,
        nodes.Test,
    )
    count = 0
    pending: list[tuple[Any, int]] = [(tree, 0)]
    while pending:
        node, level = pending.pop()
        count += 1
        if count > MAX_NODES or level > 4 * MAX_NESTING:
            raise TemplateLimit(f"an expression of more than {MAX_NODES} parts")
        if not isinstance(node, allowed) or isinstance(node, nodes.Call):
            what = _STATEMENTS.get(type(node).__name__, f"`{type(node).__name__}`")
            raise TemplateLimit(what)
        if isinstance(node, nodes.Filter) and node.name not in env.filters:
            raise TemplateLimit(f"the filter `{node.name}`")
        if isinstance(node, nodes.Name) and node.ctx != "load":
            raise TemplateLimit("assignments")
        pending.extend((child, level + 1) for child in node.iter_child_nodes())
    tree = _concat_rewriter().visit(tree)
    tree.set_environment(env)
    return env.from_string(tree)


class _Renderer:
    """Renders the templated strings of one document within the document's budget."""

    def __init__(self, context: dict[str, Any]) -> None:
        self.context = context
        self.total = 0
        self.compiled: dict[str, Any] = {}

    def render(self, text: str) -> str:
        if len(text) > MAX_TEMPLATE_CHARS:
            raise TemplateLimit(
                f"a templated value of {len(text):,} characters (at most {MAX_TEMPLATE_CHARS:,})"
            )
        result = _substitute(text, self.context)
        if result is None:
            template = self.compiled.get(text)
            if template is None:
                if len(self.compiled) >= MAX_JINJA_TEMPLATES:
                    raise TemplateLimit(
                        f"more than {MAX_JINJA_TEMPLATES} distinct template expressions"
                    )
                template = self.compiled[text] = _compile(text)
            result = template.render(self.context)
        _limit(len(result), "rendered value")
        self.total += len(result)
        if self.total > MAX_TOTAL_CHARS:
            raise TemplateLimit(f"more than {MAX_TOTAL_CHARS:,} characters of rendered values")
        return result


def _set(data: Any, path: Path_, value: str) -> None:
    node = data
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value


def _templated(data: Any) -> Iterator[tuple[Path_, str]]:
    for path, text in walk_strings(data):
        if ("{{" in text or "{%" in text) and not (path and path[0] in ("environments", "vars")):
            yield path, text


def _explain(err: Exception) -> tuple[str, str] | None:
    """The message and fix for a templated value that failed (None: not a template problem).

    Jinja2's exceptions are looked at only when Jinja2 is loaded: a blueprint whose values
    only substitute names never imports it (~12 ms of every render)."""
    if isinstance(err, _Undefined):
        return f"undefined template variable '{err.name}'", ""
    jinja2 = sys.modules.get("jinja2")
    if jinja2 is not None and isinstance(err, jinja2.UndefinedError):
        return f"undefined template variable: {err.message}", ""
    if isinstance(err, TemplateLimit):
        return (
            f"not allowed in a blueprint template: {err}",
            "templates substitute values: names, literals, operators, {% if %} and the "
            f"filters {', '.join(FILTERS)}",
        )
    if jinja2 is not None:
        from jinja2.sandbox import SecurityError

        if isinstance(err, SecurityError):
            return (
                f"not allowed in a blueprint template: {err}",
                "use plain names such as {{ vars.NAME }}",
            )
        if isinstance(err, jinja2.TemplateError):
            return f"template error: {err}", "check the {{ ... }} expression"
    if isinstance(err, RecursionError):
        return "template error: the expression is nested too deeply", "write it more simply"
    if isinstance(err, ArithmeticError | ValueError | TypeError | LookupError):
        return f"template error: {type(err).__name__}: {err}", "check the {{ ... }} expression"
    return None


def interpolate(doc: Document, context: dict[str, Any]) -> Document:
    """Render every templated string value of `doc` (a copy); errors are collected."""
    data = copy.deepcopy(doc.data)
    errors: list[Diagnostic] = []
    renderer = _Renderer(context)
    for path, text in list(_templated(data)):
        where = doc.positions.value(path)
        field = dotted(path)
        try:
            _set(data, path, renderer.render(text))
            continue
        except Exception as err:
            explained = _explain(err)
            if explained is None:
                raise
            message, fix = explained
        if message.startswith("undefined"):
            fix = (
                "define it with --var NAME=VALUE, --var-file or the blueprint's `vars:`; "
                f"available: {AVAILABLE}"
            )
        errors.append(Diagnostic(where, field, message, fix))
        if renderer.total > MAX_TOTAL_CHARS or len(errors) >= 100:
            break
    if errors:
        raise BlueprintError(errors)
    return Document(data=data, positions=doc.positions, file=doc.file)
