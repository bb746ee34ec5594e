"""YAML loading that remembers where every node came from.

The loaded document is plain Python data (dicts, lists, scalars) plus a `Positions` table keyed
by the node's path (a tuple of keys and list indexes). Keeping positions beside the data, not
inside it, lets environment overlays and interpolation stay simple dict operations while every
later error can still say file:line:col.
"""

from __future__ import annotations

import errno
import os
import re
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from msgspec import Struct, field

from cfngen.errors import BlueprintError, Diagnostic, Mark, UsageError

Path_ = tuple[str | int, ...]


class Positions(Struct):
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


class Document(Struct):
    """A loaded YAML file: data and positions."""

    data: Any
    positions: Positions
    file: str


def _mark(file: str, m: yaml.Mark) -> Mark:
    return Mark(file, m.line + 1, m.column + 1)


# Bounds for untrusted input (a blueprint comes from a pull request as often as from its
# author). A real blueprint is a few hundred lines; these leave room for generated ones of a
# thousand services and stop hostile ones before they cost seconds or memory.
MAX_FILE_BYTES = 5 * 1024 * 1024
"""Largest blueprint or variables file read at all (checked before reading)."""
MAX_DEPTH = 64
"""Deepest nesting of mappings and sequences (real blueprints nest about 8 deep)."""
MAX_ALIAS_NODES = 100_000
"""Nodes that aliases (`*name`, `<<: *name`) may add in all: an alias bomb stops here."""
MAX_NODES = 1_000_000
"""Nodes in one document, after alias expansion."""


_YAML = "tag:yaml.org,2002:"
_PLAIN_TAGS = frozenset(_YAML + t for t in ("str", "int", "float", "bool", "null", "map", "seq"))
_TIMESTAMP = _YAML + "timestamp"


class _LimitError(yaml.MarkedYAMLError):
    """The document passes one of the bounds above."""


