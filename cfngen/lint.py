"""One pass over rendered (or hand-written) templates: cfn-lint, cfngen's checks, checkov.

Each template is parsed once, by cfn-lint's decoder, which keeps the line of every node; the
same parsed template feeds cfngen's checks (cfngen.checks) and cfn-lint's rules (informational
ones included), in-process. `--checkov` adds one checkov run over all templates. Every finding
names the template file and line, the stack and the resource, and (through the
`Metadata.cfngen.source` stamp every cfngen resource carries) the blueprint entry that produced
it. A finding is waived only by the resource's own Metadata: `cfngen.waivers` (ID -> reason) for
cfngen and cfn-lint rules, `checkov.skip` for checkov (cfngen writes both from blueprint
`waivers`).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from cfngen import partial_import
from cfngen.checks.base import as_dict

if TYPE_CHECKING:
    from cfngen.lint_cache import Cache
    from cfngen.lint_pool import Pool

Origins = Callable[[str], "str | None"]  # blueprint path (services.api) -> "file:line:col"


@dataclass(frozen=True)
class Template:
    """One template to lint: `file` as the report shows it, `key` unique among the templates."""

    name: str  # stack name, or the file's stem for a template cfngen did not write
    file: str
    body: str
    region: str
    key: str = ""
    production: bool = False
    # the other regions the template deploys to (a multi-region environment's stack set):
    # cfn-lint's region-specific rules (resource types, instance types) run there too
    also_in: tuple[str, ...] = ()

    @property
    def relative(self) -> str:
        return self.key or self.file


@dataclass(frozen=True, order=True)
class Finding:
    file: str
    line: int
    rule: str
    severity: str  # error | warning | informational
    message: str
    stack: str
    resource: str = ""
    origin: str = ""  # the blueprint entry that produced the resource, when known
    tool: str = "cfngen"
    title: str = ""
    link: str = ""

    def render(self) -> str:
        what = f"{self.resource}: {self.message}" if self.resource else self.message
        return f"{self.file}:{self.line}: {self.severity} {self.rule} {what} (stack {self.stack})"

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)
    waived: list[tuple[Finding, str]] = field(default_factory=list)  # (finding, reason)
    templates: int = 0
    unlintable: list[str] = field(default_factory=list)  # files a tool could not lint
    cached: int = 0  # templates whose findings came from the lint cache (not linted again)

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for f in self.findings:
            out[f.severity] = out.get(f.severity, 0) + 1
        return out


# --- cfn-lint ---------------------------------------------------------------------------------


# cfn-lint data files that two rules load and only read: parsed once per process (the IAM
# actions, 2 MB, read by W3037 and I3510: ~14 ms of every worker's start)
_READ_ONLY_DATA = {("cfnlint.data.AdditionalSpecs", "Policies.json")}


@functools.cache
def _rules() -> Any:
    """cfn-lint's rules, loaded once per process (~0.12 s, after ~0.25 s of importing cfn-lint;
    linting a stack costs less). They hold no region: cfn-lint runs one collection over every
    region of its configuration, and configures and initialises each rule again for every
    template it runs, so another region's runner shares them (instead of loading them again)."""
    partial_import.prepare()
    import cfnlint.helpers
    from cfnlint.config import ConfigMixIn
    from cfnlint.runner import Runner

    load = cfnlint.helpers.load_resource  # the rule modules import it while they load
    parsed: dict[tuple[str, str], Any] = {}

    def load_once(package: Any, filename: str = "us-east-1.json") -> Any:
        key = (getattr(package, "__name__", str(package)), filename)
        if key not in _READ_ONLY_DATA:
            return load(package, filename)
        if key not in parsed:
            parsed[key] = load(package, filename)
        return parsed[key]

    cfnlint.helpers.load_resource = load_once
    try:
        return Runner(ConfigMixIn(include_checks=["I"])).rules
    finally:
        cfnlint.helpers.load_resource = load


