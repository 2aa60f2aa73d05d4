"""Reads for artifacts: tenant scope, id resolution, lists, lineage."""

import re
from datetime import datetime
from typing import Any

from django.db.models import Count, F, QuerySet, Sum
from django.db.models.lookups import StartsWith

from artifacts import hot_reads
from artifacts.models import Artifact
from sessions_app.errors import Conflict, InvalidInput, NotFound
from sessions_app.models import Namespace, Session, artifact_id_of_version_file
from sessions_app.principals import Principal

LIST_RELATED = ("namespace__workspace", "root", "thread", "session", "promoted_to_source", "blob")


def with_list_related(queryset: QuerySet[Artifact]) -> QuerySet[Artifact]:
    """What an answer about artifacts reads, in the same query: the related rows it names.
    (An annotation of the root's public id instead of the root row was tried: the lists' COUNT
    then joined the root for every artifact, 132 ms at 100,000.)"""
    return queryset.select_related(*LIST_RELATED)


LINEAGE_DEPTH = 20


def artifact_scope(*, principal: Principal) -> QuerySet[Artifact]:
    queryset = Artifact.objects.filter(
        namespace__workspace__organization_id=principal.organization_id
    )
    if principal.workspace_limit_id is not None:
        queryset = queryset.filter(namespace__workspace_id=principal.workspace_limit_id)
    return queryset


# Seed 001's CLI prints the first 12 characters of an id (`art_` and 8 hex digits) and takes
# them back; a prefix must be at least this long to stand for an id.
ID_PREFIX_MIN_LENGTH = 8
# What a prefix can hold: the characters of minted ids (`art_<hex>`), at most a whole id.
_ID_PREFIX = re.compile(rf"[A-Za-z0-9_-]{{{ID_PREFIX_MIN_LENGTH},40}}")


