"""One deploy or destroy per environment at a time: a lock held in the target account.

The lock is an SSM parameter, `/cfngen/locks/<EnvironmentName>`, created with
`Overwrite=False`: SSM creates a parameter atomically, so of two runs that try at once exactly
one succeeds and the other gets `ParameterAlreadyExists`. Its value (JSON) says who holds it:
run id, command, user, host, pid, IAM principal, start and expiry.

Expiry: a lock lives EXPIRY seconds (10 minutes) and its holder renews it every RENEW seconds
(once a minute) while it runs, so a run that died (kill -9, a closed laptop) blocks others for
at most 10 minutes. A lock whose holder ran on this machine and whose process is gone is stale
at once. `cfngen unlock` removes a lock by hand.

Taking over a stale lock must not let two runs both win: each run that finds it stale first
creates a takeover marker named after the stale run id (again `Overwrite=False`); only the run
that created the marker deletes the stale lock and then creates its own.
"""

from __future__ import annotations

import contextlib
import getpass
import json
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from botocore.parsers import ResponseParserError

from cfngen.deploy.aws import aws_failure, error_code
from cfngen.errors import OperationError

#: Where locks live; the operator needs ssm:PutParameter, GetParameter and DeleteParameter here.
LOCK_PREFIX = "/cfngen/locks/"
TAKEOVER_PREFIX = "/cfngen/lock-takeovers/"
#: Seconds a lock lives without renewal.
EXPIRY = 600.0
#: Seconds between renewals.
RENEW = 60.0


def lock_name(environment_name: str) -> str:
    return f"{LOCK_PREFIX}{environment_name}"


def new_run_id() -> str:
    return uuid.uuid4().hex[:12]


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers)
        return "unknown"


@dataclass(frozen=True)
class LockInfo:
    """Who holds a lock; stored as the parameter's JSON value."""

    run_id: str
    command: str
    user: str
    host: str
    pid: int
    principal: str
    started: float
    expires: float

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> LockInfo:
        try:
            data = json.loads(text)
            return cls(
                run_id=str(data["run_id"]),
                command=str(data.get("command", "?")),
                user=str(data.get("user", "?")),
                host=str(data.get("host", "?")),
                pid=int(data.get("pid", 0)),
                principal=str(data.get("principal", "")),
                started=float(data.get("started", 0)),
                expires=float(data.get("expires", 0)),
            )
        except (ValueError, KeyError, TypeError):
            # not written by cfngen (or damaged): treat as held until its parameter is removed
            return cls(text[:40] or "?", "?", "?", "?", 0, "", 0.0, float("inf"))

    def describe(self) -> str:
        who = f"{self.user}@{self.host}, pid {self.pid}"
        if self.principal:
            who += f", {self.principal}"
        expires = (
            "never (not a cfngen lock)" if self.expires == float("inf") else _iso(self.expires)
        )
        return (
            f"`cfngen {self.command}` run {self.run_id} ({who}) since {_iso(self.started)}; "
            f"the lock expires {expires} unless renewed"
        )

    def stale(self, now: float) -> bool:
        """Expired, or held by a process of this machine that no longer exists."""
        if now > self.expires:
            return True
        if self.host == socket.gethostname() and self.pid > 0:
            return not _alive(self.pid)
        return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


class LockHeld(OperationError):
    """Another run holds the environment's lock (exit 1)."""


