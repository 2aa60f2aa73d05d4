"""A hostile client against what landed in session 5: the request gate's own list answer
(config/gate_reads.py) and the prepared key read (sessions_app/raw_reads.py), seed 001's id
prefixes, seed 000's `ver_` ids. In process, through the real ASGI application (either profile).

Every answer to bad input is a JSON 4xx (never a 500), the gate's answer is Django's, and
another organization's ids are a 404 that nothing else tells apart."""

import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.core.signals import request_started
from django.utils import timezone

from config import gate_reads
from sessions_app.models import ApiKey
from tests.conftest import AsgiClient, Stranger, Tenant

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def django_seen() -> Iterator[list[Any]]:
    seen: list[Any] = []

    def started(**kwargs: Any) -> None:
        seen.append(kwargs)

    request_started.connect(started, weak=False)
    yield seen
    request_started.disconnect(started)


def _session(client: AsgiClient, count: int = 3) -> str:
    session_id = f"h5-{uuid.uuid4().hex[:10]}"
    for number in range(count):
        response = client.upload(f"/api/uploads/{session_id}", b"x%d" % number, name=f"{number}.t")
        assert response.status_code == 201, response.text
    return session_id


def _answer(response: Any) -> tuple[int, list[tuple[str, str]], bytes]:
    headers = [(k, v) for k, v in response.headers.multi_items() if k != "x-request-id"]
    return response.status_code, headers, response.content


def _via_django(monkeypatch: pytest.MonkeyPatch, call: Any) -> Any:
    with monkeypatch.context() as patched:
        patched.setattr(gate_reads, "list_request", lambda scope, headers: None)
        return call()


def _json_4xx(response: Any) -> None:
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:300])
    assert response.headers["content-type"].startswith("application/json"), response.headers
    assert "detail" in response.json()


# --- the gate's list (config/gate_reads.py) against Django's for the same request ---


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/api/uploads/{sid}?%6Cimit=2", {}),  # a percent-encoded parameter name
        ("/api/uploads/{sid}?limit=%32", {}),
        ("/api/uploads/{sid}?limit=002", {}),
        ("/api/uploads/{sid}?limit=2&", {}),
        ("/api/uploads/{sid}?&&limit=2", {}),
        ("/api/uploads/{sid}?limit=2+", {}),
        ("/api/uploads/{sid}?limit=2;cursor=x", {}),
        ("/api/uploads/{sid}?cursor", {}),
        ("/api/uploads/{sid}?limit", {}),
        ("/api/uploads/{sid}?limit=%FF", {}),
        ("/api/uploads/{sid}?limit=\u0662", {}),  # an Arabic-Indic digit
        ("/api/uploads/{sid}?cursor=aWQ6LTE", {}),  # id:-1
        ("/api/uploads/{sid}?cursor=aWQ6OTk5OTk5OTk5OTk5OTk5OTk5OTk5", {}),  # beyond bigint
        ("/api/uploads/{sid}?cursor=aWQ6IDU", {}),  # "id: 5"
        ("/api/uploads/{sid}", {"Accept": "application/json; q=0.5"}),
        ("/api/uploads/{sid}", {"Accept": "*/*", "Cookie": ""}),
        ("/api/uploads/{sid}", {"Host": "evil.example"}),
        ("/api/uploads/{sid}", {"Host": "testserver:abc"}),
        ("/api/uploads/{sid}", {"Host": "TESTSERVER"}),
        ("/api/uploads/{sid}", {"Host": "testserver."}),
        ("/api/uploads/{sid}", {"X-Forwarded-Host": "evil.example"}),
        ("/api/uploads/{sid}", {"X-Forwarded-Proto": "https"}),
        ("/api/uploads/{sid}", {"Content-Length": "0"}),
        ("/api/uploads/%68%35-{rest}", {}),  # a percent-encoded session id
        ("/api/uploads/{sid}%0A", {}),
        ("/api/uploads/{sid}/", {}),
        ("/api/uploads//{sid}", {}),
        ("/api/uploads/{sid}\u00e9", {}),
        ("/api/uploads/" + "a" * 129, {}),
        ("/api/uploads/" + "a" * 128, {}),
    ],
)
def test_the_gates_answer_to_odd_requests_is_djangos(
    tenant: Tenant,
    asgi_owner: AsgiClient,
    monkeypatch: pytest.MonkeyPatch,
    path: str,
    headers: dict[str, str],
) -> None:
    session_id = _session(asgi_owner)
    path = path.format(sid=session_id, rest=session_id[3:])
    expected = _via_django(monkeypatch, lambda: asgi_owner.get(path, headers=headers))
    got = asgi_owner.get(path, headers=headers)
    assert _answer(got) == _answer(expected)
    assert got.status_code < 500, got.text[:300]
    if got.status_code >= 400:
        _json_4xx(got)