class _RegionRunner:
    """cfn-lint's `Runner.validate_template` for one region, on the process's one rule set."""

    def __init__(self, region: str) -> None:
        partial_import.prepare()
        from cfnlint.config import ConfigMixIn

        self.config = ConfigMixIn(include_checks=["I"], regions=[region])
        self.rules = _rules()

    def validate_template(self, template: dict[str, Any]) -> Iterable[Any]:
        from cfnlint.runner import run_template_by_data

        return partial_import.run(
            lambda: run_template_by_data(template, self.config, self.rules), template
        )


@functools.cache
def _runner(region: str) -> _RegionRunner:
    """One runner per region (informational rules included), all on the same rules."""
    return _RegionRunner(region)


_SEVERITY = {"E": "error", "W": "warning", "I": "informational"}
_CFN_LINT_ID = re.compile(r"^[EWI]\d{4}$")


def _decode(body: str) -> tuple[Any, list[Any]]:
    partial_import.prepare()
    from cfnlint.decode.decode import decode_str

    return decode_str(body)


# --- locating things in a parsed template -----------------------------------------------------


def _line(template: Any, section: str, name: str) -> int:
    for key in as_dict(as_dict(template).get(section)):
        if key == name:
            mark = getattr(key, "start_mark", None)
            return int(mark.line) + 1 if mark is not None else 1
    return 1


def _metadata(template: Any, logical_id: str) -> dict[str, Any]:
    res = as_dict(as_dict(as_dict(template).get("Resources")).get(logical_id))
    return as_dict(as_dict(res.get("Metadata")).get("cfngen"))


def _source(template: Any, logical_id: str) -> str:
    """The resource's source stamp: the blueprint entry that produced it (`services.api`)."""
    path = _metadata(template, logical_id).get("source")
    return path if isinstance(path, str) else ""


def origin_of(path: str, blueprint_file: str, origins: Origins | None) -> str:
    """A source stamp as a finding shows it: the entry's file:line:col when known."""
    if not path:
        return ""
    where = origins(path) if origins else None
    if where:
        return f"{where} ({path})"
    return f"{blueprint_file} {path}".strip()


class _Located:
    """Turns (template, resource) into a Finding with the blueprint origin, or a waiver."""

    def __init__(self, tpl: Template, parsed: Any, origins: Origins | None) -> None:
        self.tpl, self.parsed, self.origins = tpl, parsed, origins
        top = as_dict(as_dict(as_dict(parsed).get("Metadata")).get("cfngen"))
        self.blueprint_file = str(top.get("source", ""))

    def origin(self, resource: str) -> str:
        return origin_of(_source(self.parsed, resource), self.blueprint_file, self.origins)

    def waiver(self, resource: str, rule: str) -> str | None:
        reason = as_dict(_metadata(self.parsed, resource).get("waivers")).get(rule)
        return str(reason) if reason else None

    def finding(
        self,
        rule: str,
        severity: str,
        message: str,
        resource: str,
        line: int,
        tool: str,
        title: str = "",
        link: str = "",
    ) -> Finding:
        return Finding(
            file=self.tpl.file,
            line=line,
            rule=rule,
            severity=severity,
            message=message,
            stack=self.tpl.name,
            resource=resource,
            origin=self.origin(resource) if resource else "",
            tool=tool,
            title=title,
            link=link,
        )


def _own_checks(
    loc: _Located, production: bool, public: dict[str, set[int]] | None = None
) -> Iterable[Finding]:
    from cfngen.checks import CHECKS, TemplateView

    view = TemplateView(loc.parsed, production, public)
    for check in CHECKS.values():
        if check.scope != "template":
            continue  # environment checks run in cfngen.verify, over all stacks together
        try:
            hits = list(check.run(view))
        except Exception as exc:  # one broken check must not hide the others
            hits = []
            yield loc.finding(
                "CFG000",
                "error",
                f"check {check.id} failed on this template ({type(exc).__name__}: {exc}); "
                "please report it with the template",
                "",
                1,
                "cfngen",
            )
        for name, message in hits:
            resource = name if check.section == "Resources" else ""
            yield loc.finding(
                check.id,
                check.severity,
                message if resource else f"output {name}: {message}",
                resource,
                _line(loc.parsed, check.section, name),
                "cfngen",
                check.title,
                check.source,
            )


