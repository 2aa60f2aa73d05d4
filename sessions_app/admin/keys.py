"""API keys. A key's organization and workspace scope are fixed when it is made (a new scope
is a new key): the add form checks that the workspace is the organization's (a form error,
never a 500), and creation, rotation and revocation go through the services. A new secret is
shown once, on the page that answers the request, never stored in a message cookie."""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone

from sessions_app import services
from sessions_app.admin.base import AuditedAdmin
from sessions_app.models import ApiKey

ADD_FIELDS = ["name", "organization", "default_workspace", "limit_to_workspace", "read_only"]
FIXED_AFTER_CREATION = ["prefix", "organization", "default_workspace", "workspace", "created_at"]


class ApiKeyAddForm(forms.ModelForm):
    limit_to_workspace = forms.BooleanField(
        required=False, help_text="The key sees only its default workspace."
    )

    class Meta:
        model = ApiKey
        fields = ["name", "organization", "default_workspace", "read_only", "expires_at"]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        organization, workspace = data.get("organization"), data.get("default_workspace")
        if organization and workspace and workspace.organization_id != organization.pk:
            self.add_error(
                "default_workspace",
                f"Workspace {workspace} belongs to another organization than {organization}.",
            )
        return data


class KeyStateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("usable", "Usable"), ("revoked", "Revoked"), ("expired", "Expired")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> QuerySet[ApiKey]:
        now = timezone.now()
        if self.value() == "usable":
            return queryset.filter(revoked_at__isnull=True).filter(
                Q(expires_at__isnull=True) | Q(expires_at__gt=now)
            )
        if self.value() == "revoked":
            return queryset.filter(revoked_at__isnull=False)
        if self.value() == "expired":
            return queryset.filter(expires_at__lte=now)
        return queryset


def _shown_once(
    request: HttpRequest, admin_site: Any, keys: list[tuple[ApiKey, str]], title: str
) -> TemplateResponse:
    response = TemplateResponse(
        request,
        "admin/sessions_app/apikey/shown_once.html",
        {**admin_site.each_context(request), "title": title, "keys": keys},
    )
    # The page carries secrets: nobody keeps a copy of it.
    response["Cache-Control"] = "no-store"
    return response


@admin.register(ApiKey)
class ApiKeyAdmin(AuditedAdmin):
    list_display = [
        "__str__",
        "organization",
        "default_workspace",
        "workspace",
        "read_only",
        "expires_at",
        "revoked_at",
        "last_used_at",
    ]
    list_filter = [KeyStateFilter, "read_only", "organization"]
    list_select_related = [
        "organization",
        "default_workspace__organization",
        "workspace__organization",
    ]
    search_fields = ["name", "prefix"]
    date_hierarchy = "created_at"
    actions = ["revoke_keys", "rotate_keys"]

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any):  # type: ignore[no-untyped-def]
        if obj is None:
            kwargs["form"] = ApiKeyAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        if obj is None:
            return [*ADD_FIELDS, "expires_at"]
        return [
            "name",
            *FIXED_AFTER_CREATION,
            "read_only",
            "expires_at",
            "revoked_at",
            "last_used_at",
        ]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        if obj is None:
            return []
        fixed = [*FIXED_AFTER_CREATION, "revoked_at", "last_used_at"]
        # A revoked key is history: nothing about it changes any more.
        return fixed + (["name", "read_only", "expires_at"] if obj.revoked_at else [])

    def save_model(self, request: HttpRequest, obj: ApiKey, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        data = form.cleaned_data
        api_key, raw_key = services.api_key_create(
            organization=data["organization"],
            default_workspace=data["default_workspace"],
            limit_to_workspace=data["limit_to_workspace"],
            read_only=data["read_only"],
            expires_at=data["expires_at"],
            name=data["name"],
            actor=request.user,  # type: ignore[arg-type]
        )
        obj.pk, obj.prefix = api_key.pk, api_key.prefix
        request._depot_new_key = (api_key, raw_key)  # type: ignore[attr-defined]

    def response_add(
        self, request: HttpRequest, obj: ApiKey, post_url_continue: Any = None
    ) -> HttpResponse:
        return _shown_once(request, self.admin_site, [request._depot_new_key], "New API key")  # type: ignore[attr-defined]

    @admin.action(description="Revoke selected keys")
    def revoke_keys(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        revoked = 0
        for api_key in queryset.filter(revoked_at__isnull=True):
            services.api_key_revoke(api_key=api_key, actor=request.user)  # type: ignore[arg-type]
            revoked += 1
        self.message_user(request, f"Revoked {revoked} key(s).", messages.SUCCESS)

    @admin.action(description="Rotate selected keys (new secret shown once, old key revoked)")
    def rotate_keys(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> HttpResponse | None:
        rotated = [
            services.api_key_rotate(api_key=api_key, actor=request.user)  # type: ignore[arg-type]
            for api_key in queryset.filter(revoked_at__isnull=True)
        ]
        if not rotated:
            self.message_user(request, "No usable key selected.", messages.WARNING)
            return None
        return _shown_once(request, self.admin_site, rotated, "Rotated API keys")
