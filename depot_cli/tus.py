"""`depot upload` of a large file over tus (/api/tus/): a dropped connection or a server
restart costs only the bytes the server had not recorded; the next try asks HEAD for the offset
and sends the rest. Files from DEPOT_TUS_THRESHOLD_BYTES (64 MiB by default) go this way."""

import base64
import mimetypes
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx

from depot_cli.client import RETRYABLE, Config, detail_of, exit_code_for

THRESHOLD = int(os.environ.get("DEPOT_TUS_THRESHOLD_BYTES", str(64 * 1024 * 1024)))
TUS = {"Tus-Resumable": "1.0.0"}
READ = 1024 * 1024
# 423: the server still holds the lease of a PATCH that died with its connection or process.
RESUMABLE_STATUSES = {409, 423, 460, 502, 503, 504}


def _metadata(session_id: str, path: Path) -> str:
    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    pairs = {"session_id": session_id, "filename": path.name, "filetype": mime}
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in pairs.items())


def _chunks(path: Path, offset: int, advance: Callable[[int], None]) -> Iterator[bytes]:
    with path.open("rb") as file:
        file.seek(offset)
        while block := file.read(READ):
            advance(len(block))
            yield block


def _failed(result: dict[str, Any], response: httpx.Response) -> dict[str, Any]:
    result.update(
        error=f"{response.status_code} {detail_of(response)}",
        status=response.status_code,
        exit_code=exit_code_for(response.status_code),
    )
    return result


def tus_upload(
    config: Config,
    session_id: str,
    path: Path,
    retries: int,
    progress: Callable[[int | None, int], None],
) -> dict[str, Any]:
    """`progress(completed, advance)`: set the bar (completed) or move it (advance)."""
    size = path.stat().st_size
    client = config.client
    result: dict[str, Any] = {"file": str(path), "size": size, "transport": "tus"}
    timeout = httpx.Timeout(300.0, connect=10.0)
    url = ""
    for attempt in range(retries + 1):
        try:
            if not url:
                created = client.post(
                    "/api/tus/",
                    headers={
                        **TUS,
                        "Upload-Length": str(size),
                        "Upload-Metadata": _metadata(session_id, path),
                    },
                )
                if created.status_code != 201:
                    return _failed(result, created)
                url = created.headers["Location"]
            head = client.head(url, headers=TUS)
            if head.status_code != 200:
                return _failed(result, head)
            offset = int(head.headers["Upload-Offset"])
            if attempt:
                result["resumed_from"] = offset
            progress(offset, 0)
            answer = client.patch(
                url,
                content=_chunks(path, offset, lambda n: progress(None, n)),
                headers={
                    **TUS,
                    "Upload-Offset": str(offset),
                    "Content-Type": "application/offset+octet-stream",
                    "Content-Length": str(size - offset),
                },
                timeout=timeout,
            )
        except RETRYABLE as error:
            result.update(error=f"connection lost: {error}", exit_code=1)
        else:
            if answer.status_code == 204:
                found = answer.headers.get("Depot-Result-Id", "")
                meta = client.get(f"/api/sessions/{session_id}/artifacts/{found}")
                result.update(meta.json() if meta.status_code == 200 else {"attachment_id": found})
                result.update(retries=attempt, exit_code=0)
                result.pop("error", None)
                return result
            _failed(result, answer)
            if answer.status_code not in RESUMABLE_STATUSES:
                return result
        if attempt < retries:
            time.sleep(min(5.0, 0.5 * 2**attempt))
    return result
