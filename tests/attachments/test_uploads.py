"""Seed-000 uploads through the real ASGI stack, on whichever storage the profile selects."""

import asyncio
import hashlib
import os
from pathlib import Path

import pytest

from attachments.models import Attachment, Blob
from sessions_app.models import Event, Session
from tests.support import AsgiClient, Tenant, http_scope, multipart_body, stored_keys

pytestmark = pytest.mark.django_db(transaction=True)

MB = 1000 * 1000
MIB = 1024 * 1024
# Django's in-memory upload threshold is 2.5 MB (2,621,440 bytes).
DJANGO_MEMORY_LIMIT = 2_621_440
BOUNDARY_SIZES = [
    0,
    1,
    DJANGO_MEMORY_LIMIT - 1,
    DJANGO_MEMORY_LIMIT,
    DJANGO_MEMORY_LIMIT + 1,
    5 * MIB - 1,
    5 * MIB,
    5 * MIB + 1,
    65 * MIB,
]


@pytest.mark.parametrize("size", BOUNDARY_SIZES)
def test_round_trip_keeps_every_byte(asgi_owner: AsgiClient, size: int) -> None:
    content = os.urandom(size)
    expected = hashlib.sha256(content).hexdigest()
    response = asgi_owner.upload("/api/uploads/rt", content, name="data.bin")
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["sha256"], body["size"]) == (expected, size)
    download = asgi_owner.get(f"/api/sessions/rt/artifacts/{body['attachment_id']}?mode=stream")
    assert download.status_code == 200
    assert hashlib.sha256(download.content).hexdigest() == expected
    assert download.headers["content-length"] == str(size)
    # Only the content-addressed blob is left in storage: no temporary copy.
    assert stored_keys() == {f"blobs/{expected[:2]}/{expected[2:4]}/{expected}"}


def test_upload_response_and_list_shapes(asgi_owner: AsgiClient) -> None:
    response = asgi_owner.upload(
        "/api/uploads/shapes",
        b"# notes\n",
        name="notes.md",
        description="first",
        metadata='{"k": 1}',
        node_id="writer",
        path="out/notes.md",
    )
    assert response.status_code == 201
    created = response.json()
    assert set(created) == {
        "attachment_id",
        "name",
        "mime",
        "mime_type",
        "size",
        "sha256",
        "created_at",
    }
    assert created["attachment_id"].startswith("att_")
    assert (created["name"], created["mime"], created["mime_type"]) == (
        "notes.md",
        "text/markdown",
        "text/markdown",
    )
    page = asgi_owner.get("/api/uploads/shapes").json()
    assert set(page) == {"attachments", "has_more", "next_cursor"}
    item = page["attachments"][0]
    assert {"attachment_id", "name", "mime", "size", "source", "sha256", "created_at"} <= set(item)
    assert (item["source"], item["description"]) == ("upload", "first")
    attachment = Attachment.objects.get()
    assert attachment.metadata == {"k": 1}


def test_upload_creates_the_session_and_emits_an_event(asgi_owner: AsgiClient) -> None:
    content = b'{"ok": true}'
    response = asgi_owner.upload(
        "/api/uploads/fresh-run",
        content,
        name="result.json",
        node_id="python_runner",
        path="code_workspace/result.json",
    )
    assert response.status_code == 201
    session = Session.objects.get(session_id="fresh-run")
    assert session.namespace.slug == "default"
    event = Event.objects.get(session=session)
    assert (event.sequence, event.kind, event.change_type) == (1, "attachment.created", "created")
    assert event.attachment_id == response.json()["attachment_id"]
    assert (event.node_id, event.path) == ("python_runner", "code_workspace/result.json")
    assert (event.size, event.mime) == (len(content), "application/json")
    assert event.hash == f"sha256:{hashlib.sha256(content).hexdigest()}"


def test_same_content_is_stored_once(asgi_owner: AsgiClient) -> None:
    content = os.urandom(300_000)
    first = asgi_owner.upload("/api/uploads/dedup", content, name="a.bin").json()
    second = asgi_owner.upload("/api/uploads/dedup-2", content, name="b.bin").json()
    assert first["attachment_id"] != second["attachment_id"]
    assert Blob.objects.count() == 1
    assert Attachment.objects.filter(blob__isnull=False).count() == 2
    assert len(stored_keys()) == 1


