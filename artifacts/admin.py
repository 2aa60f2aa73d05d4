"""Artifacts, sources, and what the artifacts app adds to the session admin (its zip).

The artifact list shows each artifact once, by its latest version, whose page edits what the
API edits in place (name, description, tags, keywords, summary, metadata, status, pin, TTL)
through `artifact_update` (event, reindex). Content, hashes, sizes, files, extracted text,
index fields, tenancy and ids are read-only; a new version comes from the API. Older versions
are read-only pages, linked from the latest. Deletes go through `artifact_delete`."""

from collections import Counter
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.views.main import ChangeList
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from artifacts import services
from artifacts.indexing import IndexRetry, artifact_index
from artifacts.models import Artifact, IndexStatus, Source
from artifacts.tasks import index_artifact
from artifacts.zips import session_zip, zip_chunks
from sessions_app.admin import ServiceDeleteAdmin, SessionAdmin
from sessions_app.api.common import MAX_TTL_SECONDS
from sessions_app.models import Session

# What PUT /artifacts/{id} changes in place without a new version.
EDITABLE = [
    "name",
    "description",
    "tags",
    "keywords",
    "summary",
    "metadata",
    "status",
    "is_pinned",
    "ttl_seconds",
]
SHOWN = [
    "artifact_id",
    "version",
    "versions",
    "namespace",
    "session",
    "thread",
    *EDITABLE,
    "expires_at",
    "artifact_type",
    "workflow_id",
    "phase_id",
    "scope",
    "is_primary_deliverable",
    "source",
    "created_by",
    "content_type",
    "file_name",
    "content_hash",
    "size_bytes",
    "blob",
    "content_preview",
    "index_status",
    "index_error",
    "index_attempts",
    "indexed_at",
    "chunk_count",
    "embedding_model_id",
    "promoted_to_source",
    "created_at",
    "updated_at",
]


class ArtifactForm(forms.ModelForm):
    """The API's checks on the fields admin edits."""

    def _strings(self, name: str) -> list[str]:
        value = self.cleaned_data[name]
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise forms.ValidationError("A JSON list of strings, as the API takes it.")
        return value

    def clean_tags(self) -> list[str]:
        return self._strings("tags")

    def clean_keywords(self) -> list[str]:
        return self._strings("keywords")

    def clean_metadata(self) -> dict[str, Any]:
        value = self.cleaned_data["metadata"]
        if not isinstance(value, dict):
            raise forms.ValidationError("A JSON object, as the API takes it.")
        return value

    def clean_ttl_seconds(self) -> int | None:
        value = self.cleaned_data["ttl_seconds"]
        if value is not None and not 1 <= value <= MAX_TTL_SECONDS:
            raise forms.ValidationError(f"Between 1 and {MAX_TTL_SECONDS}, or empty.")
        return value


class ExpiryFilter(admin.SimpleListFilter):
    title = "expiry"
    parameter_name = "expiry"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            ("expired", "Expired"),
            ("expiring", "Has a TTL"),
            ("pinned", "Pinned"),
            ("never", "No TTL"),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Artifact]) -> QuerySet[Artifact]:
        value = self.value()
        if value == "expired":
            return queryset.expired()  # type: ignore[attr-defined]
        if value == "expiring":
            return queryset.filter(expires_at__gt=timezone.now(), is_pinned=False)
        if value == "pinned":
            return queryset.filter(is_pinned=True)
        if value == "never":
            return queryset.filter(expires_at__isnull=True)
        return queryset


class LatestVersionsChangeList(ChangeList):
    """One row per artifact: its latest version (older ones are linked from its page)."""

    def get_queryset(self, request: HttpRequest, exclude_parameters: Any = None) -> QuerySet:
        return super().get_queryset(request, exclude_parameters).filter(is_latest=True)


def _delete_artifact(artifact: Artifact, actor: Any) -> None:
    services.artifact_delete(artifact=artifact, actor=actor)


def index_retry(artifact: Artifact) -> None:
    """A failed version gets a fresh set of attempts and a task."""
    with transaction.atomic():
        Artifact.objects.filter(pk=artifact.pk).update(
            index_status=IndexStatus.PENDING, index_attempts=0, index_error=""
        )
        index_artifact.enqueue(artifact.pk)


