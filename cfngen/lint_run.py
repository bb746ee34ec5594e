"""Linting many templates fast, with the same reports as one by one.

Each distinct template is linted once: from the cache (cfngen.lint_cache) when it was linted
before, else in a worker process (cfngen.lint_pool), the biggest first so the cores finish
together, else in this process. The environment checks (`cfngen verify`) of each environment
run in the same batch and are cached as a whole: when any template, parameter or relation of
the environment changes they run again over every stack. So do the cross-stack facts the
per-template checks read (which groups guard an internet-facing load balancer, for CFG013):
they are part of each template's key, so a template whose facts changed is linted again even
when its own text did not. The reports are assembled in template order, then line order,
exactly as a serial run makes them.
"""

from __future__ import annotations

import hashlib
import json
import re
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cfngen.lint import (
    Finding,
    Group,
    Report,
    Template,
    cacheable,
    check_record,
    lint_record,
    origin_of,
    report_of,
)

if TYPE_CHECKING:
    from cfngen.checkov_runner import CheckovResult
    from cfngen.lint_cache import Cache
    from cfngen.lint_pool import Pool
    from cfngen.render import RenderedEnvironment

_RESOURCE_TYPE = re.compile(r"Type['\"]?\s*:\s*['\"]?AWS::")
_SLOW = re.compile(r"AWS::RDS::DB(?:Instance|Cluster)\b")  # cfn-lint's engine/class rules
Public = dict[str, dict[str, list[int]]]  # template key -> {group id: listener ports}
Job = tuple[Callable[..., Any], tuple[Any, ...]]
Linted = tuple[Template, dict[str, Any], Group, Report]  # a parsed template and its report


@dataclass(frozen=True)
class Verification:
    """An environment to verify: the rendered stacks and the file names findings show."""

    rendered: RenderedEnvironment
    files: dict[str, str]
    shared: RenderedEnvironment | None = None  # the blueprint's shared scope, if it has one


def run(
    groups: Sequence[Group],
    checkov: bool = False,
    cache: Cache | None = None,
    pool: Pool | None = None,
    verify: Sequence[Verification] = (),
) -> tuple[list[Report], list[Report]]:
    """One lint report per group and one verification report per environment."""
    jobs: dict[tuple[str, str], Job] = {}  # ("lint", key) or ("verify", key)
    vkeys, verified = _verifications(verify, cache, pool, jobs)
    publics = _publics(groups, cache, pool)
    keys: list[list[str]] = []
    elsewhere: dict[tuple[int, int], list[str]] = {}  # (group, template) -> other regions' keys
    records: dict[str, dict[str, Any]] = {}
    hits: set[str] = set()
    for gi, (g, public) in enumerate(zip(groups, publics, strict=True)):
        row = []
        for ti, t in enumerate(g.templates):
            for region in (t.region, *t.also_in):
                args = (t.body, region, t.production, public.get(t.relative))
                key = _key(cache, "lint", *args)
                if region == t.region:
                    row.append(key)
                else:
                    elsewhere.setdefault((gi, ti), []).append(key)
                if key in records or ("lint", key) in jobs:
                    continue
                found = cache.get("lint", key, check_record) if cache else None
                if found is None:
                    jobs["lint", key] = (lint_record, args)
                else:
                    records[key] = found
                    if region == t.region:
                        hits.add(key)
        keys.append(row)

    order = schedule(jobs)  # without a pool, in this process
    work = [jobs[job] for job in order]
    results: Iterable[tuple[int, Any]] = (
        pool.map(call, work) if pool is not None and work else enumerate(map(call, work))
    )
    for index, value in results:
        kind, key = order[index]
        if kind == "verify":
            verified[key] = value
            if cache is not None:
                cache.put("verify", key, _write_report(value))
            continue
        records[key] = value
        if cache is not None and cacheable(value):
            cache.put("lint", key, value)

    reports = []
    linted: list[Linted] = []
    for gi, (g, row) in enumerate(zip(groups, keys, strict=True)):
        report = Report(templates=len(g.templates), cached=sum(k in hits for k in row))
        for ti, (t, key) in enumerate(zip(g.templates, row, strict=True)):
            one = report_of(records[key], t, g.origins)
            seen = {(f.line, f.rule, f.resource, f.message) for f in one.findings}
            for other in elsewhere.get((gi, ti), ()):  # only what differs in another region
                for f in report_of(records[other], t, g.origins).findings:
                    if (f.line, f.rule, f.resource, f.message) not in seen:
                        seen.add((f.line, f.rule, f.resource, f.message))
                        one.findings.append(f)
            report.findings.extend(sorted(one.findings, key=lambda f: (f.line, f.rule, f.message)))
            report.waived.extend(one.waived)
            report.unlintable.extend(one.unlintable)
            if records[key]["parsed"]:
                linted.append((t, records[key], g, report))
        reports.append(report)
    if checkov and linted:
        _checkov(linted, cache)  # appends checkov's findings to each template's group report
        for g, report in zip(groups, reports, strict=True):
            rank = {t.file: i for i, t in enumerate(g.templates)}
            report.findings.sort(key=lambda f: (rank.get(f.file, 0), f.line, f.rule, f.message))
    return reports, [verified[k] for k in vkeys]