def test_deleting_the_last_reference_deletes_the_bytes(asgi_owner: AsgiClient) -> None:
    content = os.urandom(1000)
    first = asgi_owner.upload("/api/uploads/del", content, name="a.bin").json()
    second = asgi_owner.upload("/api/uploads/del", content, name="b.bin").json()
    assert asgi_owner.delete(f"/api/uploads/del/{first['attachment_id']}").status_code == 204
    assert len(stored_keys()) == 1 and Blob.objects.count() == 1
    assert asgi_owner.delete(f"/api/uploads/del/{second['attachment_id']}").status_code == 204
    assert stored_keys() == set() and Blob.objects.count() == 0
    kinds = list(Event.objects.order_by("sequence").values_list("kind", flat=True))
    assert kinds == ["attachment.created"] * 2 + ["attachment.deleted"] * 2
    assert asgi_owner.delete(f"/api/uploads/del/{second['attachment_id']}").status_code == 404


HOSTILE_NAMES = {
    "../../x": "x",
    "..\\x": "x",
    "/etc/passwd": "passwd",
    "nul\x00byte.txt": "nulbyte.txt",
    "line\r\nbreak.txt": "line%0D%0Abreak.txt",  # clients escape line breaks (HTML5)
    '"quoted".txt': '"quoted".txt',
    "\u202etxt.exe": "txt.exe",
    "a" * 996 + ".txt": "a" * 251 + ".txt",
    "..": "file",
    "漢" * 1000: "漢" * 255,
}


def _tree(root: Path) -> set[str]:
    return {str(path) for path in root.rglob("*") if path.is_file()}


@pytest.mark.parametrize("raw_name", list(HOSTILE_NAMES), ids=range(len(HOSTILE_NAMES)))
def test_hostile_file_names(asgi_owner: AsgiClient, tmp_path: Path, raw_name: str) -> None:
    from email.message import EmailMessage

    watched = [tmp_path, Path.cwd()]
    before = {
        str(root): _tree(root) if root == tmp_path else set(os.listdir(root)) for root in watched
    }
    response = asgi_owner.upload("/api/uploads/hostile", b"harmless text\n", name=raw_name)
    assert response.status_code == 201, response.text
    stored_name = response.json()["name"]
    assert stored_name == HOSTILE_NAMES[raw_name]
    assert not any(ch in stored_name for ch in "/\\\x00\r\n\u202e")
    sent = raw_name.replace("\r\n", "%0D%0A").replace("\x00", "\ufffd")
    assert Attachment.objects.get().original_name == sent

    # Nothing outside the blob store appeared, and inside it only content-addressed keys.
    for key in stored_keys():
        assert key.startswith("blobs/"), key
    assert set(os.listdir(Path.cwd())) == before[str(Path.cwd())]
    storage_root = tmp_path / "storage"
    new_files = _tree(tmp_path) - before[str(tmp_path)]
    assert all(path.startswith(str(storage_root / "blobs")) for path in new_files)

    download = asgi_owner.get(
        f"/api/sessions/hostile/artifacts/{response.json()['attachment_id']}",
        params={"mode": "stream", "download": "true"},
    )
    assert download.status_code == 200
    header = download.headers["content-disposition"]
    message = EmailMessage()
    message["Content-Disposition"] = header
    assert message.get_filename() == stored_name
    assert header.startswith("attachment;")


def test_raw_line_break_inside_a_part_header_is_a_400_not_a_500(asgi_owner: AsgiClient) -> None:
    body = (
        b'--b\r\nContent-Disposition: form-data; name="file"; filename="a\r\nb.txt"\r\n\r\n'
        b"data\r\n--b--\r\n"
    )
    response = asgi_owner.post(
        "/api/uploads/raw",
        content=body,
        headers={"Content-Type": "multipart/form-data; boundary=b"},
    )
    assert response.status_code in (400, 422)
    assert "detail" in response.json()
    assert not Attachment.objects.exists() and stored_keys() == set()


def _nothing_left(session_id: str) -> None:
    assert not Session.objects.filter(session_id=session_id).exists()
    assert not Attachment.objects.exists()
    assert not Blob.objects.exists()
    assert not Event.objects.exists()
    assert stored_keys() == set()


def test_oversize_upload_is_413_and_leaves_nothing(asgi_owner: AsgiClient, settings) -> None:  # type: ignore[no-untyped-def]
    settings.DEPOT_MAX_UPLOAD_BYTES = 100_000
    # Content-Length within the form allowance, so the stream itself must stop it.
    response = asgi_owner.upload("/api/uploads/big", os.urandom(100_001), name="big.bin")
    assert response.status_code == 413
    assert "limit" in response.json()["detail"]
    _nothing_left("big")
    # Exactly at the cap is fine.
    assert asgi_owner.upload("/api/uploads/big", os.urandom(100_000)).status_code == 201


