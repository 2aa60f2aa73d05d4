"""Django's SQLite backend with an in-process writer queue.

SQLite has one writer at a time. Django begins every transaction `IMMEDIATE` (settings), so a
second writer's BEGIN waits in SQLite's busy handler, which sleeps in steps of up to 100 ms
and looks again: a writer could sleep long after the lock was free, and under 8 concurrent
uploads that was the 551 ms p99 (issue 11). Here the writers of one process queue in arrival
order before BEGIN, and each commit or rollback hands the turn to the one that waited
longest, at once. Another process (the embedded task worker, `manage.py` commands) still
meets SQLite's own lock and busy handler, as before.

Engine `config.sqlite` (set by config/settings.py for a `sqlite:` DATABASE_URL); its vendor and
everything else are Django's sqlite3 backend.
"""

import threading
from collections import deque
from typing import Any

from django.db.backends.sqlite3 import base
from django.db.utils import OperationalError


class WriterQueue:
    """A FIFO lock: `acquire` in arrival order, `release` hands over to the longest waiter."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiting: deque[threading.Event] = deque()
        self._held = False

    def acquire(self, timeout: float) -> bool:
        with self._lock:
            if not self._held and not self._waiting:
                self._held = True
                return True
            turn = threading.Event()
            self._waiting.append(turn)
        if turn.wait(timeout):
            return True
        with self._lock:
            if turn.is_set():  # handed over while the wait timed out
                return True
            self._waiting.remove(turn)
            return False

    def release(self) -> None:
        with self._lock:
            if self._waiting:
                self._waiting.popleft().set()  # the turn passes on; the queue stays held
            else:
                self._held = False


_queues: dict[str, WriterQueue] = {}
_queues_lock = threading.Lock()


def writer_queue(database: str) -> WriterQueue:
    """The queue of one database file (tests and the benchmark may open more than one)."""
    with _queues_lock:
        return _queues.setdefault(database, WriterQueue())


class DatabaseWrapper(base.DatabaseWrapper):
    holds_writer_turn = False

    def _writer_queue(self) -> WriterQueue:
        return writer_queue(str(self.settings_dict["NAME"]))

    def _start_transaction_under_autocommit(self) -> None:
        timeout = float(self.settings_dict.get("OPTIONS", {}).get("timeout", 5))
        if not self._writer_queue().acquire(timeout):
            raise OperationalError("database is locked (no turn in the writer queue)")
        self.holds_writer_turn = True
        try:
            super()._start_transaction_under_autocommit()  # type: ignore[misc]
        except BaseException:
            self._end_turn()
            raise

    def _end_turn(self) -> None:
        if self.holds_writer_turn:
            self.holds_writer_turn = False
            self._writer_queue().release()

    def _commit(self) -> Any:
        try:
            return super()._commit()  # type: ignore[misc]
        finally:
            self._end_turn()

    def _rollback(self) -> Any:
        try:
            return super()._rollback()  # type: ignore[misc]
        finally:
            self._end_turn()

    def _close(self) -> Any:
        try:
            return super()._close()  # type: ignore[misc]
        finally:
            self._end_turn()
