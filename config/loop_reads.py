"""The seed-000 list (`GET /api/uploads/{sid}`) read on the event loop itself: the key and the
page in one statement, on a connection the loop keeps, with no trip to a thread.

Agents poll this list. After the request gate learnt to answer it (config/gate_reads.py) it
still cost about 0.9 ms of server CPU against 0.13 ms for a bare ASGI app reading the same rows
(issue 11), and only 0.18 ms of that was the key read, the page and its JSON: the rest was the
trip to a database thread and back (futures, wake-ups, GIL hand-offs) and, on PostgreSQL,
Django's pool checkout and return around it. Here:

- SQLite (the embedded default): a connection of the loop's own, `query_only` and with no busy
  wait. A read in WAL mode does not wait for writers; the few pages it reads are in the page
  cache, so the loop is held for tens of microseconds, less than the trip to a thread costs.
  The key's row and the page are two statements in one read transaction (one snapshot).
- PostgreSQL: `LOOP_CONNECTIONS` psycopg `AsyncConnection`s, their statements bounded by a
  timeout. Reads there never wait for row locks, so each serves lists one after another. A
  connection is opened once however many requests wait for it, and a failed open is not
  tried again for `RETRY_SECONDS` (the thread path answers meanwhile).

The statement checks the key as `authenticate_raw_key` does (its hash compared in constant
time, not revoked, not expired) and answers only when the key's `last_used_at` is fresh
enough to need no write. Anything else — no such key, a key to refresh, a session the caller
does not have, any error from the database — returns None, and the gate goes on as before
(the thread path), which answers that case. So this path may only ever say yes sooner.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from operator import itemgetter
from typing import Any

from django.db import connections, router
from django.utils import timezone

from attachments import listing
from attachments.models import Attachment
from config import gate_reads
from config.gate_reads import headers_of, raw_key_of
from config.loop_statements import KEY_FIELDS, statements
from sessions_app import raw_reads
from sessions_app.models import ApiKey
from sessions_app.principals import (
    KEY_PREFIX,
    LAST_USED_RESOLUTION,
    hash_secret,
    plausible_key,
)

logger = logging.getLogger(__name__)
_first = itemgetter(0)

# A statement that takes longer than this on PostgreSQL is cancelled; the request goes on by
# the thread path, which waits as long as Django would.
STATEMENT_TIMEOUT_MS = 2000
# These reads never wait for row locks, only for a table's (a migration's ALTER TABLE): such a
# wait fails this fast instead, and the thread path answers, rather than hold up every read
# queued on the same connection for up to the statement timeout.
LOCK_TIMEOUT_MS = 50
# lock_not_available (the lock timeout), query_canceled (the statement timeout)
KEEP_CONNECTION_ON = frozenset({"55P03", "57014"})
# PostgreSQL connections the loop keeps, besides the pool's (DEPOT_DB_POOL_MAX). With 16
# clients listing, 2 gave 1,489/s, 4 1,610/s and 8 1,775/s (one run, a busy machine): the
# requests queue on a connection's lock, and each connection's statements use one core.
LOOP_CONNECTIONS = 4
# After a failed open (PostgreSQL down, restarting, out of connection slots), a slot's lists go
# by the thread path this long rather than each trying a connection of its own.
RETRY_SECONDS = 1.0


# Called with each statement a reader runs (tests count them, as Django's execute wrappers).
observers: list[Callable[[str], None]] = []
KeyRow = tuple[Any, Any, Any]  # secret_hash, usable_and_fresh, the session's id
Accept = Callable[[KeyRow], bool]


class _KeyBuilder:
    """An `ApiKey` from a `Statements.key` row, converted as `api_key_by_prefix` converts its
    row (the converters are found once, on the Django connection the reader was made from)."""

    def __init__(self, django_connection: Any) -> None:
        self.connection = django_connection
        self.alias = django_connection.alias
        self.conversions = raw_reads.converters(ApiKey, KEY_FIELDS, django_connection)

    def build(self, row: tuple[Any, ...]) -> ApiKey:
        values = raw_reads.convert_row(row[: len(KEY_FIELDS)], self.conversions, self.connection)
        return ApiKey.from_db(self.alias, list(KEY_FIELDS), values)


class _SqliteReader:
    def __init__(self, django_connection: Any) -> None:
        # timeout=0: a read that would wait (a WAL reset in progress) fails at once instead,
        # and the thread path answers.
        self.connection = sqlite3.connect(
            str(django_connection.settings_dict["NAME"]),
            timeout=0,
            isolation_level=None,
            check_same_thread=False,
        )
        self.connection.execute("PRAGMA query_only = ON")
        written = statements(django_connection)
        self.caller = written.caller.replace("%s", "?")
        self.page = {after: sql.replace("%s", "?") for after, sql in written.page.items()}
        self.key = {
            False: written.key.replace("%s", "?"),
            True: written.key_and_session.replace("%s", "?"),
        }
        self.adapt = django_connection.ops.adapt_datetimefield_value
        self.keys = _KeyBuilder(django_connection)

    async def key_row(self, with_session: bool, params: list[Any]) -> tuple[Any, ...] | None:
        """The key's row (`Statements.key`, or `key_and_session`), one autocommit read."""
        sql = self.key[with_session]
        for observe in observers:
            observe(sql)
        row: tuple[Any, ...] | None = self.connection.execute(sql, params).fetchone()
        return row

    async def read(
        self, after_cursor: bool, caller: list[Any], tail: list[Any], accept: Accept
    ) -> tuple[KeyRow | None, list[tuple[Any, ...]]]:
        """The key's row, then the page only if `accept` takes the key, in one transaction: a
        session deleted between two autocommit reads came back as an empty page, a state that
        never was (tests/test_hostile_session7.py)."""
        connection = self.connection
        connection.execute("BEGIN")
        try:
            for observe in observers:
                observe(self.caller)
            key = connection.execute(self.caller, caller).fetchone()
            if key is None or not accept(key):
                return key, []
            sql = self.page[after_cursor]
            for observe in observers:
                observe(sql)
            return key, connection.execute(sql, [key[2], *tail]).fetchall()
        finally:
            try:
                connection.execute("COMMIT")
            except sqlite3.Error:
                close_all()  # a snapshot held on would keep the WAL from being checkpointed

    def close(self) -> None:
        self.connection.close()


