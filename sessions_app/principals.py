"""Who is calling, as a plain domain object: API keys and Django logins, both reduced to one
`Principal`. Nothing here knows DRF (its classes are in sessions_app/auth.py), so selectors,
services and the ASGI layer can use it."""

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from functools import cached_property
from typing import Any

from django.db import connections, router
from django.utils import timezone

from sessions_app import raw_reads
from sessions_app.errors import NotFound
from sessions_app.models import (
    DEFAULT_NAMESPACE,
    ApiKey,
    Membership,
    Namespace,
    Organization,
    Workspace,
)

KEY_PREFIX = "dpt_"
# The ApiKey the ASGI request gate (config/request_gate.py) authenticated, in the request's
# scope, so the key is looked up once per request.
SCOPE_API_KEY = "depot.api_key"
# For a `POST /api/uploads/{sid}`: the id of the session row `sid` named for the key when the
# request gate read the key (config/loop_keys.KeyRead), a hint the upload's write starts from.
SCOPE_SESSION_PK = "depot.session_pk"
# Skip the `last_used_at` write when the stored value is this fresh: one write per key a minute.
LAST_USED_RESOLUTION = timedelta(minutes=1)
# Where a superuser's choice of organization is kept in their login session (set from the
# organization admin's "act in this organization" action).
ACTING_ORGANIZATION_SESSION_KEY = "depot.acting_organization"


@dataclass(eq=False)
class Principal:
    """The tenant a request acts for. Views and selectors scope every query through it."""

    organization_id: int
    default_workspace_id: int
    workspace_limit_id: int | None = None
    read_only: bool = False
    api_key_id: int | None = None
    user_id: int | None = None
    # Who did it, for `created_by` fields: "key:<name or prefix>" or "user:<username>".
    label: str = ""

    # DRF and Django check these on `request.user`.
    is_authenticated = True
    is_anonymous = False
    is_active = True

    @property
    def pk(self) -> str:
        return f"key:{self.api_key_id}" if self.api_key_id else f"user:{self.user_id}"

    def can_see_workspace(self, workspace_id: int) -> bool:
        return self.workspace_limit_id is None or self.workspace_limit_id == workspace_id

    @cached_property
    def default_namespace(self) -> Namespace:
        """The default workspace's `default` namespace. A read, never a write:
        `workspace_create` is the one maker of that namespace, so a workspace without one
        (made around it) is a 404 here rather than a row inserted by a GET."""
        namespace = default_namespace_of(self.default_workspace_id)
        if namespace is None:
            raise NotFound("This key's workspace has no default namespace.")
        return namespace


_NAMESPACE_SQL: dict[str, str] = {}


def default_namespace_of(workspace_id: int) -> Namespace | None:
    """`Namespace.objects.select_related("workspace__organization").filter(workspace_id=...,
    slug=DEFAULT_NAMESPACE).first()` (at most one row: the slug is unique in its workspace) as
    one prepared statement: every write by session id resolves it, and the ORM's three-model
    join cost 0.4 ms of CPU to build (issue 11). Read on every request, never cached."""
    chain = (Namespace, Workspace, Organization)
    connection = connections[router.db_for_read(Namespace)]
    fields = [[field.attname for field in model._meta.concrete_fields] for model in chain]
    sql = _NAMESPACE_SQL.get(connection.alias)
    if sql is None:
        columns = ", ".join(
            f"{alias}.{raw_reads.column(model, name, connection)}"
            for alias, model, names in zip("nwo", chain, fields, strict=True)
            for name in names
        )
        n_workspace = raw_reads.column(Namespace, "workspace", connection)
        w_organization = raw_reads.column(Workspace, "organization", connection)
        n_slug = raw_reads.column(Namespace, "slug", connection)
        # Names from the models, values parameters.
        sql = (
            f"SELECT {columns} FROM {raw_reads.table(Namespace, connection)} n"  # noqa: S608
            f" INNER JOIN {raw_reads.table(Workspace, connection)} w ON n.{n_workspace} = w.id"
            f" INNER JOIN {raw_reads.table(Organization, connection)} o"
            f" ON w.{w_organization} = o.id WHERE n.{n_workspace} = %s AND n.{n_slug} = %s"
        )
        _NAMESPACE_SQL[connection.alias] = sql
    with connection.cursor() as cursor:
        cursor.execute(sql, [workspace_id, DEFAULT_NAMESPACE])
        row = cursor.fetchone()
    if row is None:
        return None
    instances = []
    start = 0
    for model, names in zip(chain, fields, strict=True):
        values = raw_reads.convert_row(
            row[start : start + len(names)],
            raw_reads.converters(model, names, connection),
            connection,
        )
        instances.append(model.from_db(connection.alias, names, values))
        start += len(names)
    namespace, workspace, organization = instances
    # What select_related leaves: each related row cached on its parent.
    Workspace._meta.get_field("organization").set_cached_value(workspace, organization)
    Namespace._meta.get_field("workspace").set_cached_value(namespace, workspace)
    return namespace  # type: ignore[return-value]


