"""Progress output: live rich table on a terminal, one plain line per event otherwise.

Workers run in threads, so every reporter serialises its output with a lock. CI logs get plain,
timestamped lines that grep well; a terminal gets a live table with one row per stack. When the
user must confirm change sets (no --yes) the plain reporter is used so prompts stay readable.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any, Protocol, TextIO

from cfngen.deploy.diff import PlanReport, StackPlan, render_text


class Reporter(Protocol):
    def status(self, stack: str, text: str) -> None: ...
    def event(self, stack: str, event: dict[str, Any]) -> None: ...
    def note(self, text: str) -> None: ...
    def plan(self, plan: StackPlan) -> None: ...
    def close(self) -> None: ...


def format_event(event: dict[str, Any]) -> str:
    reason = event.get("ResourceStatusReason") or ""
    text = f"{event.get('LogicalResourceId')} {event.get('ResourceStatus')}"
    return f"{text}  {reason}" if reason else text


class PlainReporter:
    """One line per status change and event (`12:00:01 app-dev-network  Vpc CREATE_COMPLETE`)."""

    def __init__(self, stream: TextIO, *, events: bool = True) -> None:
        self._stream = stream
        self._events = events
        self._lock = threading.Lock()
        self.width = 0

    def _line(self, stack: str, text: str) -> None:
        stamp = datetime.now(UTC).strftime("%H:%M:%S")
        with self._lock:
            self.width = max(self.width, len(stack))
            self._stream.write(f"{stamp} {stack:<{self.width}}  {text}\n")
            self._stream.flush()

    def status(self, stack: str, text: str) -> None:
        self._line(stack, text)

    def event(self, stack: str, event: dict[str, Any]) -> None:
        if self._events:
            self._line(stack, "  " + format_event(event))

    def note(self, text: str) -> None:
        with self._lock:
            self._stream.write(text + "\n")
            self._stream.flush()

    def plan(self, plan: StackPlan) -> None:
        self.note(render_text(PlanReport(plan.name, [plan])).rsplit("\n", 1)[0])

    def close(self) -> None:
        return None


class RichReporter:
    """A live table: stack, state, last event. Plans and notes print above it."""

    def __init__(self, console: Any = None) -> None:
        from rich.console import Console
        from rich.live import Live

        self._console = console or Console()
        self._rows: dict[str, tuple[str, str]] = {}
        self._lock = threading.Lock()
        self._live = Live(self._table(), console=self._console, refresh_per_second=8)
        self._live.start()

    def _table(self) -> Any:
        from rich.table import Table

        table = Table(box=None, show_header=True, header_style="bold")
        table.add_column("stack")
        table.add_column("state")
        table.add_column("last event", overflow="ellipsis", no_wrap=True)
        for name, (state, last) in self._rows.items():
            style = "red" if "FAIL" in state or "ROLLBACK" in state else None
            table.add_row(name, state, last, style=style)
        return table

    def _update(self, stack: str, state: str | None = None, last: str | None = None) -> None:
        with self._lock:
            old_state, old_last = self._rows.get(stack, ("", ""))
            self._rows[stack] = (state or old_state, last if last is not None else old_last)
            self._live.update(self._table())

    def status(self, stack: str, text: str) -> None:
        self._update(stack, state=text)

    def event(self, stack: str, event: dict[str, Any]) -> None:
        self._update(stack, last=format_event(event))

    def note(self, text: str) -> None:
        with self._lock:
            self._live.console.print(text, markup=False, highlight=False)

    def plan(self, plan: StackPlan) -> None:
        self.note(render_text(PlanReport(plan.name, [plan])).rsplit("\n", 1)[0])

    def close(self) -> None:
        with self._lock:
            self._live.stop()


class QuietReporter:
    """Keeps everything in memory (benchmarks, tests, `--quiet`)."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self._lock = threading.Lock()

    def status(self, stack: str, text: str) -> None:
        with self._lock:
            self.lines.append(f"{stack}: {text}")

    def event(self, stack: str, event: dict[str, Any]) -> None:
        with self._lock:
            self.lines.append(f"{stack}:   {format_event(event)}")

    def note(self, text: str) -> None:
        with self._lock:
            self.lines.append(text)

    def plan(self, plan: StackPlan) -> None:
        self.note(render_text(PlanReport(plan.name, [plan])))

    def close(self) -> None:
        return None
