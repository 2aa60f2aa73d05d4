"""Depot as an MCP server (issue 17), driven by the official MCP client of the `mcp` SDK
(`streamable_http_client` and `ClientSession`) against a real uvicorn on this test's own
database, on whichever profile the run uses. Data is written through REST on the same server
and compared with what MCP answers."""

import asyncio
import base64
import json
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import mcp_types as types
import pytest
import requests
from asgiref.sync import sync_to_async
from django.db import connection
from mcp import Client
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from mcp.shared.exceptions import MCPError
from mcp.shared.subscriptions import ResourceUpdated

from tests.support import Stranger, Tenant
from tests.support.live_server import live_uvicorn

pytestmark = pytest.mark.django_db(transaction=True)

READ_CAP = 64 * 1024
MCP_BODY_CAP = 256 * 1024
GATE_BODY_CAP = 1024 * 1024
WRITE_TOOLS = {"write_artifact", "upload_attachment", "complete_session"}
ALL_TOOLS = {
    "list_sessions",
    "list_files",
    "read_file",
    "get_versions",
    "diff_versions",
    "search",
    *WRITE_TOOLS,
}
NAMESPACE = "/api/v1/orgs/acme/workspaces/alpha/namespaces/default"


@dataclass
class Running:
    process: subprocess.Popen[bytes]
    base: str
    log_path: Path

    @property
    def url(self) -> str:
        return f"{self.base}/mcp"

    def rest(self, method: str, path: str, key: str, **kwargs: Any) -> requests.Response:
        headers = {"X-API-Key": key, **kwargs.pop("headers", {})}
        return requests.request(method, f"{self.base}{path}", headers=headers, timeout=30, **kwargs)


