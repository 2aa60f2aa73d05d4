"""The load client: raw HTTP/1.1 over asyncio streams, keep-alive, in its own process (so its
CPU is not the orchestrator's), `python -m bench.small.client '<plan json>'` printing the
result as JSON on stdout.

A plan is {"host", "port", "connections", "seconds" or "count", "requests": [...]}; each
connection loops over its own request list (`requests[i % len]`, one list per connection).
A request is {"method", "path", "headers": {..}, "body_kind": "none" | "upload", "expect"}.
An upload body is 1 MiB (`upload_bytes`) of random bytes whose first 16 bytes are a counter,
so every upload is new content (no deduplication) and building it costs a slice, not a copy
of the megabyte in Python code.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
import uuid
from typing import Any


class Connection:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, head: bytes, body: list[bytes]) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        self.writer.write(head)
        for piece in body:
            self.writer.write(piece)
        await self.writer.drain()
        status_line = await self.reader.readuntil(b"\r\n")
        status = int(status_line.split(b" ", 2)[1])
        length = 0
        close = False
        while True:
            line = await self.reader.readuntil(b"\r\n")
            if line == b"\r\n":
                break
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value.strip())
            elif name == b"connection" and value.strip().lower() == b"close":
                close = True
        payload = await self.reader.readexactly(length) if length else b""
        if close:
            self.close()
        return status, payload

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


def _upload_parts(counter: int, data: bytes, field_head: bytes, tail: bytes) -> list[bytes]:
    stamp = counter.to_bytes(8, "big") + os.urandom(8)
    return [field_head, stamp, data[16:], tail]


async def _worker(
    plan: dict[str, Any], index: int, deadline: float, count: int | None, out: dict[str, Any]
) -> None:
    connection = Connection(plan["host"], plan["port"])
    requests = plan["requests"][index % len(plan["requests"])]
    data = os.urandom(plan.get("upload_bytes", 1024 * 1024))
    boundary = uuid.uuid4().hex
    field_head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
        f'filename="report.bin"\r\nContent-Type: application/octet-stream\r\n\r\n'
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    upload_length = len(field_head) + len(data) + len(tail)
    done = 0
    try:
        while True:
            if count is not None and done >= count:
                return
            if count is None and time.monotonic() >= deadline:
                return
            spec = requests[done % len(requests)]
            headers = dict(spec.get("headers", {}))
            if spec.get("body_kind") == "upload":
                body = _upload_parts(index * 10**9 + done, data, field_head, tail)
                headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
                headers["Content-Length"] = str(upload_length)
            else:
                body = []
            head = "".join(
                [
                    f"{spec['method']} {spec['path']} HTTP/1.1\r\n",
                    f"Host: {plan['host']}:{plan['port']}\r\n",
                    *(f"{name}: {value}\r\n" for name, value in headers.items()),
                    "\r\n",
                ]
            ).encode()
            started = time.perf_counter()
            try:
                status, _ = await connection.request(head, body)
            except (OSError, asyncio.IncompleteReadError) as error:
                connection.close()
                out["errors"].append(repr(error))
                status = 0
            elapsed = time.perf_counter() - started
            out["latencies"].append(elapsed)
            out["stamps"].append(time.monotonic())
            if status != spec.get("expect", 200):
                out["failures"] += 1
                if len(out["bad_statuses"]) < 5:
                    out["bad_statuses"].append(status)
            done += 1
    finally:
        connection.close()


async def run(plan: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "latencies": [],
        "stamps": [],
        "failures": 0,
        "bad_statuses": [],
        "errors": [],
    }
    started = time.monotonic()
    deadline = started + plan.get("seconds", 0)
    count = plan.get("count")
    await asyncio.gather(
        *(_worker(plan, i, deadline, count, out) for i in range(plan["connections"]))
    )
    out["elapsed"] = time.monotonic() - started
    out["started"] = started
    out["errors"] = out["errors"][:5]
    return out


def main() -> None:
    plan = json.loads(sys.argv[1])
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    result = asyncio.run(run(plan))
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
