"""Writes for tenancy, sessions and API keys. Each service is atomic on its own."""

from collections.abc import Callable
from datetime import datetime
from typing import Any, cast

from django.conf import settings
from django.db import DatabaseError, IntegrityError, OperationalError, models, transaction
from django.utils import timezone

from sessions_app.audit import Actor, audit_record
from sessions_app.errors import Conflict, InvalidInput, NotFound
from sessions_app.events import EventDraft, event_append, events_append_to_namespace
from sessions_app.locks import FileAdded, session_file_added, session_for_update
from sessions_app.models import (
    DEFAULT_NAMESPACE,
    ApiKey,
    AuditAction,
    Event,
    EventKind,
    Namespace,
    Organization,
    Session,
    SessionStatus,
    Workspace,
)
from sessions_app.principals import Principal, generate_raw_key, hash_secret
from sessions_app.selectors import session_find
from sessions_app.signals import session_completed, session_deleting


@transaction.atomic
def organization_create(*, slug: str, name: str = "") -> Organization:
    organization = Organization(slug=slug, name=name or slug)
    organization.full_clean()
    organization.save()
    return organization


@transaction.atomic
def workspace_create(*, organization: Organization, slug: str, name: str = "") -> Workspace:
    """A workspace always comes with its `default` namespace."""
    workspace = Workspace(organization=organization, slug=slug, name=name or slug)
    workspace.full_clean()
    workspace.save()
    Namespace.objects.create(workspace=workspace, slug=DEFAULT_NAMESPACE)
    return workspace


@transaction.atomic
def namespace_create(*, workspace: Workspace, slug: str) -> Namespace:
    namespace = Namespace(workspace=workspace, slug=slug)
    namespace.full_clean()
    namespace.save()
    return namespace


@transaction.atomic
def api_key_create(
    *,
    organization: Organization,
    default_workspace: Workspace,
    limit_to_workspace: bool = False,
    read_only: bool = False,
    expires_at: datetime | None = None,
    name: str = "",
    actor: Actor = None,
) -> tuple[ApiKey, str]:
    """Create a key; returns the row and the raw key, which is never stored or shown again."""
    if default_workspace.organization_id != organization.pk:
        raise InvalidInput.single(["workspace"], "The workspace belongs to another organization.")
    prefix, raw_key = generate_raw_key()
    api_key = ApiKey.objects.create(
        organization=organization,
        default_workspace=default_workspace,
        workspace=default_workspace if limit_to_workspace else None,
        read_only=read_only,
        expires_at=expires_at,
        name=name,
        prefix=prefix,
        secret_hash=hash_secret(raw_key),
    )
    audit_record(
        action=AuditAction.API_KEY_CREATED,
        actor=actor,
        organization_id=organization.pk,
        target=f"key:{prefix}",
        detail={
            "name": name,
            "read_only": read_only,
            "workspace": default_workspace.slug,
            "limited_to_workspace": limit_to_workspace,
        },
    )
    return api_key, raw_key


@transaction.atomic
def api_key_revoke(*, api_key: ApiKey, actor: Actor = None) -> ApiKey:
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at"])
        audit_record(
            action=AuditAction.API_KEY_REVOKED,
            actor=actor,
            organization_id=api_key.organization_id,
            target=f"key:{api_key.prefix}",
        )
    return api_key


@transaction.atomic
def api_key_rotate(*, api_key: ApiKey, actor: Actor = None) -> tuple[ApiKey, str]:
    """Replace a key by a new one with the same name, scope and expiry, and revoke the old
    one; returns the new row and its raw key (shown once)."""
    if api_key.revoked_at is not None:
        raise Conflict("A revoked key cannot be rotated.")
    new_key, raw_key = api_key_create(
        organization=api_key.organization,
        default_workspace=api_key.default_workspace,
        limit_to_workspace=api_key.workspace_id is not None,
        read_only=api_key.read_only,
        expires_at=api_key.expires_at,
        name=api_key.name,
        actor=actor,
    )
    api_key_revoke(api_key=api_key, actor=actor)
    audit_record(
        action=AuditAction.API_KEY_ROTATED,
        actor=actor,
        organization_id=api_key.organization_id,
        target=f"key:{api_key.prefix}",
        detail={"replaced_by": f"key:{new_key.prefix}"},
    )
    return new_key, raw_key


