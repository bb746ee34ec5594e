"""`make bench`: render and lint timings (and, when the emulator is there, deploy timings).

Render: wall time of `cfngen render` as a user runs it (a new interpreter each time, so
interpreter start and imports count), best of 5, for every reference blueprint and environment,
and for generated blueprints of 25, 50 and 100 components so the scaling is visible.
Lint: wall time of `cfngen lint` for every reference environment (the budget is 5 s).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.reference import ROOT, reference_cases

CFNGEN = Path(sys.executable).parent / "cfngen"


def generated_blueprint(components: int) -> str:
    """A blueprint with `components` components (services when that kind exists)."""
    from cfngen.registry import BLUEPRINT as Blueprint

    lines = ["blueprint: bench", "region: eu-west-1", "environments: {dev: {}}"]
    if "services" in Blueprint.model_fields:
        lines += ["cluster: {}", "services:"]
        for i in range(components):
            lines += [
                f"  svc{i}:",
                "    image: {uri: public.ecr.aws/nginx/nginx, tag: '1.27'}",
                "    port: 80",
                "    cpu: 256",
                "    memory: 512",
            ]
            if i:
                lines.append(f"    connects_to: [svc{i - 1}]")
    else:
        lines.append("security_groups:")
        for i in range(components):
            lines += [f"  g{i}:", f"    description: group {i}", "    ingress:"]
            lines.append(f"      - {{port: 443, from: g{max(i - 1, 0)}, description: chain}}")
    return "\n".join(lines) + "\n"


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
    print("render (wall, best of 5, including interpreter start)")
    print(f"  {'blueprint':28} {'stacks':>6} {'seconds':>8} {'ms/stack':>9}")
    for path, env in reference_cases():
        seconds, stacks = time_render(path.relative_to(ROOT), env)
        print(
            f"  {path.stem + ' ' + env:28} {stacks:>6} {seconds:>8.3f} "
            f"{1000 * seconds / max(stacks, 1):>9.1f}"
        )
    sizes = (25, 50, 100)
    walls = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            bp = Path(tmp) / f"generated-{n}.yaml"
            bp.write_text(generated_blueprint(n))
            seconds, stacks = time_render(bp, "dev", runs=3)
            walls.append(seconds)
            print(
                f"  {'generated, ' + str(n) + ' components':28} {stacks:>6} {seconds:>8.3f} "
                f"{1000 * seconds / max(stacks, 1):>9.1f}"
            )
    slopes = [
        1000 * (walls[i + 1] - walls[i]) / (sizes[i + 1] - sizes[i]) for i in range(len(sizes) - 1)
    ]
    ratio = max(slopes) / max(min(slopes), 1e-9)
    print(
        f"  marginal cost per component: {slopes[0]:.1f} ms (25->50), {slopes[1]:.1f} ms "
        f"(50->100); ratio {ratio:.2f} (about 1 = linear)"
    )


def time_lint(args: list[str], runs: int = 3) -> float:
    """Wall time of `cfngen lint ARGS` as a user runs it, best of `runs` (findings allowed)."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        proc = subprocess.run([str(CFNGEN), "lint", *args], capture_output=True, text=True)
        times.append(time.perf_counter() - start)
        if proc.returncode not in (0, 1):
            raise SystemExit(f"cfngen lint {' '.join(args)} failed:\n{proc.stderr}")
    return min(times)


def bench_lint() -> None:
    print("lint (wall, best of 3, including interpreter start; cfngen checks + cfn-lint)")
    print(f"  {'target':28} {'seconds':>8}")
    for path, env in reference_cases():
        seconds = time_lint([str(path.relative_to(ROOT)), "--env", env])
        print(f"  {path.stem + ' ' + env:28} {seconds:>8.3f}")
    seed = ROOT / "tests" / "fixtures" / "production_lb_blog.yaml"
    print(f"  {'seed template (not cfngen)':28} {time_lint([str(seed.relative_to(ROOT))]):>8.3f}")
    checkov = ROOT / ".checkov-venv" / "bin" / "checkov"
    if checkov.is_file():
        import os

        os.environ.setdefault("CHECKOV_BIN", str(checkov))
        bp = "blueprints/legocity.yaml"
        seconds = time_lint([bp, "--env", "prod", "--checkov"], runs=1)
        print(f"  {'legocity prod --checkov':28} {seconds:>8.3f}")


def main() -> None:
    bench_render()
    bench_lint()
    try:
        from tools.bench_deploy import main as deploy_main
    except ImportError:
        return
    deploy_main()


if __name__ == "__main__":
    main()
