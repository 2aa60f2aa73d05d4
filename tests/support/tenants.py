"""The personas' types: a tenant (an organization with two workspaces and three keys) and a
stranger organization. The fixtures that make them are in tests/conftest.py."""

from dataclasses import dataclass

from sessions_app.models import DEFAULT_NAMESPACE, Namespace, Organization, Session, Workspace


@dataclass
class Tenant:
    organization: Organization
    workspace: Workspace
    other_workspace: Workspace
    owner_key: str
    read_only_key: str
    limited_key: str  # limited to other_workspace

    def default_namespace(self) -> Namespace:
        """The default namespace of `workspace`."""
        return Namespace.objects.get(workspace=self.workspace, slug=DEFAULT_NAMESPACE)

    def session(self, session_id: str, namespace: Namespace | None = None) -> Session:
        """A new session `session_id` in `namespace` (the default one if none), by the service."""
        from sessions_app import services

        return services.session_create(
            organization_id=self.organization.pk,
            namespace=namespace or self.default_namespace(),
            session_id=session_id,
        )


@dataclass
class Stranger:
    organization: Organization
    workspace: Workspace
    key: str
