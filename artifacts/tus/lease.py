"""One writer per upload: a lease in its row, tied to the process that holds it.

A PATCH claims the upload with a fresh token and names its holder: this process's identity
(host name, kernel boot, pid namespace, pid and the pid's start time). While the PATCH lives, a
helper thread renews the lease every HEARTBEAT_SECONDS (and records the PATCH's checkpoints,
writing.py), so a lease runs out LEASE_SECONDS after its process stops renewing it.

A lease is free when it ran out, or at once when its holder is known to be dead: a process on
this machine (same host, boot and pid namespace) whose pid is gone or now belongs to a process
started at another time. A server restarted after a SIGKILL therefore takes over the dead
PATCH's upload on its first PATCH, without waiting. A holder on another machine is waited for
(at most LEASE_SECONDS). The takeover is a compare-and-set on the dead token, so two claimers
cannot both win, and a writer that finds its token gone stops before it writes again.

A client that stops sending keeps its lease for IDLE_SECONDS (a slow network is not a dead
one); then the renewals stop and another PATCH can have the upload LEASE_SECONDS later."""

import contextlib
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.db import DatabaseError, connection, connections
from django.db.models import Q
from django.utils import timezone

from artifacts.tus.models import TusState, TusUpload
from artifacts.tus.protocol import TusError

logger = logging.getLogger(__name__)

LEASE_SECONDS = 10
HEARTBEAT_SECONDS = 2
IDLE_SECONDS = 30
LOCKED = "Another request is writing this upload; retry shortly."
# A write needs a lease renewed this recently (the rest of LEASE_SECONDS is the margin).
VALID_SECONDS = LEASE_SECONDS - 3


def _read(path: str) -> str:
    try:
        with open(path) as opened:
            return opened.read().strip()
    except OSError:
        return ""


def _start_time(pid: int) -> str:
    """The process's start time in clock ticks since boot (/proc/<pid>/stat, field 22)."""
    stat = _read(f"/proc/{pid}/stat")
    if not stat:
        return ""
    return stat.rsplit(")", 1)[-1].split()[19]


def _pid_namespace() -> str:
    try:
        return os.readlink("/proc/self/ns/pid")
    except OSError:
        return ""


def _machine() -> str:
    return f"{socket.gethostname()}|{_read('/proc/sys/kernel/random/boot_id')}|{_pid_namespace()}"


def identity() -> str:
    """This process as a lease holder: `machine|pid|start time`."""
    pid = os.getpid()
    return f"{_machine()}|{pid}|{_start_time(pid)}"


_active: set[str] = set()  # the tokens this process's writers hold


def holder_dead(holder: str, token: str) -> bool:
    """True only when `holder` is certainly not running: a process of this machine that is
    gone, or this process with no request holding `token` (claimed and not yet released)."""
    machine, _, process = holder.rpartition("|")
    machine, _, pid_text = machine.rpartition("|")
    start = process
    if not pid_text.isdigit() or not start or machine != _machine() or "||" in f"|{machine}|":
        return False  # another machine, or one whose processes cannot be told apart
    pid = int(pid_text)
    if pid == os.getpid() and start == _start_time(pid):
        return token not in _active
    return _start_time(pid) != start


def claim(upload: TusUpload) -> str:
    """The upload's lease for a new writer, or 423 while a live writer holds it."""
    token = uuid.uuid4().hex
    now = timezone.now()
    free = Q(lease_token="") | Q(lease_until__lt=now)
    held = TusUpload.objects.filter(pk=upload.pk).values("lease_token", "lease_holder").first()
    if held and held["lease_token"] and holder_dead(held["lease_holder"], held["lease_token"]):
        free |= Q(lease_token=held["lease_token"])  # the dead writer's, exactly
        logger.info("tus upload %s: taking over a dead writer's lease", upload.uid)
    taken = (
        TusUpload.objects.filter(pk=upload.pk, state=TusState.OPEN)
        .filter(free)
        .update(
            lease_token=token,
            lease_holder=identity(),
            lease_until=now + timedelta(seconds=LEASE_SECONDS),
            reserved=0,  # a dead writer's reservation is not ours
        )
    )
    if not taken:
        raise TusError(423, LOCKED, {"Retry-After": "1"})
    _active.add(token)  # held by this process until released
    return token


