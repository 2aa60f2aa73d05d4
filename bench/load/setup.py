"""The Django side of the load benchmark, run in a child process by bench.common.worker: the
benchmark's own organization, workspace, key and sessions, made through product code."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from sessions_app import services
from sessions_app.models import Namespace


def tenant_create(params: dict[str, Any]) -> dict[str, Any]:
    """An organization with one workspace, a read-write key, and the sessions named in
    `params["session_ids"]`; returns the slugs and the raw key."""
    with transaction.atomic():
        organization = services.organization_create(slug=params["organization"], name="Load")
        workspace = services.workspace_create(
            organization=organization, slug=params["workspace"], name="Load"
        )
        _, raw_key = services.api_key_create(
            organization=organization, default_workspace=workspace, name="load-bench"
        )
        namespace = Namespace.objects.get(workspace=workspace, slug="default")
        for session_id in params["session_ids"]:
            services.session_create(
                organization_id=organization.pk, namespace=namespace, session_id=session_id
            )
    return {
        "organization": organization.slug,
        "workspace": workspace.slug,
        "namespace": namespace.slug,
        "api_key": raw_key,
    }