@transaction.atomic
def session_create(
    *,
    organization_id: int,
    namespace: Namespace,
    session_id: str | None = None,
    reference: str = "",
    user_reference: str = "",
    workflow_id: str = "",
    metadata: dict[str, Any] | None = None,
) -> Session:
    """Create a session in `namespace`; an id already taken in the namespace's workspace is a
    409. Ids are unique per workspace, so the same id in another workspace is no conflict (and
    a workspace-limited key learns nothing of the other workspaces' ids)."""
    try:
        with transaction.atomic():
            return Session.objects.create(
                organization_id=organization_id,
                namespace=namespace,
                session_id=session_id or Session.mint_id(),
                reference=reference,
                user_reference=user_reference,
                workflow_id=workflow_id,
                metadata=metadata or {},
            )
    except IntegrityError as error:
        raise Conflict(f"Session '{session_id}' already exists.") from error


@transaction.atomic
def session_get_or_create(
    *, organization_id: int, namespace: Namespace, session_id: str, **defaults: Any
) -> Session:
    """Writing into an unknown session id creates it (as the seed-000 server does). Keyed by
    the namespace's workspace and the id: a session of that id in another workspace is neither
    found nor in the way. An existing one may be in another namespace of the workspace."""
    lookup = {"workspace_id": namespace.workspace_id, "session_id": session_id}
    try:
        with transaction.atomic():
            session, _ = Session.objects.get_or_create(
                **lookup,
                defaults={"organization_id": organization_id, "namespace": namespace, **defaults},
            )
    except IntegrityError:
        # Another request created it between our SELECT and INSERT.
        session = Session.objects.get(**lookup)
    return session


def session_get_or_create_for(
    *, principal: Principal, namespace: Namespace, session_id: str, **defaults: Any
) -> Session:
    """`session_get_or_create` for a caller, in a namespace it resolved (so one it can see).
    Whatever other workspaces hold, the answer is the same: no 404 or 409 from their ids.

    An organization-wide caller writing by id into its default namespace (the surfaces with no
    namespace in the path) writes into the session that id resolves to for its reads and
    watchers (`selectors.session_find`), wherever it is, and creates one in the default
    namespace only when none exists; a write and a watcher of the same id never diverge."""
    if not principal.can_see_workspace(namespace.workspace_id):
        raise NotFound("Namespace not found.")  # callers resolve the namespace; a safety net
    if principal.workspace_limit_id is None and namespace.pk == principal.default_namespace.pk:
        existing = session_find(principal=principal, session_id=session_id)
        if existing is not None:
            return existing
    return session_get_or_create(
        organization_id=principal.organization_id,
        namespace=namespace,
        session_id=session_id,
        **defaults,
    )


def session_get_or_create_by_id(*, principal: Principal, session_id: str) -> Session:
    """`session_get_or_create_for` in the caller's default namespace (the surfaces with no
    namespace in the path), reading that namespace only when it is needed: a key limited to a
    workspace, or no session of this id yet. Writes into an existing session (most of them)
    make one statement fewer, the namespace's three-table read (issue 11)."""
    if principal.workspace_limit_id is None:
        existing = session_find(principal=principal, session_id=session_id)
        if existing is not None:
            return existing
    namespace = principal.default_namespace
    if not principal.can_see_workspace(namespace.workspace_id):
        raise NotFound("Namespace not found.")  # as session_get_or_create_for
    return session_get_or_create(
        organization_id=principal.organization_id, namespace=namespace, session_id=session_id
    )


@transaction.atomic
def session_update(*, session: Session, **fields: Any) -> Session:
    allowed = {"reference", "user_reference", "workflow_id", "metadata"}
    unknown = set(fields) - allowed
    if unknown:
        raise InvalidInput.single(["body", sorted(unknown)[0]], "This field cannot be changed.")
    for name, value in fields.items():
        setattr(session, name, value)
    try:
        session.save(update_fields=[*fields, "updated_at"])
    except DatabaseError as error:
        # Django's own "did not affect any rows" (not a subclass from the driver): the session
        # was deleted since the caller read it.
        if type(error) is not DatabaseError:
            raise
        raise NotFound("The session was deleted.") from error
    return session


@transaction.atomic
def session_complete(
    *, session: Session, status: SessionStatus = SessionStatus.COMPLETED
) -> Session:
    """Mark a session finished. Completing a finished session again changes nothing."""
    locked = session_for_update(session.pk)
    if locked.status != SessionStatus.ACTIVE:
        return locked
    locked.status = status
    locked.completed_at = timezone.now()
    locked.save(update_fields=["status", "completed_at", "updated_at"])
    session_completed.send(sender=Session, session=locked)
    event_append(session=locked, kind=EventKind.SESSION_COMPLETED)
    return locked


# A delete that finds a row of its session held (the NOWAIT unlink below) rolls back and starts
# again, at most this many attempts in all; the last one's lock error is a 503 (Retry-After).
SESSION_DELETE_ATTEMPTS = 3
LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL's SQLSTATE for a NOWAIT lock refused


class _SessionRowHeld(Exception):
    """An attempt of `session_delete` found a row of the session locked by another writer."""


