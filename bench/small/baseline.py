"""The baseline: a bare ASGI app, served by the same uvicorn command as Depot, that does only
the unavoidable work of each workload (issue 11, "Must show"):

- `POST /api/uploads/{sid}`: receive, parse the multipart body (python-multipart, as Depot),
  hash, write a temporary file, `fdatasync`, rename to the content key, one INSERT and a
  commit on a kept SQLite connection (WAL, synchronous=NORMAL, as Depot), a JSON answer;
- `GET /api/uploads/{sid}`: one query over the kept connection, rendered as Depot's JSON shape;
- anything else (`/healthz`): a constant answer.

No authentication, no tenancy, no events: what is left of Depot's figure over this one is what
Depot's own code costs. Data in `BASELINE_DIR`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import sqlite3
import uuid
from pathlib import Path
from typing import Any

import python_multipart.multipart as multipart

ROOT = Path(os.environ.get("BASELINE_DIR", "/tmp/depot-bench-baseline"))
ROOT.mkdir(parents=True, exist_ok=True)
(ROOT / "blobs").mkdir(exist_ok=True)
DB = sqlite3.connect(ROOT / "baseline.sqlite3", isolation_level=None, check_same_thread=False)
DB.executescript(
    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
    "CREATE TABLE IF NOT EXISTS attachment (id INTEGER PRIMARY KEY, uid TEXT, session TEXT,"
    " name TEXT, mime TEXT, size INTEGER, source TEXT, sha256 TEXT, description TEXT,"
    " workspace_path TEXT, purged INTEGER, created_at TEXT);"
    "CREATE INDEX IF NOT EXISTS attachment_session ON attachment (session, id);"
)
HEALTH = b'{"status":"ok"}'
LIST_SQL = (
    "SELECT uid, name, mime, size, source, sha256, description, workspace_path, purged,"
    " created_at FROM attachment WHERE session = ? ORDER BY id DESC LIMIT 21"
)


async def _answer(send: Any, status: int, body: bytes) -> None:
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _list(session_id: str) -> bytes:
    rows = DB.execute(LIST_SQL, (session_id,)).fetchall()
    items = [
        {
            "attachment_id": f"f-{row[0]}",
            "name": row[1],
            "mime": row[2],
            "mime_type": row[2],
            "size": row[3],
            "source": row[4],
            "sha256": row[5],
            "description": row[6],
            "workspace_path": row[7],
            "purged": bool(row[8]),
            "created_at": row[9],
        }
        for row in rows[:20]
    ]
    return json.dumps(
        {"attachments": items, "has_more": len(rows) > 20, "next_cursor": None}
    ).encode()


class _Upload:
    """python-multipart callbacks: the file part hashed and written as it arrives."""

    def __init__(self) -> None:
        self.hasher = hashlib.sha256()
        self.size = 0
        self.temp = ROOT / "blobs" / f".tmp-{uuid.uuid4().hex}"
        self.file = open(self.temp, "wb")  # noqa: SIM115

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        piece = data[start:end]
        self.hasher.update(piece)
        self.size += len(piece)
        self.file.write(piece)


async def _upload(scope: dict[str, Any], receive: Any, send: Any, session_id: str) -> None:
    headers = dict(scope["headers"])
    _, options = multipart.parse_options_header(headers.get(b"content-type"))
    upload = _Upload()
    parser = multipart.MultipartParser(options[b"boundary"], {"on_part_data": upload.on_part_data})
    more_body = True
    while more_body:
        message = await receive()
        if message["type"] == "http.disconnect":
            upload.file.close()
            upload.temp.unlink()
            return
        parser.write(message.get("body", b""))
        more_body = message.get("more_body", False)
    parser.finalize()
    upload.file.flush()
    os.fdatasync(upload.file.fileno())
    upload.file.close()
    digest = upload.hasher.hexdigest()
    os.rename(upload.temp, ROOT / "blobs" / digest)
    uid = str(uuid.uuid4())
    created = dt.datetime.now(dt.UTC).isoformat()
    DB.execute("BEGIN IMMEDIATE")
    DB.execute(
        "INSERT INTO attachment (uid, session, name, mime, size, source, sha256, description,"
        " workspace_path, purged, created_at) VALUES (?, ?, ?, ?, ?, 'upload', ?, '', '', 0, ?)",
        (uid, session_id, "report.bin", "application/octet-stream", upload.size, digest, created),
    )
    DB.execute("COMMIT")
    body = {"attachment_id": f"f-{uid}", "name": "report.bin", "size": upload.size}
    await _answer(send, 201, json.dumps({**body, "sha256": digest}).encode())


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            await send({"type": message["type"] + ".complete"})
            if message["type"] == "lifespan.shutdown":
                return
    if scope["type"] != "http":
        return
    path: str = scope["path"]
    if path.startswith("/api/uploads/"):
        session_id = path.removeprefix("/api/uploads/")
        if scope["method"] == "POST":
            await _upload(scope, receive, send, session_id)
            return
        await _answer(send, 200, _list(session_id))
        return
    await _answer(send, 200, HEALTH)
