"""Lint in parallel and from the cache reports exactly what linting one template after the
other reports; an unchanged template is not linted again, a changed one (or one whose
cross-stack facts changed) is; a broken cache or worker never changes a result."""

from __future__ import annotations

import json
import os
import pickle
import time
from dataclasses import replace
from pathlib import Path

import pytest

from cfngen.compiler import compile_environment
from cfngen.lint import Group, Report, Template, _decode, lint_record, lint_template
from cfngen.lint_cache import Cache
from cfngen.lint_pool import Pool
from cfngen.lint_run import Verification, _verify, run, schedule
from cfngen.lint_session import warm
from cfngen.render import RenderedEnvironment
from cfngen.verify import verify
from cfngen.verify.balancers import prepass
from tests.reference import BLUEPRINTS

# Worker processes and real lint runs: seconds each, so in `make test`, not `make test-fast`
pytestmark = pytest.mark.slow

SEED = Path(__file__).parent / "fixtures" / "production_lb_blog.yaml"
DATABASE = """\
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Db:
    Type: AWS::RDS::DBInstance
    DeletionPolicy: Snapshot
    UpdateReplacePolicy: Snapshot
    Properties:
      Engine: postgres
      DBInstanceClass: db.t4g.micro
      AllocatedStorage: "20"
      MasterUsername: app
      ManageMasterUserPassword: true
      StorageEncrypted: true
"""
WAIVED = """\
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Topic:
    Type: AWS::SNS::Topic
    Metadata:
      cfngen:
        waivers: {E3002: testing how a waiver reads, W3005: not a finding here}
    Properties:
      DisplayNamee: x
"""
MACRO = Path(__file__).parent / "fixtures" / "cfn" / "macro-list-resources.template"


def serial(groups: list[Group]) -> list[Report]:
    """How lint ran before it had workers and a cache: one template after the other."""
    out = []
    for g in groups:
        report = Report(templates=len(g.templates))
        public = prepass([(t.relative, t.body, _decode) for t in g.templates])
        for t in g.templates:
            one, _ = lint_template(t, g.origins, public.get(t.relative))
            report.findings.extend(sorted(one.findings, key=lambda f: (f.line, f.rule, f.message)))
            report.waived.extend(one.waived)
            report.unlintable.extend(one.unlintable)
        out.append(report)
    return out


def shown(reports: list[Report]) -> list[object]:
    return [(r.findings, r.waived, r.unlintable, r.templates) for r in reports]


def groups_of(env: RenderedEnvironment, change: dict[str, str] | None = None) -> Group:
    change = change or {}
    return Group(
        env.environment_name,
        [
            Template(
                s.name, f"{env.environment}/{s.file}", change.get(s.component, s.body), env.region
            )
            for s in env.stacks
        ],
        env.origin,
    )


@pytest.fixture(scope="module")
def legocity() -> RenderedEnvironment:
    return compile_environment(BLUEPRINTS / "legocity.yaml", "dev")


def mixed(env: RenderedEnvironment) -> list[Group]:
    """An environment with findings (a broken service, its blueprint origin) and waivers, and
    templates cfngen did not write: with findings, production, unlintable, unparsable."""
    payload = env.stack("service-payload").body
    broken = payload.replace("LogConfiguration:", "LogConfigurationX:", 1)
    assert broken != payload
    seed = SEED.read_text()
    return [
        groups_of(env, {"service-payload": broken}),
        Group(
            "templates",
            [
                Template("seed", str(SEED), seed, "us-east-1", key="seed.yaml"),
                Template("prod", "p/seed.yaml", seed, "eu-west-1", key="p.yaml", production=True),
                Template("macro", str(MACRO), MACRO.read_text(), "us-east-1", key="m.template"),
                Template("bad", "bad.yaml", "Resources: [1\n", "us-east-1", key="bad.yaml"),
                Template("waived", "waived.yaml", WAIVED, "us-east-1", key="waived.yaml"),
                Template("db", "db.yaml", DATABASE, "us-east-1", key="db.yaml", production=True),
            ],
        ),
    ]


