"""One `cfngen lint` run's cache and worker pool, set up before anything heavy is imported.

The pool's first worker should start loading cfn-lint as early as possible, so this module
imports only the cache and the pool (the CLI forks before it compiles the blueprint, and
before it imports the rest of lint).
"""

from __future__ import annotations

import atexit
import gc
import hashlib
import json
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from cfngen.lint_cache import Cache
from cfngen.lint_pool import Pool

_REGION = re.compile(r"^region:[ \t]*[\"']?([a-z]{2}(?:-[a-z]+)+-\d)", re.MULTILINE)


def warm(region: str) -> None:
    """What a worker needs before its first template (run in the pool's first process).

    The garbage collector is off while cfn-lint loads (a quarter of the CPU time of loading
    goes to collections that find nothing), then what is loaded is frozen: collections during
    lint do not walk it, and the forked workers share its pages untouched."""
    gc.disable()
    try:
        import cfngen.lint_run
        import cfngen.verify  # noqa: F401
        from cfngen.lint import _runner

        _runner(region)
    finally:
        gc.freeze()
        gc.enable()


@contextmanager
def session(
    path: Path, var_files: Sequence[Path], inputs: Sequence[Any], region: str, cache: bool = True
) -> Iterator[tuple[Cache | None, Pool | None]]:
    """The cache (unless `cache` is False) and the worker pool of one `cfngen lint` of PATH.

    The pool starts loading cfn-lint at once, while the caller compiles, unless the cache had
    everything the last time the same inputs were linted (`inputs`: the options that change
    what is linted); then it starts only if something turns out to need linting after all."""
    # at exit, nothing is left to collect: the interpreter's last full collection walks
    # every object (~60 ms after a compile); frozen, they are skipped
    atexit.unregister(gc.freeze)
    atexit.register(gc.freeze)
    store = Cache() if cache else None
    run_key = store.key("run", _digest(path, var_files), *inputs) if store else ""
    seen = store is not None and store.complete("run", run_key)
    pool = Pool.open(warm, _region_hint(path, region), eager=not seen)
    try:
        yield store, pool
    finally:
        if pool is not None:
            pool.close()
    if store is not None:
        store.put("run", run_key, sorted(set(store.used)))
        store.prune()


def _digest(path: Path, var_files: Sequence[Path]) -> list[Any]:
    """What PATH and the var files hold, cheaply: contents of files, sizes and times of the
    files in a folder (only for guessing whether the cache has everything)."""
    out: list[Any] = []
    try:
        for item in (path, *var_files):
            if item.is_dir():
                for p in sorted(item.rglob("*")):
                    st = p.stat()
                    out.append((str(p), st.st_size, st.st_mtime_ns))
            else:
                out.append(hashlib.sha256(item.read_bytes()).hexdigest())
    except OSError:
        out.append("unreadable")
    return out


def _region_hint(path: Path, region: str) -> str:
    """The region cfn-lint will most likely need, guessed before compiling (a wrong guess
    costs time, never a result): the blueprint's `region:`, the manifest's, or --region."""
    try:
        if path.is_dir():
            manifest = path / "manifest.json"
            if manifest.is_file():
                return str(json.loads(manifest.read_text())["region"])
        elif path.stat().st_size < 5_000_000:
            found = _REGION.search(path.read_text(encoding="utf-8", errors="replace"))
            if found:
                return found.group(1)
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return region
