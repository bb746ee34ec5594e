"""The lint cache: what linting a template found, kept by content, so an unchanged template is
never linted twice.

An entry's key is a SHA-256 over everything that can change what lint finds: the template's
bytes (its waivers are in its Metadata), the region, the production flag, the cross-stack
facts handed to the per-template checks, the rule set, and the tools: the source of every
cfngen module (an edited check is a new key, also in a checkout), cfn-lint's version and the
Python version. Entries hold findings without the file and stack names the report shows and
without blueprint lines (a resource's origin is kept as its source stamp, resolved again on
every run), so an edit above an entry in the blueprint, or linting the same templates as a
rendered folder, still hits.

The folder is the user's cache folder, `$XDG_CACHE_HOME/cfngen` when XDG_CACHE_HOME is set, else
`~/.cache/cfngen`; never the working directory, which a pull request controls: a committed
entry saying "no findings" would hide a template's findings from CI. Entries are written to a
temporary file and renamed, so two lints at once never see half an entry; an entry that does
not read back (corrupt, truncated, another version's) is a miss; a folder that cannot be
written is a warning, and lint goes on without it. Entries not used for 30 days are deleted
(looked for once a day); deleting the folder is always safe.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.util
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import cfngen

FORMAT = 2  # of the entries; a change here makes every old entry a miss (2: canonical messages)
T = TypeVar("T")


def default_directory() -> Path:
    """The user's cache folder for cfngen (the same as the schema cache's), never one in the
    checkout being linted."""
    xdg = os.environ.get("XDG_CACHE_HOME")
    return Path(xdg) / "cfngen" if xdg else Path.home() / ".cache" / "cfngen"


@functools.cache
def tools_fingerprint() -> str:
    """cfngen's code, cfn-lint's version and Python's: ~7 ms, once per process."""
    digest = hashlib.sha256(f"{FORMAT} {sys.version_info[:2]} {cfngen.__version__}".encode())
    package = Path(cfngen.__file__).parent
    for path in sorted(package.rglob("*.py")):
        digest.update(str(path.relative_to(package)).encode())
        digest.update(path.read_bytes())
    # cfn-lint's version without importing cfn-lint (0.3 s): its version module's text
    spec = importlib.util.find_spec("cfnlint")
    if spec is not None and spec.origin:
        version = Path(spec.origin).parent / "version.py"
        with contextlib.suppress(OSError):
            digest.update(version.read_bytes())
    return digest.hexdigest()


class Cache:
    """Entries of several kinds (`lint`, `verify` ...) in one folder."""

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory if directory is not None else default_directory()
        self.problem: str | None = None  # why entries could not be written, once
        self.used: list[tuple[str, str]] = []  # (kind, key) of every entry read or written

    def key(self, kind: str, *parts: Any) -> str:
        text = json.dumps([FORMAT, tools_fingerprint(), kind, parts], sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()

    def _path(self, kind: str, key: str) -> Path:
        return self.directory / kind / f"{key}.json"

    def get(self, kind: str, key: str, load: Callable[[Any], T]) -> T | None:
        """The entry under `key` read by `load`, or None when there is none or it does not
        read back (`load` raising KeyError, TypeError or ValueError on a bad shape)."""
        try:
            data = json.loads(self._path(kind, key).read_bytes())
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict) or data.get("key") != key:
            return None
        try:
            value = load(data.get("value"))
        except (KeyError, TypeError, ValueError, AttributeError):
            return None
        self.used.append((kind, key))
        with contextlib.suppress(OSError):  # in use: not pruned
            os.utime(self._path(kind, key))
        return value

    def put(self, kind: str, key: str, value: Any) -> None:
        if self.problem is not None:
            return
        target = self._path(kind, key)
        try:
            if not target.parent.is_dir():
                self._create(target.parent)
            import tempfile  # only when writing: ~2 ms of every run's start otherwise

            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=".json")
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as out:
                    json.dump({"key": key, "value": value}, out, sort_keys=True)
                os.replace(tmp, target)
                self.used.append((kind, key))
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise
        except OSError as err:
            self.problem = f"cannot write the lint cache in {self.directory}: {err.strerror or err}"

    def complete(self, kind: str, key: str) -> bool:
        """Whether the entry under `key` lists entries (`used` of an earlier run) that are all
        still there: a guess, from file names only, that this run will find everything."""
        try:
            data = json.loads(self._path(kind, key).read_bytes())
            listed = data["value"] if data.get("key") == key else None
            return isinstance(listed, list) and all(
                self._path(str(k), str(v)).is_file() for k, v in listed
            )
        except (OSError, ValueError, TypeError, KeyError, AttributeError):
            return False

    def prune(self, days: float = 30, every: float = 1) -> int:
        """Delete entries not used for `days`, at most once every `every` days; how many."""
        marker = self.directory / ".pruned"
        now = time.time()
        try:
            if now - marker.stat().st_mtime < every * 86400:
                return 0
        except OSError:
            pass  # never pruned, or no cache at all
        if not self.directory.is_dir():
            return 0
        removed = 0
        with contextlib.suppress(OSError):
            marker.touch()
            for entry in self.directory.glob("*/*.json"):
                with contextlib.suppress(OSError):
                    if now - entry.stat().st_mtime > days * 86400:
                        entry.unlink()
                        removed += 1
        return removed

    def _create(self, folder: Path) -> None:
        # the folder may exist already (the schema cache shares it): mark it once, like
        # .pytest_cache, so it is never committed or backed up by accident
        new = not (self.directory / "CACHEDIR.TAG").exists()
        folder.mkdir(parents=True, exist_ok=True)
        if new:
            (self.directory / ".gitignore").write_text("# created by cfngen lint\n*\n")
            (self.directory / "CACHEDIR.TAG").write_text(
                "Signature: 8a477f597d28d172789f06886806bc55\n"
                "# the lint cache of cfngen (https://bford.info/cachedir/)\n"
            )
