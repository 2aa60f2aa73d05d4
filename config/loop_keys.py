"""The request gate's key check on the event loop (issue 11): every keyed request's API key
in one statement on the loop's own connection (config/loop_reads.py), with, for an upload by
session id, the session it names. The thread path (`authenticate_raw_key`) answers whatever
this does not say yes to."""

from __future__ import annotations

import hmac
import logging
from dataclasses import dataclass

from config.loop_reads import current_reader, key_checks
from config.loop_statements import KEY_FIELDS
from sessions_app.models import ApiKey
from sessions_app.principals import KEY_PREFIX, plausible_key

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class KeyRead:
    """What the loop read for a request: its key, and for an upload by session id by an
    organization-wide key, the id of that key's default workspace's session of that id then
    (None: none, or another kind of key), the row `session_find` chooses first. Only a hint:
    the write takes that row's counter by its id, and looks the session up again only without
    one or if the row is gone by then (sessions_app/services.session_file_add)."""

    api_key: ApiKey
    session_pk: int | None = None


async def usable_key(raw_key: str, session_id: str | None = None) -> KeyRead | None:
    """The key `raw_key` names, read on the loop, when it is usable (its hash compared in
    constant time, not revoked, not expired) and its `last_used_at` fresh enough to need no
    write; None otherwise, and the gate asks `authenticate_raw_key` on its thread, which
    answers that case (a 401, or the stamp written and then the key). So this may only ever
    say yes sooner. The thread path's read was about 1.1 ms of a 1 MiB upload's wall time on
    the production profile (a trip to a thread, Django's pool checkout, and PostgreSQL
    planning an unprepared statement: issue 11). With `session_id` (a valid one), the same
    statement also reads the session that id names for the key."""
    if not plausible_key(raw_key):
        return None
    prefix = raw_key[len(KEY_PREFIX) :].partition("_")[0]
    with_session = session_id is not None
    try:
        reader = current_reader()
        if reader is None:
            return None
        secret, params = key_checks(reader, raw_key)
        params += [session_id, prefix] if with_session else [prefix]
        row = await reader.key_row(with_session, params)
        if row is None or not row[len(KEY_FIELDS)]:
            return None
        api_key: ApiKey = reader.keys.build(row)
    except Exception:  # the thread path meets the same database and answers its way
        logger.debug("loop key read failed; the thread path answers", exc_info=True)
        return None
    if not hmac.compare_digest(api_key.secret_hash, secret) or not api_key.is_usable:
        return None
    session_pk = row[-1] if with_session else None
    return KeyRead(api_key, None if session_pk is None else int(session_pk))
