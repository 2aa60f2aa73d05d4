"""The long-poll's answer, whatever carried the request: the Channels consumer that serves it
in production (sessions_app/consumers.py) and the async Django views that serve it elsewhere
and carry its schema (sessions_app/api/event_views.py). Authentication, the query contract
(`EventQuery`) and which feed a path names live here, so neither transport imports the other."""

from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import sync_to_async
from rest_framework import serializers

from sessions_app import selectors
from sessions_app.api.common import StrictSerializer, validated
from sessions_app.errors import DepotError, error_body
from sessions_app.events.feeds import EventFilter, Feed, release_connection
from sessions_app.events.waiting import events_wait
from sessions_app.models import ApiKey
from sessions_app.principals import (
    Principal,
    acting_organization_of,
    authenticate_raw_key,
    principal_for_key,
    principal_for_user,
    raw_key_from_headers,
)


class NotAuthenticated(DepotError):
    status_code = 401
    default_detail = "Authentication credentials were not provided."


class Forbidden(DepotError):
    status_code = 403


class EventQuery(StrictSerializer):
    after = serializers.IntegerField(
        min_value=0, default=0, help_text="Return events after this cursor."
    )
    wait_seconds = serializers.FloatField(min_value=0, max_value=60, default=25)
    include_mime = serializers.CharField(required=False, help_text="Comma list of MIME prefixes.")
    include_ext = serializers.CharField(
        required=False, help_text="Comma list of extensions, no dot."
    )
    max_size = serializers.IntegerField(min_value=0, required=False)
    limit = serializers.IntegerField(min_value=1, max_value=200, default=50)


def _authenticate_key(raw_key: str) -> Principal | None:
    try:
        api_key = authenticate_raw_key(raw_key)
        return principal_for_key(api_key) if api_key else None
    finally:
        release_connection()


def _principal_of_user(user: Any, session: Any = None) -> Principal | None:
    try:
        # A superuser acts in the organization chosen in admin (their login session).
        return principal_for_user(user, acting_organization_of(session))
    finally:
        release_connection()


async def principal_for_credentials(
    headers: dict[str, str],
    load_user: Callable[[], Awaitable[Any]],
    session: Any = None,
    checked_key: ApiKey | None = None,
) -> Principal:
    """The caller: the key the request gate already checked (`checked_key`), else one from
    `x-api-key`/`authorization` (lower-case names), else a logged-in user."""
    if checked_key is not None:
        return principal_for_key(checked_key)
    raw_key = raw_key_from_headers(headers)
    if raw_key is not None:
        principal = await sync_to_async(_authenticate_key, thread_sensitive=False)(raw_key)
        if principal is None:
            raise NotAuthenticated("Invalid, revoked or expired API key.")
        return principal
    user = await load_user()
    if user is None or not user.is_authenticated:
        raise NotAuthenticated()
    principal = await sync_to_async(_principal_of_user, thread_sensitive=False)(user, session)
    if principal is None:
        raise Forbidden("This account is not a member of any organization.")
    return principal


def _comma_list(value: str | None) -> tuple[str, ...]:
    return tuple(part.strip().lower() for part in (value or "").split(",") if part.strip())


def _filters(params: dict[str, Any]) -> EventFilter:
    return EventFilter(
        mime_prefixes=_comma_list(params.get("include_mime")),
        extensions=tuple(ext.lstrip(".") for ext in _comma_list(params.get("include_ext"))),
        max_size=params.get("max_size"),
    )


FeedFor = Callable[[Principal], Awaitable[Feed]]


async def answer_long_poll(
    *,
    method: str,
    headers: dict[str, str],
    query: dict[str, str],
    load_user: Callable[[], Awaitable[Any]],
    feed_for: FeedFor,
    session: Any = None,
    checked_key: ApiKey | None = None,
) -> tuple[int, dict[str, Any], dict[str, str]]:
    """The long-poll, whatever carried the request: (status, JSON body, extra headers)."""
    try:
        if method not in ("GET", "HEAD"):
            return 405, error_body(f'Method "{method}" not allowed.'), {"Allow": "GET"}
        principal = await principal_for_credentials(headers, load_user, session, checked_key)
        params = validated(EventQuery, query, location="query")
        feed = await feed_for(principal)
        page, timed_out = await events_wait(
            feed=feed,
            after=params["after"],
            limit=params["limit"],
            filters=_filters(params),
            wait_seconds=params["wait_seconds"],
        )
    except NotAuthenticated as error:
        return 401, error_body(error), {"WWW-Authenticate": 'Bearer realm="depot"'}
    except DepotError as error:
        return error.status_code, error_body(error), {}
    body = {
        "events": page.events,
        "next_cursor": page.next_cursor,
        "has_more": page.has_more,
        "timed_out": timed_out,
    }
    return 200, body, {}


def session_feed(session_id: str) -> FeedFor:
    """A session that has no events yet, or does not exist yet where the caller would look, is
    waited on rather than refused, so a watcher can subscribe before the first write. The feed
    is the session of that id in the watcher's workspace (selectors.session_watch_workspace),
    so a session of the same id in another workspace never reaches it."""

    async def feed_for(principal: Principal) -> Feed:
        selectors.validate_session_id(session_id)
        workspace_id = await sync_to_async(_watch_workspace, thread_sensitive=False)(
            principal, session_id
        )
        return Feed(workspace_id=workspace_id, session_id=session_id)

    return feed_for


def _watch_workspace(principal: Principal, session_id: str) -> int:
    if principal.workspace_limit_id is not None:
        return principal.workspace_limit_id  # no query, no connection to hand back
    try:
        return selectors.session_watch_workspace(principal=principal, session_id=session_id)
    finally:
        release_connection()


def namespace_feed(org: str, ws: str, ns: str) -> FeedFor:
    async def feed_for(principal: Principal) -> Feed:
        namespace_id = await sync_to_async(_namespace_id, thread_sensitive=False)(
            principal, org, ws, ns
        )
        return Feed(namespace_id=namespace_id)

    return feed_for


def _namespace_id(principal: Principal, org: str, ws: str, ns: str) -> int:
    try:
        return selectors.namespace_get(principal=principal, org=org, workspace=ws, namespace=ns).pk
    finally:
        release_connection()
