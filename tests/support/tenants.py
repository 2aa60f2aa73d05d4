"""The personas' types: a tenant (an organization with two workspaces and three keys) and a
stranger organization. The fixtures that make them are in tests/conftest.py."""

from dataclasses import dataclass

from sessions_app.models import Organization, Workspace


@dataclass
class Tenant:
    organization: Organization
    workspace: Workspace
    other_workspace: Workspace
    owner_key: str
    read_only_key: str
    limited_key: str  # limited to other_workspace


@dataclass
class Stranger:
    organization: Organization
    workspace: Workspace
    key: str
