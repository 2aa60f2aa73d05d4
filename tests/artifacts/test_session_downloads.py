"""Seed-000 meta/stream by id and the session zip (attachments so far)."""

import base64
import hashlib
import io
import os
import zipfile

import pytest

from attachments.models import Attachment
from sessions_app.models import Event
from tests.support import AsgiClient, Stranger, Tenant, stored_keys

# Every test here downloads through the ASGI client, which serves from another thread.
pytestmark = pytest.mark.django_db(transaction=True)


def _upload(client: AsgiClient, content: bytes, name: str = "f.bin", session: str = "dl") -> str:
    response = client.upload(f"/api/uploads/{session}", content, name=name)
    assert response.status_code == 201, response.text
    return response.json()["attachment_id"]


def test_meta_is_the_default_mode(asgi_owner: AsgiClient) -> None:
    attachment_id = _upload(asgi_owner, b"hello", name="hello.txt")
    meta = asgi_owner.get(f"/api/sessions/dl/artifacts/{attachment_id}").json()
    assert meta["attachment_id"] == attachment_id and meta["artifact_id"] is None
    assert (meta["name"], meta["mime"], meta["mime_type"], meta["size"]) == (
        "hello.txt",
        "text/plain",
        "text/plain",
        5,
    )
    assert meta["sha256"] == hashlib.sha256(b"hello").hexdigest()
    assert meta["data_uri"] == "data:text/plain;base64," + base64.b64encode(b"hello").decode()


def test_data_uri_threshold_is_inclusive(asgi_owner: AsgiClient, settings) -> None:  # type: ignore[no-untyped-def]
    settings.DEPOT_DATA_URI_MAX_BYTES = 10
    at_limit = _upload(asgi_owner, b"x" * 10)
    over = _upload(asgi_owner, b"y" * 11)
    assert (
        asgi_owner.get(f"/api/sessions/dl/artifacts/{at_limit}")
        .json()["data_uri"]
        .endswith(base64.b64encode(b"x" * 10).decode())
    )
    assert asgi_owner.get(f"/api/sessions/dl/artifacts/{over}").json()["data_uri"] is None
    settings.DEPOT_DATA_URI_MAX_BYTES = 0
    assert asgi_owner.get(f"/api/sessions/dl/artifacts/{at_limit}").json()["data_uri"] is None


def test_default_data_uri_threshold_is_the_seed_servers_20_mib() -> None:
    # Files past the old 64 KiB default get one too; the 20 MiB edge itself, and the memory
    # the encoding takes, are measured on a real server in test_meta_data_uri_live.py.
    from django.conf import settings

    assert settings.DEPOT_DATA_URI_MAX_BYTES == 20 * 1024 * 1024


def test_files_over_64_kib_have_a_data_uri(asgi_owner: AsgiClient) -> None:
    content = os.urandom(64 * 1024 + 1)
    meta = asgi_owner.get(f"/api/sessions/dl/artifacts/{_upload(asgi_owner, content)}").json()
    assert base64.b64decode(meta["data_uri"].split(",", 1)[1]) == content


def test_stream_headers(asgi_owner: AsgiClient) -> None:
    content = b"%PDF-1.4\n" + os.urandom(5000)
    attachment_id = _upload(asgi_owner, content, name="report.pdf")
    response = asgi_owner.get(f"/api/sessions/dl/artifacts/{attachment_id}?mode=stream")
    assert response.status_code == 200
    assert response.content == content
    assert response.headers["etag"] == f'"{hashlib.sha256(content).hexdigest()}"'
    assert response.headers["content-length"] == str(len(content))
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-disposition"] == 'inline; filename="report.pdf"'
    assert "content-security-policy" not in response.headers
    attached = asgi_owner.get(
        f"/api/sessions/dl/artifacts/{attachment_id}?mode=stream&download=true"
    )
    assert attached.headers["content-disposition"] == 'attachment; filename="report.pdf"'