def _verifications(
    verify: Sequence[Verification],
    cache: Cache | None,
    pool: Pool | None,
    jobs: dict[tuple[str, str], Job],
) -> tuple[list[str], dict[str, Report]]:
    """The environment checks' keys, and their reports from the cache or, while the pool's
    child is still loading cfn-lint (this process would only wait for it), from running them
    here; the others become jobs."""
    vkeys = [
        _key(cache, "verify", asdict(v.rendered), v.files, v.shared and asdict(v.shared))
        for v in verify
    ]
    verified: dict[str, Report] = {}
    for v, vkey in zip(verify, vkeys, strict=True):
        if vkey in verified or ("verify", vkey) in jobs:
            continue
        hit = cache.get("verify", vkey, _read_report) if cache else None
        if hit is not None:
            verified[vkey] = hit
        elif pool is not None and pool.warming():
            verified[vkey] = _verify(v.rendered, v.files, v.shared)
            if cache is not None:
                cache.put("verify", vkey, _write_report(verified[vkey]))
        else:
            jobs["verify", vkey] = (_verify, (v.rendered, v.files, v.shared))
    return vkeys, verified


def schedule(jobs: dict[tuple[str, str], Job]) -> list[tuple[str, str]]:
    """The order to start jobs in: the biggest first (verify reads every stack), so the cores
    finish together. (A template of another region costs no more than its size says: every
    region shares the worker's one set of cfn-lint rules.)"""
    return sorted(jobs, key=lambda job: -_size(jobs[job]))


def call(job: Job) -> Any:
    fn, args = job
    return fn(*args)


def _size(job: Job) -> int:
    """About how long a job takes, to start the longest first (a long one started last keeps
    one core busy while the others wait): cfn-lint's time grows with a template's bytes and,
    about 400 bytes' worth each, with its resources; an RDS database costs it like 12 KB."""
    fn, args = job
    if fn is _verify:
        return sum(len(s.body) for s in args[0].stacks)
    body = args[0]
    return len(body) + 400 * len(_RESOURCE_TYPE.findall(body)) + 12_000 * len(_SLOW.findall(body))


