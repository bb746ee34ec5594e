"""The blueprint models' core schemas, generated once and read back in later runs.

pydantic generates the root model's core schema on its first validation: ~30 ms of every
validate and render, for the same models every time; and each model validated on its own (a
`default_factory`, a model a planner makes: 16 in a legocity run) gets its own, ~0.5 ms each.
This module keeps those schemas in one file per root model and hands them back to pydantic,
which reuses a model's `__pydantic_core_schema__` when it is set and builds the validator from
it (~4 ms for the root); nothing of pydantic's own is replaced (which models a run completes
on their own, it learns from pydantic's `__pydantic_on_complete__` hook, which cfngen's base
model passes on: `COMPLETED` in cfngen/blueprint/models/common.py).

The file decides what validation accepts, so:

- it lives in the user's cache folder (`$XDG_CACHE_HOME/cfngen`, else `~/.cache/cfngen`),
  never in the working directory, which a pull request controls in CI;
- it is JSON, not pickle: reading it looks objects up (cfngen's classes, functions and the
  validators of its annotations), it never calls anything it names, and anything it cannot
  look up exactly is a miss;
- its key covers Python, pydantic, pydantic-core and annotated-types versions and every
  cfngen source file (path, size, modification time): an edited model is a new schema; and
  each schema is named by its model's module, qualname and fields (names and types): two
  models of one name with other fields never share one.

A file that is missing, unreadable, stale or malformed is a miss: pydantic generates the
schema as it always did, and the file is written again (failures to write are ignored).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import sys
from pathlib import Path
from typing import Any

import annotated_types
import pydantic
import pydantic_core
from pydantic import BaseModel

import cfngen
from cfngen.blueprint.models.common import COMPLETED
from cfngen.blueprint.schema_codec import Unknown, decode_tagged, encode, named, places

FORMAT = 1


def directory() -> Path | None:
    """The user's cache folder for cfngen, or None when there is none to trust."""
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg:
        return Path(xdg) / "cfngen"
    home = os.environ.get("HOME")
    return Path(home) / ".cache" / "cfngen" if home else None


def _key(model: type[BaseModel], fields: str) -> str:
    package = Path(cfngen.__file__).parent
    digest = hashlib.sha256(
        json.dumps(
            [
                FORMAT,
                list(sys.version_info[:3]),
                pydantic.VERSION,
                pydantic_core.__version__,
                getattr(annotated_types, "__version__", ""),
                model.__module__,
                model.__qualname__,
                fields,
            ]
        ).encode()
    )
    for line in sorted(_sources(str(package))):
        digest.update(line.encode())
    return digest.hexdigest()


def _sources(folder: str) -> list[str]:
    """`path size mtime` of every .py file below `folder` (os.scandir: ~1 ms for cfngen's
    ~190 files, where Path.rglob takes ~6 ms)."""
    found: list[str] = []
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.is_dir(follow_symlinks=False) and entry.name != "__pycache__":
                found += _sources(entry.path)
            elif entry.name.endswith(".py"):
                info = entry.stat()
                found.append(f"{entry.path} {info.st_size} {info.st_mtime_ns}\n")
    return found


# --- the file ---------------------------------------------------------------------------------
#
#   <key>
#   <the root model's core schema>
#   <module> <qualname> <fields> <core schema>     one line per companion
#
# A companion is a model validated on its own, not as a part of the root: a `default_factory`
# (DeploySettings), a model a planner makes (SecurityGroup). pydantic builds each validator
# from scratch on first use (~0.4 ms; 16 in a legocity run). Which ones a run uses is known
# once used: a model completed from scratch while a root's file is open is added to it
# (`_Entry.learn`, from pydantic's `__pydantic_on_complete__` hook), and the next run with that
# root builds them from the file right after the root (`_Entry.install`): one file read.

# A file that does not read back, or a schema that cannot be named, is a miss: the cache may
# make a run faster, never fail it.
_MISS = (OSError, ValueError, RecursionError, TypeError, IndexError, KeyError, AttributeError)

# What building a validator from a schema that does not fit raises (pydantic-core's SchemaError,
# pydantic's own errors, a lookup in a malformed schema): the schema is then generated anew.
_BUILD_ERRORS = (pydantic_core.SchemaError, pydantic.PydanticUserError, *_MISS)

_ADDRESS = re.compile(r" at 0x[0-9a-f]+")  # a function's repr names its address, new every run


def _fields(model: type[BaseModel]) -> str:
    """What tells apart models of one name: cfngen.registry makes a `Blueprint` per set of
    kinds a blueprint uses, with other fields or other types for the kinds left out."""
    shape = [
        [name, _ADDRESS.sub("", repr(info.annotation))]
        for name, info in model.__pydantic_fields__.items()
    ]
    return hashlib.sha256(json.dumps(shape).encode()).hexdigest()[:16]


def _file(model: type[BaseModel], folder: Path, fields: str | None = None) -> Path:
    return (
        folder / f"schema-{model.__module__}.{model.__qualname__}-{fields or _fields(model)}.json"
    )


_Name = tuple[str, str, str]  # a companion: module, qualname, fields


def _encoded(schema: Any) -> str:
    """`schema` as JSON; the last scan of places first (companions come one by one), a new
    one when that does not name everything (a module imported since)."""
    try:
        encoded = encode(schema, places(again=False))
    except Unknown:
        encoded = encode(schema, places())
    return json.dumps(encoded, separators=(",", ":"))


