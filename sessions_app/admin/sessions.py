"""Sessions, threads and the event log.

A session's id, organization, namespace and status are read-only: its status changes through
the "complete" action, which calls `session_complete` (event, `completed_at`, auto-clean).
Its other fields change through `session_update`; deletes go through `session_delete`. The
event log is append-only: admin reads it, never adds, changes or deletes."""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from sessions_app import services
from sessions_app.admin.base import ServiceDeleteAdmin, changelist_link
from sessions_app.models import Event, Session, SessionStatus, Thread

SESSION_FIXED = ["session_id", "organization", "namespace", "status"]


def _delete_session(session: Session, actor: Any) -> None:
    services.session_delete(session=session, actor=actor)


class SessionForm(forms.ModelForm):
    def clean_metadata(self) -> Any:
        metadata = self.cleaned_data["metadata"]
        if not isinstance(metadata, dict):
            raise forms.ValidationError("Metadata is a JSON object, as the API takes it.")
        return metadata


@admin.register(Session)
class SessionAdmin(ServiceDeleteAdmin):
    form = SessionForm
    list_display = ["session_id", "organization", "namespace", "status", "reference", "created_at"]
    list_filter = ["status", "organization"]
    search_fields = ["session_id", "reference", "user_reference", "workflow_id"]
    list_select_related = ["organization", "namespace__workspace__organization"]
    date_hierarchy = "created_at"
    readonly_fields = [
        *SESSION_FIXED,
        "last_event_sequence",
        "created_at",
        "updated_at",
        "completed_at",
        "files",
    ]
    fields = [
        *SESSION_FIXED,
        "reference",
        "user_reference",
        "workflow_id",
        "metadata",
        *readonly_fields[len(SESSION_FIXED) :],
    ]
    actions = ["complete_sessions"]
    delete_service = _delete_session

    # Sessions are opened by their clients (the API); admin looks after existing ones.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Session, form: Any, change: bool) -> None:
        changed = {name: form.cleaned_data[name] for name in form.changed_data}
        if changed:
            services.session_update(session=obj, **changed)

    @admin.display(description="files and events")
    def files(self, session: Session) -> str:
        if session.pk is None:
            return "-"
        return " · ".join(
            [
                changelist_link(
                    "admin:attachments_attachment_changelist",
                    "attachments",
                    session__id__exact=session.pk,
                ),
                changelist_link(
                    "admin:artifacts_artifact_changelist",
                    "artifacts",
                    session__id__exact=session.pk,
                ),
                changelist_link(
                    "admin:sessions_app_event_changelist", "events", session__id__exact=session.pk
                ),
            ]
        )

    @admin.action(description="Complete selected sessions (event, completed_at)")
    def complete_sessions(self, request: HttpRequest, queryset: QuerySet[Session]) -> None:
        completed = 0
        for session in queryset.filter(status=SessionStatus.ACTIVE):
            services.session_complete(session=session)
            completed += 1
        self.message_user(request, f"Completed {completed} session(s).", messages.SUCCESS)


@admin.register(Thread)
class ThreadAdmin(admin.ModelAdmin):
    """Threads are made by the API with their artifacts; admin only lists them (a delete
    would unlink artifacts without an event)."""

    list_display = ["thread_id", "namespace", "created_at"]
    search_fields = ["thread_id"]
    list_select_related = ["namespace__workspace__organization"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ["event_id", "session", "sequence", "kind", "name", "size", "created_at"]
    list_filter = ["kind"]
    search_fields = ["event_id", "session__session_id", "artifact_id", "attachment_id"]
    list_select_related = ["session"]
    date_hierarchy = "created_at"

    # The log is append-only: the admin reads it, never adds, edits or deletes.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