@admin.register(Artifact)
class ArtifactAdmin(ServiceDeleteAdmin):
    form = ArtifactForm
    list_display = [
        "name",
        "artifact_id",
        "version",
        "artifact_type",
        "namespace",
        "size_bytes",
        "index_status",
        "expires_at",
        "created_at",
    ]
    list_filter = ["index_status", ExpiryFilter, "artifact_type", "namespace"]
    search_fields = ["name", "artifact_id", "workflow_id", "session__session_id"]
    list_select_related = ["namespace__workspace__organization"]
    date_hierarchy = "created_at"
    fields = SHOWN
    actions = ["reindex_now", "retry_failed_indexing"]
    delete_service = _delete_artifact

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return LatestVersionsChangeList

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        if obj is not None and obj.is_latest:
            return [name for name in SHOWN if name not in EDITABLE]
        return SHOWN

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    # History is not rewritten: an older version is read-only and goes with its artifact.
    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None or obj.is_latest

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None or obj.is_latest

    def save_model(self, request: HttpRequest, obj: Artifact, form: Any, change: bool) -> None:
        changed = {name: form.cleaned_data[name] for name in form.changed_data}
        if changed:
            services.artifact_update(artifact=obj, fields=changed)

    @admin.display(description="versions")
    def versions(self, artifact: Artifact) -> str:
        rows = Artifact.objects.filter(root_id=artifact.root_pk).order_by("-version")
        return format_html_join(
            " · ",
            '<a href="{}">v{}</a>',
            (
                (reverse("admin:artifacts_artifact_change", args=[row.pk]), row.version)
                for row in rows.only("pk", "version")
            ),
        )

    def get_urls(self) -> list[Any]:
        purge = self.admin_site.admin_view(self.purge_expired_view)
        return [
            path("purge-expired/", purge, name="artifacts_artifact_purge_expired"),
            *super().get_urls(),
        ]

    def purge_expired_view(self, request: HttpRequest) -> HttpResponse:
        """GET: how many artifacts `purge_expired` would delete. POST: delete them."""
        if not self.has_delete_permission(request):
            return HttpResponse("Deleting artifacts needs the delete permission.", status=403)
        if request.method == "POST":
            purged = services.artifacts_purge_expired()
            self.message_user(request, f"Purged {purged} expired artifact(s).", messages.SUCCESS)
            return HttpResponseRedirect(reverse("admin:artifacts_artifact_changelist"))
        return TemplateResponse(
            request,
            "admin/artifacts/artifact/purge_expired.html",
            {
                **self.admin_site.each_context(request),
                "title": "Purge expired artifacts",
                "expired": Artifact.objects.latest_versions().expired().count(),
                "opts": self.model._meta,
            },
        )

    @admin.action(description="Reindex selected artifacts now")
    def reindex_now(self, request: HttpRequest, queryset: QuerySet[Artifact]) -> None:
        counts: Counter[str] = Counter()
        for artifact_pk in queryset.filter(is_latest=True).values_list("pk", flat=True):
            try:
                counts[str(artifact_index(artifact_pk=artifact_pk))] += 1
            except IndexRetry:
                counts["will retry"] += 1
        summary = ", ".join(f"{count} {status}" for status, count in sorted(counts.items()))
        self.message_user(request, f"Reindexed: {summary or 'nothing'}.", messages.SUCCESS)

    @admin.action(description="Retry failed indexing of selected artifacts")
    def retry_failed_indexing(self, request: HttpRequest, queryset: QuerySet[Artifact]) -> None:
        failed = list(queryset.filter(index_status=IndexStatus.FAILED))
        for artifact in failed:
            index_retry(artifact)
        self.message_user(request, f"Queued {len(failed)} failed version(s).", messages.SUCCESS)


@admin.register(Source)
class SourceAdmin(admin.ModelAdmin):
    """Sources are made by promoting an artifact (the API); admin lists them."""

    list_display = ["source_id", "name", "namespace", "created_by", "created_at"]
    search_fields = ["source_id", "name"]
    list_select_related = ["namespace__workspace__organization"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class SessionWithFilesAdmin(SessionAdmin):
    """The session admin, plus the session's zip (built here: the zip knows artifacts)."""

    @admin.display(description="files and events")
    def files(self, session: Session) -> str:
        links = super().files(session)
        if session.pk is None:
            return links
        url = reverse("admin:sessions_app_session_zip", args=[session.pk])
        return format_html('{} · <a href="{}">download zip</a>', links, url)

    def get_urls(self) -> list[Any]:
        zip_view = self.admin_site.admin_view(self.zip_view)
        return [
            path("<int:pk>/zip/", zip_view, name="sessions_app_session_zip"),
            *super().get_urls(),
        ]

    def zip_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        if not self.has_view_permission(request):
            return HttpResponse("Viewing sessions needs the view permission.", status=403)
        session = get_object_or_404(Session, pk=pk)
        response = StreamingHttpResponse(
            zip_chunks(session_zip(session=session)), content_type="application/zip"
        )
        response["Content-Disposition"] = f'attachment; filename="{session.session_id}.zip"'
        return response


admin.site.unregister(Session)
admin.site.register(Session, SessionWithFilesAdmin)