def hash_secret(raw_key: str) -> str:
    # Keys carry 256 random bits, so a fast hash is enough (as GitHub and Stripe tokens do).
    return hashlib.sha256(raw_key.encode()).hexdigest()


def generate_raw_key() -> tuple[str, str]:
    """Returns (prefix, full key)."""
    prefix = secrets.token_hex(6)
    return prefix, f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"


def principal_for_key(api_key: ApiKey) -> Principal:
    return Principal(
        organization_id=api_key.organization_id,
        default_workspace_id=api_key.default_workspace_id,
        workspace_limit_id=api_key.workspace_id,
        read_only=api_key.read_only,
        api_key_id=api_key.pk,
        label=f"key:{api_key.name or api_key.prefix}",
    )


def api_key_by_prefix(prefix: str) -> ApiKey | None:
    """`ApiKey.objects.filter(prefix=prefix).first()` as one prepared statement: every API
    request makes this read, and building it through the ORM cost 0.47 ms of CPU against
    0.03 ms for the SQL (issue 11). Not cached: a revoked key is refused on its next request."""
    connection = connections[router.db_for_read(ApiKey)]
    fields = [field.attname for field in ApiKey._meta.concrete_fields]
    conversions = raw_reads.converters(ApiKey, fields, connection)
    sql = _KEY_SQL.get(connection.alias)
    if sql is None:
        columns = ", ".join(raw_reads.column(ApiKey, name, connection) for name in fields)
        where = raw_reads.column(ApiKey, "prefix", connection)
        # Names from the model, the prefix a parameter.
        sql = f"SELECT {columns} FROM {raw_reads.table(ApiKey, connection)} WHERE {where} = %s"  # noqa: S608
        _KEY_SQL[connection.alias] = sql
    with connection.cursor() as cursor:
        cursor.execute(sql, [prefix])
        row = cursor.fetchone()
    if row is None:
        return None
    return ApiKey.from_db(
        connection.alias, fields, raw_reads.convert_row(row, conversions, connection)
    )


_KEY_SQL: dict[str, str] = {}
_PLAUSIBLE_KEY_RE = re.compile(r"[\x21-\x7e]{1,256}")


def plausible_key(raw_key: str) -> bool:
    """Keys are short printable ASCII with our prefix; anything else cannot match and must not
    reach the database (PostgreSQL refuses a NUL in a parameter with an error: it was a 500)."""
    return raw_key.startswith(KEY_PREFIX) and bool(_PLAUSIBLE_KEY_RE.fullmatch(raw_key))


def authenticate_raw_key(raw_key: str) -> ApiKey | None:
    """The usable key matching `raw_key`, or None. Compares hashes in constant time."""
    if not plausible_key(raw_key):
        return None
    prefix, _, _ = raw_key[len(KEY_PREFIX) :].partition("_")
    api_key = api_key_by_prefix(prefix)
    if api_key is None or not hmac.compare_digest(api_key.secret_hash, hash_secret(raw_key)):
        return None
    if not api_key.is_usable:
        return None
    now = timezone.now()
    if api_key.last_used_at is None or now - api_key.last_used_at > LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
    return api_key


def raw_key_from_headers(headers: dict[str, str]) -> str | None:
    """`headers` keyed by lower-case name. `X-API-Key` first, then `Authorization: Bearer`."""
    if key := headers.get("x-api-key", "").strip():
        return key
    scheme, _, credentials = headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    return None


def acting_organization_of(session: Any) -> Any:
    """The organization a superuser chose in admin, from their login session (or None)."""
    if session is None:
        return None
    try:
        return session.get(ACTING_ORGANIZATION_SESSION_KEY)
    except Exception:  # a session that cannot be read chooses nothing
        return None


def principal_for_user(user: Any, acting_organization_id: Any = None) -> Principal | None:
    """A logged-in Django user acts in the first organization they are a member of. A
    superuser needs no Membership: they act, with full rights, in the organization chosen in
    admin (`acting_organization_id`, from their login session), else in their first
    membership's, else in the first organization."""
    organization_id, read_only = None, False
    if (
        getattr(user, "is_superuser", False)
        and acting_organization_id is not None
        and Workspace.objects.filter(organization_id=acting_organization_id).exists()
    ):
        organization_id = acting_organization_id
    if organization_id is None:
        membership = (
            Membership.objects.filter(user_id=user.pk).order_by("organization__slug", "id").first()
        )
        if membership is not None:
            organization_id, read_only = membership.organization_id, membership.read_only
        elif getattr(user, "is_superuser", False):
            organization_id = (
                Workspace.objects.order_by("organization__slug")
                .values_list("organization_id", flat=True)
                .first()
            )
    if organization_id is None:
        return None
    workspace = Workspace.objects.filter(organization_id=organization_id).order_by("id").first()
    if workspace is None:
        return None
    return Principal(
        organization_id=organization_id,
        default_workspace_id=workspace.pk,
        read_only=read_only,
        user_id=user.pk,
        label=f"user:{user.get_username()}",
    )