# cfn-lint names the conditions of a scenario ("when condition "A" is True and when condition "B"
# is False") in the order of a set of their names: another order in every process (string
# hashing is randomised per process). Sorted by name, a finding reads the same on every run.
_CONDITION = r'when condition "[^"]*" is (?:True|False)'
_CONDITIONS = re.compile(rf"{_CONDITION}(?: and {_CONDITION})+")


def canonical_message(message: str) -> str:
    """A cfn-lint message with each run of scenario conditions in the order of their names."""
    return _CONDITIONS.sub(lambda run: " and ".join(sorted(run[0].split(" and "))), message)


def _cfn_lint(loc: _Located, region: str) -> Iterable[Finding]:
    for m in _runner(region).validate_template(loc.parsed):
        path = list(getattr(m, "path", None) or [])
        resource = str(path[1]) if len(path) > 1 and path[0] == "Resources" else ""
        yield loc.finding(
            m.rule.id,
            _SEVERITY.get(m.rule.id[:1], "error"),
            canonical_message(m.message),
            resource,
            int(m.linenumber),
            "cfn-lint",
            m.rule.shortdesc,
            m.rule.source_url,
        )


def lint_template(
    tpl: Template, origins: Origins | None = None, public: dict[str, set[int]] | None = None
) -> tuple[Report, Any]:
    """Findings and waivers of one template, and the parsed template (None if unparsable)."""
    report = Report(templates=1)
    parsed, errors = _decode(tpl.body)
    if errors or not isinstance(parsed, dict):
        for m in errors:
            report.findings.append(
                Finding(
                    tpl.file,
                    int(m.linenumber),
                    m.rule.id,
                    "error",
                    m.message,
                    tpl.name,
                    tool="cfn-lint",
                )
            )
        return report, None
    loc = _Located(tpl, parsed, origins)
    found: list[Finding] = []
    for tool, run in (
        ("cfngen checks", lambda: _own_checks(loc, tpl.production, public)),
        ("cfn-lint", lambda: _cfn_lint(loc, tpl.region)),
    ):
        try:
            found.extend(run())
        except Exception as err:  # a template no tool expects must not end the run
            report.unlintable.append(tpl.file)
            report.findings.append(
                Finding(
                    tpl.file,
                    1,
                    "LINT",
                    "error",
                    f"{tool} could not lint this template ({type(err).__name__}: "
                    f"{str(err)[:200]}); the other templates were linted",
                    tpl.name,
                    tool=tool,
                    title="Template could not be linted",
                )
            )
    for f in found:
        reason = loc.waiver(f.resource, f.rule) if f.resource else None
        if reason is None:
            report.findings.append(f)
        else:
            report.waived.append((f, reason))
    report.waived.extend(
        _skipped_by_cfn_lint(loc, {(f.resource, f.rule) for f, _ in report.waived})
    )
    return report, parsed


def _skipped_by_cfn_lint(
    loc: _Located, shown: set[tuple[str, str]]
) -> Iterable[tuple[Finding, str]]:
    """cfn-lint waivers: cfn-lint itself skips a rule its Metadata ignores, so the finding
    never reaches the report; list the waiver (and its reason) all the same."""
    for name in as_dict(as_dict(loc.parsed).get("Resources")):
        waivers = as_dict(_metadata(loc.parsed, name).get("waivers"))
        for rule, reason in waivers.items():
            if _CFN_LINT_ID.match(str(rule)) and (name, rule) not in shown:
                f = loc.finding(
                    str(rule),
                    _SEVERITY[str(rule)[0]],
                    "skipped by cfn-lint on this resource (Metadata cfn-lint ignore_checks)",
                    str(name),
                    _line(loc.parsed, "Resources", name),
                    "cfn-lint",
                )
                yield f, str(reason)


@dataclass(frozen=True)
class Group:
    """Templates linted together (one environment, one folder) and how to name their origins."""

    name: str
    templates: Sequence[Template]
    origins: Origins | None = None


# --- records: one template's findings without its file, stack and blueprint lines ------------
#
# What a worker process sends back and the cache keeps (cfngen.lint_run): plain JSON, so the
# same record serves the template under any file name, and an edit of the blueprint that moves
# its lines (but not the template) still hits the cache.