@pytest.fixture(scope="module")
def server(django_db_setup: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    """uvicorn as `make run` starts it, on the test database (rows the tests commit), with
    small MCP limits so the tests can pass them."""
    root = tmp_path_factory.mktemp("mcp")
    with live_uvicorn(
        root,
        name="mcp",
        env={
            "DEPOT_MCP_READ_MAX_BYTES": str(READ_CAP),
            "DEPOT_MCP_MAX_BODY_BYTES": str(MCP_BODY_CAP),
            "DEPOT_MAX_BODY_BYTES": str(GATE_BODY_CAP),
        },
    ) as (process, base, log_path):
        yield Running(process, base, log_path)


@dataclass
class Connected:
    session: ClientSession
    notifications: list[Any] = field(default_factory=list)

    async def wait_for(self, method: str, uri: str | None, seconds: float) -> float:
        """Seconds until a notification of `method` (for `uri`) arrived; fails after `seconds`."""
        start = time.monotonic()
        while time.monotonic() - start < seconds:
            for note in self.notifications:
                params = getattr(note, "params", None)
                if note.method == method and (uri is None or str(params.uri) == uri):
                    return time.monotonic() - start
            await asyncio.sleep(0.02)
        raise AssertionError(f"no {method} for {uri} within {seconds} s: {self.notifications}")


@asynccontextmanager
async def mcp_client(
    server: Running, key: str, *, bearer: bool = False
) -> AsyncIterator[Connected]:
    headers = {"Authorization": f"Bearer {key}"} if bearer else {"X-API-Key": key}
    connected: Connected
    received: list[Any] = []

    async def handler(message: Any) -> None:
        if not isinstance(message, Exception):
            received.append(message)

    async with (
        create_mcp_http_client(headers=headers) as http,
        streamable_http_client(server.url, http_client=http) as (read, write),
        ClientSession(read, write, message_handler=handler) as session,
    ):
        await session.initialize()
        connected = Connected(session, received)
        yield connected


async def rest(server: Running, method: str, path: str, key: str, **kwargs: Any) -> Any:
    response = await asyncio.to_thread(server.rest, method, path, key, **kwargs)
    assert response.status_code < 300, (response.status_code, response.text)
    return response.json() if response.content else None


async def upload(server: Running, key: str, session_id: str, name: str, data: bytes) -> Any:
    return await rest(
        server, "POST", f"/api/uploads/{session_id}", key, files={"file": (name, data)}
    )


async def create_artifact(server: Running, key: str, session_id: str, content: str) -> Any:
    body = {"name": "Report", "content": content, "content_type": "text/markdown"}
    return await rest(
        server, "POST", f"{NAMESPACE}/artifacts", key, json={**body, "session_id": session_id}
    )


def structured(result: types.CallToolResult) -> Any:
    assert not result.is_error, result.content
    # The text block carries the same JSON, for clients that ignore structured content.
    assert json.loads(result.content[0].text) == result.structured_content
    return result.structured_content


# --- the tests ---


async def test_initialize_lists_and_reads_resources_text_and_binary(
    server: Running, tenant: Tenant
) -> None:
    text = "Hello from the user.\n" * 10
    binary = bytes(range(256)) * 8
    notes = await upload(server, tenant.owner_key, "s-read", "notes.txt", text.encode())
    blob = await upload(server, tenant.owner_key, "s-read", "data.bin", binary)
    report = await create_artifact(server, tenant.owner_key, "s-read", "# Report\nv1\n")
    artifact_id = report["artifact_id"]
    await rest(
        server, "PUT", f"{NAMESPACE}/artifacts/{artifact_id}", tenant.owner_key,
        json={"content": "# Report\nv2\n"},
    )  # fmt: skip
    async with mcp_client(server, tenant.owner_key, bearer=True) as client:
        session = client.session
        assert session.initialize_result is not None
        capabilities = session.initialize_result.capabilities
        assert capabilities.resources and capabilities.resources.subscribe
        templates = await session.list_resource_templates()
        assert {t.uri_template for t in templates.resource_templates} == {
            "depot://sessions/{session_id}",
            "depot://sessions/{session_id}/files/{id}",
            "depot://artifacts/{artifact_id}",
            "depot://artifacts/{artifact_id}/versions/{n}",
        }
        listed = await session.list_resources()
        uris = {r.uri: r for r in listed.resources}
        assert "depot://sessions/s-read" in uris
        assert uris[f"depot://artifacts/{artifact_id}"].size == len(b"# Report\nv2\n")
        assert uris[f"depot://artifacts/{artifact_id}"].mime_type == "text/markdown"

        summary = await session.read_resource("depot://sessions/s-read")
        body = json.loads(summary.contents[0].text)
        assert body["session_id"] == "s-read"
        files = {f["id"]: f for f in body["files"]}
        assert set(files) == {notes["attachment_id"], blob["attachment_id"], artifact_id}
        assert files[blob["attachment_id"]]["size"] == len(binary)

        read = await session.read_resource(
            f"depot://sessions/s-read/files/{notes['attachment_id']}"
        )
        assert isinstance(read.contents[0], types.TextResourceContents)
        assert read.contents[0].text == text
        assert read.contents[0].mime_type.startswith("text/plain")

        read = await session.read_resource(f"depot://sessions/s-read/files/{blob['attachment_id']}")
        assert isinstance(read.contents[0], types.BlobResourceContents)
        assert base64.b64decode(read.contents[0].blob) == binary

        latest = await session.read_resource(f"depot://artifacts/{artifact_id}")
        first = await session.read_resource(f"depot://artifacts/{artifact_id}/versions/1")
        assert latest.contents[0].text == "# Report\nv2\n"
        assert first.contents[0].text == "# Report\nv1\n"
        with pytest.raises(MCPError) as missing:
            await session.read_resource(f"depot://artifacts/{artifact_id}/versions/9")
        assert missing.value.code == -32002


async def test_resources_list_pages_with_the_cursor(server: Running, tenant: Tenant) -> None:
    for number in range(53):
        await rest(
            server, "POST", "/api/sessions", tenant.owner_key, json={"session_id": f"p-{number}"}
        )
    async with mcp_client(server, tenant.owner_key) as client:
        first = await client.session.list_resources()
        assert len(first.resources) == 50 and first.next_cursor
        second = await client.session.list_resources(
            params=types.PaginatedRequestParams(cursor=first.next_cursor)
        )
        assert second.next_cursor is None
        seen = [r.uri for r in first.resources + second.resources]
        assert len(seen) == len(set(seen)) == 53
        with pytest.raises(MCPError):
            await client.session.list_resources(params=types.PaginatedRequestParams(cursor="zz"))


async def test_a_file_over_the_read_limit_names_its_rest_download(
    server: Running, tenant: Tenant
) -> None:
    big = ("0123456789abcdé\n" * 5000).encode()  # 85,000 bytes, over the 64 KiB limit
    item = await upload(server, tenant.owner_key, "s-big", "big.txt", big)
    uri = f"depot://sessions/s-big/files/{item['attachment_id']}"
    async with mcp_client(server, tenant.owner_key) as client:
        with pytest.raises(MCPError) as refused:
            await client.session.read_resource(uri)
        download = f"{server.base}/api/sessions/s-big/artifacts/{item['attachment_id']}?mode=stream"
        assert download in refused.value.message
        assert refused.value.data["download_url"] == download
        assert (
            await asyncio.to_thread(
                server.rest, "GET", download[len(server.base) :], tenant.owner_key
            )
        ).content == big
        # read_file reads it in windows, never cutting a character in two.
        pieces, offset = [], 0
        while True:
            window = structured(
                await client.session.call_tool(
                    "read_file",
                    {
                        "session_id": "s-big",
                        "file_id": item["attachment_id"],
                        "offset": offset,
                        "length": 30001,
                    },
                )
            )
            pieces.append(window["text"])
            offset += window["length"]
            if window["eof"]:
                break
        assert "".join(pieces).encode() == big and len(pieces) == 3


async def test_every_tool_agrees_with_the_rest_api(server: Running, tenant: Tenant) -> None:
    key = tenant.owner_key
    await upload(server, key, "s-tools", "brief.txt", b"Quarterly brief: penguins and pelicans.")
    async with mcp_client(server, key) as client:
        call = client.session.call_tool
        tools = await client.session.list_tools()
        assert {tool.name for tool in tools.tools} == ALL_TOOLS
        assert all(tool.input_schema["type"] == "object" for tool in tools.tools)

        listed = structured(await call("list_sessions", {}))
        from_rest = await rest(server, "GET", "/api/sessions", key)
        assert listed["sessions"] == from_rest["sessions"]

        files = structured(await call("list_files", {"session_id": "s-tools"}))
        attachments = (await rest(server, "GET", "/api/uploads/s-tools", key))["attachments"]
        assert [f["id"] for f in files["files"]] == [a["attachment_id"] for a in attachments]
        brief_id = attachments[0]["attachment_id"]

        read = structured(
            await call(
                "read_file",
                {"session_id": "s-tools", "file_id": brief_id, "offset": 10, "length": 5},
            )
        )
        stream = await asyncio.to_thread(
            server.rest, "GET", f"/api/sessions/s-tools/artifacts/{brief_id}?mode=stream", key
        )
        assert read["text"] == stream.content[10:15].decode() and read["eof"] is False

        written = structured(
            await call(
                "write_artifact",
                {
                    "name": "Findings",
                    "content": "penguins\nare birds\n",
                    "session_id": "s-tools",
                    "artifact_type": "report",
                },
            )
        )["artifact"]
        artifact_id = written["artifact_id"]
        assert written == await rest(server, "GET", f"{NAMESPACE}/artifacts/{artifact_id}", key)
        second = structured(
            await call(
                "write_artifact",
                {"artifact_id": artifact_id, "content": "penguins\nare seabirds\n"},
            )
        )
        assert second["created"] and second["artifact"]["version"] == 2
        binary = structured(
            await call(
                "write_artifact",
                {
                    "artifact_id": artifact_id,
                    "content_base64": base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(100)).decode(),
                    "name": "chart.png",
                },
            )
        )["artifact"]
        assert binary["version"] == 3 and binary["mime_type"] == "image/png"

        versions = structured(await call("get_versions", {"artifact_id": artifact_id}))
        assert versions == await rest(
            server, "GET", f"{NAMESPACE}/artifacts/{artifact_id}/versions", key
        )
        assert [v["version"] for v in versions["versions"]] == [3, 2, 1]

        diff = structured(
            await call(
                "diff_versions", {"artifact_id": artifact_id, "from_version": 1, "to_version": 2}
            )
        )
        assert "-are birds\n" in diff["diff"] and "+are seabirds\n" in diff["diff"]
        refused = await call("diff_versions", {"artifact_id": artifact_id, "from_version": 1})
        assert refused.is_error and refused.structured_content["error"]["status"] == 422

        # Indexing is the worker's job; run it here for the versions search reads.
        await sync_to_async(_index_all)()
        found = structured(await call("search", {"query": "seabirds", "limit": 5}))
        query = await rest(
            server,
            "POST",
            f"{NAMESPACE}/artifacts/query",
            key,
            json={"query": "seabirds", "limit": 5},
        )
        assert found == query
        assert (
            found["results"] == []
            or found["results"][0]["artifact"]["root_artifact_id"] == artifact_id
        )

        uploaded = structured(
            await call(
                "upload_attachment",
                {"session_id": "s-tools", "name": "note.md", "content": "# Note\n"},
            )
        )["attachment"]
        attachments = (await rest(server, "GET", "/api/uploads/s-tools", key))["attachments"]
        assert uploaded["attachment_id"] in {a["attachment_id"] for a in attachments}

        done = structured(await call("complete_session", {"session_id": "s-tools"}))["session"]
        assert done == await rest(server, "GET", "/api/sessions/s-tools", key)
        assert done["status"] == "completed"

        bad = await call("write_artifact", {"name": "x", "content": "y", "content_base64": "eQ=="})
        assert bad.is_error and bad.structured_content["error"]["status"] == 422
        missing = await call("get_versions", {"artifact_id": "art_" + "0" * 32})
        assert missing.is_error and missing.structured_content["error"]["status"] == 404


