"""What each MCP tool does, in blocking code run in a worker thread. Inputs are validated by
the REST API's own serializers and every write goes through the same service as its REST
route (one event per write, the same limits and quotas); answers are the REST API's
representations of the same rows."""

import base64
import binascii
import difflib
import json
from typing import Any

from agents_mcp import files
from agents_mcp.access import read_cap
from artifacts import selectors as artifact_selectors
from artifacts import services as artifact_services
from artifacts.api.serializers import (
    ArtifactCreate,
    ArtifactResponse,
    ArtifactUpdate,
    Query,
)
from artifacts.models import Artifact
from artifacts.search import artifact_search, query_terms
from attachments import services as attachment_services
from attachments import storage
from attachments.api.serializers import AttachmentUploadResponse
from sessions_app import selectors as session_selectors
from sessions_app import services as session_services
from sessions_app.api.common import validated
from sessions_app.api.serializers import SessionComplete, SessionResponse
from sessions_app.errors import InvalidInput
from sessions_app.models import Namespace
from sessions_app.principals import Principal

Args = dict[str, Any]


def plain(data: Any) -> Any:
    """A serializer's output as plain JSON values (dates as ISO strings)."""
    return json.loads(json.dumps(data, default=str))


def _bad(field: str, message: str) -> InvalidInput:
    return InvalidInput.single(["arguments", field], message)


def _namespace(principal: Principal, args: Args) -> Namespace:
    if args.get("workspace") or args.get("namespace"):
        return session_selectors.namespace_get(
            principal=principal,
            workspace=str(args.get("workspace") or ""),
            namespace=str(args.get("namespace") or "default"),
        )
    return principal.default_namespace


def _decoded(args: Args) -> bytes | None:
    """`content_base64` decoded, or None when the call gives text instead."""
    raw = args.get("content_base64")
    if raw is None:
        return None
    if "content" in args:
        raise _bad("content_base64", "Give either content or content_base64, not both.")
    try:
        return base64.b64decode(str(raw), validate=True)
    except (binascii.Error, ValueError):
        raise _bad("content_base64", "Not valid base64.") from None


def _artifact_out(artifact: Artifact) -> dict[str, Any]:
    fresh = artifact_selectors.artifact_get(
        scope=Artifact.objects.filter(pk=artifact.pk), artifact_id=artifact.artifact_id
    )
    return {"artifact": plain(ArtifactResponse(fresh).data)}


def list_sessions(principal: Principal, args: Args) -> dict[str, Any]:
    limit = int(args.get("limit") or 50)
    if not 1 <= limit <= 200:
        raise _bad("limit", "Between 1 and 200.")
    filters = {"status": args["status"]} if args.get("status") else None
    sessions = session_selectors.session_list(principal=principal, filters=filters)[:limit]
    return {"sessions": plain(SessionResponse(sessions, many=True).data)}


def list_files(principal: Principal, args: Args) -> dict[str, Any]:
    summary = files.session_summary(principal, str(args.get("session_id", "")))
    return {"session_id": summary["session_id"], "files": plain(summary["files"])}


def read_file(principal: Principal, args: Args) -> dict[str, Any]:
    file_id = str(args.get("file_id", ""))
    if args.get("session_id"):
        ref = files.session_file(principal, str(args["session_id"]), file_id)
    else:
        version = args.get("version")
        artifact = files.artifact_version(principal, file_id, int(version) if version else None)
        ref = files.artifact_ref(artifact, files.artifact_uri(file_id, artifact.version))
    offset = int(args.get("offset") or 0)
    length = int(args.get("length") or read_cap())
    if offset < 0 or not 1 <= length <= read_cap():
        raise _bad("length", f"offset >= 0 and length between 1 and {read_cap()}.")
    data = ref.read(offset, length)
    out: dict[str, Any] = {
        "file_id": ref.file_id,
        "uri": ref.uri,
        "name": ref.name,
        "mime_type": ref.mime_type,
        "size": ref.size,
        "offset": offset,
    }
    if ref.textual:
        # A window may end inside a UTF-8 character: stop before it (the next read starts there).
        for cut in range(4):
            try:
                text = data[: len(data) - cut].decode("utf-8")
            except UnicodeDecodeError:
                continue
            data = data[: len(data) - cut]
            out["text"] = text
            break
    if "text" not in out:
        out["base64"] = base64.b64encode(data).decode()
    out["length"] = len(data)
    out["eof"] = offset + len(data) >= ref.size
    return out