def _unlink_survivors(session: Session, *, nowait: bool = False) -> None:
    """Rows that outlive the session (artifacts, events) let go of it. Run before the session
    row is locked: artifact rows come before sessions in the lock order (sessions_app/locks.py).
    Found through the reverse relations, so this app imports none of the apps above it.

    `nowait`: again under the session's lock, for the rows linked since (an artifact committed
    between the first pass and the lock), which a writer may hold while it waits on the session
    row: the rows are taken with NOWAIT, and one held raises (LockNotAvailable) instead of
    waiting in a cycle. Events are left out of this pass: no writer locks an event row, so the
    collector's update of a late one waits on nobody."""
    skipped = Event if nowait else None
    for relation in Session._meta.related_objects:
        if relation.on_delete is models.SET_NULL and relation.related_model is not skipped:
            name = relation.field.name
            manager = relation.related_model._base_manager
            # The rows locked in id order (a subquery's FOR UPDATE ... ORDER BY), still one
            # statement: a plain UPDATE locks them in the order it finds them (on disk), which
            # may put an artifact's latest version before its root (an older row) and deadlock
            # with a version write holding the root (root → latest).
            locked = (
                manager.filter(**{name: session}).order_by("pk").select_for_update(nowait=nowait)
            )
            manager.filter(pk__in=locked.values("pk")).update(**{name: None})


def session_delete(*, session: Session, actor: Actor = None) -> None:
    """Delete a session with its files. The log is append-only: the session's events stay in
    its namespace's feed, and each file that goes with it gets its deletion event there (the
    session's own log goes with the session, so these are in the namespace feed only).

    An attempt that finds a row of the session held under the session's lock rolls back (its
    transaction, or its savepoint inside a caller's) and the delete starts again: its first
    unlink then waits, before the session lock, for the writer holding the row, which was
    waiting on the session row. The common path is one attempt, no savepoint of its own."""
    for attempt in range(1, SESSION_DELETE_ATTEMPTS + 1):
        try:
            _session_delete(session, actor, may_retry=attempt < SESSION_DELETE_ATTEMPTS)
        except _SessionRowHeld:
            continue
        return


@transaction.atomic
def _session_delete(session: Session, actor: Actor, *, may_retry: bool) -> None:
    _unlink_survivors(session)
    # Under the session's lock no upload can add a file the receivers would miss, and no row
    # can link to the session any more (its INSERT or UPDATE would take KEY SHARE on it).
    session_for_update(session.pk)
    if transaction.get_connection().features.has_select_for_update_nowait:
        # PostgreSQL: the rows linked between the unlink and the lock (SQLite's writers take
        # the database's write lock at BEGIN: none there). Normally none, one statement.
        try:
            _unlink_survivors(session, nowait=True)
        except OperationalError as error:
            if may_retry and getattr(error.__cause__, "sqlstate", None) == LOCK_NOT_AVAILABLE:
                raise _SessionRowHeld from error
            raise
    owed: list[EventDraft] = []
    for _, drafts in session_deleting.send(sender=Session, session=session):
        # django-stubs types a receiver's answer as str; these receivers return draft lists.
        owed.extend(cast("list[EventDraft]", drafts) or [])
    namespace_id, public_id = session.namespace_id, session.session_id
    session.delete()
    audit_record(
        action=AuditAction.SESSION_DELETED,
        actor=actor,
        organization_id=session.organization_id,
        target=public_id,
        detail={"files_deleted": len(owed)},
    )
    events_append_to_namespace(namespace_id=namespace_id, drafts=owed, session_public_id=public_id)


def session_file_add(
    *, session_lookup: Callable[[], Session], session_pk: int | None = None
) -> tuple[Session, FileAdded]:
    """One more file in a session (an upload's, inside its transaction, after the blob's lock),
    or Conflict at the limit, by one UPDATE ... RETURNING of its counter (also its lock,
    sessions_app/locks.py; a COUNT(*) grew with the session), which also numbers the event
    and reads the quota. `session_pk`: the row the caller read before
    the upload (config/loop_keys.KeyRead), taken by its id with no session read; the lookup
    runs only without it or when that row is gone. Returns the lookup's row (for a hint, the
    row as the statement returned it, other columns deferred) and what was taken."""
    added = None
    if session_pk is not None:
        try:
            added = session_file_added(session_pk)
            session = added.as_session(session_pk)
        except NotFound:
            added = None  # an UPDATE of no row: the transaction goes on
    if added is None:
        session = session_lookup()  # passed on: its id, tenancy and public id do not change
        added = session_file_added(session.pk)
    limit = settings.DEPOT_MAX_FILES_PER_SESSION
    if added.count > limit > 0:
        # The transaction's rollback takes the count back.
        raise Conflict(f"Session '{session.session_id}' already holds {limit} files.")
    return session, added