class EnvironmentLock:
    """Acquire, renew (in a background thread) and release one environment's lock."""

    def __init__(
        self,
        ssm: Any,
        environment_name: str,
        command: str,
        *,
        unlock_command: str,
        principal: str = "",
        run_id: str | None = None,
        expiry: float = EXPIRY,
        renew_every: float = RENEW,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.ssm = ssm
        self.name = lock_name(environment_name)
        self.environment_name = environment_name
        self.command = command
        self.unlock_command = unlock_command
        self.principal = principal
        self.run_id = run_id or new_run_id()
        self.expiry = expiry
        self.renew_every = renew_every
        self.clock = clock
        self.held: LockInfo | None = None
        self._sent: LockInfo | None = None  # the last lock asked for (see release)
        self.lost = threading.Event()
        self.lost_reason = ""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._on_lost: Callable[[str], None] | None = None

    # --- reading ------------------------------------------------------------------------

    def current(self) -> LockInfo | None:
        """The lock as stored now, or None when nobody holds it."""
        try:
            value = self.ssm.get_parameter(Name=self.name)["Parameter"]["Value"]
        except ClientError as err:
            if error_code(err) == "ParameterNotFound":
                return None
            raise aws_failure(f"reading the lock {self.name}", err) from err
        return LockInfo.from_json(str(value))

    def _mine(self, expires: float) -> LockInfo:
        now = self.clock()
        started = self.held.started if self.held else now
        return LockInfo(
            run_id=self.run_id,
            command=self.command,
            user=_user(),
            host=socket.gethostname(),
            pid=os.getpid(),
            principal=self.principal,
            started=started,
            expires=expires,
        )

    # --- acquiring ----------------------------------------------------------------------

    def try_acquire(self) -> LockInfo | None:
        """Take the lock (taking over a stale one); None on success, else who holds it."""
        for _ in range(5):  # each retry follows a lock that vanished or was taken over
            mine = self._mine(self.clock() + self.expiry)
            # sent before AWS's answer: a signal or a cut connection may leave the lock taken
            # without this run knowing, and release() must look for it then
            self._sent = mine
            if self._create(self.name, mine.to_json()):
                self.held = mine
                return None
            holder = self.current()
            if holder is None:
                continue  # released between our attempt and the read
            if holder.run_id == self.run_id:
                self.held = holder
                return None
            if not holder.stale(self.clock()):
                return holder
            self._take_over(holder)
            if self.held is not None:
                return None
        holder = self.current()
        if holder is None:
            raise OperationError(f"the lock {self.name} keeps changing hands; try again")
        return holder

    def _create(self, name: str, value: str) -> bool:
        try:
            self.ssm.put_parameter(
                Name=name,
                Value=value,
                Type="String",
                Overwrite=False,
                Description="cfngen environment lock (see cfngen unlock)",
            )
        except ClientError as err:
            if error_code(err) == "ParameterAlreadyExists":
                return False
            raise aws_failure(f"taking the lock {name}", err) from err
        return True

    def _delete(self, name: str) -> None:
        try:
            self.ssm.delete_parameter(Name=name)
        except ClientError as err:
            if error_code(err) != "ParameterNotFound":
                raise aws_failure(f"deleting {name}", err) from err

    def _take_over(self, stale: LockInfo) -> None:
        """Delete a stale lock, unless another run is already taking it over."""
        marker = f"{TAKEOVER_PREFIX}{self.environment_name}/{stale.run_id}"
        if not self._create(marker, self.run_id):
            return  # someone else takes it over; the next attempt sees their lock
        try:
            again = self.current()
            if again is not None and again.run_id == stale.run_id:
                self._delete(self.name)
                mine = self._mine(self.clock() + self.expiry)
                if self._create(self.name, mine.to_json()):
                    self.held = mine
        finally:
            self._delete(marker)

    def acquire(
        self,
        *,
        wait: bool,
        cancel: threading.Event,
        on_wait: Callable[[LockInfo], None] | None = None,
        interval: float = 5.0,
    ) -> None:
        """Take the lock, or raise LockHeld naming the holder; with `wait`, poll until free.

        Waiting ends early (Interrupted is raised by the caller's check) when `cancel` is set.
        """
        told: str | None = None
        while True:
            holder = self.try_acquire() if self.held is None else None
            if self.held is not None:
                return
            assert holder is not None
            if not wait:
                raise LockHeld(
                    f"{self.environment_name} is locked by {holder.describe()}. "
                    "Run again with --wait-for-lock to wait for it; if that run is gone, remove "
                    f"the lock with: {self.unlock_command}"
                )
            if on_wait is not None and told != holder.run_id:
                on_wait(holder)
                told = holder.run_id
            if cancel.wait(interval):
                from cfngen.deploy.poll import Interrupted

                raise Interrupted("interrupted while waiting for the lock; nothing was changed")

    # --- renewing and releasing ---------------------------------------------------------

    def start_renewal(self, on_lost: Callable[[str], None]) -> None:
        """Renew every `renew_every` seconds in a daemon thread; `on_lost` if it was taken."""
        self._on_lost = on_lost
        thread = threading.Thread(target=self._renew_loop, name="cfngen-lock", daemon=True)
        thread.start()
        # set once started: a SIGTERM between the two would otherwise make release() join a
        # thread that never started ("cannot join thread before it is started")
        self._thread = thread

    def renew(self) -> bool:
        """Push the expiry forward; False (and `lost` set) when the lock is no longer ours."""
        try:
            holder = self.current()
            if holder is None or holder.run_id != self.run_id:
                who = holder.describe() if holder else "nobody (it was removed)"
                self._lose(f"the lock {self.name} was taken away; it is now held by {who}")
                return False
            mine = self._mine(self.clock() + self.expiry)
            self.ssm.put_parameter(
                Name=self.name, Value=mine.to_json(), Type="String", Overwrite=True
            )
            self.held = mine
        except (OperationError, ClientError, BotoCoreError):
            return True  # the endpoint is away for now; the lock stays ours until it expires
        return True

    def _lose(self, reason: str) -> None:
        self.lost_reason = reason
        self.lost.set()
        if self._on_lost is not None:
            self._on_lost(reason)

    def _renew_loop(self) -> None:
        while not self._stop.wait(self.renew_every):
            if not self.renew():
                return

    def release(self) -> str:
        """Stop renewing and remove the lock if it is still ours; a warning when that failed."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        # held, or asked for without an answer (interrupted, connection cut): it may be ours
        ours = self.held or self._sent
        if ours is None or self.lost.is_set():
            return ""
        try:
            holder = self.current()
            if holder is not None and holder.run_id == self.run_id:
                self._delete(self.name)
        except (OperationError, ClientError, BotoCoreError, ResponseParserError) as err:
            return (
                f"could not release the lock {self.name} ({err}); "
                + ("" if self.held else "if this run took it, ")
                + f"it expires by itself at {_iso(ours.expires)}, or remove it now with: "
                f"{self.unlock_command}"
            )
        finally:
            self.held = None
            self._sent = None
        return ""


def remove_lock(ssm: Any, environment_name: str) -> LockInfo | None:
    """`cfngen unlock`: delete the environment's lock; who held it, or None if nobody did."""
    lock = EnvironmentLock(ssm, environment_name, "unlock", unlock_command="")
    holder = lock.current()
    if holder is not None:
        lock._delete(lock.name)
    return holder


def caller_principal(sts: Any) -> str:
    """The caller's IAM ARN, for the lock record; empty when STS cannot say."""
    if sts is None:
        return ""
    with contextlib.suppress(ClientError, BotoCoreError, KeyError):
        return str(sts.get_caller_identity()["Arn"])
    return ""