def _index_all() -> None:
    from artifacts.indexing import artifact_index
    from artifacts.models import Artifact

    try:
        for pk in Artifact.objects.filter(is_latest=True).values_list("pk", flat=True):
            artifact_index(artifact_pk=pk)
    finally:
        connection.close()  # this worker thread's: the test database is dropped at the end


async def test_search_finds_an_indexed_artifact(server: Running, tenant: Tenant) -> None:
    created = await create_artifact(
        server, tenant.owner_key, "s-search", "Albatross migration notes"
    )
    await sync_to_async(_index_all)()
    async with mcp_client(server, tenant.owner_key) as client:
        found = structured(await client.session.call_tool("search", {"query": "albatross"}))
    assert [hit["artifact"]["artifact_id"] for hit in found["results"]] == [created["artifact_id"]]
    assert "Albatross" in found["results"][0]["matched_chunk"]
    assert "Albatross" in found["combined_context"]


async def test_a_read_only_key_sees_no_write_tools_and_cannot_write(
    server: Running, tenant: Tenant
) -> None:
    await upload(server, tenant.owner_key, "s-ro", "a.txt", b"some text")
    async with mcp_client(server, tenant.read_only_key) as client:
        tools = await client.session.list_tools()
        assert {tool.name for tool in tools.tools} == ALL_TOOLS - WRITE_TOOLS
        for name, arguments in [
            ("write_artifact", {"name": "x", "content": "y"}),
            ("upload_attachment", {"session_id": "s-ro", "name": "b.txt", "content": "z"}),
            ("complete_session", {"session_id": "s-ro"}),
        ]:
            refused = await client.session.call_tool(name, arguments)
            assert refused.is_error
            assert refused.structured_content["error"]["status"] == 403
            assert "read-only" in refused.content[0].text
        # Reading is allowed.
        listed = structured(await client.session.call_tool("list_files", {"session_id": "s-ro"}))
        assert len(listed["files"]) == 1
    assert (await rest(server, "GET", f"{NAMESPACE}/artifacts", tenant.owner_key))["total"] == 0
    assert (
        len((await rest(server, "GET", "/api/uploads/s-ro", tenant.owner_key))["attachments"]) == 1
    )
    assert (await rest(server, "GET", "/api/sessions/s-ro", tenant.owner_key))["status"] == "active"