@pytest.mark.parametrize(
    ("content", "name"),
    [
        (b"<!doctype html><html><script>alert(1)</script></html>", "page.html"),
        (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "pic.svg"),
        (b"<html><body>hi</body></html>", "innocent.txt"),
        (b"<?xml version='1.0'?><root/>", "data.xml"),
        (b"alert(document.cookie)", "app.js"),
    ],
)
def test_active_content_is_always_a_sandboxed_attachment(
    asgi_owner: AsgiClient, content: bytes, name: str
) -> None:
    attachment_id = _upload(asgi_owner, content, name=name)
    for download in ("false", "true"):
        response = asgi_owner.get(
            f"/api/sessions/dl/artifacts/{attachment_id}",
            params={"mode": "stream", "download": download},
        )
        assert response.headers["content-disposition"].startswith("attachment;")
        assert response.headers["content-security-policy"] == "sandbox"
        assert response.headers["x-content-type-options"] == "nosniff"


def test_conditional_and_range_requests(asgi_owner: AsgiClient) -> None:
    content = bytes(range(256)) * 40  # 10,240 bytes
    attachment_id = _upload(asgi_owner, content)
    url = f"/api/sessions/dl/artifacts/{attachment_id}?mode=stream"
    etag = asgi_owner.get(url).headers["etag"]

    not_modified = asgi_owner.get(url, headers={"If-None-Match": etag})
    assert (not_modified.status_code, not_modified.content) == (304, b"")
    assert not_modified.headers["etag"] == etag
    assert asgi_owner.get(url, headers={"If-None-Match": '"other"'}).status_code == 200

    cases = {
        "bytes=0-99": (0, 99),
        "bytes=10000-": (10000, 10239),
        "bytes=-240": (10000, 10239),
        "bytes=10200-99999": (10200, 10239),
    }
    for header, (start, end) in cases.items():
        partial = asgi_owner.get(url, headers={"Range": header})
        assert partial.status_code == 206, header
        assert partial.content == content[start : end + 1]
        assert partial.headers["content-range"] == f"bytes {start}-{end}/{len(content)}"
        assert partial.headers["content-length"] == str(end - start + 1)

    for header in ("bytes=10240-", "bytes=20000-30000", "bytes=-0", "bytes=50-10"):
        unsatisfiable = asgi_owner.get(url, headers={"Range": header})
        assert unsatisfiable.status_code == 416, header
        assert unsatisfiable.headers["content-range"] == f"bytes */{len(content)}"
        assert "detail" in unsatisfiable.json()

    # Malformed or multi-range headers may be ignored: the whole file comes back.
    for header in ("bytes=0-1,5-6", "lines=1-2"):
        whole = asgi_owner.get(url, headers={"Range": header})
        assert (whole.status_code, whole.content) == (200, content)
    # If-Range with a stale validator also gets the whole file.
    stale = asgi_owner.get(url, headers={"Range": "bytes=0-9", "If-Range": '"stale"'})
    assert stale.status_code == 200 and len(stale.content) == len(content)


def test_bad_query_values_are_422(asgi_owner: AsgiClient) -> None:
    attachment_id = _upload(asgi_owner, b"x")
    for params in ({"mode": "raw"}, {"download": "maybe"}, {"colour": "red"}):
        response = asgi_owner.get(f"/api/sessions/dl/artifacts/{attachment_id}", params=params)
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"][0] == "query"


def test_unknown_ids_are_404(asgi_owner: AsgiClient) -> None:
    _upload(asgi_owner, b"x")
    for item in ("att_" + "0" * 32, "nonsense", "f-00000000-0000-0000-0000-000000000000"):
        assert asgi_owner.get(f"/api/sessions/dl/artifacts/{item}").status_code == 404
    assert asgi_owner.get("/api/sessions/none/artifacts/att_x").status_code == 404
    assert asgi_owner.get("/api/sessions/none/download").status_code == 404


def test_seed_003_file_id_works_on_the_seed_000_route(asgi_owner: AsgiClient) -> None:
    attachment_id = _upload(asgi_owner, b"abc", session="dl")
    file_id = Attachment.objects.get().file_id
    meta = asgi_owner.get(f"/api/sessions/dl/artifacts/{file_id}").json()
    assert meta["attachment_id"] == attachment_id


def test_another_tenant_gets_404_on_every_download_route(
    tenant: Tenant, stranger: Stranger
) -> None:
    theirs = AsgiClient(stranger.key)
    attachment_id = _upload(theirs, b"secret", session="shared-id")
    mine = AsgiClient(tenant.owner_key)
    for url in (
        f"/api/sessions/shared-id/artifacts/{attachment_id}",
        f"/api/sessions/shared-id/artifacts/{attachment_id}?mode=stream",
        "/api/sessions/shared-id/download",
        "/api/uploads/shared-id",
    ):
        assert mine.get(url).status_code == 404, url
    # Even with a session of the same id of our own, their attachment stays invisible.
    _upload(mine, b"ours", session="shared-id")
    assert mine.get(f"/api/sessions/shared-id/artifacts/{attachment_id}").status_code == 404


