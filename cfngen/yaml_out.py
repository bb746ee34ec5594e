"""Templates as YAML text, fast: the bytes PyYAML's safe dumper gave, without its representer.

`yaml.dump` spends most of a template's time in PyYAML's pure-Python representer (a node object
per value, alias bookkeeping, a dispatch per call) and then in the Python `resolve` calls its
serializer makes for every node, before libyaml's C emitter writes anything. Here one walk over
the template puts its values in canonical order, turns intrinsic functions into short-form tags
and produces the emitter's events directly; the emitter (libyaml's, or PyYAML's Python one where
libyaml is absent) still chooses every scalar's quoting, so the text is the one `yaml.dump` wrote
for the same data (tests/test_yaml_out.py compares the two over every golden template).

What the walk must reproduce from `yaml.dump(canonical(body), Dumper=<CSafeDumper with cfngen's
representers>, sort_keys=False, default_flow_style=False, allow_unicode=True, width=120)`:

- order: top-level sections in conventional order, each resource's attributes in conventional
  order, every other mapping sorted by key;
- a mapping with one key `Ref`, `Condition` or `Fn::X` becomes a tagged node `!Ref`, `!X` (a
  string argument as a scalar, `!GetAtt [a, b]` of strings as `!GetAtt a.b`, another scalar as its
  JSON text); its argument's own intrinsics stay in long form inside it, one tag per node;
- a string with a line break before its end in literal style (`|`), other strings in the style
  the emitter picks;
- event flags as the serializer sets them: a scalar's tag is implicit when the plain text
  resolves to it (`plain`) or when it is the string tag (`quoted`), a collection's when it is the
  default tag; block style everywhere.

Values of other types (floats, dates and bytes of templates read back from YAML, sets) go
through PyYAML's own safe representer on the same dumper, with its alias bookkeeping, so they
come out as before too, anchors and aliases included.
"""

from __future__ import annotations

import functools
import io
import json
from typing import Any

import yaml
from yaml.events import (
    AliasEvent,
    DocumentEndEvent,
    DocumentStartEvent,
    Event,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
    StreamStartEvent,
)
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.resolver import Resolver

TOP_ORDER = (
    "AWSTemplateFormatVersion",
    "Description",
    "Metadata",
    "Parameters",
    "Mappings",
    "Conditions",
    "Rules",
    "Resources",
    "Outputs",
)
RESOURCE_ORDER = (
    "Type",
    "Condition",
    "DependsOn",
    "DeletionPolicy",
    "UpdateReplacePolicy",
    "CreationPolicy",
    "UpdatePolicy",
    "Metadata",
    "Properties",
)
_TOP_RANK = {k: i for i, k in enumerate(TOP_ORDER)}
_RESOURCE_RANK = {k: i for i, k in enumerate(RESOURCE_ORDER)}

_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"

# The serializer's implicit flags of a string: (plain text resolves to str, quoted is str)
_STR_PLAIN = (True, True)
_STR_QUOTED = (False, True)
_TAGGED = (False, False)  # a short-form tag (!Ref ...) is never implicit
# Events carry no identity and the emitter only reads them: the frequent ones are made once.
_MAP_START = MappingStartEvent(None, _MAP, True, flow_style=False)
_MAP_END = MappingEndEvent()
_SEQ_START = SequenceStartEvent(None, _SEQ, True, flow_style=False)
_SEQ_END = SequenceEndEvent()


def _string(dumper: Any, value: str) -> Any:
    """Strings inside values only PyYAML represents (a tuple's items, a set's members)."""
    if "\n" in value.rstrip("\n"):
        return dumper.represent_scalar(_STR, value, style="|")
    return dumper.represent_str(value)


def _mapping(dumper: Any, value: dict[Any, Any]) -> Any:
    """Mappings inside values only PyYAML represents (a tuple's items): the short forms as
    everywhere, in their own order (canonical ordering never reached inside a tuple)."""
    tag = _intrinsic_tag(value)
    if tag is None:
        return dumper.represent_mapping(_MAP, list(value.items()))
    arg = _short_argument(tag, next(iter(value.values())))
    if isinstance(arg, list):
        return dumper.represent_sequence(tag, arg)
    if isinstance(arg, dict):
        return dumper.represent_mapping(tag, list(arg.items()))
    return dumper.represent_scalar(tag, _scalar_text(arg))