def _run_asgi(scope_extra: dict, messages: list[dict], *, fail_on_receive_after: int | None = None):  # type: ignore[no-untyped-def]
    """Drive the ASGI app by hand; returns (status or None, body, receive calls)."""
    from config.asgi import application

    sent: list[dict] = []
    calls = 0

    async def receive() -> dict:
        nonlocal calls
        calls += 1
        if fail_on_receive_after is not None and calls > fail_on_receive_after:
            raise AssertionError("the body was read")
        if messages:
            return messages.pop(0)
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        sent.append(message)

    scope = http_scope("POST", "/api/uploads/early", **scope_extra)
    asyncio.run(application(scope, receive, send))
    start = next((m for m in sent if m["type"] == "http.response.start"), None)
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return (start["status"] if start else None), body, calls


def test_content_length_over_cap_is_413_before_the_body_is_read(tenant: Tenant, settings) -> None:  # type: ignore[no-untyped-def]
    settings.DEPOT_MAX_UPLOAD_BYTES = 1000
    headers = [
        (b"host", b"testserver"),
        (b"x-api-key", tenant.owner_key.encode()),
        (b"content-type", b"multipart/form-data; boundary=b"),
        (b"content-length", str(10 * MIB).encode()),
    ]
    status, body, calls = _run_asgi({"headers": headers}, [], fail_on_receive_after=0)
    assert status == 413 and calls == 0
    assert b"limit" in body
    _nothing_left("early")


def test_no_key_is_401_before_the_body_is_read(tenant: Tenant) -> None:
    headers = [(b"host", b"testserver"), (b"content-type", b"multipart/form-data; boundary=b")]
    status, body, calls = _run_asgi({"headers": headers}, [], fail_on_receive_after=0)
    assert (status, calls) == (401, 0)
    read_only = [*headers, (b"x-api-key", tenant.read_only_key.encode())]
    status, body, calls = _run_asgi({"headers": read_only}, [], fail_on_receive_after=0)
    assert (status, calls) == (403, 0)
    assert b"read-only" in body