def test_a_huge_query_string_is_a_json_4xx(tenant: Tenant, asgi_owner: AsgiClient) -> None:
    session_id = _session(asgi_owner, 1)
    many = "&".join(f"p{number}=1" for number in range(3000))
    for query in (many, "limit=2&" + "limit=2&" * 2000, "cursor=" + "A" * 60000):
        response = asgi_owner.get(f"/api/uploads/{session_id}?{query}")
        _json_4xx(response)


def test_head_is_djangos_with_no_body(
    tenant: Tenant, asgi_owner: AsgiClient, django_seen: list[Any]
) -> None:
    session_id = _session(asgi_owner, 2)
    get = asgi_owner.get(f"/api/uploads/{session_id}")
    before = len(django_seen)
    head = asgi_owner.request("HEAD", f"/api/uploads/{session_id}")
    assert len(django_seen) == before + 1
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == get.headers["content-length"]


@pytest.mark.parametrize("which", ["expired", "revoked", "read_only", "limited", "stranger"])
def test_keys_of_every_kind_on_the_gates_list(
    tenant: Tenant,
    stranger: Stranger,
    asgi_owner: AsgiClient,
    monkeypatch: pytest.MonkeyPatch,
    which: str,
) -> None:
    session_id = _session(asgi_owner, 2)
    key = {
        "expired": tenant.owner_key,
        "revoked": tenant.owner_key,
        "read_only": tenant.read_only_key,
        "limited": tenant.limited_key,
        "stranger": stranger.key,
    }[which]
    prefix = key.removeprefix("dpt_").partition("_")[0]
    if which == "expired":
        ApiKey.objects.filter(prefix=prefix).update(expires_at=timezone.now() - timedelta(1))
    if which == "revoked":
        ApiKey.objects.filter(prefix=prefix).update(revoked_at=timezone.now())
    client = AsgiClient(key)
    path = f"/api/uploads/{session_id}"
    expected = _via_django(monkeypatch, lambda: client.get(path))
    got = client.get(path)
    assert _answer(got) == _answer(expected)
    want = {"expired": 401, "revoked": 401, "read_only": 200, "limited": 404, "stranger": 404}
    assert got.status_code == want[which], got.text
    if which == "stranger":
        # Another organization's session reads as one that does not exist, in the same words.
        missing = client.get(f"/api/uploads/h5-{uuid.uuid4().hex[:10]}").json()["detail"]
        assert (
            got.json()["detail"].replace(session_id, "X")
            == missing.split("'")[0] + "'X'" + (missing.split("'", 2)[2])
        )


def test_a_key_and_a_cookie_go_to_django(
    tenant: Tenant, asgi_owner: AsgiClient, django_seen: list[Any]
) -> None:
    session_id = _session(asgi_owner, 1)
    before = len(django_seen)
    response = asgi_owner.get(f"/api/uploads/{session_id}", headers={"Cookie": "sessionid=x" * 3})
    assert len(django_seen) == before + 1
    assert response.status_code == 200