def _key(cache: Cache | None, kind: str, *parts: Any) -> str:
    if cache is not None:
        return cache.key(kind, *parts)
    text = json.dumps([kind, parts], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


# --- cross-stack facts for the per-template checks -------------------------------------------


def _publics(groups: Sequence[Group], cache: Cache | None, pool: Pool | None) -> list[Public]:
    """Per group: the groups guarding an internet-facing load balancer elsewhere (CFG013)."""
    out: dict[int, Public] = {}
    missing: dict[int, tuple[str, list[tuple[str, str]]]] = {}
    for i, g in enumerate(groups):
        pairs = [(t.relative, t.body) for t in g.templates]
        key = _key(cache, "public", pairs)
        hit = cache.get("public", key, _read_public) if cache else None
        if hit is not None:
            out[i] = hit
        else:
            missing[i] = (key, pairs)
    if missing:
        todo = [pairs for _, pairs in missing.values()]
        found = pool.call(public_groups, todo) if pool is not None else public_groups(todo)
        for (i, (key, _)), public in zip(missing.items(), found, strict=True):
            out[i] = public
            if cache is not None:
                cache.put("public", key, public)
    return [out[i] for i in range(len(groups))]


def public_groups(groups: list[list[tuple[str, str]]]) -> list[Public]:
    from cfngen.lint import _decode
    from cfngen.verify.balancers import prepass

    out = []
    for pairs in groups:
        found = prepass([(key, body, _decode) for key, body in pairs])
        out.append(
            {t: {g: sorted(ports) for g, ports in sorted(gs.items())} for t, gs in found.items()}
        )
    return out


def _read_public(value: Any) -> Public:
    if not isinstance(value, dict):
        raise TypeError("bad entry")
    for groups in value.values():
        for ports in groups.values():
            if not all(isinstance(p, int) for p in ports):
                raise TypeError("bad entry")
    return value


# --- the environment checks ----------------------------------------------------------------


def _verify(
    rendered: RenderedEnvironment, files: dict[str, str], shared: RenderedEnvironment | None
) -> Report:
    """`verify` in a worker: findings of plain str and int, as the answer must travel back
    (cfn-lint's parser hands out str subclasses that do not pickle; a finding that carried
    one would have the whole environment verified again in the calling process)."""
    from cfngen.verify import verify

    report = verify(rendered, files, shared)
    return Report(
        findings=[_plain(f) for f in report.findings],
        waived=[(_plain(f), str(why)) for f, why in report.waived],
        templates=report.templates,
    )


def _plain(f: Finding) -> Finding:
    return Finding(
        file=str(f.file),
        line=int(f.line),
        rule=str(f.rule),
        severity=str(f.severity),
        message=str(f.message),
        stack=str(f.stack),
        resource=str(f.resource),
        origin=str(f.origin),
        tool=str(f.tool),
        title=str(f.title),
        link=str(f.link),
    )


def _write_report(report: Report) -> dict[str, Any]:
    return {
        "findings": [f.as_json() for f in report.findings],
        "waived": [[f.as_json(), reason] for f, reason in report.waived],
    }


def _read_report(value: Any) -> Report:
    def finding(d: Any) -> Finding:
        f = Finding(**d)
        if not isinstance(f.line, int) or not all(
            isinstance(x, str) for x in (f.file, f.rule, f.message, f.stack, f.origin)
        ):
            raise TypeError("bad finding")
        return f

    return Report(
        findings=[finding(d) for d in value["findings"]],
        waived=[(finding(d), str(reason)) for d, reason in value["waived"]],
    )


# --- checkov --------------------------------------------------------------------------------


def _checkov(
    items: Sequence[tuple[Template, dict[str, Any], Group, Report]], cache: Cache | None
) -> None:
    """checkov's failed and skipped checks per template: from the cache, else one checkov
    process over every template not seen before (it takes seconds to start)."""
    from cfngen.checkov_runner import checkov_binary, checkov_version, run_checkov

    binary = checkov_binary()
    version = checkov_version(binary) if cache is not None and binary is not None else ""
    found: dict[int, list[CheckovResult]] = {}
    todo: dict[str, int] = {}
    keys: dict[int, str] = {}
    for i, (t, _, _, _) in enumerate(items):
        if cache is not None:
            keys[i] = cache.key("checkov", version, t.body)
            hit = cache.get("checkov", keys[i], _read_checkov)
            if hit is not None:
                found[i] = hit
                continue
        todo[f"{i}/{t.relative}"] = i
    if todo:
        with tempfile.TemporaryDirectory(prefix="cfngen-checkov-") as tmp:
            for name, i in todo.items():
                target = Path(tmp) / name
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(items[i][0].body)
            results = run_checkov(Path(tmp), binary)
        for i in todo.values():
            found[i] = []
        for r in results:
            if r.file in todo:
                found[todo[r.file]].append(r)
        if cache is not None:
            for i in todo.values():
                cache.put("checkov", keys[i], [_checkov_entry(r) for r in found[i]])
    for i, (t, record, g, report) in enumerate(items):
        for r in found[i]:
            where = record["sources"].get(r.resource, "") if r.resource else ""
            f = Finding(
                file=t.file,
                line=r.line,
                rule=r.check_id,
                severity="error",
                message=r.title,
                stack=t.name,
                resource=r.resource,
                origin=origin_of(where, record["blueprint"], g.origins),
                tool="checkov",
                title=r.title,
                link=r.guideline,
            )
            if r.skipped:
                report.waived.append((f, r.comment))
            else:
                report.findings.append(f)


def _checkov_entry(r: CheckovResult) -> dict[str, Any]:
    entry = asdict(r)
    entry.pop("file")
    return entry


def _read_checkov(value: Any) -> list[CheckovResult]:
    from cfngen.checkov_runner import CheckovResult

    out = [CheckovResult(file="", **d) for d in value]
    for r in out:
        if not isinstance(r.line, int) or not isinstance(r.skipped, bool):
            raise TypeError("bad entry")
    return out
