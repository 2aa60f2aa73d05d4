"""Depot's admin for the tenancy, sessions, events, keys and audit log. Edits go through the
services (or are read-only), so admin keeps every invariant the API keeps: see README,
"Admin". The apps above (attachments, artifacts) add their own admins and extend these."""

from sessions_app.admin.base import AuditedAdmin, ServiceDeleteAdmin, changelist_link
from sessions_app.admin.keys import ApiKeyAdmin
from sessions_app.admin.sessions import EventAdmin, SessionAdmin, ThreadAdmin
from sessions_app.admin.tenancy import (
    AuditEntryAdmin,
    MembershipAdmin,
    NamespaceAdmin,
    OrganizationAdmin,
    WorkspaceAdmin,
)

__all__ = [
    "ApiKeyAdmin",
    "AuditEntryAdmin",
    "AuditedAdmin",
    "EventAdmin",
    "MembershipAdmin",
    "NamespaceAdmin",
    "OrganizationAdmin",
    "ServiceDeleteAdmin",
    "SessionAdmin",
    "ThreadAdmin",
    "WorkspaceAdmin",
    "changelist_link",
]
