"""`make bench`: render and lint timings (and, when the emulator is there, deploy timings).

Validate and render: wall time of `cfngen validate` and `cfngen render` as a user runs them
(a new interpreter each time, so interpreter start and imports count), best of 5, for every
reference blueprint and environment (targets: validate <= 0.2 s, render <= 0.25 s), next to
the floor: an interpreter importing exactly what that validate imports, and nothing else.
Scale: validate, render and verify of generated systems of 100, 500 and 1000 services
(tests/scale.py), with ms per service and the marginal cost per service between sizes (flat =
linear), render of 1000 against its 10 s target; lint of the 100-service one.
Lint, for every reference environment: cold (`--no-cache`) next to cfn-lint's own CLI on the
same rendered templates with the same rules (target: at most 0.6 of it), relinting unchanged
(target: under 0.5 s) and after one service of the blueprint changed (how many were linted).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cfngen.lint_pool import available_cores
from tests.reference import ROOT, reference_cases
from tests.scale import generated_blueprint

CFNGEN = Path(sys.executable).parent / "cfngen"
CFN_LINT = Path(sys.executable).parent / "cfn-lint"


RENDER_TARGET = 0.25  # seconds, wall, including interpreter start (issue 16)
VALIDATE_TARGET = 0.2


def _best_of(args: list[str], runs: int) -> float:
    """Best wall time of `runs` runs of a new process (which must succeed)."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(args, capture_output=True, check=True)
        times.append(time.perf_counter() - start)
    return min(times)


def time_validate(path: Path, env: str, runs: int = 5) -> float:
    """Best wall time of `cfngen validate PATH --env ENV` as a new process."""
    return _best_of([str(CFNGEN), "validate", str(path), "--env", env], runs)


FLOOR = """
import atexit
import gc
import importlib

gc.disable()  # as a validate runs, and exits without a last collection
atexit.register(gc.freeze)
import cfngen.cli

cfngen.cli._without_pydantic_plugins()  # as cfngen's entry point does first
for name in {modules!r}:
    try:
        importlib.import_module(name)
    except Exception:  # a platform's module its importer only tried (nt, _winapi)
        pass
"""