def test_workers_and_cache_report_what_one_by_one_reports(
    legocity: RenderedEnvironment, tmp_path: Path
) -> None:
    groups = mixed(legocity)
    expected = serial(groups)
    assert any(f.rule == "CFG014" and f.origin for f in expected[0].findings)
    assert expected[1].waived and expected[1].unlintable
    assert any(f.rule == "CFG009" for f in expected[1].findings)
    cache = Cache(tmp_path)
    pool = Pool.open(warm, "eu-west-1", jobs=2)
    assert pool is not None
    with pool:
        cold, _ = run(groups, cache=cache, pool=pool)
    warm_, _ = run(groups, cache=Cache(tmp_path))
    assert shown(cold) == shown(expected)
    assert shown(warm_) == shown(expected)
    assert [r.cached for r in cold] == [0, 0]
    # all but the one cfn-lint crashed on (a crash may not happen again: linted every time)
    assert [r.cached for r in warm_] == [len(groups[0].templates), 5]


def test_one_changed_service_relints_one_template_and_verifies_the_environment_again(
    legocity: RenderedEnvironment, tmp_path: Path
) -> None:
    bp = (BLUEPRINTS / "legocity.yaml").read_text()
    assert "    cpu: 256\n    memory: 512\n" in bp
    edited = tmp_path / "legocity.yaml"
    edited.write_text(
        bp.replace("    cpu: 256\n    memory: 512\n", "    cpu: 256\n    memory: 1024\n", 1)
    )
    changed = compile_environment(edited, "dev")
    differ = [
        s.component
        for s, t in zip(legocity.stacks, changed.stacks, strict=True)
        if s.body != t.body
    ]
    assert len(differ) == 1
    cache = Cache(tmp_path / "cache")
    files = {s.component: s.file for s in legocity.stacks}
    run([groups_of(legocity)], cache=cache, verify=[Verification(legocity, files)])
    (report,), (verified,) = run(
        [groups_of(changed)], cache=Cache(tmp_path / "cache"), verify=[Verification(changed, files)]
    )
    assert report.cached == len(changed.stacks) - 1  # the changed service, linted again
    assert verified.findings == verify(changed, files).findings
    assert len(list((tmp_path / "cache" / "verify").glob("*.json"))) == 2  # verified again


def test_a_changed_load_balancer_relints_the_unchanged_stack_of_its_security_group(
    legocity: RenderedEnvironment, tmp_path: Path
) -> None:
    """CFG013 in the security stack reads which of its groups guard an internet-facing load
    balancer of another stack: when that stack changes, the security stack is linted again."""
    lb = legocity.stack("lb-public").body
    assert "Scheme: internet-facing" in lb
    internal = lb.replace("Scheme: internet-facing", "Scheme: internal")
    before = groups_of(legocity)
    after = groups_of(legocity, {"lb-public": internal})
    run([before], cache=Cache(tmp_path))
    (report,), _ = run([after], cache=Cache(tmp_path))
    assert report.cached == len(after.templates) - 2  # the balancer and the security stack
    assert shown([report]) == shown(serial([after]))


def test_what_changes_findings_is_in_the_key(tmp_path: Path) -> None:
    """The production flag and the region are part of an entry's key, not only the text."""
    plain = Template("db", "db.yaml", DATABASE, "us-east-1")
    for other in (replace(plain, production=True), replace(plain, region="ap-south-2")):
        run([Group("x", [plain])], cache=Cache(tmp_path))
        (report,), _ = run([Group("x", [other])], cache=Cache(tmp_path))
        assert report.cached == 0
        assert shown([report]) == shown(serial([Group("x", [other])]))
    production = {
        f.rule for f in run([Group("x", [replace(plain, production=True)])])[0][0].findings
    }
    assert "CFG009" in production - {f.rule for f in run([Group("x", [plain])])[0][0].findings}