def test_read_only_key_can_download(tenant: Tenant, asgi_owner: AsgiClient) -> None:
    attachment_id = _upload(asgi_owner, b"readable")
    reader = AsgiClient(tenant.read_only_key)
    assert (
        reader.get(f"/api/sessions/dl/artifacts/{attachment_id}?mode=stream").content == b"readable"
    )
    assert reader.delete(f"/api/uploads/dl/{attachment_id}").status_code == 403


def test_zip_holds_clean_unique_entries(asgi_owner: AsgiClient) -> None:
    names = [
        "../../etc/passwd",
        "..\\evil.txt",
        "/abs/path.txt",
        "dup.txt",
        "DUP.txt",
        "dup.txt",
        "\u202eexe.txt",
        "..",
        "a\x00b.txt",
    ]
    contents = {}
    for index, name in enumerate(names):
        content = f"file {index}".encode()
        _upload(asgi_owner, content, name=name, session="zipped")
        contents[index] = content
    response = asgi_owner.get("/api/sessions/zipped/download")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/zip"
    # Chunked: an entry deleted while the zip streams is left out (artifacts/zips.py).
    assert "content-length" not in response.headers
    assert response.headers["content-disposition"] == 'attachment; filename="zipped.zip"'
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert archive.testzip() is None
    entries = archive.namelist()
    assert len(entries) == len(names) == len({entry.lower() for entry in entries})
    for entry in entries:
        assert entry.startswith("attachments/")
        assert ".." not in entry.split("/")
        assert not entry.startswith("/") and "\\" not in entry and "\x00" not in entry
        assert "\u202e" not in entry
    assert {
        "attachments/passwd",
        "attachments/dup.txt",
        "attachments/DUP (2).txt",
        "attachments/dup (3).txt",
        "attachments/file",
    } <= set(entries)
    assert sorted(archive.read(entry) for entry in entries) == sorted(contents.values())


def test_zip_of_an_empty_session(asgi_owner: AsgiClient, owner) -> None:  # type: ignore[no-untyped-def]
    owner.post("/api/sessions", {"session_id": "empty"}, format="json")
    response = asgi_owner.get("/api/sessions/empty/download")
    assert response.status_code == 200
    assert zipfile.ZipFile(io.BytesIO(response.content)).namelist() == []


def test_auto_clean_on_completion(asgi_owner: AsgiClient, owner, settings) -> None:  # type: ignore[no-untyped-def]
    settings.DEPOT_AUTO_CLEAN_ATTACHMENTS = True
    attachment_id = _upload(asgi_owner, b"temporary", session="clean")
    shared = b"shared bytes"
    _upload(asgi_owner, shared, session="clean")
    keeper = _upload(asgi_owner, shared, session="other")
    before = stored_keys()
    assert owner.post("/api/sessions/clean/complete").status_code == 200

    purged = Attachment.objects.filter(session__session_id="clean")
    assert all(a.purged and a.blob_id is None for a in purged)
    # The bytes only "clean" used are gone; the ones "other" still uses stay.
    assert len(stored_keys()) == len(before) - 1
    meta = asgi_owner.get(f"/api/sessions/clean/artifacts/{attachment_id}").json()
    assert meta["purged"] is True and meta["data_uri"] is None
    gone = asgi_owner.get(f"/api/sessions/clean/artifacts/{attachment_id}?mode=stream")
    assert gone.status_code == 410 and "removed" in gone.json()["detail"]
    listed = asgi_owner.get("/api/uploads/clean").json()["attachments"]
    assert all(item["purged"] for item in listed) and len(listed) == 2
    assert (
        zipfile.ZipFile(
            io.BytesIO(asgi_owner.get("/api/sessions/clean/download").content)
        ).namelist()
        == []
    )
    assert asgi_owner.get(f"/api/sessions/other/artifacts/{keeper}?mode=stream").content == shared
    assert Event.objects.filter(kind="session.completed").count() == 1