def emitter_class(base: Any) -> Any:
    """A dumper class on `base` (`yaml.CSafeDumper` or `yaml.SafeDumper`) for `dump_with`."""
    cls: Any = type("TemplateEmitter", (base,), {})
    cls.add_representer(str, _string)
    cls.add_representer(dict, _mapping)
    return cls


# libyaml's C emitter; PyYAML's Python one where PyYAML was built without libyaml
_EMITTER: Any = emitter_class(getattr(yaml, "CSafeDumper", yaml.SafeDumper))
_RESOLVER = Resolver()


class _Every:
    def __contains__(self, item: object) -> bool:
        return True


# First characters of the plain scalars the resolver may read as something else than a string
# ("" for the empty string); every character when it has a resolver for any (none by default).
_RESOLVED_FIRST: Any = (
    _Every()
    if None in Resolver.yaml_implicit_resolvers
    else frozenset(Resolver.yaml_implicit_resolvers)
)


@functools.lru_cache(maxsize=4096)
def _resolve_plain(value: str) -> str:
    tag: str = _RESOLVER.resolve(ScalarNode, value, (True, False))
    return tag


def plain_tag(value: str) -> str:
    """The tag a plain scalar `value` is read as (`true` -> bool, `1` -> int, `a` -> str)."""
    return _resolve_plain(value) if value[:1] in _RESOLVED_FIRST else _STR


@functools.lru_cache(maxsize=1 << 14)
def _str_event(v: str) -> ScalarEvent:
    """A string's scalar event: literal style when it has a line break before its end.

    Kept (bounded): templates repeat keys and names, and the emitter only reads events."""
    if "\n" in v.rstrip("\n"):
        return ScalarEvent(None, _STR, (plain_tag(v) == _STR, True), v, style="|")
    if plain_tag(v) != _STR:  # `true`, `1`, `null` ... as strings: not plain
        return ScalarEvent(None, _STR, _STR_QUOTED, v)
    return ScalarEvent(None, _STR, _STR_PLAIN, v)


def _intrinsic_tag(d: dict[Any, Any]) -> str | None:
    """`!Ref`, `!Sub` ... when `d` is a short-form function, as cfngen's representer decided."""
    if len(d) == 1:
        for key in d:
            if key in ("Ref", "Condition") or key.startswith("Fn::"):
                return "!" + key.removeprefix("Fn::")
    return None


def _short_argument(tag: str, arg: Any) -> Any:
    """A short form's argument as written: `!GetAtt [a, b]` of strings is `!GetAtt a.b`."""
    if tag == "!GetAtt" and isinstance(arg, list) and all(isinstance(a, str) for a in arg):
        return ".".join(arg)
    return arg


def _scalar_text(arg: Any) -> str:
    """A short form's scalar argument: a string as itself, anything else as its JSON text."""
    return arg if isinstance(arg, str) else json.dumps(arg)


def _ordered(d: dict[Any, Any], rank: dict[str, int]) -> list[Any]:
    return sorted(d, key=lambda k: (rank.get(k, len(rank)), k))