def release(upload: TusUpload, token: str, **fields: Any) -> None:
    try:
        TusUpload.objects.filter(pk=upload.pk, lease_token=token).update(
            lease_token="", lease_holder="", lease_until=None, **fields
        )
    finally:
        _active.discard(token)


def renew(upload: TusUpload, token: str, **fields: Any) -> bool:
    until = timezone.now() + timedelta(seconds=LEASE_SECONDS)
    return bool(
        TusUpload.objects.filter(pk=upload.pk, lease_token=token).update(
            lease_until=until, **fields
        )
    )


class Lease:
    """A claimed upload's lease while its PATCH runs, and the PATCH's helper thread: it renews
    the lease and runs the jobs it is handed (checkpoint records), in order."""

    def __init__(self, upload: TusUpload, token: str) -> None:
        self.upload, self.token = upload, token
        self.valid_until = time.monotonic() + VALID_SECONDS
        self.lost = False
        self.waiting_since: float | None = None  # set while the writer waits for the client
        self._jobs: list[Callable[[], None]] = []
        self._error: BaseException | None = None
        self._wake = threading.Condition()
        self._stopping = False
        self._busy = False
        self._thread = threading.Thread(target=self._run, name="tus-lease", daemon=True)
        self._thread.start()

    # -- the writer's side
    def check(self) -> None:
        """Before a write: 423 unless the lease is surely still ours."""
        if self._error is not None:
            error, self._error = self._error, None
            raise error
        if self.lost:
            raise TusError(423, LOCKED)
        if time.monotonic() > self.valid_until:
            self.renew()  # a stalled client's lease may have run out; ours while nobody took it

    def renew(self, **fields: Any) -> None:
        began = time.monotonic()
        if not renew(self.upload, self.token, **fields):
            self.lost = True
            raise TusError(423, LOCKED)
        self.valid_until = max(self.valid_until, began + VALID_SECONDS)

    def submit(self, job: Callable[[], None]) -> bool:
        """Run `job` on the helper thread; False (not queued) while an earlier one runs."""
        with self._wake:
            if self._jobs or self._busy:
                return False
            self._jobs.append(job)
            self._wake.notify()
            return True

    def drain(self) -> None:
        """Wait for the queued jobs; raise what one of them raised."""
        with self._wake:
            while self._jobs or self._busy:
                self._wake.wait()
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def close(self) -> None:
        with self._wake:
            self._stopping = True
            self._wake.notify()
        self._thread.join(30)

    # -- the helper thread
    def _run(self) -> None:
        try:
            while True:
                with self._wake:
                    if not self._jobs and not self._stopping:
                        self._wake.wait(HEARTBEAT_SECONDS)
                    if self._stopping and not self._jobs:
                        return
                    job = self._jobs.pop(0) if self._jobs else None
                    self._busy = job is not None
                try:
                    if job is not None:
                        job()
                    elif not self._idle():
                        self._beat()
                except BaseException as error:  # handed to the writer
                    self._error = error
                finally:
                    if connection.vendor != "sqlite":
                        # Back to the pool between uses: a PATCH holds one connection, not two.
                        connections.close_all()
                    with self._wake:
                        self._busy = False
                        self._wake.notify_all()
        finally:
            connections.close_all()  # this thread's connections only

    def _idle(self) -> bool:
        waiting = self.waiting_since
        return waiting is not None and time.monotonic() - waiting > IDLE_SECONDS

    def _beat(self) -> None:
        if self.lost:
            return
        began = time.monotonic()
        try:
            if not renew(self.upload, self.token):
                self.lost = True
                return
        except DatabaseError:
            logger.warning("could not renew a tus lease", exc_info=True)
            with contextlib.suppress(DatabaseError):
                connections.close_all()
            return
        self.valid_until = max(self.valid_until, began + VALID_SECONDS)
