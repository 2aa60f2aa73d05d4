"""The MCP server over stdio (`python -m agents_mcp.stdio`), driven by the SDK's own
`stdio_client` and `ClientSession`, on this test's database: the same tools and tenancy as
over HTTP, for the one key in DEPOT_API_KEY."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.shared.exceptions import MCPError

from tests.support import Stranger, Tenant

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parent.parent


def _env(tmp_path: Path, isolated_storage: str, key: str) -> dict[str, str]:
    database = connection.settings_dict
    if connection.vendor == "postgresql":
        database_url = (
            f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/"
            f"{database['NAME']}"
        )
    else:
        database_url = f"sqlite:///{database['NAME']}"
    env = {
        **os.environ,
        "DEPOT_DATA_DIR": str(tmp_path / "data"),
        "DATABASE_URL": database_url,
        "DEPOT_SEMANTIC_SEARCH": "off",
        "DEPOT_API_KEY": key,
    }
    if settings.STORAGE_BACKEND == "s3":
        env["S3_PREFIX"] = isolated_storage
    else:
        env["DEPOT_BLOB_ROOT"] = isolated_storage
    return env


async def test_stdio_serves_the_keys_tenant(
    tmp_path: Path, isolated_storage: str, tenant: Tenant, stranger: Stranger
) -> None:
    owner = StdioServerParameters(
        command=sys.executable,
        args=["-m", "agents_mcp.stdio"],
        env=_env(tmp_path, isolated_storage, tenant.owner_key),
        cwd=ROOT,
    )
    async with stdio_client(owner) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        tools = await session.list_tools()
        assert "write_artifact" in {tool.name for tool in tools.tools}
        written = await session.call_tool(
            "write_artifact",
            {"name": "Notes", "content": "from stdio", "session_id": "s-stdio"},
        )
        assert not written.is_error, written.content
        artifact_id = written.structured_content["artifact"]["artifact_id"]
        read_back = await session.read_resource(f"depot://artifacts/{artifact_id}")
        assert read_back.contents[0].text == "from stdio"
        listed = await session.list_resources()
        assert "depot://sessions/s-stdio" in {r.uri for r in listed.resources}

    outsider = StdioServerParameters(
        command=sys.executable,
        args=["-m", "agents_mcp.stdio"],
        env=_env(tmp_path, isolated_storage, stranger.key),
        cwd=ROOT,
    )
    async with stdio_client(outsider) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        with pytest.raises(MCPError) as refused:
            await session.read_resource(f"depot://artifacts/{artifact_id}")
        assert refused.value.code == -32002
        assert (await session.list_resources()).resources == []


def test_stdio_refuses_a_bad_key(tmp_path: Path, isolated_storage: str, tenant: Tenant) -> None:
    finished = subprocess.run(
        [sys.executable, "-m", "agents_mcp.stdio"],
        env=_env(tmp_path, isolated_storage, "dpt_bad_key"),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        input="",
        check=False,
    )
    assert finished.returncode == 2
    assert "DEPOT_API_KEY" in finished.stderr
    assert finished.stdout == ""