async def test_another_organization_sees_nothing_and_gets_not_found(
    server: Running, tenant: Tenant, stranger: Stranger
) -> None:
    item = await upload(server, tenant.owner_key, "s-mine", "secret.txt", b"top secret")
    report = await create_artifact(server, tenant.owner_key, "s-mine", "secret report")
    async with mcp_client(server, stranger.key) as client:
        session = client.session
        listed = await session.list_resources()
        assert listed.resources == []
        assert structured(await session.call_tool("list_sessions", {}))["sessions"] == []
        for uri in [
            "depot://sessions/s-mine",
            f"depot://sessions/s-mine/files/{item['attachment_id']}",
            f"depot://artifacts/{report['artifact_id']}",
            f"depot://artifacts/{report['artifact_id']}/versions/1",
        ]:
            with pytest.raises(MCPError) as refused:
                await session.read_resource(uri)
            assert refused.value.code == -32002, uri
            with pytest.raises(MCPError):
                await session.subscribe_resource(uri)
        for name, arguments in [
            ("list_files", {"session_id": "s-mine"}),
            ("read_file", {"session_id": "s-mine", "file_id": item["attachment_id"]}),
            ("read_file", {"file_id": report["artifact_id"]}),
            ("get_versions", {"artifact_id": report["artifact_id"]}),
            ("write_artifact", {"artifact_id": report["artifact_id"], "content": "mine now"}),
            ("complete_session", {"session_id": "s-mine"}),
        ]:
            refused_call = await session.call_tool(name, arguments)
            assert (
                refused_call.is_error and refused_call.structured_content["error"]["status"] == 404
            )
        # A write into that session id creates the stranger's own session, not a way in.
        structured(
            await session.call_tool(
                "upload_attachment", {"session_id": "s-mine", "name": "x.txt", "content": "x"}
            )
        )
    mine = (await rest(server, "GET", "/api/uploads/s-mine", tenant.owner_key))["attachments"]
    assert [a["attachment_id"] for a in mine] == [item["attachment_id"]]
    versions = await rest(
        server, "GET", f"{NAMESPACE}/artifacts/{report['artifact_id']}/versions", tenant.owner_key
    )
    assert len(versions["versions"]) == 1


