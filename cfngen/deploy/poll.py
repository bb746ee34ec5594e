"""Polling with a short, growing delay, interruptible by Ctrl-C.

CloudFormation has no push API, so every wait is a poll. Starting short keeps an emulator deploy
fast; growing the delay keeps a long RDS creation from hammering the API (and the account's
shared rate limit) with one call every half second for twenty minutes.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

from cfngen.errors import CfngenError

EXIT_INTERRUPTED = 130


class Interrupted(CfngenError):
    """The user pressed Ctrl-C; what runs server-side keeps running (the message says what)."""

    exit_code = EXIT_INTERRUPTED


@dataclass(frozen=True)
class PollPolicy:
    """Delays between polls: initial, multiplied by factor each time, capped at maximum."""

    initial: float = 0.5
    factor: float = 1.5
    maximum: float = 5.0
    timeout: float = 3 * 3600.0  # CloudFormation's own longest operations end well before this

    def delays(self) -> Iterator[float]:
        delay = self.initial
        while True:
            yield delay
            delay = min(self.maximum, delay * self.factor)


@dataclass
class Poller:
    """One policy and one cancel flag shared by every worker of a run."""

    policy: PollPolicy = field(default_factory=PollPolicy)
    cancel: threading.Event = field(default_factory=threading.Event)
    slept: float = 0.0  # total seconds spent waiting between polls (benchmark: not overhead)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def sleep(self, seconds: float) -> None:
        """Sleep, but wake and raise as soon as the run is cancelled."""
        if self.cancel.wait(seconds):
            raise Interrupted("interrupted")
        with self._lock:
            self.slept += seconds

    def check(self) -> None:
        if self.cancel.is_set():
            raise Interrupted("interrupted")