@pytest.mark.parametrize(
    "key",
    [
        "dpt_\u00e9\u00e9\u00e9_x",
        "dpt_" + "a" * 5000 + "_x",
        "dpt_%_x",
        "dpt__x",
        "dpt_abc\x00def_x",
        "dpt_'; DROP TABLE x; --_y",
    ],
)
def test_odd_keys_are_a_401(tenant: Tenant, asgi_owner: AsgiClient, key: str) -> None:
    session_id = _session(asgi_owner, 1)
    client = AsgiClient()
    for path in (f"/api/uploads/{session_id}", "/api/artifacts"):
        response = client.get(path, headers={"X-API-Key": key.encode()})
        assert response.status_code == 401, (path, response.status_code, response.text[:200])
        _json_4xx(response)


# --- seed 001's id prefixes: pattern characters never match as patterns ---


@pytest.mark.parametrize(
    "prefix",
    [
        "art_%%%%",
        "art____",
        "art_____",
        "art_????",
        "art_****",
        "art_[0-f]*",
        "art_[!x]*",
        "art_\\\\\\\\",
        "ART_",
        "art_" + "0" * 60,
        "%61rt_",
    ],
)
def test_prefix_metacharacters_match_nothing(tenant: Tenant, prefix: str) -> None:
    from urllib.parse import quote

    from artifacts.models import Artifact

    client = AsgiClient(tenant.owner_key)
    for title in ("one", "two"):
        created = client.post(
            "/api/artifacts",
            json={"workflow_id": "wf", "artifact_type": "r", "title": title, "content": "x"},
        )
        assert created.status_code == 201, created.text
    count = Artifact.objects.count()
    for route in ("", "/content", "/file"):
        response = client.get(f"/api/artifacts/{quote(prefix, safe='%')}{route}")
        assert response.status_code == 404, (prefix, route, response.status_code, response.text)
        _json_4xx(response)
    assert Artifact.objects.count() == count


# --- seed 000's ver_ ids ---


def test_ver_ids_of_another_session_or_tenant_are_404(tenant: Tenant, stranger: Stranger) -> None:
    from sessions_app.models import version_file_id

    mine = AsgiClient(tenant.owner_key)
    theirs = AsgiClient(stranger.key)
    own_session, their_session = f"h5-{uuid.uuid4().hex[:8]}", f"h5-{uuid.uuid4().hex[:8]}"
    ids = {}
    for client, session_id in ((mine, own_session), (theirs, their_session)):
        created = client.post(
            "/api/artifacts",
            json={
                "workflow_id": "wf",
                "artifact_type": "r",
                "title": "t",
                "content": "secret " + session_id,
                "session_id": session_id,
            },
        )
        assert created.status_code == 201, created.text
        ids[session_id] = version_file_id(created.json()["id"])
    other_session = _session(mine, 1)
    art = "/api/sessions/{}/artifacts/{}".format
    for path in (
        art(own_session, ids[their_session]),
        art(other_session, ids[own_session]),
        art(their_session, ids[their_session]),
        art(own_session, ids[own_session] + "x"),
        art(own_session, "ver_"),
        art(own_session, "ver_%25"),
        art(own_session, ids[own_session].upper()),
    ):
        for suffix in ("", "/stream", "?mode=stream", "?mode=meta"):
            for method in ("GET", "HEAD"):
                response = mine.request(method, path + suffix)
                assert response.status_code == 404, (method, path + suffix, response.status_code)
                assert b"secret" not in response.content
    # Its own session's ver_ id reads; DELETE of it on the uploads route deletes nothing.
    good = art(own_session, ids[own_session])
    assert mine.get(good).status_code == 200, mine.get(good).text
    assert b"secret" in mine.get(good + "/stream").content
    assert mine.delete(f"/api/uploads/{own_session}/{ids[own_session]}").status_code == 404
    assert mine.get(good).status_code == 200


# --- tus: two PATCHes at one offset at once ---


