"""What the artifact surfaces share: schema pieces and the two lookups a create makes."""

from collections.abc import Callable

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse

from artifacts import selectors
from artifacts.models import Artifact
from sessions_app import selectors as session_selectors
from sessions_app import services as session_services
from sessions_app.api.common import WRITE_ERRORS
from sessions_app.models import Namespace, Session
from sessions_app.principals import Principal

BINARY = OpenApiResponse(OpenApiTypes.BINARY, description="The bytes.")
# A stored file goes out under its own media type (or application/octet-stream when it is not a
# harmless one), so the bytes' responses declare any type rather than one they rarely carry.
ANY_MEDIA_TYPE = "*/*"
UPLOAD_ERRORS = (*WRITE_ERRORS, 409, 413)

NAMESPACE_PARAMETERS = [
    OpenApiParameter("org", str, OpenApiParameter.PATH, description="Organization slug."),
    OpenApiParameter("ws", str, OpenApiParameter.PATH, description="Workspace slug."),
    OpenApiParameter("ns", str, OpenApiParameter.PATH, description="Namespace slug."),
]
ARTIFACT_PARAMETER = OpenApiParameter(
    "artifact_id",
    str,
    OpenApiParameter.PATH,
    # The ids Depot mints (artifacts.models.mint_artifact_id). Without it `query` and `upload`
    # were valid ids, and a PUT to …/artifacts/query reached the search route's 405.
    pattern=r"^art_[0-9a-f]{32}$",
    description="A root id (the artifact) or a version's id.",
)
# Seed 001's artifact id, any string: a version's id or a root id.
FLAT_ARTIFACT_PARAMETER = OpenApiParameter("artifact_id", str, OpenApiParameter.PATH)


def session_lookup_for(
    principal: Principal, namespace: Namespace, session_id: str | None
) -> Callable[[], Session] | None:
    """The session a create links to, looked up (or made) inside the create's transaction;
    the id's form is checked now, before any bytes are stored."""
    if not session_id:
        return None
    session_selectors.validate_session_id(session_id, loc=("body", "session_id"))
    return lambda: session_services.session_get_or_create_for(
        principal=principal, namespace=namespace, session_id=session_id
    )


def lineage_targets(principal: Principal, ids: list[str] | None) -> list[Artifact]:
    """The artifacts a create says it derives from, each one the caller can see (else 422)."""
    return selectors.artifacts_resolve(
        scope=selectors.artifact_scope(principal=principal),
        ids=ids or [],
        loc=["body", "derived_from"],
    )