def import_floor(path: Path, env: str, runs: int = 5) -> float:
    """Best wall time of a new interpreter that imports exactly the modules `cfngen validate
    PATH --env ENV` imports, in the same order, and does nothing else: what validate cannot go
    below without importing less (validate minus this is cfngen's work)."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "cfngen", "validate", str(path), "--env", env],
        capture_output=True,
        text=True,
        check=True,
    )
    modules = [
        line.rsplit("|", 1)[1].strip()
        for line in proc.stderr.splitlines()
        if line.startswith("import time:") and not line.endswith("imported package")
    ]
    return _best_of([sys.executable, "-c", FLOOR.format(modules=modules)], runs)


def time_render(path: Path, env: str, runs: int = 5) -> tuple[float, int]:
    times = []
    stacks = 0
    with tempfile.TemporaryDirectory() as out:
        for _ in range(runs):
            start = time.perf_counter()
            proc = subprocess.run(
                [str(CFNGEN), "render", str(path), "--env", env, "-o", out],
                capture_output=True,
                text=True,
                check=True,
            )
            times.append(time.perf_counter() - start)
            stacks = sum(1 for line in proc.stdout.splitlines() if line.startswith("  "))
    return min(times), stacks


def bench_render() -> None:
    print(
        "validate and render (wall, best of 5, including interpreter start; floor: importing"
        " what validate imports, and nothing else)"
    )
    print(
        f"  {'blueprint':28} {'stacks':>6} {'validate':>8} (<= {VALIDATE_TARGET:.2f})"
        f" {'floor':>6} {'render':>7} (<= {RENDER_TARGET:.2f}) {'ms/stack':>9}"
    )
    for path, env in reference_cases():
        busy = wait_quiet()
        rel = path.relative_to(ROOT)
        checked = time_validate(rel, env)
        floor = import_floor(rel, env)
        seconds, stacks = time_render(rel, env)
        print(
            f"  {path.stem + ' ' + env:28} {stacks:>6} {checked:>8.3f} "
            f"{'ok' if checked <= VALIDATE_TARGET else 'OVER':>4}      {floor:>6.3f} "
            f"{seconds:>7.3f} {'ok' if seconds <= RENDER_TARGET else 'OVER':>4}      "
            f"{1000 * seconds / max(stacks, 1):>9.1f}{busy}"
        )


SCALE = (100, 500, 1000)
RENDER_1000_TARGET = 10.0


def _wall(args: list[str]) -> float:
    """Wall time of one `cfngen ARGS` run as a user runs it (findings allowed, not errors)."""
    start = time.perf_counter()
    proc = subprocess.run([str(CFNGEN), *args], capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        raise SystemExit(f"cfngen {' '.join(args)} failed:\n{proc.stderr[-2000:]}")
    return seconds


def bench_scale(sizes: tuple[int, ...] = SCALE) -> None:
    """Generated systems (tests/scale.py: each service has a route on a shared ALB, a database
    connection, secrets and an alarm): seconds and ms per service at each size, one run each.
    Linear means the marginal cost per service stays flat between sizes."""
    print(
        "scale (generated services, wall of one run including interpreter start; "
        "ms/service = wall / services)"
    )
    head = "".join(f" {str(n) + ' s':>8} {'ms/svc':>6}" for n in sizes)
    print(f"  {'command':9}{head}  marginal ms/svc {'->'.join(map(str, sizes))}  target")
    with tempfile.TemporaryDirectory() as tmp:
        paths = {}
        for n in sizes:
            paths[n] = Path(tmp) / f"scale-{n}.yaml"
            paths[n].write_text(generated_blueprint(n))
        out = str(Path(tmp) / "out")
        commands = {
            "validate": lambda p: ["validate", str(p)],
            "render": lambda p: ["render", str(p), "--env", "dev", "-o", out],
            "verify": lambda p: ["verify", str(p), "--env", "dev"],
        }
        for name, args in commands.items():
            busy = wait_quiet(30)
            walls = [_wall(args(paths[n])) for n in sizes]
            cells = "".join(
                f" {w:>8.2f} {1000 * w / n:>6.1f}" for w, n in zip(walls, sizes, strict=True)
            )
            marginal = [
                1000 * (walls[i + 1] - walls[i]) / (sizes[i + 1] - sizes[i])
                for i in range(len(sizes) - 1)
            ]
            if min(marginal) > 0:
                ratio = max(marginal) / min(marginal)
                target = f"linear: ratio {ratio:.2f} {'ok' if ratio < 1.5 else 'OVER'} (< 1.5)"
            else:
                target = "linear: n/a (noise: a larger size ran faster)"
            if name == "render" and 1000 in sizes:
                over = walls[sizes.index(1000)] >= RENDER_1000_TARGET
                target += f"; 1000 < {RENDER_1000_TARGET:.0f} s {'OVER' if over else 'ok'}"
            steps = " ".join(f"{m:.1f}" for m in marginal)
            print(f"  {name:9}{cells}  {steps:>{17 + 4 * len(sizes)}}  {target}{busy}")
        seconds = _wall(["lint", str(paths[sizes[0]]), "--env", "dev", "--no-cache"])
        print(
            f"  {'lint':9} {seconds:>8.2f} {1000 * seconds / sizes[0]:>6.1f}  "
            f"(cold, {sizes[0]} services only: at 1000 it takes minutes; see "
            "docs/development.md)"
        )


def _cpu_times() -> tuple[int, int]:
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    return sum(fields), fields[3]


def wait_quiet(limit: float = 120.0) -> str:
    """Wait (up to `limit` seconds) for a quiet machine, at least 85 % idle over a second:
    other work on a 2-core machine halves what parallel lint can show. Linux only."""
    if not Path("/proc/stat").is_file():
        return ""
    deadline = time.monotonic() + limit
    while True:
        total, idle = _cpu_times()
        time.sleep(1)
        total2, idle2 = _cpu_times()
        quiet = 100 * (idle2 - idle) / max(total2 - total, 1)
        if quiet >= 85:
            return ""
        if time.monotonic() > deadline:
            return f" (busy machine: {quiet:.0f} % idle)"


def time_lint(args: list[str], runs: int = 3, cache: Path | None = None) -> tuple[float, str]:
    """Wall time of `cfngen lint ARGS` as a user runs it, best of `runs` (findings allowed),
    with the lint cache in `cache`; and the last run's summary line."""
    times, out = [], ""
    env = {**os.environ, "XDG_CACHE_HOME": str(cache)} if cache else None
    for _ in range(runs):
        start = time.perf_counter()
        proc = subprocess.run(
            [str(CFNGEN), "lint", *args], capture_output=True, text=True, env=env, check=False
        )
        times.append(time.perf_counter() - start)
        if proc.returncode not in (0, 1):
            raise SystemExit(f"cfngen lint {' '.join(args)} failed:\n{proc.stderr}")
        out = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""
    return min(times), out


