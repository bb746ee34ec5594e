"""cfngen.yaml_out writes the bytes PyYAML's representer wrote (issue 16: render speed).

`reference_dump` below is the implementation cfngen used before (canonical() + a CSafeDumper with
cfngen's representers), kept here, verbatim, as the oracle: every template cfngen renders, a
corpus of adversarial values, and the public corpus must give the same text, through the C
emitter and through PyYAML's Python one (used where libyaml is absent).
"""

from __future__ import annotations

import collections
import datetime
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from cfngen.render import dump_template, load_template
from cfngen.yaml_out import dump, dump_with, emitter_class
from tests.reference import GOLDEN

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "cfn-corpus"
PYTHON_EMITTER = emitter_class(yaml.SafeDumper)

# --- the reference: cfngen.render before yaml_out, unchanged -------------------------------

_TOP_ORDER = (
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
_RESOURCE_ORDER = (
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


def _sorted(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _sorted(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [_sorted(v) for v in value]
    return value


def _ordered(value: dict[str, Any], order: tuple[str, ...]) -> dict[str, Any]:
    rank = {k: i for i, k in enumerate(order)}
    return dict(sorted(value.items(), key=lambda kv: (rank.get(kv[0], len(order)), kv[0])))


def canonical(body: dict[str, Any]) -> dict[str, Any]:
    out = _ordered({k: _sorted(v) for k, v in body.items()}, _TOP_ORDER)
    if "Resources" in out:
        out["Resources"] = {
            name: _ordered(res, _RESOURCE_ORDER) for name, res in out["Resources"].items()
        }
    return out


def _represent_intrinsic(dumper: Any, value: dict[str, Any]) -> Any:
    if len(value) == 1:
        ((key, arg),) = value.items()
        if key in ("Ref", "Condition") or key.startswith("Fn::"):
            tag = "!" + key.removeprefix("Fn::")
            if tag == "!GetAtt" and isinstance(arg, list) and all(isinstance(a, str) for a in arg):
                arg = ".".join(arg)
            if isinstance(arg, list):
                return dumper.represent_sequence(tag, arg)
            if isinstance(arg, dict):
                return dumper.represent_mapping(tag, [(k, v) for k, v in arg.items()])
            return dumper.represent_scalar(tag, arg if isinstance(arg, str) else json.dumps(arg))
    return dumper.represent_mapping("tag:yaml.org,2002:map", [(k, v) for k, v in value.items()])


def _string(dumper: Any, value: str) -> Any:
    if "\n" in value.rstrip("\n"):
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    return dumper.represent_str(value)


def _reference_dumper(base: Any) -> Any:
    dumper = type("TemplateDumper", (base,), {})
    dumper.add_representer(dict, _represent_intrinsic)
    dumper.add_representer(str, _string)
    return dumper


REFERENCE = {"c": _reference_dumper(yaml.CSafeDumper), "python": _reference_dumper(yaml.SafeDumper)}
NEW = {"c": emitter_class(yaml.CSafeDumper), "python": PYTHON_EMITTER}


def reference_dump(body: dict[str, Any], emitter: str = "c") -> str:
    text: str = yaml.dump(
        canonical(body),
        Dumper=REFERENCE[emitter],
        sort_keys=False,
        default_flow_style=False,
        allow_unicode=True,
        width=120,
    )
    return text


def outcome(fn: Any, body: Any) -> str:
    """The text, or that it raised (the two may raise different errors on what is no template)."""
    try:
        text: str = fn(body)
    except Exception:  # the comparison is "both refuse it"
        return "<raised>"
    return text


def same(body: Any, emitter: str = "c", refused: bool = False) -> None:
    """The new text is the reference's; a body the reference refused is refused too."""
    expected = outcome(lambda b: reference_dump(b, emitter), body)
    assert (expected == "<raised>") == refused
    assert outcome(lambda b: dump_with(b, NEW[emitter]), body) == expected


# --- what cfngen renders --------------------------------------------------------------------

GOLDEN_FILES = sorted(GOLDEN.rglob("*.yaml"))


def test_every_golden_template_round_trips_to_its_own_bytes() -> None:
    """The goldens are rendered text: read back and written again they are byte for byte the
    same, as the reference wrote them."""
    assert len(GOLDEN_FILES) > 50
    for path in GOLDEN_FILES:
        text = path.read_text()
        body = load_template(text)
        assert dump_template(body) == text, path
        assert reference_dump(body) == text, path


def test_without_libyaml_the_python_emitter_writes_what_it_wrote_before() -> None:
    """PyYAML's Python emitter quotes some scalars libyaml leaves plain (`!Sub '${X}-igw'`):
    the text differs from the goldens, but not from what the reference wrote with it."""
    for path in GOLDEN_FILES[:: max(1, len(GOLDEN_FILES) // 8)]:
        body = load_template(path.read_text())
        assert dump_with(body, PYTHON_EMITTER) == reference_dump(body, "python"), path


def test_short_forms_and_order_as_documented() -> None:
    """A hand-written expectation, not only the reference's word."""
    body = {
        "Resources": {
            "B": {"Properties": {"Z": 1, "A": {"Ref": "X"}}, "Type": "T", "DependsOn": ["A"]},
            "A": {"Type": "T", "Properties": {"Arn": {"Fn::GetAtt": ["B", "Arn"]}}},
        },
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "two\nlines",
        "Outputs": {"O": {"Value": {"Fn::Sub": "${A}-x"}, "Export": {"Name": "yes"}}},
    }
    assert dump(body) == (
        "AWSTemplateFormatVersion: '2010-09-09'\n"
        "Description: |-\n"
        "  two\n"
        "  lines\n"
        "Resources:\n"
        "  A:\n"
        "    Type: T\n"
        "    Properties:\n"
        "      Arn: !GetAtt B.Arn\n"
        "  B:\n"
        "    Type: T\n"
        "    DependsOn:\n"
        "    - A\n"
        "    Properties:\n"
        "      A: !Ref X\n"
        "      Z: 1\n"
        "Outputs:\n"
        "  O:\n"
        "    Export:\n"
        "      Name: 'yes'\n"
        "    Value: !Sub ${A}-x\n"
    )


# --- adversarial values ---------------------------------------------------------------------

SCALARS: list[Any] = [
    "",
    " ",
    "a",
    "yes",
    "No",
    "ON",
    "off",
    "y",
    "n",
    "Y",
    "true",
    "False",
    "TRUE",
    "null",
    "Null",
    "~",
    "0",
    "0123",
    "0o17",
    "0x1F",
    "0b101",
    "1e3",
    "1.5",
    ".5",
    "1.",
    "-1",
    "+1",
    "1_000",
    "12:30:45",
    "190:20:30.15",
    ".inf",
    "-.Inf",
    ".NaN",
    "2024-01-01",
    "2001-12-14t21:59:43.10-05:00",
    "<<",
    "=",
    ": ",
    "a: b",
    "a:b",
    "#",
    "a #b",
    "a# b",
    "- x",
    "-",
    "--",
    "---",
    "...",
    "*x",
    "&x",
    "!x",
    "!!str",
    "%x",
    "@x",
    "`x",
    "|",
    ">",
    "|-",
    '"q"',
    "'q'",
    "it's",
    "{a}",
    "[a]",
    "a, b",
    ",",
    "?",
    "? x",
    "trailing ",
    " leading",
    "  ",
    "tab\tin",
    "\ttab",
    "line\nbreak",
    "ends\n",
    "ends\n\n",
    "\n",
    "\nstarts",
    "a\n\nb",
    "a\r\nb",
    "cr\rhere",
    "trail \nspace",
    "break then space\n ",
    "break then tab\n\t",
    "break then nbsp\n\xa0",
    "break then ideographic space\n\u3000",
    "break then line separator\n\u2028",
    "ünïcødé",
    "日本語のテキスト",
    "emoji 😀",
    "bell\x07",
    "nel\x85",
    "ls\u2028",
    "bom\ufeff",
    "nbsp\xa0x",
    "back\\slash",
    "${AWS::Region}",
    "arn:${AWS::Partition}:s3:::b/*",
    '#!/bin/bash\nset -eu\necho "hi" # c\n',
    "word " * 40,
    "x" * 300,
    ("a" * 119) + " b",
    ("a" * 118) + " b c",
    "long " * 30 + "\nnext",
    "{{ vars.x }}",
    "%{x}",
    "@{x}",
    0,
    1,
    -1,
    10**30,
    -(10**30),
    True,
    False,
    None,
    1.0,
    -0.0,
    1e20,
    1.5e-7,
    float("inf"),
    float("-inf"),
    float("nan"),
    3.14159,
]


def intrinsics(v: Any) -> list[dict[str, Any]]:
    return [
        {"Ref": v},
        {"Condition": v},
        {"Fn::Sub": v},
        {"Fn::Sub": [v, {"k": {"Ref": v}, "j": v}]},
        {"Fn::GetAtt": ["R", v]},
        {"Fn::GetAtt": [v, {"Ref": "A"}]},
        {"Fn::Join": ["", [v, {"Ref": "A"}, [], {}]]},
        {"Fn::If": ["C", {"Fn::Base64": v}, {"Ref": "AWS::NoValue"}]},
        {"Fn::ImportValue": {"Fn::Sub": v}},
        {"Fn::Transform": {"Name": "AWS::Include", "Parameters": {"Location": v}}},
        {"Fn::Custom": {"b": v, "a": [v]}},
        {"Ref": v, "Other": 1},  # two keys: a plain mapping
    ]


@pytest.mark.parametrize("emitter", ["c", "python"])
def test_adversarial_scalars_everywhere(emitter: str) -> None:
    """Every edge case as a value, a list item, a key, a resource attribute, a section, and the
    argument of every kind of short form, nested."""
    for v in SCALARS:
        keyed: dict[Any, Any] = {}
        if isinstance(v, str):
            keyed = {v: v, "k" + v: [v], "x": {v: {}}}
        body = {
            "Description": v,
            "Metadata": {"v": v, "l": [v, [v], {}, [], {"n": v}], "keyed": keyed},
            "Parameters": {"P": {"Type": "String", "Default": v, "AllowedValues": [v, "b"]}},
            "Resources": {
                "R": {
                    "Type": "AWS::X::Y",
                    "Properties": {"V": v, "I": intrinsics(v), "N": {"Nested": intrinsics(v)}},
                    "Metadata": {"v": v},
                    "Condition": "C",
                    "Zed": v,
                    "DeletionPolicy": "Retain",
                },
                "S": {"Condition": v},  # one attribute named Condition: a short form
            },
            "Outputs": {"O": {"Value": v, "Export": {"Name": {"Fn::Sub": v}}}},
            "Zzz": v,
        }
        same(body, emitter)


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"Resources": {}},
        {"Resources": {"Ref": {"Type": "T", "Properties": {"b": 1, "a": 2}}}},
        {"Resources": {"Fn::GetAtt": {"Type": "T"}}},
        {"Resources": {"R": {}}},
        {"Resources": {"R": {"Condition": "C"}}},
        {"Ref": "X"},
        {"Fn::Sub": {"b": 1, "a": {"Ref": "A"}}},
        {"Resources": {"R": {"Type": "T"}}, "Ref": "X"},
        {"Outputs": {}, "Conditions": {"C": {"Fn::Equals": [{"Ref": "E"}, "prod"]}}},
        {"Mappings": {"M": {"eu-west-1": {"AMI": "ami-1"}}}, "Rules": {}},
        {"Metadata": {1: "int key", 2: [{}], 10: None}},
        {"Metadata": {True: "bool key", False: 0}},
        {"Metadata": {"multi\nline key": 1, "x": "y"}},
        {"Metadata": {"a" * 200: "long key"}},
        {"Metadata": {"Fn::GetAtt": []}},
        {"Metadata": {"Fn::GetAtt": ["A"]}},
        {"Metadata": {"Fn::GetAtt": ["A", "B", "C"]}},
        {"Metadata": {"Fn::GetAtt": "A.B"}},
        {"Metadata": {"Fn::": "x"}},
        {"Metadata": {"Ref": {}}},
        {"Metadata": {"Ref": []}},
        {"Metadata": {"Ref": [[], [{}]]}},
        {"Metadata": {"Ref": {"Ref": {"Ref": "deep"}}}},
        {"Metadata": {"Ref": ("a", 1)}},  # a tuple argument: its JSON text
        {"Metadata": {"a": [[[[[]]]]], "b": [{"c": [{"d": {}}]}]}},
        {
            "Metadata": {
                "t": ("a", 1, None, [{"z": 1, "a": {"Ref": "X"}}], {"Fn::GetAtt": ["A", "B"]})
            }
        },
        {"Metadata": {"t": (), "u": ((),), "v": ("x\ny", {"Fn::Sub": {"b": 1, "a": 2}})}},
    ],
    ids=repr,
)
@pytest.mark.parametrize("emitter", ["c", "python"])
def test_template_shapes(body: dict[str, Any], emitter: str) -> None:
    same(body, emitter)


def test_a_list_or_mapping_used_twice_is_written_twice_without_anchors() -> None:
    """troposphere may share one list between resources; canonical() copied it, so no alias."""
    shared_list = ["subnet-1", {"Ref": "S"}]
    shared_map = {"Key": "k", "Value": "v"}
    body = {
        "Resources": {
            n: {"Type": "T", "Properties": {"L": shared_list, "T": [shared_map]}}
            for n in ("A", "B")
        }
    }
    text = dump(body)
    assert text == reference_dump(body)
    assert "&" not in text and "*" not in text


@pytest.mark.parametrize("emitter", ["c", "python"])
def test_values_only_pyyaml_represents_come_out_as_before(emitter: str) -> None:
    """Dates, bytes and sets (a template read back from YAML may hold them), a date object used
    twice (an anchor and an alias, as PyYAML wrote it), dict and list subclasses."""
    day = datetime.date(2010, 9, 9)
    pair = ("a", {"b": 1})
    body = {
        "AWSTemplateFormatVersion": day,
        "Metadata": {
            "again": day,
            "twice": [day, datetime.date(2010, 9, 9)],
            "at": datetime.datetime(2024, 1, 2, 3, 4, 5),
            "bin": b"\x00\x01binary",
            "set": {"b", "a", "c", "multi\nline", 3},
            "ordered": collections.OrderedDict([("b", 1), ("a", {"Ref": "X"})]),
            "float": [1.0, float("nan")],
            "tuple": [pair, {"in": pair}],
        },
    }
    same(body, emitter)
    assert "&id001" in dump_with(body, NEW[emitter])


@pytest.mark.parametrize(
    "body",
    [
        {"Resources": ["a list of resources"]},
        {"Resources": {"R": "not a mapping"}},
        {"Metadata": {"s": type("Sub", (str,), {})("a str subclass")}},
        {"Metadata": {1: "a", "b": "mixed keys do not sort"}},
        {"Metadata": {"Ref": datetime.date(2020, 1, 1)}},  # no JSON text for a date
        {"Metadata": {1: "one key that is no string"}},
        {"Metadata": {None: "a null key", "x": "does not sort"}},
    ],
    ids=repr,
)
def test_what_is_no_template_is_refused_as_before(body: dict[str, Any]) -> None:
    assert outcome(reference_dump, body) == "<raised>"
    with pytest.raises(Exception):  # noqa: B017 - only that it refuses, as before
        dump(body)


# --- the public corpus ------------------------------------------------------------------------


def _corpus_templates() -> list[Path]:
    if not CORPUS.is_dir():
        return []
    suffixes = {".yaml", ".yml", ".json", ".template"}
    return sorted(p for p in CORPUS.rglob("*") if p.is_file() and p.suffix.lower() in suffixes)


@pytest.mark.slow
def test_the_public_corpus_dumps_as_before() -> None:
    """Hundreds of templates cfngen did not write (unquoted dates, inline code, odd keys),
    loaded with cfngen's template loader where they load. Two are refused, before as now: a
    macro template whose `Resources` is a list, and a `Fn::ForEach` resource (a list)."""
    compared, refused = 0, []
    for path in _corpus_templates():
        try:
            body = load_template(path.read_text())
        except Exception:  # not a template, or YAML cfngen cannot read
            continue
        expected = outcome(reference_dump, body)
        assert outcome(dump, body) == expected, path
        compared += 1
        if expected == "<raised>":
            refused.append(path.name)
    if CORPUS.is_dir():
        assert compared > 300
        assert sorted(refused) == ["example.template", "foreach.yaml"]


@pytest.mark.slow
def test_every_reference_environment_dumps_as_before() -> None:
    """The bodies as the compiler builds them (troposphere's dicts, before any YAML reading)."""
    from cfngen.compiler import compile_environment
    from tests.reference import reference_cases

    for path, env in reference_cases():
        for stack in compile_environment(path, env).stacks:
            _, body = stack.parsed
            assert dump(body) == reference_dump(body), (path.stem, env, stack.component)
