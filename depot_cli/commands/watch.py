"""`depot watch SESSION`: follow a session's events live.

Over the session's WebSocket (`/ws/sessions/{id}?after=N`), falling back to the long-poll
(`artifact-events?after=N&wait_seconds=25`) when a socket cannot be opened. The cursor is the
last sequence printed: after a disconnect or a server restart the next connection asks for
events after it, and an event at or below it is never printed, so nothing is lost or repeated."""

import json
import time
from typing import Any

import click
from websockets.exceptions import ConnectionClosed, InvalidHandshake
from websockets.sync.client import connect

from depot_cli.client import AUTH, NOT_FOUND, USAGE, CliError, Config

REFUSALS = {4401: AUTH, 4403: AUTH, 4404: NOT_FOUND, 4422: USAGE}
POLL_SECONDS = 25


class Watcher:
    def __init__(
        self, config: Config, session_id: str, after: int, count: int | None, until_complete: bool
    ) -> None:
        self.config = config
        self.session_id = session_id
        self.cursor = after
        self.left = count
        self.until_complete = until_complete
        self.done = False

    def show(self, event: dict[str, Any]) -> None:
        sequence = event.get("sequence")
        if not isinstance(sequence, int) or sequence <= self.cursor:
            return  # seen already (a replay overlapping what we printed)
        self.cursor = sequence
        if self.config.json:
            self.config.emit(event)
        else:
            what = event.get("name") or event.get("artifact_id") or event.get("attachment_id") or ""
            size = f" {event['size']} B" if event.get("size") is not None else ""
            self.config.out.print(f"#{sequence} {event['kind']} {what}{size}", highlight=False)
        if self.left is not None:
            self.left -= 1
            self.done = self.done or self.left <= 0
        if self.until_complete and event.get("kind") == "session.completed":
            self.done = True

    def websocket_url(self) -> str:
        base = self.config.url.rstrip("/")
        scheme, _, rest = base.partition("://")
        ws_scheme = "wss" if scheme == "https" else "ws"
        return f"{ws_scheme}://{rest}/ws/sessions/{self.session_id}?after={self.cursor}"

    def over_websocket(self, deadline: float) -> None:
        """Until the socket closes (returns) or refuses us for good (raises CliError)."""
        with connect(
            self.websocket_url(),
            additional_headers={"X-API-Key": self.config.api_key},
            open_timeout=10,
            close_timeout=2,
            max_size=2**24,
        ) as socket:
            self.config.console.print(
                "watching over the WebSocket", style="dim"
            ) if not self.config.json else None
            while not self.done and time.monotonic() < deadline:
                try:
                    raw = socket.recv(timeout=min(20.0, max(0.1, deadline - time.monotonic())))
                except TimeoutError:
                    socket.send(json.dumps({"type": "ping"}))
                    continue
                except ConnectionClosed as closed:
                    code = closed.rcvd.code if closed.rcvd else None
                    if code in REFUSALS:
                        raise CliError(
                            f"the server closed the watch ({code})", REFUSALS[code]
                        ) from None
                    return
                message = json.loads(raw)
                for event in (message.get("data") or {}).get("events", []):
                    self.show(event)
                    if self.done:
                        return

    def over_long_poll(self, deadline: float) -> None:
        wait = max(0, min(POLL_SECONDS, int(deadline - time.monotonic())))
        page = self.config.request(
            "GET",
            f"/api/sessions/{self.session_id}/artifact-events",
            params={"after": self.cursor, "wait_seconds": wait, "limit": 200},
            timeout=wait + 15,
        )
        for event in page["events"]:
            self.show(event)
            if self.done:
                return

    def run(self, transport: str, timeout: float | None) -> None:
        deadline = time.monotonic() + (timeout if timeout else 10**9)
        failures = 0
        while not self.done and time.monotonic() < deadline:
            try:
                if transport == "poll":
                    self.over_long_poll(deadline)
                else:
                    try:
                        self.over_websocket(deadline)
                    except (OSError, InvalidHandshake, TimeoutError):
                        if transport == "ws":
                            raise
                        self.over_long_poll(deadline)  # the socket would not open
                failures = 0
            except CliError as error:
                if error.exit_code != 1:  # refused for good: auth, not found, usage
                    raise
                failures += 1
            except (OSError, InvalidHandshake, TimeoutError, ConnectionClosed):
                failures += 1
            if failures and not self.done:
                # The server is away (restarting?): try again, resuming after the cursor.
                time.sleep(min(5.0, 0.25 * 2 ** min(failures, 5)))


@click.command("watch")
@click.argument("session_id")
@click.option(
    "--after",
    type=click.IntRange(0),
    default=0,
    show_default=True,
    help="Start after this sequence.",
)
@click.option("--count", type=click.IntRange(1), help="Stop after this many events.")
@click.option("--until-complete", is_flag=True, help="Stop when the session completes.")
@click.option(
    "--timeout", type=click.FloatRange(0, min_open=True), help="Stop after this many seconds."
)
@click.option(
    "--transport",
    type=click.Choice(["auto", "ws", "poll"]),
    default="auto",
    show_default=True,
    help="auto: the WebSocket, else the long-poll.",
)
@click.pass_obj
def command(
    config: Config,
    session_id: str,
    after: int,
    count: int | None,
    until_complete: bool,
    timeout: float | None,
    transport: str,
) -> None:
    """Follow SESSION_ID's events as they happen (JSON lines with --json)."""
    config.client  # noqa: B018  (settings checked before connecting)
    config.request("GET", f"/api/sessions/{session_id}")  # 404 now rather than a silent wait
    watcher = Watcher(config, session_id, after, count, until_complete)
    watcher.run(transport, timeout)


commands = [command]
