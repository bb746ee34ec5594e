"""How the schema cache writes a core schema as JSON, and reads it back.

A core schema is plain data except for what it holds of cfngen's: its model classes, the
validator functions of fields and `Annotated` aliases, default factories. Those are written
as the place they are found (`module.qualname`, or the model field and metadata index they
belong to), one-key objects whose key starts with NUL (JSON has no form for them), and read
back by looking the place up again: reading never calls anything it names, and anything that
cannot be looked up exactly is `Unknown` (the cache's miss).
"""

from __future__ import annotations

import contextlib
import sys
import types
import typing
from typing import Any

from pydantic import BaseModel

BUILTIN_TYPES: dict[str, type] = {
    t.__name__: t for t in (dict, list, tuple, set, frozenset, str, int, float, bool, bytes)
}


class Unknown(ValueError):
    """An object the cache cannot name, or a name it cannot look up: a miss."""


# --- where objects that are not module attributes live ----------------------------------------


def _cfngen_modules() -> list[tuple[str, types.ModuleType]]:
    return sorted(
        (name, module)
        for name, module in list(sys.modules.items())
        if (name == "cfngen" or name.startswith("cfngen.")) and isinstance(module, types.ModuleType)
    )


_places_seen: tuple[dict[int, list[Any]], list[Any]] | None = None


def places(*, again: bool = True) -> dict[int, list[Any]]:
    """id -> where to look it up, for the objects a schema holds that have no name of their
    own: validators inside module-level `Annotated` aliases, and each model field's default
    factory and annotation metadata (and a metadata item's `func`). ~5 ms: `again=False`
    reuses the last scan (it holds the objects, so their ids stay theirs)."""
    global _places_seen
    if not again and _places_seen is not None:
        return _places_seen[0]
    found: dict[int, list[Any]] = {}
    kept: list[Any] = []

    def note(obj: Any, place: list[Any]) -> None:
        found.setdefault(id(obj), place)
        kept.append(obj)
        func = getattr(obj, "func", None)
        if func is not None:
            found.setdefault(id(func), [*place, "func"])

    for name, module in _cfngen_modules():
        for attr, value in sorted(vars(module).items()):
            if typing.get_origin(value) is typing.Annotated:
                for i, meta in enumerate(value.__metadata__):
                    note(meta, ["alias", name, attr, i])
            elif isinstance(value, type) and issubclass(value, BaseModel):
                found.setdefault(id(value), ["attr", name, attr])  # create_model's classes
                kept.append(value)
                fields = getattr(value, "__pydantic_fields__", None) or {}
                for field, info in fields.items():
                    if info.default_factory is not None:
                        found.setdefault(id(info.default_factory), ["factory", name, attr, field])
                    for i, meta in enumerate(info.metadata):
                        note(meta, ["meta", name, attr, field, i])
                    pending = [(info.annotation, ["ann", name, attr, field])]
                    while pending:  # Annotated inside the annotation: `Annotated[str, x] | None`
                        node, place = pending.pop()
                        if typing.get_origin(node) is typing.Annotated:
                            for i, meta in enumerate(node.__metadata__):
                                note(meta, [*place, "m", i])
                        if len(place) < 12:
                            for j, arg in enumerate(typing.get_args(node)):
                                if isinstance(arg, type) or typing.get_origin(arg) is not None:
                                    pending.append((arg, [*place, j]))
    _places_seen = (found, kept)
    return found


def _module(name: Any) -> types.ModuleType:
    module = sys.modules.get(name) if isinstance(name, str) else None
    if module is None or not (name == "cfngen" or name.startswith("cfngen.")):
        raise Unknown(f"module {name!r}")
    return module


def named(module: Any, qualname: Any) -> Any:
    if not isinstance(qualname, str) or "<" in qualname:
        raise Unknown(f"name {qualname!r}")
    obj: Any = _module(module)
    for part in qualname.split("."):
        obj = vars(obj).get(part) if isinstance(obj, types.ModuleType | type) else None
        if obj is None:
            raise Unknown(f"{module}.{qualname}")
    return obj


