"""Moving bytes: uploads with retries, downloads with Range resume and a SHA-256 check, both
with rich progress bars (on stderr, so --json output stays clean)."""

import hashlib
import mimetypes
import os
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

import httpx
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from depot_cli import tus
from depot_cli.client import RETRYABLE, CliError, Config, detail_of, exit_code_for

CHUNK = 256 * 1024
RETRY_STATUSES = {409, 502, 503, 504}  # 409: an idempotent first try still running


def progress_bars(config: Config) -> Progress:
    return Progress(
        TextColumn("{task.description}", justify="left", markup=False),  # file names: text
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=config.console,
        disable=config.json or not config.console.is_terminal,
        transient=False,
    )


class ProgressReader:
    """A file that reports what has been read from it (httpx reads the multipart body through
    it, chunk by chunk, so memory stays flat)."""

    def __init__(self, file: BinaryIO, advance: Callable[[int], None]) -> None:
        self._file = file
        self._advance = advance

    def read(self, size: int = -1) -> bytes:
        data = self._file.read(size)
        self._advance(len(data))
        return data

    def fileno(self) -> int:
        return self._file.fileno()

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._file.seek(offset, whence)

    def tell(self) -> int:
        return self._file.tell()


def _backoff(attempt: int) -> None:
    time.sleep(min(5.0, 0.5 * 2**attempt))


def upload_one(
    config: Config, progress: Progress, session_id: str, path: Path, retries: int
) -> dict[str, Any]:
    """POST one file; a dropped connection or a 5xx is retried with the same Idempotency-Key,
    so a try the server did finish is answered from its record, never stored twice."""
    size = path.stat().st_size
    task = progress.add_task(path.name, total=size)
    if size >= tus.THRESHOLD:  # large files resume where they broke off (depot_cli/tus.py)

        def moved(completed: int | None, advance: int) -> None:
            if completed is not None:
                progress.update(task, completed=completed)
            else:
                progress.advance(task, advance)

        return tus.tus_upload(config, session_id, path, retries, moved)
    key = f"depot-cli-{uuid.uuid4()}"
    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    result: dict[str, Any] = {"file": str(path), "size": size}
    for attempt in range(retries + 1):
        progress.reset(task, total=size)
        try:
            with path.open("rb") as raw:
                reader = ProgressReader(raw, lambda n: progress.advance(task, n))
                response = config.client.post(
                    f"/api/uploads/{session_id}",
                    files={"file": (path.name, reader, mime)},  # type: ignore[dict-item]
                    headers={"Idempotency-Key": key},
                    timeout=httpx.Timeout(300.0, connect=10.0),
                )
        except RETRYABLE as error:
            result.update(error=f"connection lost: {error}", exit_code=1)
        else:
            if response.status_code in (200, 201):
                progress.update(task, completed=size)
                body = response.json()
                result.update(body, retries=attempt, exit_code=0)
                result.pop("error", None)
                return result
            result.update(
                error=f"{response.status_code} {detail_of(response)}",
                status=response.status_code,
                exit_code=exit_code_for(response.status_code),
            )
            if response.status_code not in RETRY_STATUSES:
                return result
        if attempt < retries:
            _backoff(attempt)
    return result


def _open_file_stream(config: Config, path: str, headers: dict[str, str]) -> Any:
    """The file's response, opened. A redirect to presigned storage is followed without the
    API key (the key never leaves for another host)."""
    target = config.client.base_url.join(path)
    if target.host != config.client.base_url.host or target.port != config.client.base_url.port:
        return _plain_stream(str(target), headers, config)  # a presigned storage URL
    request = config.client.build_request("GET", path, headers=headers)
    response = config.client.send(request, stream=True)
    if response.status_code in (301, 302, 303, 307, 308):
        location = response.headers["location"]
        response.close()
        return _plain_stream(location, headers, config)
    return response


def _plain_stream(url: str, headers: dict[str, str], config: Config) -> httpx.Response:
    plain = httpx.Client(timeout=config.client.timeout)
    response = plain.send(plain.build_request("GET", url, headers=headers), stream=True)
    response.extensions["depot_client"] = plain
    return response


def _close(response: httpx.Response) -> None:
    response.close()
    client = response.extensions.get("depot_client")
    if client is not None:
        client.close()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def download_one(
    config: Config,
    progress: Progress,
    url_path: str,
    target: Path,
    *,
    expected_sha256: str | None = None,
    resume: bool = True,
) -> dict[str, Any]:
    """GET one file to `target`, through `target.part`. A `.part` left by an interrupted run is
    continued with `Range` (and `If-Range` on its ETag, so a file changed meanwhile starts
    over); the finished file must match its SHA-256 (the ETag, or `expected_sha256`), else it
    is fetched once more from the start."""
    partial = target.with_name(target.name + ".part")
    result: dict[str, Any] = {"file": str(target), "resumed_from": 0}
    task = progress.add_task(target.name, total=None)
    for attempt in range(2):
        offset = partial.stat().st_size if resume and partial.exists() and attempt == 0 else 0
        headers = {}
        etag_file = partial.with_name(partial.name + ".etag")
        if offset and etag_file.exists():
            headers = {"Range": f"bytes={offset}-", "If-Range": etag_file.read_text()}
        else:
            offset = 0
        try:
            response = _open_file_stream(config, url_path, headers)
        except httpx.TransportError as error:
            raise CliError(f"cannot reach {config.url}: {error}", 1) from error
        try:
            if response.status_code == 416 and offset:  # the part is whole already
                response.read()
            elif response.status_code not in (200, 206):
                response.read()
                result.update(
                    error=f"{response.status_code} {detail_of(response)}",
                    status=response.status_code,
                    exit_code=exit_code_for(response.status_code),
                )
                return result
            else:
                etag = response.headers.get("etag", "")
                if etag:
                    etag_file.write_text(etag)
                appending = response.status_code == 206
                if not appending:
                    offset = 0
                result["resumed_from"] = offset
                length = int(response.headers.get("content-length") or 0)
                progress.update(task, total=offset + length if length else None, completed=offset)
                with partial.open("ab" if appending else "wb") as out:
                    for chunk in response.iter_bytes(CHUNK):
                        out.write(chunk)
                        progress.advance(task, len(chunk))
                    out.flush()
                    os.fsync(out.fileno())
        except RETRYABLE as error:
            # What arrived stays in the .part file: the next run continues from there.
            result.update(error=f"connection lost: {error}", exit_code=1)
            return result
        finally:
            _close(response)
        want = expected_sha256 or _etag_sha(etag_file)
        got = _sha256(partial)
        if want and got != want:
            partial.unlink(missing_ok=True)
            result.update(error=f"SHA-256 mismatch (got {got}, want {want})", exit_code=1)
            continue  # once more, from the start
        partial.replace(target)
        etag_file.unlink(missing_ok=True)
        result.update(sha256=got, size=target.stat().st_size, exit_code=0)
        result.pop("error", None)
        return result
    return result


def _etag_sha(etag_file: Path) -> str | None:
    if not etag_file.exists():
        return None
    value = etag_file.read_text().strip().removeprefix("W/").strip('"')
    return value if len(value) == 64 and all(c in "0123456789abcdef" for c in value) else None