def _panicked(exc: BaseException) -> bool:
    """pydantic-core's panic on a damaged schema ("entered unreachable code"): pyo3's
    PanicException derives from BaseException and cannot be imported, hence the name."""
    kind = type(exc)
    return (kind.__module__, kind.__name__) == ("pyo3_runtime", "PanicException")


def _build(model: type[BaseModel], schema: Any) -> bool:
    """Complete `model` from `schema`; False (and the schema forgotten) when it does not fit."""
    model.__pydantic_core_schema__ = schema  # pydantic builds the validator from it
    try:
        model.model_rebuild()
    except _BUILD_ERRORS:
        pass
    except BaseException as exc:  # only pydantic-core's panic (see _panicked)
        if not _panicked(exc):
            raise
    if model.__pydantic_complete__:
        return True
    with contextlib.suppress(AttributeError):  # generated anew, not from this schema
        delattr(model, "__pydantic_core_schema__")
    return False


class _Entry:
    """The file of one root model in this process: what it holds, and what this run has
    installed from it or added to it."""

    def __init__(self, model: type[BaseModel], folder: Path) -> None:
        fields = _fields(model)
        self.model = model
        self.path = _file(model, folder, fields)
        self.key = _key(model, fields)
        self.root = ""  # the root's schema as JSON; "" until known
        self.companions: dict[_Name, str] = {}
        self.settled: set[_Name] = set()  # installed, or not to be learned again this run

    def read(self) -> None:
        try:
            with open(self.path, "rb") as handle:
                # the key on a line of its own: a stale file is a miss without parsing further
                if handle.readline().decode().rstrip("\n") != self.key:
                    return
                root, *lines = handle.read().decode().split("\n")
        except _MISS:
            return
        self.root = root
        for line in lines:
            parts = line.split(" ", 3)
            if len(parts) == 4:
                self.companions[(parts[0], parts[1], parts[2])] = parts[3]

    def save(self) -> None:
        """Write the file anew (failures are ignored: the next run misses)."""
        lines = [self.key, self.root]
        lines += [" ".join((*name, text)) for name, text in sorted(self.companions.items())]
        with contextlib.suppress(*_MISS):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            import tempfile  # only on a miss: tempfile imports shutil, bz2, lzma (~3 ms)

            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".tmp-", suffix=".json")
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as out:
                    out.write("\n".join(lines))
                os.replace(tmp, self.path)
            finally:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)

    def install(self) -> None:
        """Complete the companions the file holds from their schemas."""
        for name, text in self.companions.items():
            module, qualname, fields = name
            if module not in sys.modules:
                self.settled.add(name)  # its module is imported later: built as pydantic does
                continue
            try:
                model = named(module, qualname)
                if not (isinstance(model, type) and issubclass(model, BaseModel)):
                    continue
                if model.__pydantic_complete__ or _fields(model) != fields:
                    continue
                schema = json.loads(text, object_hook=decode_tagged)
            except _MISS:
                continue  # learned again when the model is completed
            if isinstance(schema, dict):
                self.settled.add(name)  # `learn` would see it completed: not from scratch
                if not _build(model, schema):
                    self.settled.discard(name)

    def learn(self, model: type[BaseModel]) -> None:
        """`model` was completed from scratch: keep its schema for the next run."""
        if model is self.model or named(model.__module__, model.__qualname__) is not model:
            return  # a root, or a class the cache cannot name (create_model's)
        name = (model.__module__, model.__qualname__, _fields(model))
        if name not in self.settled:
            self.settled.add(name)
            text = _encoded(model.__pydantic_core_schema__)
            # the one line of this model: one of other fields (or forged) goes
            self.companions = {n: t for n, t in self.companions.items() if n[:2] != name[:2]}
            self.companions[name] = text
            self.save()


_watched: _Entry | None = None


def _completed(model: type[BaseModel]) -> None:
    """pydantic's `__pydantic_on_complete__`, on cfngen's model base: a model is ready."""
    if _watched is not None:
        with contextlib.suppress(*_MISS):
            _watched.learn(model)


def _watch(entry: _Entry) -> None:
    """Companions completed from now on are learned into `entry`'s file."""
    global _watched
    _watched = entry
    if _completed not in COMPLETED:  # cfngen's `Model` calls it for every model completed
        COMPLETED.append(_completed)


def complete(model: type[BaseModel]) -> bool:
    """Make `model` ready to validate: from the cached schema when there is one for this
    code, else as pydantic always does (and keep the schema for the next run). Then the
    companions of an earlier run are completed from the same file. True when the cached
    schema of `model` was used."""
    if model.__pydantic_complete__:
        return False
    folder = directory()
    entry = _Entry(model, folder) if folder is not None else None
    used = False
    if entry is not None:
        entry.read()
        with contextlib.suppress(*_MISS):
            schema = json.loads(entry.root, object_hook=decode_tagged) if entry.root else None
            used = isinstance(schema, dict) and _build(model, schema)
    if not used:
        model.model_rebuild()
    if entry is None or not model.__pydantic_complete__:
        return used
    if used:
        entry.install()
    else:
        try:
            entry.root, entry.companions = _encoded(model.__pydantic_core_schema__), {}
        except _MISS:
            return used  # a schema the cache cannot name: nothing to keep, nothing to learn
        entry.save()
    _watch(entry)
    return used
