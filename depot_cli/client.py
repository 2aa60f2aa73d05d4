"""The one HTTP client every command uses: where the server is, the key, error handling with
the exit codes scripts rely on, and output (rich for people, JSON for scripts)."""

import json
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, NoReturn

import click
import httpx
from rich.console import Console
from rich.text import Text

# Exit codes (also in `depot --help`).
OK, SERVER_ERROR, USAGE, AUTH, NOT_FOUND = 0, 1, 2, 3, 4
TIMEOUT = httpx.Timeout(30.0, connect=10.0)
# A dropped connection, a reset, a server restarting: worth another try.
OUTPUT = {"json": False}
RETRYABLE = (httpx.ConnectError, httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError)


class CliError(click.ClickException):
    """Printed as `depot: <message>` (or `{"error": ...}` with --json), exiting with `code`."""

    def __init__(self, message: str, code: int, status: int | None = None) -> None:
        super().__init__(message)
        self.exit_code = code  # type: ignore[misc]
        self.status = status

    def show(self, file: Any = None) -> None:
        # Shown after click's context has closed: the --json choice is remembered here.
        if OUTPUT["json"]:
            click.echo(json.dumps({"error": self.message, "status": self.status}), err=True)
        else:
            click.echo(f"depot: {self.message}", err=True)


def exit_code_for(status: int) -> int:
    if status in (401, 403):
        return AUTH
    if status == 404:
        return NOT_FOUND
    if 400 <= status < 500:
        return USAGE
    return SERVER_ERROR


def detail_of(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:300] or response.reason_phrase
    detail = body.get("detail") if isinstance(body, dict) else None
    if isinstance(detail, list):
        return "; ".join(
            f"{'.'.join(str(p) for p in item.get('loc', []))}: {item.get('msg')}" for item in detail
        )
    return str(detail or body)


def fail(response: httpx.Response) -> NoReturn:
    raise CliError(
        f"{response.status_code} {detail_of(response)}",
        exit_code_for(response.status_code),
        response.status_code,
    )


# C0 and C1 controls but tab and newline: an artifact's name with ESC sequences reached the
# terminal raw (colours, OSC 8 links, a window title).
CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def plain(text: str) -> str:
    return CONTROLS.sub("\ufffd", text)


class SafeConsole(Console):
    """A console for other people's text: no markup, and no control characters."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(markup=False, **kwargs)

    def render_str(self, text: str, **kwargs: Any) -> Text:
        return super().render_str(plain(text), **kwargs)


@dataclass
class Config:
    url: str
    api_key: str
    json: bool = False
    namespace: str = ""  # org/workspace/namespace, for artifacts and search
    # No console markup: names, references and error details are other people's text, and
    # rich read '[/x]' in an artifact's name as a tag (a MarkupError, the command died).
    console: Console = field(default_factory=lambda: SafeConsole(stderr=True))
    out: Console = field(default_factory=SafeConsole)
    _client: httpx.Client | None = None

    def __post_init__(self) -> None:
        OUTPUT["json"] = self.json

    @property
    def client(self) -> httpx.Client:
        if self._client is None:
            if not self.url:
                raise CliError("no server: set DEPOT_URL or pass --url", USAGE)
            if not self.api_key:
                raise CliError("no API key: set DEPOT_API_KEY or pass --api-key", AUTH)
            self._client = httpx.Client(
                base_url=self.url.rstrip("/"),
                headers={"X-API-Key": self.api_key, "User-Agent": "depot-cli"},
                timeout=TIMEOUT,
            )
        return self._client

    def request(self, method: str, path: str, *, ok: tuple[int, ...] = (), **kwargs: Any) -> Any:
        """The decoded JSON answer; any status outside 2xx (and `ok`) exits with its code."""
        response = self.send(method, path, **kwargs)
        if not (response.is_success or response.status_code in ok):
            fail(response)
        return response.json() if response.content else None

    def send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            return self.client.request(method, path, **kwargs)
        except httpx.TransportError as error:
            raise CliError(f"cannot reach {self.url}: {error}", SERVER_ERROR) from error

    def stream(self, method: str, path: str, **kwargs: Any) -> Any:
        return self.client.stream(method, path, **kwargs)

    @property
    def namespace_path(self) -> str:
        parts = [part for part in self.namespace.split("/") if part]
        if len(parts) != 3:
            raise CliError(
                "artifacts live in a namespace: set DEPOT_NAMESPACE or pass --namespace "
                "as org/workspace/namespace",
                USAGE,
            )
        org, workspace, namespace = parts
        return f"/api/v1/orgs/{org}/workspaces/{workspace}/namespaces/{namespace}"

    def emit(self, data: Any) -> None:
        """One JSON document on stdout (for --json)."""
        sys.stdout.write(json.dumps(data, default=str) + "\n")
        sys.stdout.flush()

    def close(self) -> None:
        if self._client is not None:
            self._client.close()


def pages(config: Config, path: str, key: str, **params: Any) -> Iterator[dict[str, Any]]:
    """Every item of a cursor-paged list (`{key: [...], has_more, next_cursor}`)."""
    cursor = None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        page = config.request("GET", path, params=query)
        yield from page.get(key, [])
        cursor = page.get("next_cursor")
        if not page.get("has_more") or not cursor:
            return


def human_size(size: int | None) -> str:
    value = float(size or 0)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GiB"