def placed(place: list[Any]) -> Any:
    kind, *rest = place
    func = bool(rest) and rest[-1] == "func"
    if func:
        rest = rest[:-1]
    if len(rest) < 2 or not isinstance(rest[1], str):
        raise Unknown(f"place {place!r}")
    value: Any = vars(_module(rest[0])).get(rest[1])
    if kind == "alias" and len(rest) == 3 and isinstance(rest[2], int):
        if typing.get_origin(value) is not typing.Annotated or rest[2] >= len(value.__metadata__):
            raise Unknown(f"alias {place!r}")
        obj = value.__metadata__[rest[2]]
    elif not (isinstance(value, type) and issubclass(value, BaseModel)):
        raise Unknown(f"model {place!r}")
    elif kind == "attr" and len(rest) == 2 and not func:
        obj = value
    elif kind == "ann" and len(rest) >= 5 and rest[-2] == "m" and isinstance(rest[-1], int):
        info = (getattr(value, "__pydantic_fields__", None) or {}).get(rest[2])
        node: Any = info.annotation if info is not None else None
        for step in rest[3:-2]:
            args = typing.get_args(node)
            if not (isinstance(step, int) and 0 <= step < len(args)):
                raise Unknown(f"annotation {place!r}")
            node = args[step]
        if typing.get_origin(node) is not typing.Annotated or rest[-1] >= len(node.__metadata__):
            raise Unknown(f"annotation {place!r}")
        obj = node.__metadata__[rest[-1]]
    elif kind in ("meta", "factory") and len(rest) == (4 if kind == "meta" else 3):
        info = (getattr(value, "__pydantic_fields__", None) or {}).get(rest[2])
        if info is None:
            raise Unknown(f"field {place!r}")
        if kind == "factory":
            obj = info.default_factory
        elif isinstance(rest[3], int) and rest[3] < len(info.metadata):
            obj = info.metadata[rest[3]]
        else:
            raise Unknown(f"metadata {place!r}")
    else:
        raise Unknown(f"place {place!r}")
    if func:
        obj = getattr(obj, "func", None)
    if obj is None:
        raise Unknown(f"place {place!r}")
    return obj


# --- encoding: JSON; what JSON has no form for is a one-key object whose key starts with NUL --


TAG = "\0"


def encode(obj: Any, places: dict[int, list[Any]]) -> Any:
    if obj is None or isinstance(obj, bool | int | float | str):
        return obj
    if isinstance(obj, list):
        return [encode(v, places) for v in obj]
    if isinstance(obj, tuple):
        return {TAG + "t": [encode(v, places) for v in obj]}
    if isinstance(obj, dict):
        if all(isinstance(k, str) and not k.startswith(TAG) for k in obj):
            return {k: encode(v, places) for k, v in obj.items()}
        return {TAG + "d": [[encode(k, places), encode(v, places)] for k, v in obj.items()]}
    if isinstance(obj, type):
        if BUILTIN_TYPES.get(obj.__name__) is obj:
            return {TAG + "b": obj.__name__}
        with contextlib.suppress(Unknown):
            if named(obj.__module__, obj.__qualname__) is obj:
                return {TAG + "c": [obj.__module__, obj.__qualname__]}
    if isinstance(obj, types.MethodType):
        owner = obj.__self__
        if isinstance(owner, type):
            return {TAG + "m": [encode(owner, places), obj.__func__.__name__]}
        if id(owner) in places:
            return {TAG + "mi": [places[id(owner)], obj.__func__.__name__]}
    if isinstance(obj, types.FunctionType):
        with contextlib.suppress(Unknown):
            if named(obj.__module__, obj.__qualname__) is obj:
                return {TAG + "f": [obj.__module__, obj.__qualname__]}
    if id(obj) in places:
        return {TAG + "p": places[id(obj)]}
    raise Unknown(f"{type(obj).__name__} {obj!r:.80}")


def decode_tagged(data: dict[str, Any]) -> Any:
    """json.loads' object hook: a tagged object back to what it names (the lists and mappings
    inside it are decoded already)."""
    if len(data) != 1:
        return data
    ((key, arg),) = data.items()
    if not key.startswith(TAG):
        return data
    tag = key[1:]
    if tag == "t" and isinstance(arg, list):
        return tuple(arg)
    if tag == "d" and isinstance(arg, list):
        if not all(isinstance(pair, list) and len(pair) == 2 for pair in arg):
            raise Unknown("malformed mapping")
        return {k: v for k, v in arg}
    if tag == "b" and isinstance(arg, str) and arg in BUILTIN_TYPES:
        return BUILTIN_TYPES[arg]
    if tag in ("c", "f") and isinstance(arg, list) and len(arg) == 2:
        obj = named(*arg)
        if isinstance(obj, type if tag == "c" else types.FunctionType):
            return obj
    if tag in ("m", "mi") and isinstance(arg, list) and len(arg) == 2 and isinstance(arg[1], str):
        owner = arg[0] if tag == "m" else placed(arg[0]) if isinstance(arg[0], list) else None
        if tag == "m" and not isinstance(owner, type):
            raise Unknown("method owner")
        method = getattr(owner, arg[1], None)
        if isinstance(method, types.MethodType) and method.__self__ is owner:
            return method
    if tag == "p" and isinstance(arg, list) and arg:
        return placed(arg)
    raise Unknown(f"entry {tag!r}")
