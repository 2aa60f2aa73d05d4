"""What a tus upload becomes, named by its `Upload-Metadata`, and the services that make it.

- `session_id` (+ `filename`, `filetype`, `description`): an attachment of that session in the
  key's default namespace, made (with its session) as `POST /api/uploads/{session_id}` makes it.
- `namespace` (`workspace/namespace`, or a namespace of the key's default workspace) with
  `artifact_id`: the next version of that artifact; with `name` (or only `filename`): a new one.

The target is resolved at creation, so a wrong one is refused before any byte is sent, and
again at the end, through the same services as a multipart upload: content addressing, one
event, the per-session file limit, the MIME rules and the quota all apply unchanged."""

from typing import Any

from artifacts import selectors as artifact_selectors
from artifacts import services as artifact_services
from artifacts.models import Artifact
from artifacts.tus.models import TusTarget, TusUpload
from artifacts.tus.protocol import TusError
from attachments import services as attachment_services
from attachments import storage
from sessions_app import selectors as session_selectors
from sessions_app import services as session_services
from sessions_app.errors import DepotError, error_body
from sessions_app.models import Namespace, Workspace
from sessions_app.principals import Principal

MAX_NAME = 500


def depot_error(error: DepotError) -> TusError:
    """Depot's own body, with a 422's detail list."""
    return TusError(error.status_code, error.detail, body=error_body(error))


def _namespace(principal: Principal, value: str) -> Namespace:
    workspace, _, namespace = value.rpartition("/")
    if not workspace:
        workspace = (
            Workspace.objects.filter(pk=principal.default_workspace_id)
            .values_list("slug", flat=True)
            .get()
        )
    return session_selectors.namespace_get(
        principal=principal, workspace=workspace, namespace=namespace
    )


def resolve(principal: Principal, metadata: dict[str, str], *, partial: bool) -> dict[str, Any]:
    """The row fields naming the target; TusError when the metadata names none or a wrong one."""
    if partial:
        return {"target": TusTarget.PARTIAL, "workspace_id": principal.default_workspace_id}
    try:
        if metadata.get("session_id"):
            session_selectors.validate_session_id(
                metadata["session_id"], loc=("header", "Upload-Metadata", "session_id")
            )
            namespace = principal.default_namespace
            return {
                "target": TusTarget.ATTACHMENT,
                "session_id": metadata["session_id"],
                "namespace_id": namespace.pk,
                "workspace_id": namespace.workspace_id,
            }
        if metadata.get("namespace"):
            namespace = _namespace(principal, metadata["namespace"])
            fields = {"namespace_id": namespace.pk, "workspace_id": namespace.workspace_id}
            if metadata.get("artifact_id"):
                artifact = artifact_selectors.artifact_get(
                    scope=Artifact.objects.filter(namespace=namespace),
                    artifact_id=metadata["artifact_id"],
                )
                return {**fields, "target": TusTarget.VERSION, "artifact_root_id": artifact.root_id}
            name = metadata.get("name") or metadata.get("filename")
            if not name or len(name) > MAX_NAME:
                raise TusError(400, f"A new artifact needs a 'name' of 1 to {MAX_NAME} characters.")
            return {**fields, "target": TusTarget.ARTIFACT}
    except DepotError as error:
        raise depot_error(error) from error
    raise TusError(
        400,
        "Upload-Metadata must name a target: 'session_id', or 'namespace' with 'artifact_id' "
        "or 'name'.",
    )


def creator(upload: TusUpload) -> Principal:
    return Principal(
        organization_id=upload.organization_id,
        default_workspace_id=upload.default_workspace_id,
        workspace_limit_id=upload.workspace_limit_id,
        api_key_id=upload.api_key_id,
        label=upload.created_by,
    )


def deliver(upload: TusUpload, staged: storage.StagedBlob) -> str:
    """Turn the staged bytes into the target; returns its id. The services own `staged` from
    here (they promote it, or delete it when they refuse)."""
    metadata = upload.metadata
    principal = creator(upload)
    file_name = metadata.get("filename") or metadata.get("name") or "upload"
    try:
        namespace = Namespace.objects.select_related("workspace__organization").get(
            pk=upload.namespace_id or 0
        )
        if upload.target == TusTarget.ATTACHMENT:
            attachment = attachment_services.attachment_create(
                session_lookup=lambda: session_services.session_get_or_create_for(
                    principal=principal, namespace=namespace, session_id=upload.session_id
                ),
                staged=staged,
                original_name=file_name,
                description=metadata.get("description", ""),
            )
            return attachment.attachment_id
        content = artifact_services.NewContent(staged=staged, file_name=file_name)
        if upload.target == TusTarget.VERSION:
            root = Artifact.objects.get(pk=upload.artifact_root_id or 0)
            version, _ = artifact_services.artifact_version_create(
                artifact=root, content=content, created_by=principal.label
            )
            return version.artifact_id
        fields = {"name": (metadata.get("name") or file_name)[:MAX_NAME]}
        if metadata.get("description"):
            fields["description"] = metadata["description"]
        artifact = artifact_services.artifact_create(
            namespace=namespace, content=content, fields=fields, created_by=principal.label
        )
        return artifact.artifact_id
    except (Namespace.DoesNotExist, Artifact.DoesNotExist):
        storage.delete(staged.temp_key)
        raise TusError(404, "The upload's target no longer exists.") from None
    except DepotError as error:
        raise depot_error(error) from error