class _PostgresReader:
    """`LOOP_CONNECTIONS` connections, each asked in turn: one connection's statements run one
    after another, and PostgreSQL runs each connection's on one core."""

    def __init__(self, django_connection: Any) -> None:
        params = django_connection.get_connection_params()
        params.pop("cursor_factory", None)  # Django's; plain cursors here
        options = params.get("options", "")
        params["options"] = (
            f"{options} -c statement_timeout={STATEMENT_TIMEOUT_MS}"
            f" -c lock_timeout={LOCK_TIMEOUT_MS}"
        ).strip()
        # Prepared once per connection: planning this statement cost PostgreSQL 0.7 ms, more
        # than running it. Only where Depot pools its own connections (DEPOT_DB_POOL): a
        # pooler in between may run each statement on another server connection.
        self.prepare = bool(django_connection.settings_dict["OPTIONS"].get("pool"))
        # (Django's None turns preparing off in psycopg, even when a statement asks for it.)
        params["prepare_threshold"] = 0 if self.prepare else None
        self.params = params
        self.connections: list[Any] = [None] * LOOP_CONNECTIONS
        self.opening: list[Any] = [None] * LOOP_CONNECTIONS  # a slot's connect in progress
        self.retry_at = [0.0] * LOOP_CONNECTIONS
        self.turn = 0
        written = statements(django_connection)
        self.both = written.both
        self.key = {False: written.key, True: written.key_and_session}
        self.adapt = lambda value: value  # psycopg adapts aware datetimes itself
        self.keys = _KeyBuilder(django_connection)

    async def key_row(self, with_session: bool, params: list[Any]) -> tuple[Any, ...] | None:
        """The key's row (`Statements.key`, or `key_and_session`), one statement on the next
        connection."""
        rows = await self._run(self.key[with_session], params)
        return rows[0] if rows else None

    async def read(
        self, after_cursor: bool, caller: list[Any], tail: list[Any], accept: Accept
    ) -> tuple[KeyRow | None, list[tuple[Any, ...]]]:
        """The key's row and the page, in one statement (`accept` is the caller's to ask)."""
        rows = await self._run(self.both[after_cursor], [*caller, *tail])
        key = next((row[1:4] for row in rows if row[0] == 0), None)
        # UNION ALL keeps each part's order in PostgreSQL, but SQL does not promise it.
        page = sorted((row[4:] for row in rows if row[0] == 1), key=_first, reverse=True)
        return key, page

    async def _run(self, sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
        """`sql`'s rows, on the next connection in turn. An error other than a lock or
        statement timeout closes that connection, so the next statement there is prepared
        again on a fresh one: a prepared statement a migration made stale ("cached plan must
        not change result type") fails once, and the thread path answers that request."""
        slot = self.turn = (self.turn + 1) % len(self.connections)
        connection = self.connections[slot]
        if connection is None or connection.closed:
            connection = await self._open(slot)
        for observe in observers:
            observe(sql)
        try:
            cursor = await connection.execute(sql, params, prepare=self.prepare or None)
            rows: list[tuple[Any, ...]] = await cursor.fetchall()
        except BaseException as error:
            # A lock or statement timeout leaves the connection as it was, and the reads queued
            # on it go on; anything else, a fresh connection next time.
            if getattr(error, "sqlstate", None) not in KEEP_CONNECTION_ON or connection.closed:
                self._close(slot, connection)
            raise
        return rows

    async def _open(self, slot: int) -> Any:
        """The slot's new connection, one connect for every request that waits for it (each
        opened its own: 64 lists arriving together opened 64)."""
        if time.monotonic() < self.retry_at[slot]:
            raise ConnectionError("the loop's connection failed to open just now")
        opening = self.opening[slot]
        if opening is None:
            opening = self.opening[slot] = asyncio.ensure_future(self._connect(slot))
        return await asyncio.shield(opening)  # a waiter cancelled leaves the others theirs

    async def _connect(self, slot: int) -> Any:
        import psycopg

        try:
            connection = await psycopg.AsyncConnection.connect(autocommit=True, **self.params)
        except BaseException:
            self.retry_at[slot] = time.monotonic() + RETRY_SECONDS
            raise
        finally:
            self.opening[slot] = None
        self.connections[slot] = connection
        return connection

    def _close(self, slot: int, connection: Any = None) -> None:
        """`connection` (by default the slot's), and the slot emptied if it still holds it: a
        read that failed on a connection replaced meanwhile closed the new one under its user."""
        if connection is None:
            connection = self.connections[slot]
        if self.connections[slot] is connection:
            self.connections[slot] = None
        if connection is not None and not connection.closed:
            # libpq's close is synchronous: it works from any loop, or none.
            connection.pgconn.finish()

    def close(self) -> None:
        for slot in range(len(self.connections)):
            self._close(slot)


class _Current:
    """The one reader in use: a server has one loop and one database; tests run many of each.
    The loop itself is kept, so its id is never another loop's."""

    loop: Any = None
    database = ""
    reader: Any = None
    lock = threading.Lock()


def current_reader() -> Any:
    """The reader for the running loop and the current database (None: no reader for it).
    Another loop's reader is replaced only once that loop has stopped: while it runs, its
    statements may be in flight, and closing their connections from here hung them (a test
    client serving 100 requests at once, each on a loop of its own); this loop's requests go
    by the thread path meanwhile."""
    # The settings, not `connections[alias]`: that is an asgiref Local, whose lookup was a
    # tenth of the list's CPU. (A test database's name is written into the same dict.)
    alias = router.db_for_read(Attachment)
    loop, database = asyncio.get_running_loop(), str(connections.settings[alias]["NAME"])
    current = _Current.loop
    if current is loop and _Current.database == database and _Current.reader is not None:
        return _Current.reader
    with _Current.lock:
        current = _Current.loop
        if current is not None and current is not loop and current.is_running():
            return None
        if current is not loop or _Current.database != database or _Current.reader is None:
            close_all()
            connection = connections[alias]
            if connection.vendor == "sqlite":
                _Current.reader = _SqliteReader(connection)
            elif connection.vendor == "postgresql":
                _Current.reader = _PostgresReader(connection)
            _Current.loop, _Current.database = loop, database
        return _Current.reader


def close_all() -> None:
    """The reader's connections (at shutdown, on another loop, before a test database is
    dropped)."""
    reader, _Current.reader, _Current.loop = _Current.reader, None, None
    if reader is not None:
        with contextlib.suppress(Exception):
            reader.close()


def key_checks(reader: Any, raw_key: str) -> tuple[str, list[Any]]:
    """The secret's hash, and the parameters of the statements' key checks (now, the
    last-used stamp's fresh-since, the hash), adapted for `reader`'s database."""
    now = timezone.now()
    secret = hash_secret(raw_key)
    return secret, [reader.adapt(now), reader.adapt(now - LAST_USED_RESOLUTION), secret]


async def list_page(raw_key: str, wanted: tuple[str, int, int | None]) -> bytes | None:
    """The list's body for a usable, freshly used key and its session; None: the gate goes on
    by the thread path (see the module's docstring)."""
    if not plausible_key(raw_key):
        return None
    session_id, limit, before_id = wanted
    prefix = raw_key[len(KEY_PREFIX) :].partition("_")[0]
    try:
        reader = current_reader()
        if reader is None:
            return None
        secret, checks = key_checks(reader, raw_key)
        caller = [*checks, session_id, session_id, prefix]
        tail = [limit + 1] if before_id is None else [before_id, limit + 1]

        def accept(key: KeyRow) -> bool:
            secret_hash, usable, session_pk = key
            # Not usable or due its last-used stamp, a wrong secret, no such session for this
            # caller: the thread path answers (a 401 or Django's 404, or the page after the
            # stamp).
            return (
                bool(usable)
                and hmac.compare_digest(str(secret_hash), secret)
                and (session_pk is not None)
            )

        key, rows = await reader.read(before_id is not None, caller, tail, accept)
    except Exception:  # the thread path meets the same database and answers its way
        logger.debug("loop read failed; the thread path answers", exc_info=True)
        return None
    if key is None or not accept(key):
        return None
    return listing.render(listing.page(rows, limit))


class LoopAnswers:
    """ASGI middleware for `http`, before the kept-thread binding (config/threads.py) and the
    request gate: the plain keyed list answered here, on the loop; everything else, and any
    list this does not answer, goes on unchanged. The gate's checks that could refuse such a
    request hold here too: the session id is valid (so no NUL), the key plausible and usable,
    no body, no rate limit on keyed reads (`reads_unlimited`), no cookie, plain HTTP."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["method"] == "GET" and scope["path"].startswith(gate_reads.LIST_PREFIX):
            page = await self._page(scope)
            if page is not None:
                await gate_reads.send_page(send, page)
                return
        await self.app(scope, receive, send)

    @staticmethod
    async def _page(scope: dict[str, Any]) -> bytes | None:
        headers = headers_of(scope)
        raw_key = raw_key_of(headers)
        if raw_key is None:
            return None
        wanted = gate_reads.list_request(scope, headers)
        if wanted is None or not gate_reads.reads_unlimited(scope):
            return None
        return await list_page(raw_key, wanted)