class IdPrefix(StartsWith):
    """`lhs` starts with `rhs`, case-sensitively, as a range search of the column's index on
    both databases. PostgreSQL: `LIKE 'prefix%'`, which outside the C locale too uses the
    `varchar_pattern_ops` index Django makes beside a unique varchar column (the `_like`
    index). SQLite's LIKE is case-insensitive, so it never uses a BINARY index; GLOB is
    case-sensitive, as PostgreSQL's LIKE is, and searches the unique index. Without ANALYZE
    statistics SQLite would rather walk the tenant's joins and read each of the tenant's
    artifacts (22 ms at 20,000); likelihood() tells it the prefix matches almost nothing,
    which it does (8 characters of a minted id leave 1 in 65,536). The prefix's `*`, `?`
    and `[` are matched literally."""

    def as_sqlite(self, compiler: Any, connection: Any) -> tuple[str, tuple[Any, ...]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        pattern = re.sub(r"([*?\[])", r"[\1]", str(self.rhs)) + "*"
        return f"likelihood({lhs} GLOB %s, 0.0001)", (*lhs_params, pattern)


def artifact_prefix_matches(*, scope: QuerySet[Artifact], prefix: str) -> QuerySet[Artifact]:
    """At most two versions in `scope` whose ids start with `prefix` (two say: ambiguous)."""
    return scope.filter(IdPrefix(F("artifact_id"), prefix)).order_by().only("id", "root_id")[:2]


def _by_prefix(scope: QuerySet[Artifact], prefix: str) -> Artifact | None:
    """The one version in `scope` whose id starts with `prefix`; None when none does, a 409
    when several do. Only `scope`'s rows count, so another tenant's ids never make a prefix
    ambiguous (nor does the answer say whose, or which, ids matched)."""
    if not _ID_PREFIX.fullmatch(prefix):
        return None
    matches = list(artifact_prefix_matches(scope=scope, prefix=prefix))
    if len(matches) > 1:
        raise Conflict(
            f"Artifact id prefix '{prefix}' matches more than one artifact version; "
            "give more characters, or the whole id."
        )
    return matches[0] if matches else None


def artifact_get(
    *,
    scope: QuerySet[Artifact],
    artifact_id: str,
    version: int | None = None,
    by_prefix: bool = False,
) -> Artifact:
    """A root id stands for the artifact (its latest version, or `version`); another
    version's id is that version. Anything outside `scope` is a 404. With `by_prefix`, an id
    that names no version exactly may be a unique prefix of one (at least
    ID_PREFIX_MIN_LENGTH characters): it then stands for that id; several matches are a 409."""
    if "\x00" in artifact_id:  # no id holds one, and PostgreSQL refuses it as a parameter
        raise NotFound(f"Artifact '{artifact_id}' not found.")
    found = scope.filter(artifact_id=artifact_id).only("id", "root_id").first()
    if found is None and by_prefix:
        found = _by_prefix(scope, artifact_id)
    if found is None:
        raise NotFound(f"Artifact '{artifact_id}' not found.")
    queryset = with_list_related(Artifact.objects.all())
    if version is not None:
        chosen = queryset.filter(root_id=found.root_id, version=version).first()
        if chosen is None:
            raise NotFound(f"Artifact '{artifact_id}' has no version {version}.")
        return chosen
    # A DELETE that commits between the two reads leaves nothing to answer: the same 404.
    if found.pk == found.root_id:
        chosen = queryset.filter(root_id=found.root_id, is_latest=True).first()
    else:
        chosen = queryset.filter(pk=found.pk).first()
    if chosen is None:
        raise NotFound(f"Artifact '{artifact_id}' not found.")
    return chosen


def artifact_get_in_namespace(
    *, namespace: Namespace, artifact_id: str, version: int | None = None
) -> Artifact:
    """Seed 002: an artifact of one namespace."""
    return artifact_get(
        scope=Artifact.objects.filter(namespace=namespace), artifact_id=artifact_id, version=version
    )


def artifact_get_in_session(*, session: Session, artifact_id: str) -> Artifact:
    """Seed 000: an artifact linked to one session. A version's file id (`ver_…`, an artifact
    event's `attachment_id`) is exactly that version, version 1 included; an `art_` root id
    is the latest version."""
    version_id = artifact_id_of_version_file(artifact_id)
    if version_id is None or "\x00" in version_id:
        return artifact_get(scope=Artifact.objects.filter(session=session), artifact_id=artifact_id)
    found = with_list_related(Artifact.objects.filter(session=session, artifact_id=version_id))
    version = found.first()
    if version is None:
        raise NotFound(f"Artifact '{artifact_id}' not found.")
    return version


def artifact_get_for_principal(
    *, principal: Principal, artifact_id: str, version: int | None = None, by_prefix: bool = False
) -> Artifact:
    """Seed 001: any artifact the caller's key can see (its organization, or its workspace);
    `by_prefix` as in `artifact_get` (seed 001's GET and /content)."""
    return artifact_get(
        scope=artifact_scope(principal=principal),
        artifact_id=artifact_id,
        version=version,
        by_prefix=by_prefix,
    )


def artifact_reload(*, artifact: Artifact) -> Artifact:
    """A version just written, read again with what an answer names (the related rows)."""
    return artifact_get(
        scope=Artifact.objects.filter(pk=artifact.pk), artifact_id=artifact.artifact_id
    )


def artifact_latest_in_namespace(
    *, principal: Principal, org: str, workspace: str, namespace: str, artifact_id: str
) -> Artifact | None:
    """Seed 002's PUT read, in one statement: the latest version of the artifact whose root
    id is `artifact_id`, in the namespace the slugs name for the caller, with the columns the
    write decides by (the fields a new version inherits come from the replaced row under its
    lock: artifacts.locks.artifact_latest_replace) and the related rows an answer names and the
    organization (its quota), as prepared SQL (artifacts/hot_reads.py). None for anything else
    (a later version's id, a prefix, an unknown id or namespace): the caller then takes the
    usual path (`namespace_get`, `artifact_get_in_namespace`), which answers it or says which
    404."""
    if "\x00" in artifact_id:
        return None
    found = hot_reads.latest_in_namespace(
        organization_id=principal.organization_id,
        org=org,
        workspace=workspace,
        namespace=namespace,
        artifact_id=artifact_id,
    )
    if found is None or not principal.can_see_workspace(found.namespace.workspace_id):
        return None
    return found


# The related rows ArtifactResponse names.
ANSWER_RELATED = ("namespace", "thread", "session", "promoted_to_source", "root")


def artifact_answer(*, artifact: Artifact) -> Artifact:
    """`artifact` itself when it holds every related row an answer names (a version just
    written from a read that had them: services.artifact_version_create), else read again."""
    cached = all(
        Artifact._meta.get_field(name).is_cached(artifact)  # type: ignore[union-attr]
        for name in ANSWER_RELATED
    ) and Namespace.workspace.is_cached(artifact.namespace)  # type: ignore[attr-defined]
    return artifact if cached else artifact_reload(artifact=artifact)


def artifact_for_signed_download(*, pk: Any) -> Artifact | None:
    """The version a signed link names (the link's signature is the whole check)."""
    return Artifact.objects.select_related("blob").filter(pk=pk).first()


def artifact_list(
    *,
    namespace: Namespace,
    thread_id: str | None = None,
    artifact_types: list[str] | None = None,
    include_expired: bool = False,
    workflow_id: str | None = None,
    phase_id: str | None = None,
    artifact_type: str | None = None,
    session_id: int | None = None,
    now: datetime | None = None,
) -> QuerySet[Artifact]:
    """Each artifact once (its latest version), newest artifact first; filters in SQL. An
    artifact expired by `now` (default: now) is left out unless `include_expired`."""
    queryset = Artifact.objects.latest_versions().filter(namespace=namespace)
    if not include_expired:
        queryset = queryset.unexpired(now)
    if thread_id is not None:
        queryset = queryset.filter(thread__thread_id=thread_id)
    if artifact_types:
        queryset = queryset.filter(artifact_type__in=artifact_types)
    if artifact_type:
        queryset = queryset.filter(artifact_type=artifact_type)
    if workflow_id:
        queryset = queryset.filter(workflow_id=workflow_id)
    if phase_id:
        queryset = queryset.filter(phase_id=phase_id)
    if session_id is not None:
        queryset = queryset.filter(session_id=session_id)
    return with_list_related(queryset).order_by("-root_id")


FLAT_LIST_FIELDS = (
    "artifact_id",
    "root_id",
    "root__artifact_id",
    "workflow_id",
    "phase_id",
    "artifact_type",
    "name",
    "size_bytes",
    "created_at",
)


def flat_artifact_list(
    *,
    namespace: Namespace,
    workflow_id: str | None = None,
    phase_id: str | None = None,
    artifact_type: str | None = None,
) -> QuerySet[Artifact]:
    """Seed 001's list: seven fields out, so only those (and the root's id) are read, not
    the content."""
    queryset = artifact_list(
        namespace=namespace, workflow_id=workflow_id, phase_id=phase_id, artifact_type=artifact_type
    )
    return queryset.select_related(None).select_related("root").only(*FLAT_LIST_FIELDS)


def artifact_versions(*, artifact: Artifact) -> QuerySet[Artifact]:
    return with_list_related(Artifact.objects.filter(root_id=artifact.root_id)).order_by("-version")


def artifacts_resolve(
    *, scope: QuerySet[Artifact], ids: list[str], loc: list[str | int]
) -> list[Artifact]:
    """Lineage targets: each id must name an artifact the caller can see, else 422 (a link
    to another tenant's artifact is refused the same way as one that does not exist)."""
    errors = []
    resolved: list[Artifact] = []
    for index, public_id in enumerate(ids):
        try:
            resolved.append(artifact_get(scope=scope, artifact_id=public_id))
        except NotFound:
            errors.append(
                {"loc": [*loc, index], "msg": f"No artifact '{public_id}'.", "type": "value_error"}
            )
    if errors:
        raise InvalidInput(errors)
    return resolved


def artifact_lineage(*, artifact: Artifact) -> dict[str, list[Artifact]]:
    """Ancestors (what this version was derived from, transitively) and descendants (what was
    derived from any version of this artifact), breadth first, at most LINEAGE_DEPTH levels."""

    def walk(start: set[int], step: str) -> list[Artifact]:
        seen: set[int] = set()
        frontier = start
        for _ in range(LINEAGE_DEPTH):
            if not frontier:
                break
            through = Artifact.derived_from.through
            if step == "up":
                pairs = through.objects.filter(from_artifact_id__in=frontier)
                frontier = set(pairs.values_list("to_artifact_id", flat=True)) - seen
            else:
                roots = Artifact.objects.filter(pk__in=frontier).values_list("root_id", flat=True)
                versions = Artifact.objects.filter(root_id__in=roots).values_list("pk", flat=True)
                pairs = through.objects.filter(to_artifact_id__in=versions)
                frontier = set(pairs.values_list("from_artifact_id", flat=True)) - seen
            seen |= frontier
        return list(Artifact.objects.filter(pk__in=seen).select_related("root").order_by("id"))

    return {"ancestors": walk({artifact.pk}, "up"), "descendants": walk({artifact.pk}, "down")}


def parse_type_list(value: str | list[str] | None) -> list[str]:
    if value is None:
        return []
    items = value if isinstance(value, list) else value.split(",")
    return [item.strip() for item in items if item and item.strip()]


def artifacts_usage(
    *, organization_id: int, workspace_id: int | None = None, **kwargs: Any
) -> dict[str, dict[str, int]]:
    """`storage_usage` receiver: every version of the organization's artifacts."""
    rows = Artifact.objects.filter(namespace__workspace__organization_id=organization_id)
    if workspace_id is not None:
        rows = rows.filter(namespace__workspace_id=workspace_id)
    totals = rows.aggregate(count=Count("id"), bytes=Sum("size_bytes"))
    return {"artifacts": {"count": totals["count"], "bytes": totals["bytes"] or 0}}
