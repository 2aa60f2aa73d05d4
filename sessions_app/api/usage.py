"""GET /api/usage: what the caller's organization stores, against its quota."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from sessions_app.api.common import error_responses
from sessions_app.auth import get_principal
from sessions_app.models import Organization
from sessions_app.quota import organization_quota, organization_usage


class UsageKind(serializers.Serializer):
    count = serializers.IntegerField()
    bytes = serializers.IntegerField()


class UsageResponse(serializers.Serializer):
    organization = serializers.CharField()
    scope = serializers.ChoiceField(
        choices=["organization", "workspace"],
        help_text="A key limited to one workspace sees that workspace's usage only.",
    )
    bytes_used = serializers.IntegerField()
    quota_bytes = serializers.IntegerField(allow_null=True, help_text="null: no quota.")
    remaining_bytes = serializers.IntegerField(allow_null=True)
    attachments = UsageKind()
    artifacts = UsageKind()


class UsageView(APIView):
    @extend_schema(
        tags=["usage"],
        operation_id="usage_retrieve",
        summary="Bytes stored by the caller's organization, against its storage quota",
        responses={200: UsageResponse, **error_responses(401)},
    )
    def get(self, request: Request) -> Response:
        principal = get_principal(request)
        assert principal is not None  # HasTenantAccess
        organization_id = principal.organization_id
        whole = organization_usage(organization_id=organization_id)
        usage = (
            whole
            if principal.workspace_limit_id is None
            else organization_usage(
                organization_id=organization_id, workspace_id=principal.workspace_limit_id
            )
        )
        quota = organization_quota(organization_id=organization_id)
        return Response(
            UsageResponse(
                {
                    "organization": Organization.objects.get(pk=organization_id).slug,
                    "scope": "organization"
                    if principal.workspace_limit_id is None
                    else "workspace",
                    "bytes_used": usage["bytes"],
                    "quota_bytes": quota,
                    "remaining_bytes": None if quota is None else max(quota - whole["bytes"], 0),
                    "attachments": usage.get("attachments", {"count": 0, "bytes": 0}),
                    "artifacts": usage.get("artifacts", {"count": 0, "bytes": 0}),
                }
            ).data
        )
