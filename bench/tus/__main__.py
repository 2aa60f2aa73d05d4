"""tus across a server restart: `python -m bench.tus [--size-mib 1024] [--rounds 3] [--quick]`.

On the embedded default (SQLite, local disk; `--production` for PostgreSQL and S3 from the
environment, as /tmp/prod-env.sh sets it), on one server, `--rounds` times (`--quick`: one
round of 256 MiB), the two in alternating order:

1. the baseline: the file sent as one streamed multipart POST to /api/uploads/{session};
2. the same file as a tus upload in one streamed PATCH; at about half of it the server is
   SIGKILLed, started again on the same data, and the client asks HEAD for the offset and
   sends the rest (retrying on a 423, which the takeover of a dead writer's lease avoids);
3. checks: every attachment's SHA-256 is the file's, the server's RSS growth (VmHWM) stays
   within 64 MiB during each transfer, and the median over the rounds of tus throughput (bytes
   over the time spent sending) over the same round's POST throughput is at least 0.70. The
   wall-time ratio (restart and any lease wait included) is reported too.

Results go to bench/results/tus-<time>.json (and latest-tus[-production].json on a 1 GiB or
production run). A production run removes its S3 prefix at the end."""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import signal
import statistics
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import requests

from bench.common import RESULTS, log
from bench.common.databases import (
    DEFAULT_PG_ADMIN,
    database_create,
    database_drop_logged,
    pg_url,
)
from bench.common.process import RssWatch, UvicornServer, bootstrap, depot_env, exit_on_sigterm

CHUNK = 1024 * 1024
RSS_LIMIT_MIB = 64
RATIO_FLOOR = 0.70


def _make_file(path: Path, size: int) -> Any:
    """The file, and its SHA-256 object (copied to hash it with each upload's own suffix)."""
    digest = hashlib.sha256()
    with open(path, "wb") as out:
        left = size
        while left:
            block = os.urandom(min(CHUNK, left))
            digest.update(block)
            out.write(block)
            left -= len(block)
    return digest


class Body:
    """A request body of known length (requests would send a generator chunked): `head`, the
    file from `start`, `tail`. Counts what was read into `sent[0]`."""

    def __init__(
        self,
        path: Path,
        start: int = 0,
        head: bytes = b"",
        tail: bytes = b"",
        sent: list[int] | None = None,
    ) -> None:
        self._file = open(path, "rb")  # noqa: SIM115  (closed at the end of the body)
        self._file.seek(start)
        self._pieces = [head]
        self._tail = tail
        self._length = len(head) + path.stat().st_size - start + len(tail)
        self.sent = sent if sent is not None else [0]

    def __len__(self) -> int:
        return self._length

    def read(self, size: int = -1) -> bytes:
        size = CHUNK if size is None or size < 0 else max(size, 64 * 1024)
        if self._pieces and self._pieces[0]:
            return self._pieces.pop(0)
        if self._file.closed:
            return b""
        block = self._file.read(size)
        if not block:
            block, self._tail = self._tail, b""
            self._file.close()
        self.sent[0] += len(block)
        return block


def _post(server: UvicornServer, path: Path, session: str, suffix: bytes) -> dict[str, Any]:
    boundary = uuid.uuid4().hex
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()

    size = path.stat().st_size
    with RssWatch(server.pid) as rss:
        began = time.monotonic()
        answer = requests.post(
            f"{server.base_url}/api/uploads/{session}",
            data=Body(path, head=head, tail=suffix + tail),
            headers={
                "X-API-Key": server.api_key,
                "Content-Type": f"multipart/form-data; boundary={boundary}",
            },
            timeout=600,
        )
        seconds = time.monotonic() - began
    assert answer.status_code == 201, answer.text
    return {
        "seconds": round(seconds, 2),
        "mib_s": round(size / CHUNK / seconds, 1),
        "rss": rss.summary(),
        "rss_growth_mib": round(rss.growth_mib, 1),
        "sha256": answer.json().get("sha256"),
    }