def time_cfn_lint(files: list[Path], region: str, runs: int = 3) -> float:
    """cfn-lint's own CLI on the same templates, with the same rules (informational too)."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        cmd = [str(CFN_LINT), "--include-checks", "I", "--regions", region, "--", *map(str, files)]
        subprocess.run(cmd, capture_output=True, text=True, check=False)
        times.append(time.perf_counter() - start)
    return min(times)


def _cached(summary: str) -> int:
    found = re.search(r"(\d+) unchanged from the cache", summary)
    return int(found.group(1)) if found else 0


def _one_service_changed(text: str) -> str | None:
    """The blueprint with one service's memory changed (one template changes), if it has one."""
    found = re.search(r"^    cpu: 256\n    memory: 512\n", text, re.MULTILINE)
    if found is None:
        return None
    return text[: found.start()] + "    cpu: 256\n    memory: 1024\n" + text[found.end() :]


def bench_lint() -> None:
    print(
        "lint (wall, best of 3, including interpreter start; cfngen checks + cfn-lint + verify;"
        f" {available_cores()} cores)"
    )
    print(
        f"  {'target':24} {'stacks':>6} {'cold':>6} {'cfn-lint':>8} {'ratio':>5} (<= 0.60)"
        f" {'cached':>6} (< 0.50) {'one changed':>11}"
    )
    for path, env in reference_cases():
        rel = path.relative_to(ROOT)
        busy = wait_quiet()
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "out"
            subprocess.run(
                [str(CFNGEN), "render", str(rel), "--env", env, "-o", str(out)],
                capture_output=True,
                check=True,
            )
            manifest = json.loads((out / env / "manifest.json").read_text())
            files = [out / env / s["file"] for s in manifest["stacks"]]
            cold, _ = time_lint([str(rel), "--env", env, "--no-cache"])
            theirs = time_cfn_lint(files, manifest["region"])
            cache = Path(tmp) / "cache"
            time_lint([str(rel), "--env", env], runs=1, cache=cache)
            warm, summary = time_lint([str(rel), "--env", env], cache=cache)
            assert _cached(summary) == len(files), summary
            changed = ""
            edited = _one_service_changed(path.read_text())
            if edited is not None:
                copy = path.parent / f".bench-{path.name}"  # next to it: relative paths hold
                try:
                    copy.write_text(edited)
                    seconds, summary = time_lint([str(copy), "--env", env], runs=1, cache=cache)
                finally:
                    copy.unlink()
                linted = len(files) - _cached(summary)
                changed = f"{seconds:.3f} s, {linted} linted" if linted else "(not in this env)"
        ratio = cold / theirs
        print(
            f"  {path.stem + ' ' + env:24} {len(files):>6} {cold:>6.2f} {theirs:>8.2f} "
            f"{ratio:>5.2f} {'ok' if ratio <= 0.6 else 'OVER':>4}     {warm:>6.3f} "
            f"{'ok' if warm < 0.5 else 'OVER':>4}     {changed}{busy}"
        )
    seed = ROOT / "tests" / "fixtures" / "production_lb_blog.yaml"
    seconds, _ = time_lint([str(seed.relative_to(ROOT)), "--no-cache"])
    print(f"  {'seed template (not cfngen)':24} {1:>6} {seconds:>6.2f}")
    checkov = ROOT / ".checkov-venv" / "bin" / "checkov"
    if checkov.is_file():
        os.environ.setdefault("CHECKOV_BIN", str(checkov))
        bp = "blueprints/legocity.yaml"
        with tempfile.TemporaryDirectory() as tmp:
            cold, _ = time_lint([bp, "--env", "prod", "--checkov"], runs=1, cache=Path(tmp))
            warm, _ = time_lint([bp, "--env", "prod", "--checkov"], runs=1, cache=Path(tmp))
        print(f"  {'legocity prod --checkov':24} {'':>6} {cold:>6.2f}  then cached {warm:.3f} s")


def main() -> None:
    """`python -m tools.bench [render] [scale] [lint] [deploy]` (default: all)."""
    parts = set(sys.argv[1:]) or {"render", "scale", "lint", "deploy"}
    # the interpreter's build matters: the same code ran validate ~10 % faster on the Debian
    # Python 3.11.2 of the same machine than on a pyenv 3.11.7 built with default options
    python = f"Python {sys.version.split()[0]} ({Path(sys.executable).resolve()})"
    print(f"{python}, {available_cores()} cores")
    if "render" in parts:
        bench_render()
    if "scale" in parts:
        bench_scale()
    if "lint" in parts:
        bench_lint()
    if "deploy" not in parts:
        return
    try:
        from tools.bench_deploy import main as deploy_main
    except ImportError:
        return
    deploy_main()


if __name__ == "__main__":
    main()