@pytest.mark.parametrize(
    "damage",
    [b"", b"{not json", b"[]", b'{"key": "other", "value": {}}', b"\xff\xfe garbage", "shape"],
)
def test_a_damaged_cache_entry_is_a_miss_not_a_crash(tmp_path: Path, damage: bytes | str) -> None:
    groups = [
        Group(
            "x",
            [
                Template("db", "db.yaml", DATABASE, "us-east-1"),
                Template("waived", "waived.yaml", WAIVED, "us-east-1"),
            ],
        )
    ]
    expected, _ = run(groups, cache=Cache(tmp_path))
    entries = sorted((tmp_path / "lint").glob("*.json"))
    assert len(entries) == len(groups[0].templates)
    for entry in entries:
        if damage == "shape":  # the right key, a value of the wrong shape
            data = json.loads(entry.read_text())
            data["value"]["findings"] = [{"line": "one"}]
            entry.write_text(json.dumps(data))
        else:
            assert isinstance(damage, bytes)
            entry.write_bytes(damage)
    again, _ = run(groups, cache=Cache(tmp_path))
    assert again[0].cached == 0
    assert shown(again) == shown(expected)
    third, _ = run(groups, cache=Cache(tmp_path))  # and the entries were written again
    assert third[0].cached == len(groups[0].templates)


def test_a_cache_that_cannot_be_written_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a folder")
    cache = Cache(tmp_path / "file" / "cfngen")
    (report,), _ = run(
        [Group("x", [Template("seed", "seed.yaml", SEED.read_text(), "us-east-1")])], cache=cache
    )
    assert report.findings and cache.problem and "cannot write the lint cache" in cache.problem


def _square_or_fail(x: int) -> tuple[int, int]:
    if x < 0:
        raise ValueError(f"negative: {x}")
    if x == 5 and os.getpid() != int(os.environ["CFNGEN_TEST_PARENT"]):
        os._exit(9)  # a worker dies on this item
    return x * x, os.getpid()