def _tus_headers(server: UvicornServer, **extra: str) -> dict[str, str]:
    return {"Tus-Resumable": "1.0.0", "X-API-Key": server.api_key, **extra}


def _patch(
    server: UvicornServer, url: str, path: Path, offset: int, sent: list[int], suffix: bytes
) -> Any:
    return requests.patch(
        url,
        data=Body(path, offset, tail=suffix, sent=sent),
        headers=_tus_headers(
            server,
            **{"Content-Type": "application/offset+octet-stream", "Upload-Offset": str(offset)},
        ),
        timeout=600,
    )


def _warm(server: UvicornServer) -> float:
    """A fresh process's first uploads load what every later one reuses (S3 and database
    clients, lazily imported modules: 30-50 MiB on the production profile). One small POST and
    one small tus upload (past an S3 part) first, so that RSS growth measures the transfer."""
    began = time.monotonic()
    small = os.urandom(9 * CHUNK + 1)
    meta = f"session_id {base64.b64encode(b'bench-warm').decode()}"
    answer = requests.post(
        f"{server.base_url}/api/tus/",
        data=small,
        headers=_tus_headers(
            server,
            **{
                "Upload-Length": str(len(small)),
                "Upload-Metadata": meta,
                "Content-Type": "application/offset+octet-stream",
            },
        ),
        timeout=120,
    )
    assert answer.status_code == 201, answer.text
    posted = requests.post(
        f"{server.base_url}/api/uploads/bench-warm",
        files={"file": ("warm.bin", small[:CHUNK])},
        headers={"X-API-Key": server.api_key},
        timeout=120,
    )
    assert posted.status_code == 201, posted.text
    return time.monotonic() - began


def _tus(server: UvicornServer, path: Path, session: str, suffix: bytes) -> dict[str, Any]:
    size = path.stat().st_size + len(suffix)
    meta = ",".join(
        f"{k} {base64.b64encode(v.encode()).decode()}"
        for k, v in {"session_id": session, "filename": "big.bin"}.items()
    )
    created = requests.post(
        f"{server.base_url}/api/tus/",
        headers=_tus_headers(server, **{"Upload-Length": str(size), "Upload-Metadata": meta}),
        timeout=60,
    )
    assert created.status_code == 201, created.text
    upload_path = "/api/tus/" + created.headers["Location"].rsplit("/", 1)[1]
    sent = [0]

    def killer() -> None:
        while sent[0] < size // 2:
            time.sleep(0.005)
        log(f"SIGKILL at {sent[0] / CHUNK:.0f} MiB sent")
        os.kill(server.pid, signal.SIGKILL)

    threading.Thread(target=killer, daemon=True).start()
    with RssWatch(server.pid) as first_rss:
        began = time.monotonic()
        try:
            _patch(server, server.base_url + upload_path, path, 0, sent, suffix)
            raise AssertionError("the PATCH finished although the server was killed")
        except requests.RequestException:
            pass
        first_seconds = time.monotonic() - began
    killed_at = sent[0]
    wall_began = time.monotonic()
    server.stop()
    server.start()  # the same port, data and database
    restart = time.monotonic() - wall_began
    warm = _warm(server)  # not part of the client's way: left out of the wall time
    url = server.base_url + upload_path
    head = requests.head(url, headers=_tus_headers(server), timeout=30)
    offset = int(head.headers["Upload-Offset"])
    log(f"restarted; the server kept {offset / CHUNK:.0f} MiB of {killed_at / CHUNK:.0f} sent")
    waited = 0.0
    with RssWatch(server.pid) as second_rss:
        while True:
            began = time.monotonic()
            answer = _patch(server, url, path, offset, [0], suffix)
            second_seconds = time.monotonic() - began
            if answer.status_code != 423:
                break
            waited += second_seconds + 1
            time.sleep(1)  # the killed PATCH's lease has not run out yet
    assert answer.status_code == 204, answer.text
    wall = time.monotonic() - wall_began - warm + first_seconds
    sending = first_seconds + second_seconds
    result = answer.headers.get("Depot-Result-Id", "")
    return {
        "killed_at_mib": round(killed_at / CHUNK, 1),
        "kept_mib": round(offset / CHUNK, 1),
        "resent_mib": round((size - offset) / CHUNK, 1),
        "sending_seconds": round(sending, 2),
        "first_patch_seconds": round(first_seconds, 2),
        "second_patch_seconds": round(second_seconds, 2),
        "mib_s": round(size / CHUNK / sending, 1),
        "wall_seconds_with_restart": round(wall, 2),
        "mib_s_wall": round(size / CHUNK / wall, 1),
        "restart_seconds": round(restart, 2),
        "lease_wait_seconds": round(waited, 1),
        "rss_first_half": first_rss.summary(),
        "rss_second_half": second_rss.summary(),
        "rss_growth_mib": round(max(first_rss.growth_mib, second_rss.growth_mib), 1),
        "attachment_id": result,
    }


