"""`depot`: a command-line client for Depot's HTTP API (and its session WebSocket), for agent
hosts, CI jobs and people at a terminal. It talks HTTP only and imports nothing of the server.

Commands live in `depot_cli/commands/`, one module per group; `depot_cli/main.py` lists the
modules in COMMANDS, so a new group (a module whose `commands` list holds click commands) is one
line there."""