def test_the_pool_runs_here_what_a_worker_raised_on_or_died_with(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CFNGEN_TEST_PARENT", str(os.getpid()))
    pool = Pool.open(None, jobs=2)
    assert pool is not None
    with pool:
        assert pool.call(_square_or_fail, 4)[0] == 16
        results = dict(pool.map(_square_or_fail, list(range(8))))
        assert {i: r[0] for i, r in results.items()} == {i: i * i for i in range(8)}
        assert results[5][1] == os.getpid()  # the worker died: it ran here
        assert any(r[1] != os.getpid() for r in results.values())
        with pytest.raises(ValueError, match="negative: -3"):  # here too, as it always did
            dict(pool.map(_square_or_fail, [2, -3]))


@pytest.mark.checkov
def test_checkov_runs_only_over_templates_it_has_not_seen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """checkov's results are cached per template (and checkov version): a relint of the same
    templates starts no checkov process, one new template starts one over that template."""
    real = Path(__file__).resolve().parents[1] / ".checkov-venv" / "bin" / "checkov"
    if not real.is_file():
        pytest.skip("checkov is not installed here (make checkov)")
    venv = tmp_path / "venv"  # checkov's version is read from the environment it is in
    (venv / "lib" / "python3.11" / "site-packages" / "checkov-3.3.30.dist-info").mkdir(parents=True)
    (venv / "bin").mkdir()
    log = tmp_path / "runs.log"
    wrapper = venv / "bin" / "checkov"
    wrapper.write_text(f'#!/bin/sh\necho "$@" >> {log}\nexec {real} "$@"\n')
    wrapper.chmod(0o755)
    monkeypatch.setenv("CHECKOV_BIN", str(wrapper))
    seed = Template("seed", "seed.yaml", SEED.read_text(), "us-east-1")
    waived = Template("waived", "waived.yaml", WAIVED, "us-east-1")
    (first,), _ = run([Group("x", [seed])], checkov=True, cache=Cache(tmp_path / "c"))
    assert any(f.tool == "checkov" for f in first.findings)
    (again,), _ = run([Group("x", [seed])], checkov=True, cache=Cache(tmp_path / "c"))
    assert shown([again]) == shown([first])
    assert len(log.read_text().splitlines()) == 1
    (both,), _ = run([Group("x", [seed, waived])], checkov=True, cache=Cache(tmp_path / "c"))
    assert len(log.read_text().splitlines()) == 2
    (uncached,), _ = run([Group("x", [seed, waived])], checkov=True)
    assert shown([both]) == shown([uncached])


def test_the_biggest_jobs_start_first_whatever_their_region() -> None:
    small, big = "Resources: {A: {Type: AWS::SNS::Topic}}\n", "x" * 50_000
    jobs = {
        ("lint", "small"): (lint_record, (small, "eu-west-1", False, None)),
        ("lint", "big"): (lint_record, (big, "eu-west-1", False, None)),
        ("lint", "medium"): (lint_record, (big[:20_000], "eu-west-1", False, None)),
        ("lint", "certificate"): (lint_record, (small, "us-east-1", False, None)),
    }
    assert [key for _, key in schedule(jobs)] == ["big", "medium", "small", "certificate"]


def test_entries_not_used_for_a_month_are_pruned_once_a_day(tmp_path: Path) -> None:
    cache = Cache(tmp_path)
    cache.put("lint", "old", {"x": 1})
    cache.put("lint", "used", {"x": 2})
    month = time.time() - 31 * 86400
    for name in ("old", "used"):
        os.utime(tmp_path / "lint" / f"{name}.json", (month, month))
    assert cache.get("lint", "used", dict) == {"x": 2}  # reading an entry keeps it
    assert cache.prune() == 1
    assert sorted(p.stem for p in (tmp_path / "lint").glob("*.json")) == ["used"]
    os.utime(tmp_path / "lint" / "used.json", (month, month))
    assert cache.prune() == 0  # pruned less than a day ago


def test_verify_findings_travel_back_from_a_worker(
    legocity: RenderedEnvironment, tmp_path: Path
) -> None:
    """A broken import is an environment finding; worked out in a worker and sent back, it
    equals what `verify` reports here."""
    payload = legocity.stack("service-payload")
    broken = payload.body.replace("-alerts-TopicArn", "-alerts-TopicArm", 1)
    assert broken != payload.body
    stacks = tuple(replace(s, body=broken) if s is payload else s for s in legocity.stacks)
    env = replace(legocity, stacks=stacks)
    files = {s.component: s.file for s in env.stacks}
    expected = verify(env, files)
    assert any(f.rule == "CFG020" for f in expected.findings)
    pickle.dumps(_verify(env, files, None))
    pool = Pool.open(warm, env.region, jobs=2)
    assert pool is not None
    with pool:
        assert pool.call(abs, -1) == 1  # warm and in use: the environment goes to a worker
        assert not pool.warming()
        _, (found,) = run([groups_of(env)], pool=pool, verify=[Verification(env, files)])
    assert found.findings == expected.findings and found.waived == expected.waived


def _until(flag: str) -> None:
    """A warm-up that lasts until `flag` exists (at most a minute: a regression that sends
    work to a warming child then fails instead of hanging)."""
    deadline = time.monotonic() + 60
    while not Path(flag).exists() and time.monotonic() < deadline:
        time.sleep(0.01)


def test_while_the_worker_loads_cfn_lint_the_environment_is_verified_here(
    legocity: RenderedEnvironment, tmp_path: Path
) -> None:
    """This process would only wait for the pool's child while it loads cfn-lint: the
    environment checks run here meanwhile (nothing is sent to the child), with the same report."""
    files = {s.component: s.file for s in legocity.stacks}
    flag = tmp_path / "warm"
    pool = Pool.open(_until, str(flag), jobs=2)  # a child that stays warming until told
    assert pool is not None
    with pool:
        assert pool.warming()
        _, (found,) = run([], pool=pool, verify=[Verification(legocity, files)])
        assert pool.warming()  # still: the verification never went to the child
        flag.touch()
        while pool.warming():  # until the child says it is warm
            time.sleep(0.01)
        assert pool.call(abs, -3) == 3
    expected = verify(legocity, files)
    assert found.findings == expected.findings and found.waived == expected.waived
