"""`depot sessions ls|show|complete`."""

import click
from rich.table import Table
from rich.text import Text

from depot_cli.client import Config, human_size, pages


@click.group("sessions")
def command() -> None:
    """List, show and complete sessions."""


@command.command("ls")
@click.option("--status", type=click.Choice(["active", "completed", "failed"]))
@click.option("--workflow", "workflow_id", help="Only this workflow id.")
@click.option("--reference", help="Only this reference.")
@click.option("--limit", type=click.IntRange(1, 10000), default=50, show_default=True)
@click.pass_obj
def list_sessions(
    config: Config, status: str | None, workflow_id: str | None, reference: str | None, limit: int
) -> None:
    """The organization's sessions, newest first."""
    params = {
        key: value
        for key, value in {
            "status": status,
            "workflow_id": workflow_id,
            "reference": reference,
            "limit": min(limit, 200),
        }.items()
        if value
    }
    sessions = []
    for session in pages(config, "/api/sessions", "sessions", **params):
        sessions.append(session)
        if len(sessions) == limit:
            break
    if config.json:
        config.emit(sessions)
        return
    table = Table("session", "status", "reference", "workflow", "created")
    for s in sessions:
        table.add_row(
            s["session_id"], s["status"], s["reference"], s["workflow_id"], s["created_at"]
        )
    config.out.print(table)


@command.command("show")
@click.argument("session_id")
@click.pass_obj
def show(config: Config, session_id: str) -> None:
    """A session and its files."""
    session = config.request("GET", f"/api/sessions/{session_id}")
    files = list(pages(config, f"/api/uploads/{session_id}", "attachments", limit=200))
    if config.json:
        config.emit({**session, "attachments": files})
        return
    config.out.print(Text.assemble((session["session_id"], "bold"), f"  {session['status']}"))
    for name in ("reference", "workflow_id", "workspace", "namespace", "created_at"):
        if session.get(name):
            config.out.print(f"  {name}: {session[name]}")
    table = Table("attachment", "name", "type", "size", "created")
    for f in files:
        table.add_row(
            f["attachment_id"],
            f["name"],
            f.get("mime_type") or f.get("mime", ""),
            human_size(f["size"]),
            f["created_at"],
        )
    config.out.print(table)


@command.command("complete")
@click.argument("session_id")
@click.option("--failed", is_flag=True, help="Mark it failed rather than completed.")
@click.pass_obj
def complete(config: Config, session_id: str, failed: bool) -> None:
    """Mark a session finished (again: no change)."""
    body = {"status": "failed"} if failed else {}
    session = config.request("POST", f"/api/sessions/{session_id}/complete", json=body)
    if config.json:
        config.emit(session)
    else:
        config.out.print(f"{session['session_id']}: {session['status']}")


commands = [command]
