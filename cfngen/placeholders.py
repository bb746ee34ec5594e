"""Values a blueprint copied from documentation that would deploy into someone else's (or no)
account: AWS's example account IDs, example hosted zone IDs, example domains. `render` and
`lint` warn about them (stderr, exit unchanged) at the blueprint line, so a hand-off does not
carry them to an ops team unnoticed."""

from __future__ import annotations

import re
from pathlib import Path

from cfngen.blueprint.source import Document, dotted, load_file, walk_strings

_ACCOUNT = re.compile(r"(?<![0-9])(123456789012|111122223333|444455556666)(?![0-9])")
_ZONE = re.compile(r"^Z[0-9A-Z]*EXAMPLE[0-9A-Z]*$")
_DOMAIN = re.compile(r"(^|\.)(example\.(com|org|net)|[a-z0-9-]+\.example)$")


def find(document: Document) -> list[str]:
    """`file:line:col: path: what (fix)` for every placeholder value, in file order."""
    found: list[tuple[int, int, str]] = []
    for path, value in walk_strings(document.data):
        mark = document.positions.value(path)
        what = None
        account = _ACCOUNT.search(value)
        if account is not None:
            what = f"{account.group(1)} is an example account ID"
        elif _ZONE.match(value):
            what = f"{value} is an example hosted zone ID"
        elif _DOMAIN.search(value.lower()):
            what = f"{value} is an example domain"
        if what is not None and mark is not None:
            text = f"{mark}: {dotted(path)}: {what} (replace it before deploying)"
            found.append((mark.line, mark.col, text))
    return [text for _, _, text in sorted(found)]


def warnings(blueprint: Path) -> list[str]:
    """The placeholders of a blueprint file ([] when it cannot be read: validation says why)."""
    try:
        return find(load_file(blueprint))
    except Exception:  # a warning pass never fails a command; validation reports the file
        return []