class _PositionLoader(yaml.SafeLoader):
    """SafeLoader that records node positions, rejects duplicate keys and bounds the document.

    Aliases are references to one node in the composed graph; constructing the data expands
    them. The composer therefore counts, for every alias, the size its expansion will have, and
    stops at the alias (with its own file:line) when the sum passes MAX_ALIAS_NODES. Depth is
    bounded at the node that goes too deep, before Python's recursion limit is near.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._sizes: dict[int, int] = {}  # id(node) -> nodes its construction produces
        self._expanded = 0
        self._depth = 0

    def _too_much(self, mark: yaml.Mark, problem: str) -> _LimitError:
        return _LimitError(None, None, problem, mark)

    def _compose(self, parent: yaml.Node | None, index: Any) -> yaml.Node:
        node = super().compose_node(parent, index)
        assert node is not None  # PyYAML returns None only at the end of a stream
        return node

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            node = self.anchors.get(event.anchor)
            if node is not None:
                size = self._sizes.get(id(node))
                if size is None:
                    raise self._too_much(
                        event.start_mark,
                        f"alias *{event.anchor} refers to a node that contains it (a recursive "
                        "alias)",
                    )
                self._expanded += size
                if self._expanded > MAX_ALIAS_NODES:
                    raise self._too_much(
                        event.start_mark,
                        f"aliases expand to more than {MAX_ALIAS_NODES:,} nodes (at alias "
                        f"*{event.anchor}, which alone is {size:,}); an alias bomb?",
                    )
            return self._compose(parent, index)
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise self._too_much(
                self.peek_event().start_mark,
                f"nesting deeper than {MAX_DEPTH} levels",
            )
        node = self._compose(parent, index)
        self._depth -= 1
        if isinstance(node, yaml.MappingNode):
            size = 1 + sum(self._sizes[id(k)] + self._sizes[id(v)] for k, v in node.value)
        elif isinstance(node, yaml.SequenceNode):
            size = 1 + sum(self._sizes[id(v)] for v in node.value)
        else:
            size = 1
        if size > MAX_NODES:
            raise self._too_much(node.start_mark, f"more than {MAX_NODES:,} nodes")
        self._sizes[id(node)] = size
        return node


def _construct(
    loader: _PositionLoader,
    node: yaml.Node,
    path: Path_,
    pos: Positions,
    errors: list[Diagnostic],
) -> Any:
    file = loader.name
    pos.values[path] = _mark(file, node.start_mark)
    if node.tag == _TIMESTAMP and isinstance(node, yaml.ScalarNode):
        return str(node.value)  # a blueprint has no dates: 2026-12-03 is text
    if node.tag not in _PLAIN_TAGS:
        errors.append(
            Diagnostic(
                _mark(file, node.start_mark),
                _dotted(path),
                f"YAML tag {node.tag} is not allowed in a blueprint",
                "write plain strings, numbers, booleans, lists and mappings (CloudFormation "
                "functions go in overrides as {Ref: X} / {'Fn::Sub': ...})",
            )
        )
        return None
    if isinstance(node, yaml.MappingNode):
        # YAML merge keys (`<<: *base`): the merged entries come first and the mapping's own
        # entries override them. Only two entries written in this mapping itself are duplicates.
        own = {id(k) for k, _ in node.value if k.tag != "tag:yaml.org,2002:merge"}
        loader.flatten_mapping(node)
        result: dict[Any, Any] = {}
        seen: dict[Any, yaml.Node] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                errors.append(
                    Diagnostic(
                        _mark(file, key_node.start_mark),
                        _dotted(path),
                        "mapping keys must be plain scalars",
                        "write the key as a string",
                    )
                )
                continue
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
            if key in seen and id(seen[key]) in own and id(key_node) in own:
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
            if key in seen:  # a merged entry, overridden: forget its positions
                _forget(pos, (*path, key))
            seen[key] = key_node
            pos.keys[(*path, key)] = _mark(file, key_node.start_mark)
            result[key] = _construct(loader, value_node, (*path, key), pos, errors)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [
            _construct(loader, child, (*path, i), pos, errors) for i, child in enumerate(node.value)
        ]
    try:
        return loader.construct_object(node, deep=True)
    except (ValueError, yaml.YAMLError) as err:  # e.g. an integer of more than 4300 digits
        errors.append(
            Diagnostic(
                _mark(file, node.start_mark),
                _dotted(path),
                f"invalid {node.tag.rsplit(':', 1)[-1]} value ({str(err).split(';')[0][:120]})",
                "write a smaller number, or quote it as text",
            )
        )
        return None


def _forget(pos: Positions, prefix: Path_) -> None:
    n = len(prefix)
    for table in (pos.values, pos.keys):
        for p in [p for p in table if p[:n] == prefix]:
            del table[p]


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


def _file_kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def read_text(path: Path, what: str = "blueprint", limit: int = MAX_FILE_BYTES) -> str:
    """Read a regular file of at most `limit` bytes, or fail with its path (exit 2).

    The file's type and size are checked before it is opened for reading, so a FIFO, a device
    or a huge file costs nothing; the read itself stops at the limit too, in case the file
    grows in between.
    """
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):
            raise UsageError(f"{path}: is {_file_kind(info.st_mode)}, expected a {what} file")
        if info.st_size > limit:
            raise UsageError(
                f"{path}: {what} file is {info.st_size:,} bytes; at most {limit:,} are read"
            )
        with open(path, "rb") as handle:
            raw = handle.read(limit + 1)
        if len(raw) > limit:
            raise UsageError(f"{path}: {what} file is larger than {limit:,} bytes")
        return raw.decode("utf-8")
    except FileNotFoundError:
        raise UsageError(f"{path}: {what} file not found") from None
    except IsADirectoryError:
        raise UsageError(f"{path}: is a directory, expected a {what} file") from None
    except PermissionError:
        raise UsageError(f"{path}: cannot read {what} file (permission denied)") from None
    except UnicodeDecodeError as err:
        data = err.object
        line = data.count(b"\n", 0, err.start) + 1
        col = err.start - (data.rfind(b"\n", 0, err.start) + 1) + 1
        raise UsageError(
            f"{path}:{line}:{col}: {what} file is not UTF-8 text ({err.reason}: byte "
            f"0x{data[err.start]:02x}); save it as UTF-8"
        ) from None
    except OSError as err:
        if err.errno == errno.ELOOP:
            raise UsageError(f"{path}: symbolic link loop, expected a {what} file") from None
        if err.errno == errno.ENAMETOOLONG:
            raise UsageError(f"{str(path)[:80]}...: file name too long") from None
        raise UsageError(f"{path}: cannot read {what} file ({err.strerror})") from None
    except ValueError as err:  # e.g. a NUL byte in the path
        raise UsageError(f"{path!r}: not a usable file name ({err})") from None


def _within_bounds(root: yaml.Node) -> bool:
    """Whether a composed graph keeps every bound `_PositionLoader` enforces while composing:
    depth, nodes after alias expansion, per node and in all (a node met again is an alias:
    nothing else shares nodes; one met inside itself is a recursive alias), and has no empty
    value, whose position the two parsers give differently."""
    sizes: dict[int, int] = {}
    expanded = 0
    # (node, depth, children pushed?) in document order; sizes are summed on the way back up
    pending: list[tuple[yaml.Node, int, bool]] = [(root, 1, False)]
    while pending:
        node, depth, done = pending.pop()
        if done:
            children = (
                [c for pair in node.value for c in pair]
                if isinstance(node, yaml.MappingNode)
                else node.value
            )
            size = 1 + sum(sizes[id(c)] for c in children)
            if size > MAX_NODES:
                return False
            sizes[id(node)] = size
            continue
        if id(node) in sizes:
            expanded += sizes[id(node)]
            if expanded > MAX_ALIAS_NODES:
                return False
            continue
        if depth > MAX_DEPTH:
            return False
        if isinstance(node, yaml.ScalarNode):
            if node.value == "" and not node.style:
                return False  # an empty value: libyaml places it a column later in flow
            sizes[id(node)] = 1
            continue
        sizes[id(node)] = -1  # in progress: met again before it is done, it contains itself
        pending.append((node, depth, True))
        children = (
            [c for pair in node.value for c in pair]
            if isinstance(node, yaml.MappingNode)
            else node.value
        )
        for child in reversed(children):
            if sizes.get(id(child)) == -1:
                return False
            pending.append((child, depth + 1, False))
    return True


# Where libyaml reads differently from PyYAML's Python scanner (found by fuzzing the reference
# blueprints; tests/blueprint/test_loader_paths.py): a tab as separating space, a BOM inside
# the text, `?` inside a plain scalar in a flow collection ({a: b?c}) are accepted; a tag
# ends at a `,` in a flow collection; `|#` starts a block scalar. Documents with these
# characters take the Python path only.
_PARSERS_DIFFER = ("\t", "\ufeff", "?", "!")
_BLOCK_HEADER_COMMENT = re.compile(r"[|>][-+0-9]*#")


def _load_fast(text: str, file: str) -> Document | None:
    """The document by libyaml's C parser and composer (10x the pure-Python ones), or None
    when this path cannot give the same result as `_PositionLoader`: no libyaml, a character
    the Python reader refuses, any YAML error, a graph past a bound. The caller then loads
    with `_PositionLoader`, which gives the exact positioned error; a document this path
    accepts has the same data, positions and construction errors on both paths (tests)."""
    if (
        not getattr(yaml, "__with_libyaml__", False)
        or yaml.reader.Reader.NON_PRINTABLE.search(text)
        or any(c in text for c in _PARSERS_DIFFER)
        or _BLOCK_HEADER_COMMENT.search(text)
    ):
        return None
    loader: Any = None
    try:
        loader = yaml.CSafeLoader(text)
        loader.name = file
        node = loader.get_single_node()
        if node is not None and not _within_bounds(node):
            return None
        pos = Positions()
        errors: list[Diagnostic] = []
        if node is None:
            pos.values[()] = Mark(file, 1, 1)
            data: Any = {}
        else:
            data = _construct(loader, node, (), pos, errors)
    except (yaml.YAMLError, ValueError, RecursionError):
        return None
    finally:
        if loader is not None:
            loader.dispose()
    if errors:
        raise BlueprintError(errors)
    return Document(data=data, positions=pos, file=file)


def load_yaml(text: str, file: str) -> Document:
    """Parse YAML text into a Document; syntax errors and duplicate keys raise BlueprintError."""
    fast = _load_fast(text, file)
    if fast is not None:
        return fast
    return _load_python(text, file)


def _load_python(text: str, file: str) -> Document:
    pos = Positions()
    errors: list[Diagnostic] = []
    loader: _PositionLoader | None = None
    try:
        loader = _PositionLoader(text)
        loader.name = file
        node = loader.get_single_node()
        if node is None:  # an empty file: errors about it still name the file
            pos.values[()] = Mark(file, 1, 1)
            data: Any = {}
        else:
            data = _construct(loader, node, (), pos, errors)
    except _LimitError as err:
        mark = err.problem_mark
        raise BlueprintError(
            [
                Diagnostic(
                    _mark(file, mark) if mark else Mark(file, 1, 1),
                    "",
                    f"document too large: {err.problem}",
                    "write the values out, or split the blueprint; cfngen bounds documents so "
                    "that a hostile one cannot exhaust memory",
                )
            ]
        ) from None
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
    except yaml.reader.ReaderError as err:
        line = text.count("\n", 0, err.position) + 1
        col = err.position - (text.rfind("\n", 0, err.position) + 1) + 1
        raise BlueprintError(
            [
                Diagnostic(
                    Mark(file, line, col),
                    "",
                    f"YAML error: character U+{err.character:04X} is not allowed in YAML",
                    "remove it or quote the value with escapes",
                )
            ]
        ) from None
    except yaml.YAMLError as err:
        raise BlueprintError([Diagnostic(Mark(file, 1, 1), "", f"YAML error: {err}")]) from None
    finally:
        if loader is not None:
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