_RECORD_FIELDS = ("line", "rule", "severity", "message", "resource", "tool", "title", "link")


def lint_record(
    body: str, region: str, production: bool, public: dict[str, list[int]] | None
) -> dict[str, Any]:
    """`lint_template` of one template body, as a record (`report_of` reads it back)."""
    tpl = Template("", "", body, region, production=production)
    groups = {k: set(v) for k, v in public.items()} if public is not None else None
    report, parsed = lint_template(tpl, None, groups)
    top = as_dict(as_dict(as_dict(parsed).get("Metadata")).get("cfngen"))
    sources = {}
    for name in as_dict(as_dict(parsed).get("Resources")):
        path = _source(parsed, name)
        if path:
            sources[str(name)] = str(path)
    return {
        "parsed": parsed is not None,
        "blueprint": str(top.get("source", "")),
        "sources": sources,
        "findings": [_entry(f) for f in report.findings],
        "waived": [[_entry(f), str(reason)] for f, reason in report.waived],
        "unlintable": bool(report.unlintable),
    }


def _entry(f: Finding) -> dict[str, Any]:
    # plain str and int: cfn-lint's parser hands out str subclasses that do not pickle
    return {
        name: int(f.line) if name == "line" else str(getattr(f, name)) for name in _RECORD_FIELDS
    }


def cacheable(record: dict[str, Any]) -> bool:
    """Not a tool's failure (it may not happen again): those are linted again next time."""
    return not record["unlintable"] and not any(f["rule"] == "CFG000" for f in record["findings"])


def check_record(value: Any) -> dict[str, Any]:
    """A record read back from the cache, checked field by field (TypeError when it is not)."""
    if not isinstance(value, dict):
        raise TypeError("not a record")
    if not isinstance(value["blueprint"], str) or not isinstance(value["sources"], dict):
        raise TypeError("bad record")
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in value["sources"].items()):
        raise TypeError("bad sources")
    for f in [*value["findings"], *(w[0] for w in value["waived"])]:
        _check_entry(f)
    if not all(isinstance(w[1], str) and len(w) == 2 for w in value["waived"]):
        raise TypeError("bad waiver")
    if not isinstance(value["parsed"], bool) or not isinstance(value["unlintable"], bool):
        raise TypeError("bad flags")
    return value


def _check_entry(f: Any) -> None:
    if not isinstance(f, dict) or set(f) != set(_RECORD_FIELDS):
        raise TypeError("bad finding")
    if not isinstance(f["line"], int) or not all(
        isinstance(f[k], str) for k in _RECORD_FIELDS if k != "line"
    ):
        raise TypeError("bad finding")


def report_of(record: dict[str, Any], tpl: Template, origins: Origins | None) -> Report:
    """A record as `lint_template(tpl, origins)` reports it."""

    def finding(entry: dict[str, Any]) -> Finding:
        resource = entry["resource"]
        where = record["sources"].get(resource, "") if resource else ""
        return Finding(
            file=tpl.file,
            stack=tpl.name,
            origin=origin_of(where, record["blueprint"], origins),
            **entry,
        )

    return Report(
        findings=[finding(f) for f in record["findings"]],
        waived=[(finding(f), reason) for f, reason in record["waived"]],
        templates=1,
        unlintable=[tpl.file] if record["unlintable"] else [],
    )


def lint_groups(
    groups: Sequence[Group],
    checkov: bool = False,
    cache: Cache | None = None,
    pool: Pool | None = None,
) -> list[Report]:
    """One report per group: every finding, in template order then line order. With `cache`,
    a template linted before is not linted again; with `pool`, the others are linted on
    every core (cfngen.lint_run)."""
    from cfngen.lint_run import run

    return run(groups, checkov, cache, pool)[0]


def lint_templates(
    templates: Sequence[Template],
    origins: Origins | None = None,
    checkov: bool = False,
) -> Report:
    """Every finding of one group of templates (see `lint_groups`)."""
    return lint_groups([Group("", templates, origins)], checkov)[0]
