"""Depot as a Model Context Protocol server (issue 17): session files and artifacts as
resources, the REST writes as tools, event-log updates as subscriptions. Built on the `mcp`
SDK's low-level `Server` and its Streamable HTTP session manager, served at `/mcp` behind the
request gate (config/request_gate.py) like the REST API; `python -m agents_mcp.stdio` serves
the same over stdio. Named `agents_mcp`, not `mcp`, so it does not shadow the SDK."""
