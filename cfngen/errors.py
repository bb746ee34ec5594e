"""The error types a user can see. Everything else reaching the CLI boundary is a bug.

One base error (CfngenError) carries the exit code; BlueprintError carries one or more
diagnostics that each point at a file, line and column. The CLI turns them into a message and
an exit code in exactly one place (cfngen.cli.main).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from msgspec import Struct

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


class Mark(Struct, frozen=True, order=True):
    """A position in a source file; line and column are 1-based as editors show them."""

    file: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


class Diagnostic(Struct, frozen=True):
    """One problem in a blueprint: where, which field, what is wrong and how to fix it."""

    mark: Mark | None
    field: str
    message: str
    fix: str = ""

    def render(self) -> str:
        where = f"{self.mark}: " if self.mark else ""
        what = f"{self.field}: {self.message}" if self.field else self.message
        return f"{where}{what}" + (f" ({self.fix})" if self.fix else "")

    def sort_key(self) -> tuple[str, int, int, str]:
        if self.mark is None:
            return ("", 0, 0, self.field)
        return (self.mark.file, self.mark.line, self.mark.col, self.field)


class CfngenError(Exception):
    """Base of every error cfngen reports to a user; `exit_code` is what the CLI exits with."""

    exit_code = EXIT_FAILED

    def render(self) -> str:
        return str(self)


class UsageError(CfngenError):
    """Bad input that is not inside a blueprint: a missing file, an unknown option value."""

    exit_code = EXIT_USAGE


@dataclass
class BlueprintError(CfngenError):
    """One or more problems found in a blueprint, reported together."""

    diagnostics: list[Diagnostic] = field(default_factory=list)
    exit_code = EXIT_USAGE

    def __post_init__(self) -> None:
        super().__init__(self.render())

    def render(self) -> str:
        diags = sorted(self.diagnostics, key=Diagnostic.sort_key)
        lines = [d.render() for d in diags]
        if len(diags) > 1:
            lines.append(f"{len(diags)} errors")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.render()


class OperationError(CfngenError):
    """An operation against AWS or a tool failed (lint findings, a failed deploy)."""

    exit_code = EXIT_FAILED