def _initialize(server: Running, headers: dict[str, str]) -> httpx.Response:
    body = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-11-25",
            "capabilities": {},
            "clientInfo": {"name": "raw", "version": "0"},
        },
    }
    accept = {"Accept": "application/json, text/event-stream", **headers}
    with httpx.Client(timeout=10) as http:
        return http.post(server.url, json=body, headers=accept)


def test_a_missing_or_bad_key_is_refused_at_the_transport(
    server: Running, tenant: Tenant, stranger: Stranger
) -> None:
    for headers in [{}, {"X-API-Key": "dpt_nope_nope"}, {"Authorization": "Bearer dpt_0_0"}]:
        response = _initialize(server, headers)
        assert response.status_code == 401, headers
        assert response.headers["www-authenticate"].startswith("Bearer")
    with httpx.Client(timeout=10) as http:
        assert http.get(server.url, headers={"Accept": "text/event-stream"}).status_code == 401
    # A session belongs to the key that opened it: another key using its id is "not found".
    opened = _initialize(server, {"X-API-Key": tenant.owner_key})
    assert opened.status_code == 200
    session_id = opened.headers["mcp-session-id"]
    ping = {"jsonrpc": "2.0", "id": 2, "method": "ping"}
    headers = {
        "X-API-Key": stranger.key,
        "Mcp-Session-Id": session_id,
        "Mcp-Protocol-Version": "2025-11-25",
        "Accept": "application/json, text/event-stream",
    }
    with httpx.Client(timeout=10) as http:
        assert http.post(server.url, json=ping, headers=headers).status_code == 404


def _raw_head(server: Running, head: str) -> bytes:
    """Send only a request head and return what the server answers within 5 s (the body is
    never sent: an answer means it was refused before reading it)."""
    host, port = server.base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(head.encode())
        return sock.recv(65536)


def test_an_oversize_body_is_refused(server: Running, tenant: Tenant) -> None:
    # Declared over the gate's cap: a 413 before one byte of body.
    head = (
        "POST /mcp HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"X-API-Key: {tenant.owner_key}\r\nContent-Length: {GATE_BODY_CAP + 1}\r\n\r\n"
    )
    assert _raw_head(server, head).startswith(b"HTTP/1.1 413")
    # Without a key, any body is a 401 before it is read.
    anonymous = f"POST /mcp HTTP/1.1\r\nHost: x\r\nContent-Length: {10**9}\r\n\r\n"
    assert _raw_head(server, anonymous).startswith(b"HTTP/1.1 401")
    # Over the MCP cap, under the gate's: the SDK's 413.
    message = {"jsonrpc": "2.0", "id": 1, "method": "ping", "params": {"pad": "x" * MCP_BODY_CAP}}
    with httpx.Client(timeout=10) as http:
        response = http.post(
            server.url,
            json=message,
            headers={
                "X-API-Key": tenant.owner_key,
                "Accept": "application/json, text/event-stream",
            },
        )
    assert response.status_code == 413

    # A chunked body (no length declared) is cut off at the gate's cap.
    def chunks() -> Iterator[bytes]:
        for _ in range(40):
            yield b"x" * 65536

    with httpx.Client(timeout=10) as http:
        response = http.post(
            server.url,
            content=chunks(),
            headers={"X-API-Key": tenant.owner_key, "Content-Type": "application/json"},
        )
    assert response.status_code == 413


