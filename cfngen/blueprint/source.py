"""YAML loading that remembers where every node came from.

The loaded document is plain Python data (dicts, lists, scalars) plus a `Positions` table keyed
by the node's path (a tuple of keys and list indexes). Keeping positions beside the data, not
inside it, lets environment overlays and interpolation stay simple dict operations while every
later error can still say file:line:col.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from cfngen.errors import BlueprintError, Diagnostic, Mark, UsageError

Path_ = tuple[str | int, ...]


@dataclass
class Positions:
    """Where each node of a document was written: its value and, for mapping entries, its key."""

    values: dict[Path_, Mark] = field(default_factory=dict)
    keys: dict[Path_, Mark] = field(default_factory=dict)

    def value(self, path: Path_) -> Mark | None:
        """The mark of the value at `path`, or of its nearest ancestor that has one."""
        for end in range(len(path), -1, -1):
            mark = self.values.get(path[:end])
            if mark is not None:
                return mark
        return None

    def key(self, path: Path_) -> Mark | None:
        """The mark of the key that introduced `path` (falls back to the value's mark)."""
        return self.keys.get(path) or self.value(path)

    def subtree(self, prefix: Path_) -> Positions:
        """Positions below `prefix`, re-rooted so that `prefix` becomes the empty path."""
        n = len(prefix)
        return Positions(
            values={p[n:]: m for p, m in self.values.items() if p[:n] == prefix and len(p) > n},
            keys={p[n:]: m for p, m in self.keys.items() if p[:n] == prefix and len(p) > n},
        )

    def overlay(self, other: Positions) -> Positions:
        """Positions where `other` wins wherever it has an entry."""
        return Positions(values={**self.values, **other.values}, keys={**self.keys, **other.keys})


@dataclass
class Document:
    """A loaded YAML file: data and positions."""

    data: Any
    positions: Positions
    file: str


def _mark(file: str, m: yaml.Mark) -> Mark:
    return Mark(file, m.line + 1, m.column + 1)


class _PositionLoader(yaml.SafeLoader):
    """SafeLoader that records node positions and rejects duplicate keys."""


def _construct(
    loader: _PositionLoader,
    node: yaml.Node,
    path: Path_,
    pos: Positions,
    errors: list[Diagnostic],
) -> Any:
    file = loader.name
    pos.values[path] = _mark(file, node.start_mark)
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)
        result: dict[Any, Any] = {}
        seen: dict[Any, yaml.Node] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if not isinstance(key, str | int | float | bool) or key is None:
                errors.append(
                    Diagnostic(
                        _mark(file, key_node.start_mark),
                        _dotted(path),
                        "mapping keys must be plain scalars",
                        "write the key as a string",
                    )
                )
                continue
            key = str(key) if not isinstance(key, str) else key
            if key in seen:
                first = _mark(file, seen[key].start_mark)
                errors.append(
                    Diagnostic(
                        _mark(file, key_node.start_mark),
                        _dotted((*path, key)),
                        f"duplicate key (first defined at line {first.line})",
                        "remove one of the two entries or merge them",
                    )
                )
                continue
            seen[key] = key_node
            pos.keys[(*path, key)] = _mark(file, key_node.start_mark)
            result[key] = _construct(loader, value_node, (*path, key), pos, errors)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [
            _construct(loader, child, (*path, i), pos, errors) for i, child in enumerate(node.value)
        ]
    return loader.construct_object(node, deep=True)


def _dotted(path: Path_) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


dotted = _dotted


def undotted(text: str) -> Path_:
    """The path `dotted` wrote: `services.api.routes[0]` -> ('services', 'api', 'routes', 0)."""
    path: list[str | int] = []
    for part in text.split("."):
        name, *indexes = part.split("[")
        if name:
            path.append(name)
        path.extend(int(i.rstrip("]")) for i in indexes if i.rstrip("]").isdigit())
    return tuple(path)


def read_text(path: Path, what: str = "blueprint") -> str:
    """Read a file or fail with its path (exit 2), never with a traceback."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"{path}: {what} file not found") from None
    except IsADirectoryError:
        raise UsageError(f"{path}: is a directory, expected a {what} file") from None
    except PermissionError:
        raise UsageError(f"{path}: cannot read {what} file (permission denied)") from None
    except UnicodeDecodeError as err:
        raise UsageError(f"{path}: {what} file is not UTF-8 text ({err.reason})") from None
    except OSError as err:
        raise UsageError(f"{path}: cannot read {what} file ({err.strerror})") from None


def load_yaml(text: str, file: str) -> Document:
    """Parse YAML text into a Document; syntax errors and duplicate keys raise BlueprintError."""
    loader = _PositionLoader(text)
    loader.name = file
    pos = Positions()
    errors: list[Diagnostic] = []
    try:
        node = loader.get_single_node()
        data = {} if node is None else _construct(loader, node, (), pos, errors)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        problem = err.problem or "invalid YAML"
        if err.context:
            problem = f"{problem} ({err.context})"
        raise BlueprintError(
            [
                Diagnostic(
                    _mark(file, mark) if mark else Mark(file, 1, 1),
                    "",
                    f"YAML syntax error: {problem}",
                    "check indentation and quoting on this line or the one before",
                )
            ]
        ) from None
    except yaml.YAMLError as err:
        raise BlueprintError([Diagnostic(Mark(file, 1, 1), "", f"YAML error: {err}")]) from None
    finally:
        loader.dispose()
    if errors:
        raise BlueprintError(errors)
    return Document(data=data, positions=pos, file=file)


def load_file(path: Path, what: str = "blueprint") -> Document:
    return load_yaml(read_text(path, what), str(path))


def walk_strings(data: Any, path: Path_ = ()) -> Iterator[tuple[Path_, str]]:
    """Every string value (not key) in a document, with its path."""
    if isinstance(data, dict):
        for k, v in data.items():
            yield from walk_strings(v, (*path, k))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            yield from walk_strings(v, (*path, i))
    elif isinstance(data, str):
        yield path, data