def test_no_auto_clean_by_default_and_zip_never_cleans(asgi_owner: AsgiClient, owner) -> None:  # type: ignore[no-untyped-def]
    attachment_id = _upload(asgi_owner, b"keep me", session="keep")
    assert asgi_owner.get("/api/sessions/keep/download").status_code == 200
    owner.post("/api/sessions/keep/complete")
    response = asgi_owner.get(f"/api/sessions/keep/artifacts/{attachment_id}?mode=stream")
    assert response.content == b"keep me"


def test_mac_variable_is_honoured(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import subprocess
    import sys

    code = "from django.conf import settings; print(settings.DEPOT_AUTO_CLEAN_ATTACHMENTS)"
    env = {**os.environ, "DEPOT_DATA_DIR": str(tmp_path), "MAC_AUTO_CLEAN_ATTACHMENTS": "1"}
    env.pop("DEPOT_AUTO_CLEAN_ATTACHMENTS", None)
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "True"


# --- artifacts on the seed-000 routes ---

NS = "/api/v1/orgs/acme/workspaces/alpha/namespaces/default"


def test_meta_and_stream_by_artifact_id(asgi_owner: AsgiClient, owner) -> None:  # type: ignore[no-untyped-def]
    made = owner.post(
        f"{NS}/artifacts", {"name": "Plan", "content": "# v1", "session_id": "mixed"}, format="json"
    ).json()
    root = made["artifact_id"]
    second = owner.put(f"{NS}/artifacts/{root}", {"content": "# v2"}, format="json").json()
    # The event carries the version's id; both ids work on the seed-000 route.
    meta = asgi_owner.get(f"/api/sessions/mixed/artifacts/{second['artifact_id']}").json()
    assert (meta["artifact_id"], meta["attachment_id"]) == (
        second["artifact_id"],
        second["artifact_id"],
    )
    assert (meta["name"], meta["mime"], meta["size"]) == ("Plan.md", "text/markdown", 4)
    assert meta["data_uri"] == "data:text/markdown;base64," + base64.b64encode(b"# v2").decode()
    by_root = asgi_owner.get(f"/api/sessions/mixed/artifacts/{root}?mode=stream")
    assert by_root.content == b"# v2"
    assert by_root.headers["etag"] == f'"{hashlib.sha256(b"# v2").hexdigest()}"'
    ranged = asgi_owner.get(
        f"/api/sessions/mixed/artifacts/{root}?mode=stream", headers={"Range": "bytes=2-"}
    )
    assert (ranged.status_code, ranged.content) == (206, b"v2")
    # An artifact of another session is not reachable through this one.
    owner.post("/api/sessions", {"session_id": "elsewhere"}, format="json")
    assert asgi_owner.get(f"/api/sessions/elsewhere/artifacts/{root}").status_code == 404


def test_zip_holds_attachments_and_the_latest_version_of_each_artifact(
    asgi_owner: AsgiClient, owner
) -> None:  # type: ignore[no-untyped-def]
    _upload(asgi_owner, b"an attachment", name="notes.txt", session="bundle")
    made = owner.post(
        f"{NS}/artifacts",
        {
            "name": "notes.txt",
            "content": "old",
            "content_type": "text/plain",
            "session_id": "bundle",
        },
        format="json",
    ).json()
    owner.put(f"{NS}/artifacts/{made['artifact_id']}", {"content": "new"}, format="json")
    file_artifact = asgi_owner.upload(
        f"{NS}/artifacts/upload", b"%PDF-1.4\nx", name="r.pdf", session_id="bundle"
    )
    assert file_artifact.status_code == 201
    archive = zipfile.ZipFile(io.BytesIO(asgi_owner.get("/api/sessions/bundle/download").content))
    assert archive.testzip() is None
    contents = {name: archive.read(name) for name in archive.namelist()}
    assert contents == {
        "attachments/notes.txt": b"an attachment",
        "artifacts/notes.txt": b"new",
        "artifacts/r.pdf": b"%PDF-1.4\nx",
    }


def test_empty_files_in_the_zip_and_content(asgi_owner: AsgiClient) -> None:
    # S3 refuses a range on an empty object; whole-object reads must not send one.
    _upload(asgi_owner, b"", name="empty.txt", session="hollow")
    archive = zipfile.ZipFile(io.BytesIO(asgi_owner.get("/api/sessions/hollow/download").content))
    assert archive.read("attachments/empty.txt") == b""
