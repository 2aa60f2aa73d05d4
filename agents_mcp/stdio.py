"""The same MCP server over stdio, for local clients that start it as a subprocess:

    DEPOT_API_KEY=dpt_... python -m agents_mcp.stdio

It acts for that one key (checked at start: a bad key exits with status 2), on the database
and storage the environment configures, like `manage.py`. Subscriptions read the event log
as over HTTP; without Redis (the embedded default) this process hears no wake-ups from the
server's, so an update arrives on the log's re-read timer (DEPOT_LONGPOLL_RECHECK_SECONDS)."""

import os
import sys


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    import anyio
    from mcp.server.stdio import stdio_server

    from agents_mcp.access import STDIO_KEY
    from agents_mcp.server import build_server
    from sessions_app.principals import authenticate_raw_key

    api_key = authenticate_raw_key(os.environ.get("DEPOT_API_KEY", "").strip())
    if api_key is None:
        print("DEPOT_API_KEY is missing, invalid, revoked or expired.", file=sys.stderr)
        return 2
    STDIO_KEY["key"] = api_key
    server = build_server()

    async def serve() -> None:
        async with stdio_server() as (read_stream, write_stream):
            await server.run(read_stream, write_stream, server.create_initialization_options())

    anyio.run(serve)
    return 0


if __name__ == "__main__":
    sys.exit(main())