def events(body: dict[str, Any], dumper: Any) -> list[Event]:
    """The event stream `yaml.dump(canonical(body))` gave its emitter.

    `dumper` represents the values this walk leaves to PyYAML (see the module's docstring)."""
    out: list[Event] = []
    add = out.append
    # the first event of each node PyYAML represented (with the node, so its id stays unique)
    seen: dict[int, tuple[Node, Event]] = {}
    anchors = [0]
    string = _str_event

    def node(n: Node) -> None:
        """A represented node's events; an alias when it was written before (the serializer's
        anchors: numbered in the order their second occurrences are met)."""
        if id(n) in seen:
            first: Any = seen[id(n)][1]
            if first.anchor is None:
                anchors[0] += 1
                first.anchor = f"id{anchors[0]:03d}"
            add(AliasEvent(first.anchor))
            return
        ev: Event
        if isinstance(n, ScalarNode):
            implicit = (plain_tag(n.value) == n.tag, n.tag == _STR)
            ev = ScalarEvent(None, n.tag, implicit, n.value, style=n.style)
            seen[id(n)] = (n, ev)
            add(ev)
        elif isinstance(n, SequenceNode):
            ev = SequenceStartEvent(None, n.tag, n.tag == _SEQ, flow_style=n.flow_style)
            seen[id(n)] = (n, ev)
            add(ev)
            for item in n.value:
                node(item)
            add(_SEQ_END)
        else:
            assert isinstance(n, MappingNode)
            ev = MappingStartEvent(None, n.tag, n.tag == _MAP, flow_style=n.flow_style)
            seen[id(n)] = (n, ev)
            add(ev)
            for k, v in n.value:
                node(k)
                node(v)
            add(_MAP_END)

    def scalar(tag: str, text: str) -> None:
        add(ScalarEvent(None, tag, (plain_tag(text) == tag, tag == _STR), text))

    def value(v: Any) -> None:
        t = type(v)
        if t is str:
            add(string(v))
        elif t is dict or isinstance(v, dict):
            tag = _intrinsic_tag(v)
            if tag is None:
                mapping(v, sorted(v))
            else:
                intrinsic(tag, next(iter(v.values())))
        elif t is list or isinstance(v, list):
            add(_SEQ_START)
            for item in v:
                value(item)
            add(_SEQ_END)
        elif t is bool:
            scalar(_BOOL, "true" if v else "false")
        elif t is int:
            scalar(_INT, str(v))
        elif v is None:
            scalar(_NULL, "null")
        else:  # float, date, bytes, set ...: PyYAML's own representer (or its error)
            node(dumper.represent_data(v))

    def mapping(d: dict[Any, Any], keys: list[Any], tag: str = _MAP) -> None:
        add(_MAP_START if tag == _MAP else MappingStartEvent(None, tag, False, flow_style=False))
        for k in keys:  # strings inline: most keys and values are
            if type(k) is str:
                add(string(k))
            else:
                value(k)
            v = d[k]
            if type(v) is str:
                add(string(v))
            else:
                value(v)
        add(_MAP_END)

    def intrinsic(tag: str, arg: Any) -> None:
        """A short-form function: its argument's own intrinsics stay long (one tag a node)."""
        arg = _short_argument(tag, arg)
        if isinstance(arg, list):
            add(SequenceStartEvent(None, tag, False, flow_style=False))
            for item in arg:
                value(item)
            add(_SEQ_END)
        elif isinstance(arg, dict):
            mapping(arg, sorted(arg), tag)
        else:
            add(ScalarEvent(None, tag, _TAGGED, _scalar_text(arg)))

    def resource(res: Any) -> None:
        if not isinstance(res, dict):
            raise TypeError(f"a resource must be a mapping, not {type(res).__name__}")
        tag = _intrinsic_tag(res)
        if tag is None:
            mapping(res, _ordered(res, _RESOURCE_RANK))
        else:
            intrinsic(tag, next(iter(res.values())))

    def resources(section: Any) -> None:
        if not isinstance(section, dict):
            raise TypeError(f"Resources must be a mapping, not {type(section).__name__}")
        tag = _intrinsic_tag(section)
        if tag is not None:  # one resource named Ref, Condition or Fn::X: `!X` its attributes
            (res,) = section.values()
            if not isinstance(res, dict):
                raise TypeError(f"a resource must be a mapping, not {type(res).__name__}")
            mapping(res, _ordered(res, _RESOURCE_RANK), tag)
            return
        add(_MAP_START)
        for name in sorted(section):
            value(name)
            resource(section[name])
        add(_MAP_END)

    if not isinstance(body, dict):
        raise TypeError(f"a template must be a mapping, not {type(body).__name__}")
    add(StreamStartEvent())
    add(DocumentStartEvent())
    tag = _intrinsic_tag(body)
    if tag is not None:
        intrinsic(tag, next(iter(body.values())))
    else:
        add(_MAP_START)
        for k in _ordered(body, _TOP_RANK):
            value(k)
            if k == "Resources":
                resources(body[k])
            else:
                value(body[k])
        add(_MAP_END)
    add(DocumentEndEvent())
    add(StreamEndEvent())
    return out


def dump(body: dict[str, Any]) -> str:
    """A template as YAML: short-form intrinsics, canonical key order, width 120, UTF-8 text."""
    return dump_with(body, _EMITTER)


def dump_with(body: dict[str, Any], emitter: Any) -> str:
    """`dump` through a dumper class from `emitter_class` (the tests compare both emitters)."""
    stream = io.StringIO()
    dumper = emitter(
        stream, default_flow_style=False, allow_unicode=True, width=120, sort_keys=False
    )
    for _ in map(dumper.emit, events(body, dumper)):
        pass
    return stream.getvalue()