def test_aborted_upload_leaves_no_temp_file(tenant: Tenant) -> None:
    body, content_type = multipart_body("file", "half.bin", os.urandom(3 * MIB))
    headers = [
        (b"host", b"testserver"),
        (b"x-api-key", tenant.owner_key.encode()),
        (b"content-type", content_type.encode()),
        (b"content-length", str(len(body)).encode()),
    ]
    half = len(body) // 2
    messages = [
        {"type": "http.request", "body": body[: half // 2], "more_body": True},
        {"type": "http.request", "body": body[half // 2 : half], "more_body": True},
        {"type": "http.disconnect"},
    ]
    status, _, calls = _run_asgi({"headers": headers}, messages)
    assert status is None  # nobody left to answer
    assert calls == 3
    _nothing_left("early")


@pytest.mark.parametrize(
    ("fields", "loc"),
    [
        ({"metadata": "not json"}, ["body", "metadata"]),
        ({"metadata": "[1, 2]"}, ["body", "metadata"]),
        ({"colour": "red"}, ["body", "colour"]),
        ({"node_id": "x" * 300}, ["body", "node_id"]),
        ({"node_id": "a\x00b"}, ["body", "node_id"]),
        ({"metadata": '{"k": "a\\u0000b"}'}, ["body", "metadata"]),
    ],
)
def test_bad_form_fields_are_422_and_leave_nothing(
    asgi_owner: AsgiClient, fields: dict, loc: list
) -> None:
    response = asgi_owner.upload("/api/uploads/bad", b"data", **fields)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == loc
    _nothing_left("bad")


def test_missing_file_part_is_422(asgi_owner: AsgiClient) -> None:
    response = asgi_owner.upload("/api/uploads/nofile", b"data", field="document")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] in (["body", "file"], ["body", "document"])
    _nothing_left("nofile")


def test_bad_session_id_is_422_and_leaves_nothing(asgi_owner: AsgiClient) -> None:
    response = asgi_owner.upload("/api/uploads/bad.id", b"data")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["path", "session_id"]
    assert not Session.objects.exists() and stored_keys() == set()


def test_malformed_multipart_is_400(asgi_owner: AsgiClient) -> None:
    response = asgi_owner.post(
        "/api/uploads/mal",
        content=b'--b\r\nContent-Disposition: form-data; name="file"; filename="a"\r\n\r\nno end',
        headers={"Content-Type": "multipart/form-data; boundary=b"},
    )
    assert response.status_code == 400
    _nothing_left("mal")
    no_boundary = asgi_owner.post(
        "/api/uploads/mal", content=b"x", headers={"Content-Type": "multipart/form-data"}
    )
    assert no_boundary.status_code == 400


def test_disallowed_type_is_422_and_leaves_nothing(asgi_owner: AsgiClient, settings) -> None:  # type: ignore[no-untyped-def]
    settings.DEPOT_ALLOWED_MIME_TYPES = ["image/", "application/pdf"]
    response = asgi_owner.upload("/api/uploads/types", b"plain words", name="a.png")
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "mime_type_not_allowed"
    _nothing_left("types")
    pdf = asgi_owner.upload("/api/uploads/types", b"%PDF-1.4\n%\xe2\xe3\n", name="doc")
    assert pdf.status_code == 201 and pdf.json()["mime"] == "application/pdf"


def test_binary_opening_with_a_brace_is_not_json(asgi_owner: AsgiClient) -> None:
    # It was sniffed as application/json (puremagic's one-byte `{`): served inline, and let
    # past an allow-list naming JSON.
    binary = b"{\x00\x01\xff" + bytes(range(256)) * 40
    made = asgi_owner.upload("/api/uploads/brace", binary, name="weights.bin")
    assert made.status_code == 201 and made.json()["mime"] == "application/octet-stream"
    served = asgi_owner.get(f"/api/sessions/brace/artifacts/{made.json()['attachment_id']}/stream")
    assert served.headers["content-type"] == "application/octet-stream"
    assert served.headers["content-disposition"].startswith("attachment")


def test_binary_opening_with_a_brace_is_refused_by_a_json_allow_list(
    asgi_owner: AsgiClient, settings
) -> None:  # type: ignore[no-untyped-def]
    binary = b"{\x00\x01\xff" + bytes(range(256)) * 40
    settings.DEPOT_ALLOWED_MIME_TYPES = ["application/json"]
    refused = asgi_owner.upload("/api/uploads/brace2", binary, name="weights.json")
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["type"] == "mime_type_not_allowed"
    _nothing_left("brace2")


def test_file_limit_per_session_is_409_and_leaves_nothing_new(
    asgi_owner: AsgiClient, settings
) -> None:  # type: ignore[no-untyped-def]
    settings.DEPOT_MAX_FILES_PER_SESSION = 1
    assert asgi_owner.upload("/api/uploads/cap", b"one").status_code == 201
    keys = stored_keys()
    response = asgi_owner.upload("/api/uploads/cap", b"two")
    assert response.status_code == 409
    assert Attachment.objects.count() == 1 and Event.objects.count() == 1
    assert stored_keys() == keys


def test_no_key_read_only_and_stranger(tenant: Tenant, stranger) -> None:  # type: ignore[no-untyped-def]
    assert AsgiClient().upload("/api/uploads/a", b"x").status_code == 401
    assert AsgiClient(tenant.read_only_key).upload("/api/uploads/a", b"x").status_code == 403
    AsgiClient(stranger.key).upload("/api/uploads/theirs", b"secret")
    owner = AsgiClient(tenant.owner_key)
    assert owner.get("/api/uploads/theirs").status_code == 404
    their_id = Attachment.objects.get().attachment_id
    assert owner.delete(f"/api/uploads/theirs/{their_id}").status_code == 404
    # Writing to the same id from another organization makes a separate session.
    assert owner.upload("/api/uploads/theirs", b"mine").status_code == 201
    assert Session.objects.filter(session_id="theirs").count() == 2
    assert len(owner.get("/api/uploads/theirs").json()["attachments"]) == 1


def test_list_pages_and_query_count(
    asgi_owner: AsgiClient, owner, django_assert_num_queries
) -> None:  # type: ignore[no-untyped-def]
    for index in range(7):
        asgi_owner.upload("/api/uploads/pages", f"file {index}".encode(), name=f"{index}.txt")
    first = owner.get("/api/uploads/pages", {"limit": 4}).json()
    second = owner.get("/api/uploads/pages", {"limit": 4, "cursor": first["next_cursor"]}).json()
    names = [a["name"] for a in first["attachments"] + second["attachments"]]
    assert names == [f"{index}.txt" for index in reversed(range(7))]
    assert second["has_more"] is False
    # key lookup, then the session and its page in one statement (attachments/listing.py)
    with django_assert_num_queries(2):
        assert owner.get("/api/uploads/pages").status_code == 200


def test_limited_key_cannot_upload_into_a_session_of_another_workspace(
    tenant: Tenant, owner
) -> None:  # type: ignore[no-untyped-def]
    """Session ids are unique per workspace: the limited key's upload makes its own session of
    that id in its workspace (as for a free id), and the other workspace's stays empty."""
    owner.post("/api/sessions", {"session_id": "alpha-run"}, format="json")
    limited = AsgiClient(tenant.limited_key)
    response = limited.upload("/api/uploads/alpha-run", b"sneaky", name="x.txt")
    assert response.status_code == 201, response.text
    alpha_run = Session.objects.get(session_id="alpha-run", workspace=tenant.workspace)
    assert not Attachment.objects.filter(session=alpha_run).exists()
    assert not Event.objects.filter(session=alpha_run).exists()
    beta_run = Session.objects.get(session_id="alpha-run", workspace=tenant.other_workspace)
    assert Attachment.objects.get().session == beta_run