def write_artifact(principal: Principal, args: Args) -> dict[str, Any]:
    raw = _decoded(args)
    fields = {
        key: args[key]
        for key in ("name", "content", "content_type", "description", "artifact_type")
        if args.get(key) is not None
    }
    if args.get("artifact_id"):
        artifact = artifact_selectors.artifact_get(
            scope=artifact_selectors.artifact_scope(principal=principal),
            artifact_id=str(args["artifact_id"]),
        )
        if raw is None and "content" not in fields:
            raise _bad("content", "A new version needs content or content_base64.")
        data = validated(ArtifactUpdate, fields)
        content_type = data.pop("content_type", None)
        if raw is not None:
            staged = storage.write_stream(iter([raw]))
            content = artifact_services.NewContent(
                staged=staged, file_name=str(args.get("name") or artifact.name)
            )
            data.pop("name", None)
        else:
            latest_type = artifact.content_type if artifact.blob_id is None else "text/markdown"
            content = artifact_services.NewContent(
                text=data.pop("content"), content_type=content_type or latest_type
            )
        version, created = artifact_services.artifact_version_create(
            artifact=artifact, content=content, fields=data, created_by=principal.label
        )
        return {**_artifact_out(version), "created": created}
    if args.get("session_id"):
        fields["session_id"] = args["session_id"]
    data = validated(ArtifactCreate, fields)
    namespace = _namespace(principal, args)
    session_id = data.pop("session_id", None)
    lookup = None
    if session_id:
        session_selectors.validate_session_id(session_id, loc=("arguments", "session_id"))
        lookup = lambda: session_services.session_get_or_create_for(  # noqa: E731
            principal=principal, namespace=namespace, session_id=session_id
        )
    if raw is not None:
        data.pop("content_type", None)
        staged = storage.write_stream(iter([raw]))
        content = artifact_services.NewContent(staged=staged, file_name=data["name"])
    else:
        content = artifact_services.NewContent(
            text=data.pop("content", ""), content_type=data.pop("content_type")
        )
    artifact = artifact_services.artifact_create(
        namespace=namespace,
        content=content,
        session_lookup=lookup,
        fields={key: value for key, value in data.items() if value is not None},
        created_by=principal.label,
    )
    return {**_artifact_out(artifact), "created": True}


def get_versions(principal: Principal, args: Args) -> dict[str, Any]:
    artifact = files.artifact_version(principal, str(args.get("artifact_id", "")), None)
    versions = artifact_selectors.artifact_versions(artifact=artifact)
    return {
        "artifact_id": artifact.root_artifact_id,
        "versions": plain(ArtifactResponse(versions, many=True).data),
    }


def diff_versions(principal: Principal, args: Args) -> dict[str, Any]:
    artifact_id = str(args.get("artifact_id", ""))
    texts = []
    numbers = []
    for field in ("from_version", "to_version"):
        number = args.get(field)
        artifact = files.artifact_version(principal, artifact_id, int(number) if number else None)
        ref = files.artifact_ref(artifact, files.artifact_uri(artifact_id, artifact.version))
        if not ref.textual or ref.size > read_cap():
            raise _bad(field, f"Version {artifact.version} is not text under {read_cap()} bytes.")
        texts.append(ref.read().decode("utf-8", errors="replace"))
        numbers.append(artifact.version)
    diff = "".join(
        difflib.unified_diff(
            texts[0].splitlines(keepends=True),
            texts[1].splitlines(keepends=True),
            fromfile=f"{artifact_id}@{numbers[0]}",
            tofile=f"{artifact_id}@{numbers[1]}",
        )
    )
    return {
        "artifact_id": artifact_id,
        "from_version": numbers[0],
        "to_version": numbers[1],
        "identical": texts[0] == texts[1],
        "diff": diff,
    }


def search(principal: Principal, args: Args) -> dict[str, Any]:
    namespace = _namespace(principal, args)
    query = {
        key: args[key] for key in ("query", "limit", "artifact_types", "thread_id") if key in args
    }
    data = validated(Query, query)
    if not query_terms(data["query"]):
        raise _bad("query", "The query has no words to search for.")
    result = artifact_search(
        namespace=namespace,
        query=data["query"],
        limit=data["limit"],
        artifact_types=data.get("artifact_types"),
        thread_id=data.get("thread_id"),
    )
    artifacts = plain(ArtifactResponse([hit.artifact for hit in result.hits], many=True).data)
    return {
        "results": [
            {
                "artifact": artifact,
                "score": hit.score,
                "matched_chunk": hit.matched_chunk,
                "highlight": hit.highlight,
            }
            for hit, artifact in zip(result.hits, artifacts, strict=True)
        ],
        "combined_context": result.combined_context,
        "total_results": result.total,
        "total_results_exact": result.total_exact,
        "query": data["query"],
        "mode": result.mode,
    }


def upload_attachment(principal: Principal, args: Args) -> dict[str, Any]:
    session_id = session_selectors.validate_session_id(
        str(args.get("session_id", "")), loc=("arguments", "session_id")
    )
    name = str(args.get("name") or "")
    if not name:
        raise _bad("name", "This field is required.")
    raw = _decoded(args)
    if raw is None:
        if not isinstance(args.get("content"), str):
            raise _bad("content", "Give content (text) or content_base64.")
        raw = args["content"].encode()
    if len(raw) > read_cap():
        raise _bad("content", f"Over {read_cap()} bytes: upload it through REST instead.")
    staged = storage.write_stream(iter([raw]))
    attachment = attachment_services.attachment_create(
        session_lookup=lambda: session_services.session_get_or_create_by_id(
            principal=principal, session_id=session_id
        ),
        staged=staged,
        original_name=name,
        description=str(args.get("description") or ""),
    )
    return {"attachment": plain(AttachmentUploadResponse(attachment).data)}


def complete_session(principal: Principal, args: Args) -> dict[str, Any]:
    data = validated(SessionComplete, {"status": args.get("status") or "completed"})
    session = session_selectors.session_get(
        principal=principal, session_id=str(args.get("session_id", ""))
    )
    session = session_services.session_complete(session=session, status=data["status"])
    return {"session": plain(SessionResponse(session).data)}