def _prefix_cleanup(env: dict[str, str]) -> None:
    """Remove what a production-profile run left in the bucket under its own prefix."""
    import boto3

    client = boto3.client(
        "s3",
        endpoint_url=env.get("S3_ENDPOINT_URL") or None,
        region_name=env.get("S3_REGION") or None,
        aws_access_key_id=env.get("S3_ACCESS_KEY_ID"),
        aws_secret_access_key=env.get("S3_SECRET_ACCESS_KEY"),
    )
    bucket, prefix = env["S3_BUCKET"], env["S3_PREFIX"] + "/"
    for page in client.get_paginator("list_multipart_uploads").paginate(
        Bucket=bucket, Prefix=prefix
    ):
        for item in page.get("Uploads", []):
            client.abort_multipart_upload(Bucket=bucket, Key=item["Key"], UploadId=item["UploadId"])
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            client.delete_object(Bucket=bucket, Key=item["Key"])


def _round(server: UvicornServer, path: Path, digest: Any, index: int) -> dict[str, Any]:
    """One POST and one tus upload with a kill, in alternating order (the machine's load
    drifts; neither always goes first). Each sends the file with a suffix of its own, so every
    upload is new content that the server stores (none is deduplicated against another)."""
    post_first = index % 2 == 0
    post_suffix, tus_suffix = uuid.uuid4().bytes, uuid.uuid4().bytes
    post: dict[str, Any] = {}
    if post_first:
        post = _post(server, path, f"bench-post-{index}", post_suffix)
    tus = _tus(server, path, f"bench-tus-{index}", tus_suffix)
    if not post_first:
        post = _post(server, path, f"bench-post-{index}", post_suffix)
    expected = {}
    for name, suffix in (("post", post_suffix), ("tus", tus_suffix)):
        own = digest.copy()
        own.update(suffix)
        expected[name] = own.hexdigest()
    got = requests.get(
        f"{server.base_url}/api/sessions/bench-tus-{index}/artifacts/{tus['attachment_id']}",
        headers={"X-API-Key": server.api_key},
        timeout=60,
    ).json()
    ratio = tus["mib_s"] / post["mib_s"]
    log(
        f"round {index + 1}: POST {post['mib_s']} MiB/s, tus {tus['mib_s']} MiB/s, ratio "
        f"{ratio:.2f}, wall ratio {tus['mib_s_wall'] / post['mib_s']:.2f}, "
        f"lease wait {tus['lease_wait_seconds']} s"
    )
    return {
        "post": post,
        "tus": tus,
        "served_meta": got,
        "sha256_matches": got.get("sha256") == expected["tus"]
        and post["sha256"] == expected["post"],
        "ratio": round(ratio, 2),
        "wall_ratio": round(tus["mib_s_wall"] / post["mib_s"], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--rounds", type=int, default=3, help="POST/tus pairs, interleaved")
    parser.add_argument("--quick", action="store_true", help="256 MiB, one round")
    parser.add_argument("--production", action="store_true")
    options = parser.parse_args()
    if options.quick:
        options.size_mib, options.rounds = min(options.size_mib, 256), 1
    exit_on_sigterm()
    with tempfile.TemporaryDirectory(prefix="depot-bench-tus-") as scratch:
        root = Path(scratch)
        extra = {}
        database = f"bench_tus_{uuid.uuid4().hex[:8]}"
        if options.production:
            extra = {
                name: os.environ[name]
                for name in os.environ
                if name.startswith(("S3_", "STORAGE_BACKEND"))
            }
            extra["S3_PREFIX"] = f"bench-tus-{uuid.uuid4().hex[:8]}"
            # A scratch database of its own, dropped at the end.
            database_create(DEFAULT_PG_ADMIN, database)
            extra["DATABASE_URL"] = pg_url(DEFAULT_PG_ADMIN, database)
        try:
            report = _run(options, root, depot_env(root, **extra))
        finally:
            if options.production:
                database_drop_logged(DEFAULT_PG_ADMIN, database)
    _report(options, report)


def _run(options: argparse.Namespace, root: Path, env: dict[str, str]) -> dict[str, Any]:
    bootstrap_info = bootstrap(env)
    file_path = root / "big.bin"
    log(f"writing {options.size_mib} MiB of random bytes")
    digest = _make_file(file_path, options.size_mib * CHUNK)
    server = UvicornServer("tus", env, root / "server.log")
    server.api_key = bootstrap_info["api_key"]
    server.start()
    _warm(server)
    rounds = []
    try:
        for index in range(options.rounds):
            rounds.append(_round(server, file_path, digest, index))
    finally:
        server.stop()
        if options.production:
            _prefix_cleanup(env)
    return {"rounds": rounds, "checkpoint_bytes": env.get("DEPOT_TUS_CHECKPOINT_BYTES", "default")}


def _report(options: argparse.Namespace, run: dict[str, Any]) -> None:
    rounds = run["rounds"]
    growth = max(r["tus"]["rss_growth_mib"] for r in rounds)
    ratio = statistics.median(r["ratio"] for r in rounds)
    checks = {
        "sha256_matches": all(r["sha256_matches"] for r in rounds),
        "rss_growth_mib": round(growth, 1),
        "rss_within_limit": growth <= RSS_LIMIT_MIB,
        "throughput_ratio_median": round(ratio, 2),
        "throughput_ratios": [r["ratio"] for r in rounds],
        "wall_ratio_median": round(statistics.median(r["wall_ratio"] for r in rounds), 2),
        "lease_wait_seconds_max": max(r["tus"]["lease_wait_seconds"] for r in rounds),
        "throughput_ok": ratio >= RATIO_FLOOR,
    }
    report = {
        "size_mib": options.size_mib,
        "rounds": options.rounds,
        "profile": "production" if options.production else "embedded",
        "checkpoint_bytes": run["checkpoint_bytes"],
        "median_post_mib_s": statistics.median(r["post"]["mib_s"] for r in rounds),
        "median_tus_mib_s": statistics.median(r["tus"]["mib_s"] for r in rounds),
        "round_results": rounds,
        "checks": checks,
    }
    RESULTS.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    out = RESULTS / f"tus-{stamp}.json"
    out.write_text(json.dumps(report, indent=2, default=str))
    if options.size_mib >= 1024 or options.production:
        (RESULTS / f"latest-tus{'-production' if options.production else ''}.json").write_text(
            json.dumps(report, indent=2, default=str)
        )
    log(f"checks: {json.dumps(checks)}")
    log(f"wrote {out}")
    if not all(v for k, v in checks.items() if k.endswith(("_ok", "_matches", "_limit"))):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