def test_two_patches_at_one_offset_do_not_both_write(tenant: Tenant) -> None:
    import base64
    import socket
    import threading
    import time
    from urllib.parse import urlsplit

    import requests

    from tests.support.live_server import in_process_uvicorn

    size = 64 * 1024
    first, second = b"A" * size, b"B" * size

    def b64(text: str) -> str:
        return base64.b64encode(text.encode()).decode()

    with in_process_uvicorn() as base:
        created = requests.post(
            f"{base}/api/tus/",
            headers={
                "Tus-Resumable": "1.0.0",
                "X-API-Key": tenant.owner_key,
                "Upload-Length": str(size),
                "Upload-Metadata": f"session_id {b64('h5-tus')},filename {b64('a.bin')}",
            },
            timeout=30,
        )
        assert created.status_code == 201, created.text
        url = f"{base}/api/tus/" + created.headers["Location"].rsplit("/", 1)[1]
        parts = urlsplit(url)
        slow = socket.create_connection((parts.hostname, parts.port))
        slow.sendall(
            (
                f"PATCH {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
                f"X-API-Key: {tenant.owner_key}\r\nTus-Resumable: 1.0.0\r\nUpload-Offset: 0\r\n"
                "Content-Type: application/offset+octet-stream\r\n"
                f"Content-Length: {size}\r\n\r\n"
            ).encode()
            + first[: size // 2]
        )
        time.sleep(1.0)  # the slow PATCH holds its lease and has written half
        answers: list[Any] = []

        def fast() -> None:
            answers.append(
                requests.patch(
                    url,
                    data=second,
                    headers={
                        "Tus-Resumable": "1.0.0",
                        "X-API-Key": tenant.owner_key,
                        "Upload-Offset": "0",
                        "Content-Type": "application/offset+octet-stream",
                    },
                    timeout=60,
                )
            )

        racer = threading.Thread(target=fast)
        racer.start()
        racer.join(30)
        slow.sendall(first[size // 2 :])
        slow.settimeout(30)
        reply = b""
        while b"\r\n\r\n" not in reply:
            piece = slow.recv(65536)
            if not piece:
                break
            reply += piece
        slow.close()
        slow_status = int(reply.split(b" ", 2)[1]) if reply else 0
        fast_status = answers[0].status_code if answers else 0
        assert not (slow_status == 204 and fast_status == 204), (slow_status, fast_status)
        assert 204 in (slow_status, fast_status), (slow_status, fast_status, reply[:300])
        head = requests.head(
            url, headers={"Tus-Resumable": "1.0.0", "X-API-Key": tenant.owner_key}, timeout=30
        )
        assert head.headers.get("Upload-Offset") == str(size), head.headers
        from attachments.models import Attachment

        attachment = Attachment.objects.filter(session__session_id="h5-tus").get()
        download = requests.get(
            f"{base}/api/sessions/h5-tus/artifacts/att_{attachment.uid.hex}/stream",
            headers={"X-API-Key": tenant.owner_key},
            timeout=30,
        )
        want = first if slow_status == 204 else second
        assert download.content == want


# --- a NUL byte in a key (PostgreSQL's text cannot hold one: psycopg raised, a 500) ---


def test_a_nul_in_a_key_is_refused_on_a_real_server(tenant: Tenant) -> None:
    """Over HTTP the server's parser refuses a NUL in a header itself; a query string's `%00`
    reaches Depot decoded: the WebSocket's `?api_key=` and the long-poll's."""
    import requests
    from websockets.exceptions import ConnectionClosed, InvalidStatus
    from websockets.sync.client import connect

    from tests.support.live_server import in_process_uvicorn

    with in_process_uvicorn() as base:
        session_id = f"h5-{uuid.uuid4().hex[:8]}"
        url = f"{base.replace('http', 'ws')}/ws/sessions/{session_id}?api_key=dpt_ab%00cd_x"
        outcome: Any
        try:
            with connect(url, open_timeout=10) as client:
                try:
                    client.recv(timeout=10)
                    outcome = "open"
                except ConnectionClosed as closed:
                    outcome = closed.rcvd.code if closed.rcvd else "dropped"
        except InvalidStatus as refused:
            outcome = refused.response.status_code
        except ConnectionClosed as closed:
            outcome = closed.rcvd.code if closed.rcvd else "dropped"
        assert outcome in (4401, 4403, 403), outcome
        # The server is still answering, and the header form is refused before Depot.
        for path in (f"/api/uploads/{session_id}", "/api/artifacts"):
            plain = requests.get(f"{base}{path}", params={"api_key": "dpt_ab\x00cd_x"}, timeout=10)
            assert plain.status_code in (401, 422), (path, plain.status_code, plain.text[:200])


# --- the streamed meta (seed 000) and the streamed flat content (seed 001) ---


def _body(response: Any) -> bytes:
    return bytes(response.content)


def test_a_streamed_meta_is_404_to_strangers_and_head_has_no_body(
    tenant: Tenant, stranger: Stranger
) -> None:
    import base64
    import os

    mine, theirs = AsgiClient(tenant.owner_key), AsgiClient(stranger.key)
    session_id = f"h5-{uuid.uuid4().hex[:8]}"
    data = os.urandom(1024 * 1024 + 12345)  # above the plain render's 1 MiB: streamed
    uploaded = mine.upload(f"/api/uploads/{session_id}", data, name="big.bin")
    assert uploaded.status_code == 201, uploaded.text
    file_id = uploaded.json()["attachment_id"]
    path = f"/api/sessions/{session_id}/artifacts/{file_id}?mode=meta"
    got = mine.get(path)
    assert got.status_code == 200
    assert base64.b64decode(got.json()["data_uri"].split(",", 1)[1]) == data
    head = mine.request("HEAD", path)
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == got.headers["content-length"]
    # Another organization: the same 404 as an id that does not exist, for GET and HEAD.
    for method in ("GET", "HEAD"):
        for client, target in (
            (theirs, path),
            (theirs, f"/api/sessions/{session_id}/artifacts/{file_id}/stream"),
            (mine, f"/api/sessions/{session_id}/artifacts/att_{'0' * 32}?mode=meta"),
        ):
            response = client.request(method, target)
            assert response.status_code == 404, (method, target, response.status_code)
            assert len(response.content) < 200


def test_flat_content_of_text_that_stops_being_utf8_late_is_base64(tenant: Tenant) -> None:
    import base64

    from tests.support import multipart_body

    client = AsgiClient(tenant.owner_key)
    created = client.post(
        "/api/artifacts",
        json={"workflow_id": "wf", "artifact_type": "r", "title": "t", "content": "x"},
    )
    assert created.status_code == 201, created.text
    artifact_id = created.json()["id"]
    # Multi-byte characters across every chunk boundary, then one bad byte 3 MiB in.
    text = ("\u00e9\u20ac\U0001f600 line\n" * 200_000).encode()
    cases = {"good.txt": text, "late-bad.txt": text + b"\xff tail"}
    for name, data in cases.items():
        body, content_type = multipart_body("file", name, data, {})
        uploaded = client.post(
            f"/api/artifacts/{artifact_id}/upload",
            content=body,
            headers={"Content-Type": content_type},
        )
        assert uploaded.status_code in (200, 201), uploaded.text
        for route in ("", "/content"):
            answer = client.get(f"/api/artifacts/{artifact_id}{route}")
            assert answer.status_code == 200, answer.text[:300]
            document = answer.json()
            if name == "good.txt":
                assert document["content_encoding"] == "utf-8"
                assert document["content"].encode() == data
            else:
                assert document["content_encoding"] == "base64"
                assert base64.b64decode(document["content"]) == data


def test_another_organizations_tus_upload_is_404_and_untouched(
    tenant: Tenant, stranger: Stranger
) -> None:
    import base64

    from artifacts.tus.models import TusUpload

    tus = {"Tus-Resumable": "1.0.0"}
    meta = ",".join(
        f"{k} {base64.b64encode(v.encode()).decode()}"
        for k, v in {"session_id": "h5-tus-tenancy", "filename": "a.bin"}.items()
    )
    mine, theirs = AsgiClient(tenant.owner_key), AsgiClient(stranger.key)
    created = mine.post(
        "/api/tus/", headers={**tus, "Upload-Length": "10", "Upload-Metadata": meta}
    )
    assert created.status_code == 201, created.text
    path = "/api/tus/" + created.headers["Location"].rsplit("/", 1)[1]
    octets = {**tus, "Content-Type": "application/offset+octet-stream", "Upload-Offset": "0"}
    for method, kwargs in (
        ("HEAD", {"headers": tus}),
        ("PATCH", {"headers": octets, "content": b"0123456789"}),
        ("DELETE", {"headers": tus}),
    ):
        response = theirs.request(method, path, **kwargs)
        assert response.status_code == 404, (method, response.status_code, response.text)
    upload = TusUpload.objects.get()
    assert upload.offset == 0
    head = mine.request("HEAD", path, headers=tus)
    assert head.status_code in (200, 204) and head.headers["Upload-Offset"] == "0"


@pytest.mark.parametrize(
    "origin",
    [
        "null",
        "http://testserver@evil.example",
        "http://evil.example#@testserver",
        "http://evil.example\\@testserver",
        "http://testserver.evil.example",
        "http://testserver:8080",
        "https://testserver",
        "http://testserver/path",
        "http://testserver?x=1",
        "ftp://testserver",
        "http://[::1",
        "http://testserver:99999",
        "http://testser\u0076er.",
        "//testserver",
    ],
)
def test_hostile_origins_are_not_the_sockets_own(origin: str) -> None:
    from sessions_app.ws_auth import origin_trust

    scope = {"type": "websocket", "scheme": "ws"}
    assert origin_trust(origin, scope, {"host": "testserver"}) is None, origin
    assert origin_trust("http://testserver", scope, {"host": "testserver"}) is not None


# --- a NUL in a path (PostgreSQL refuses one in a query parameter: every id route was a 500) ---

NUL_PATHS = [
    ("GET", "/api/artifacts/art_%00%00%00%00%00"),
    ("GET", "/api/artifacts/art_%00/content"),
    ("GET", "/api/artifacts/art_%00/file"),
    ("POST", "/api/artifacts/art_%00/upload"),
    ("GET", "/api/sessions/{sid}/artifacts/art_%00"),
    ("GET", "/api/sessions/{sid}/artifacts/ver_%00"),
    ("GET", "/api/sessions/{sid}/artifacts/att_%00"),
    ("HEAD", "/api/sessions/{sid}/artifacts/f-%00"),
    ("GET", "/api/sessions/{sid}/artifacts/%00/stream"),
    ("GET", "/api/sessions/a%00b/artifacts/x"),
    ("DELETE", "/api/uploads/{sid}/%00"),
    ("GET", "{ns}/artifacts/%00"),
    ("GET", "{ns}/threads/%00/artifacts"),
    ("GET", "/api/v1/orgs/{org}/workspaces/{ws}/namespaces/a%00/artifacts"),
    ("GET", "/api/v1/orgs/a%00/workspaces/{ws}/namespaces/default/artifacts"),
    ("GET", "/api/v1/orgs/{org}/workspaces/a%00/namespaces/default/artifacts"),
    ("GET", "/api/tus/%00"),
]


@pytest.mark.parametrize(("method", "path"), NUL_PATHS)
def test_a_nul_in_a_path_is_a_json_404(tenant: Tenant, method: str, path: str) -> None:
    from sessions_app.models import Event

    client = AsgiClient(tenant.owner_key)
    session_id = _session(client, 1)
    org, ws = tenant.organization.slug, tenant.workspace.slug
    ns = f"/api/v1/orgs/{org}/workspaces/{ws}/namespaces/default"
    events = Event.objects.count()
    response = client.request(method, path.format(sid=session_id, org=org, ws=ws, ns=ns))
    assert response.status_code == 404, (response.status_code, response.text[:200])
    if method != "HEAD":
        _json_4xx(response)
    assert Event.objects.count() == events


def test_a_nul_in_a_path_on_a_real_server(tenant: Tenant) -> None:
    """The server's parser lets `%00` through (it is decoded into the scope's path)."""
    import requests

    from tests.support.live_server import in_process_uvicorn

    with in_process_uvicorn() as base:
        for _, path in NUL_PATHS[:3]:
            response = requests.get(
                f"{base}{path}", headers={"X-API-Key": tenant.owner_key}, timeout=30
            )
            assert response.status_code == 404, (path, response.status_code, response.text)
            assert response.json()["detail"]
        # Without a key too: nothing under a NUL path exists for anyone.
        assert requests.get(f"{base}/api/artifacts/art_%00", timeout=30).status_code in (401, 404)


@pytest.mark.parametrize(
    ("tool", "arguments"),
    [
        ("read_file", {"file_id": "art_\x00"}),
        ("read_file", {"file_id": "\x00", "session_id": "SESSION"}),
        ("get_versions", {"artifact_id": "\x00"}),
        ("diff_versions", {"artifact_id": "art_\x00", "from_version": 1, "to_version": 2}),
        ("write_artifact", {"artifact_id": "art_\x00", "content": "x"}),
    ],
)
def test_an_mcp_tools_nul_id_is_a_not_found_result(
    tenant: Tenant, tool: str, arguments: dict[str, Any]
) -> None:
    """On PostgreSQL these raised psycopg's DataError out of the tool: a JSON-RPC error
    carrying the database's message instead of the tool's 404 result."""
    from agents_mcp.tools import _run
    from sessions_app.principals import authenticate_raw_key, principal_for_key

    session_id = _session(AsgiClient(tenant.owner_key), 1)
    if arguments.get("session_id") == "SESSION":
        arguments = {**arguments, "session_id": session_id}
    api_key = authenticate_raw_key(tenant.owner_key)
    assert api_key is not None
    result = _run(tool, principal_for_key(api_key), arguments)
    assert result.is_error
    assert result.structured_content["error"]["status"] == 404, result.structured_content


@pytest.mark.usefixtures("rate_window")
def test_with_rates_on_the_gates_list_is_counted_and_refused_like_djangos(
    tenant: Tenant, settings: Any, monkeypatch: pytest.MonkeyPatch, django_seen: list[Any]
) -> None:
    from config.rate_limits import Rate

    settings.DEPOT_RATE_LIMIT_READS = Rate(3, 60)
    settings.DEPOT_RATE_LIMIT_WRITES = Rate(10, 60)
    client = AsgiClient(tenant.owner_key)
    session_id = _session(client, 1)
    path = f"/api/uploads/{session_id}"
    expected = _via_django(monkeypatch, lambda: client.get(path))
    before = len(django_seen)
    fast = client.get(path)
    assert len(django_seen) == before, "the gate should have answered"

    def without_remaining(response: Any) -> Any:
        # RateLimit-Reset counts whole seconds to the window's end, so two answers a few
        # milliseconds apart can straddle a second boundary (CI saw 45 then 44); it is
        # compared on its own below, within one second.
        status, headers, body = _answer(response)
        skip = {"ratelimit-remaining", "ratelimit-reset"}
        return status, [(k, v) for k, v in headers if k not in skip], body

    assert without_remaining(fast) == without_remaining(expected)
    reset_django, reset_gate = (
        int(expected.headers["ratelimit-reset"]),
        int(fast.headers["ratelimit-reset"]),
    )
    assert 0 <= reset_django - reset_gate <= 1, (reset_django, reset_gate)
    assert [expected.headers["ratelimit-remaining"], fast.headers["ratelimit-remaining"]] == [
        "2",
        "1",
    ]
    client.get(path)
    refused = client.get(path)
    assert refused.status_code == 429 and "attachments" not in refused.text
    _json_4xx(refused)
