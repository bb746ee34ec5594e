"""SIGTERM behaves like Ctrl-C: the run stops starting stacks, prints its summary and hint,
releases its lock and exits 143 (128 + SIGTERM) instead of 130; running it again continues.

A CI runner cancelling a job or `docker stop` sends SIGTERM, not SIGINT. Python turns SIGINT
into KeyboardInterrupt in the main thread, which the deploy scheduler already handles; the
handler here raises the same exception for SIGTERM and remembers that it did.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 128 + signal.SIGTERM  # 143


class _State:
    terminated = False


STATE = _State()


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    if STATE.terminated:
        return  # a second SIGTERM while cleaning up: let the cleanup finish
    STATE.terminated = True
    raise KeyboardInterrupt


@contextmanager
def sigterm_interrupts() -> Iterator[None]:
    """Within the block, SIGTERM raises KeyboardInterrupt in the main thread."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def exit_code(code: int) -> int:
    """130 (interrupted) becomes 143 when the interruption was a SIGTERM."""
    return EXIT_TERMINATED if code == EXIT_INTERRUPTED and STATE.terminated else code