async def test_a_subscription_hears_a_rest_write_within_two_seconds(
    server: Running, tenant: Tenant
) -> None:
    await upload(server, tenant.owner_key, "s-sub", "first.txt", b"one")
    report = await create_artifact(server, tenant.owner_key, "s-other", "draft")
    session_uri = "depot://sessions/s-sub"
    artifact_uri = f"depot://artifacts/{report['artifact_id']}"
    async with mcp_client(server, tenant.owner_key) as client:
        await client.session.subscribe_resource(session_uri)
        await client.session.subscribe_resource(artifact_uri)
        await asyncio.sleep(0.3)  # the standalone stream the client opens after initialize
        assert client.notifications == []
        await upload(server, tenant.owner_key, "s-sub", "second.txt", b"two")
        latency = await client.wait_for("notifications/resources/updated", session_uri, 2.0)
        await client.wait_for("notifications/resources/list_changed", None, 2.0)
        assert not any(
            getattr(n.params, "uri", None) == artifact_uri for n in client.notifications if n.params
        )
        client.notifications.clear()
        await rest(
            server, "PUT", f"{NAMESPACE}/artifacts/{report['artifact_id']}", tenant.owner_key,
            json={"content": "final"},
        )  # fmt: skip
        await client.wait_for("notifications/resources/updated", artifact_uri, 2.0)
        await client.session.unsubscribe_resource(session_uri)
        client.notifications.clear()
        await upload(server, tenant.owner_key, "s-sub", "third.txt", b"three")
        await asyncio.sleep(1.0)
        assert not [
            n for n in client.notifications if getattr(n.params, "uri", None) == session_uri
        ]
    assert latency < 2.0


async def test_the_prompt_loads_a_sessions_text_files(server: Running, tenant: Tenant) -> None:
    await upload(
        server, tenant.owner_key, "s-prompt", "notes.md", b"# Notes\nThe launch is Friday.\n"
    )
    await upload(server, tenant.owner_key, "s-prompt", "raw.bin", bytes(range(256)))
    async with mcp_client(server, tenant.owner_key) as client:
        prompts = await client.session.list_prompts()
        assert [p.name for p in prompts.prompts] == ["summarise_session"]
        prompt = await client.session.get_prompt("summarise_session", {"session_id": "s-prompt"})
        texts = [m.content.resource.text for m in prompt.messages[1:]]
        assert texts == ["# Notes\nThe launch is Friday.\n"]
        with pytest.raises(MCPError):
            await client.session.get_prompt("summarise_session", {"session_id": "nope"})


async def test_a_2026_client_listens_with_the_same_tenancy(
    server: Running, tenant: Tenant, stranger: Stranger
) -> None:
    """The 2026-07-28 protocol has no resources/subscribe: `Client.listen()` opens a
    subscriptions/listen stream instead. Same URIs, same checks, same event log."""
    await upload(server, tenant.owner_key, "s-listen", "first.txt", b"one")
    uri = "depot://sessions/s-listen"
    async with (
        create_mcp_http_client(headers={"X-API-Key": tenant.owner_key}) as http,
        Client(streamable_http_client(server.url, http_client=http), mode="2026-07-28") as client,
    ):
        assert client.session.protocol_version == "2026-07-28"
        assert {tool.name for tool in (await client.list_tools()).tools} == ALL_TOOLS
        async with client.listen(resource_subscriptions=[uri], resources_list_changed=True) as sub:
            assert sub.honored.resource_subscriptions == [uri]
            start = time.monotonic()
            await upload(server, tenant.owner_key, "s-listen", "second.txt", b"two")

            async def updated() -> None:
                async for event in sub:
                    if isinstance(event, ResourceUpdated) and event.uri == uri:
                        return

            await asyncio.wait_for(updated(), 2.0)
            assert time.monotonic() - start < 2.0
    async with (
        create_mcp_http_client(headers={"X-API-Key": stranger.key}) as http,
        Client(streamable_http_client(server.url, http_client=http), mode="2026-07-28") as client,
    ):
        with pytest.raises(MCPError) as refused:
            async with client.listen(resource_subscriptions=[uri]):
                pass
        assert refused.value.code == -32002


async def test_a_key_limited_to_another_workspace_sees_none_of_this_one(
    server: Running, tenant: Tenant
) -> None:
    item = await upload(server, tenant.owner_key, "s-alpha", "a.txt", b"alpha only")
    async with mcp_client(server, tenant.limited_key) as client:
        listed = await client.session.list_resources()
        assert "depot://sessions/s-alpha" not in {r.uri for r in listed.resources}
        with pytest.raises(MCPError) as refused:
            await client.session.read_resource(
                f"depot://sessions/s-alpha/files/{item['attachment_id']}"
            )
        assert refused.value.code == -32002
        found = await client.session.call_tool("list_files", {"session_id": "s-alpha"})
        assert found.is_error and found.structured_content["error"]["status"] == 404
