"""The file benchmark's phases against one running Depot: the big upload (each repetition right
after a dd), the fast and the slow download (beside nginx), the session zip, and the request
floor and small-upload rates. Transfers go through curl, which streams from and to disk."""

from __future__ import annotations

import concurrent.futures
import hashlib
import http.client
import json
import os
import statistics
import subprocess
import threading
import time
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from bench.common import log
from bench.common.multipart import multipart_body
from bench.common.process import RssWatch, UvicornServer
from bench.files.baselines import MB, MiB, baseline_dd, baseline_fsync_files, mbps

SLOW_RATE = "20M"  # curl --limit-rate: 20 MiB/s = 20.97 MB/s
CURL_WRITE_OUT = "%{http_code} %{size_download} %{size_upload} %{time_starttransfer} %{time_total}"


@dataclass
class Bench:
    """What every phase uses: the server, the big file and the run's bounds."""

    server: UvicornServer
    work: Path
    data_dir: Path
    source: Path
    source_sha: str
    size_mib: int
    reps: int
    slow_bytes: int
    small_max_uploads: int
    small_max_seconds: float
    sid: str

    @property
    def size(self) -> int:
        return self.size_mib * MiB

    @property
    def big_timeout(self) -> float:
        """Generous per-transfer time bounds (curl --max-time): at least 10 MB/s."""
        return max(120.0, self.size / (10 * MB))

    @property
    def auth(self) -> list[str]:
        return ["-H", f"X-API-Key: {self.server.api_key}"]


def curl(args: list[str], *, max_time: float) -> dict[str, Any]:
    """Runs curl with a bounded time; returns the -w figures."""
    command = ["curl", "-sS", "--max-time", str(int(max_time)), "-w", CURL_WRITE_OUT, *args]
    started = time.perf_counter()
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=max_time + 30, check=False
    )
    wall = time.perf_counter() - started
    parts = done.stdout.strip().split()[-5:]
    if len(parts) != 5:
        raise RuntimeError(f"curl failed ({done.returncode}): {done.stderr.strip()}")
    code, down, up, ttfb, total = parts
    return {
        "rc": done.returncode,
        "stderr": done.stderr.strip(),
        "http_code": int(code),
        "size_download": int(float(down)),
        "size_upload": int(float(up)),
        "ttfb_s": float(ttfb),
        "time_s": float(total),
        "wall_s": wall,
    }


def curl_expect(args: list[str], code: int, size: int, what: str, max_time: float) -> dict:
    """curl() that must answer `code` with exactly `size` bytes; with MB/s."""
    run = curl(args, max_time=max_time)
    if run["http_code"] != code or run["size_download"] != size:
        raise RuntimeError(f"{what} failed: {run}")
    return run | {"mb_s": mbps(size, run["time_s"])}


def make_random_file(path: Path, size_mib: int) -> str:
    digest = hashlib.sha256()
    with open(path, "wb") as file:
        for _ in range(0, size_mib, 4):
            chunk = os.urandom(4 * MiB)
            digest.update(chunk)
            file.write(chunk)
        file.truncate(size_mib * MiB)
    # truncate only matters if size_mib is not a multiple of 4: rehash then.
    return file_sha256(path) if size_mib % 4 else digest.hexdigest()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while chunk := file.read(4 * MiB):
            digest.update(chunk)
    return digest.hexdigest()


def hash_download(url: str, headers: dict[str, str], *, max_seconds: float) -> tuple[int, str]:
    """(bytes, sha256) of a GET, streamed (not timed; used to check content once)."""
    host, _, rest = url.removeprefix("http://").partition("/")
    name, _, port = host.partition(":")
    connection = http.client.HTTPConnection(name, int(port), timeout=30)
    deadline = time.monotonic() + max_seconds
    try:
        connection.request("GET", "/" + rest, headers=headers)
        response = connection.getresponse()
        if response.status != 200:
            raise RuntimeError(f"GET {url}: {response.status} {response.read(500)!r}")
        digest, total = hashlib.sha256(), 0
        while chunk := response.read(MiB):
            digest.update(chunk)
            total += len(chunk)
            if time.monotonic() > deadline:
                raise RuntimeError(f"GET {url} took over {max_seconds} s")
        return total, digest.hexdigest()
    finally:
        connection.close()


def big_upload(b: Bench, sha: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any], str]:
    """`reps` uploads of the big file, each right after a dd baseline: the baselines, the
    upload figures and the first upload's attachment id."""
    dd_runs: list[dict[str, Any]] = []
    upload_runs: list[dict[str, Any]] = []
    attachment_id = ""
    for rep in range(b.reps):
        if rep:
            # New bytes each time (so dedup skips nothing) and a session of its own (so the
            # benchmark session keeps exactly one file for the zip).
            with open(b.source, "r+b") as file:
                file.write(os.urandom(64))
            current_sha = file_sha256(b.source)
            upload_sid = f"bench-upload-{rep + 1}-{uuid.uuid4().hex[:8]}"
        else:
            current_sha, upload_sid = b.source_sha, b.sid
        log(f"baseline: dd bs=1M count={b.size_mib} conv=fdatasync (#{rep + 1})")
        dd_runs.append(dd_run := baseline_dd(b.data_dir, b.size_mib))
        log(f"  dd: {dd_run['mb_s']:.0f} MB/s ({dd_run['dd_says']})")
        log(f"upload {b.size_mib} MiB #{rep + 1} (curl -F, streamed from disk)")
        os.sync()
        response_file = b.work / "upload-response.json"
        response_file.unlink(missing_ok=True)
        form = f"file=@{b.source};type=application/octet-stream;filename=big.bin"
        url = f"{b.server.base_url}/api/uploads/{upload_sid}"
        with RssWatch(b.server.pid) as rss:
            up = curl([*b.auth, "-o", str(response_file), "-F", form, url], max_time=b.big_timeout)
        body = response_file.read_text() if response_file.exists() else ""
        if up["http_code"] != 201:
            raise RuntimeError(f"upload failed: {up} {body[:500]}")
        uploaded = json.loads(body)
        up["mb_s"] = mbps(b.size, up["time_s"])
        up["sha256_ok"] = uploaded.get("sha256") == current_sha and uploaded.get("size") == b.size
        up["rss"] = rss.summary()
        up["response"] = uploaded
        upload_runs.append(up)
        attachment_id = attachment_id or uploaded["attachment_id"]
        log(
            f"  {up['mb_s']:.0f} MB/s in {up['time_s']:.2f} s, sha256 ok={up['sha256_ok']}, "
            f"RSS +{rss.growth_mib:.1f} MiB"
        )
    dd_median = statistics.median(run["mb_s"] for run in dd_runs)
    limit_l = min(dd_median, sha["mb_s"])
    upload_mb_s = statistics.median(run["mb_s"] for run in upload_runs)
    baselines = {
        "dd_fdatasync_runs": dd_runs,
        "dd_fdatasync_median_mb_s": dd_median,
        "sha256": sha,
        "L_mb_s": limit_l,
    }
    upload = {
        "mb_s_median": upload_mb_s,
        "ratio_to_L": upload_mb_s / limit_l,
        "sha256_ok": all(run["sha256_ok"] for run in upload_runs),
        "rss_growth_mib_max": max(run["rss"]["growth_mib"] for run in upload_runs),
        "runs": upload_runs,
    }
    return baselines, upload, attachment_id


def download_fast(b: Bench, depot_url: str, nginx_url: str) -> dict[str, Any]:
    """The content checked once, then `reps` downloads to /dev/null interleaved with nginx."""
    log("checking the downloaded bytes once (sha256 of a streamed GET)")
    headers = {"X-API-Key": b.server.api_key}
    got_size, got_sha = hash_download(depot_url, headers, max_seconds=b.big_timeout)
    content_ok = got_size == b.size and got_sha == b.source_sha
    log(f"  content ok={content_ok}")
    depot_runs, nginx_runs, fast_rss = [], [], []
    for rep in range(b.reps):
        with RssWatch(b.server.pid) as rss:
            run = curl_expect(
                [*b.auth, "-o", "/dev/null", depot_url],
                200,
                b.size,
                "Depot download",
                b.big_timeout,
            )
        run["rss"] = rss.summary()
        depot_runs.append(run)
        fast_rss.append(rss.growth_mib)
        ng = curl_expect(
            ["-o", "/dev/null", nginx_url], 200, b.size, "nginx download", b.big_timeout
        )
        nginx_runs.append(ng)
        log(
            f"  fast #{rep + 1}: Depot {run['mb_s']:.0f} MB/s (RSS +{rss.growth_mib:.1f} MiB), "
            f"nginx {ng['mb_s']:.0f} MB/s"
        )
    depot_fast = statistics.median(r["mb_s"] for r in depot_runs)
    nginx_fast = statistics.median(r["mb_s"] for r in nginx_runs)
    return {
        "content_ok": content_ok,
        "depot_mb_s_median": depot_fast,
        "nginx_mb_s_median": nginx_fast,
        "ratio": depot_fast / nginx_fast,
        "rss_growth_mib_max": max(fast_rss),
        "depot_runs": depot_runs,
        "nginx_runs": nginx_runs,
    }


def download_slow(b: Bench, depot_url: str, nginx_url: str) -> dict[str, Any]:
    """The first `slow_bytes` by a client reading at SLOW_RATE, from Depot and from nginx."""
    range_header = f"Range: bytes=0-{b.slow_bytes - 1}"
    timeout = b.slow_bytes / (5 * MB) + 30
    log(f"slow client: --limit-rate {SLOW_RATE}, first {b.slow_bytes / MB:.0f} MB ({range_header})")
    slow_args = ["--limit-rate", SLOW_RATE, "-H", range_header, "-o", "/dev/null"]
    with RssWatch(b.server.pid) as rss:
        slow = curl_expect(
            [*b.auth, *slow_args, depot_url], 206, b.slow_bytes, "Depot slow download", timeout
        )
    nginx = curl_expect([*slow_args, nginx_url], 206, b.slow_bytes, "nginx slow download", timeout)
    log(
        f"  Depot {slow['mb_s']:.1f} MB/s (RSS +{rss.growth_mib:.1f} MiB), "
        f"nginx {nginx['mb_s']:.1f} MB/s"
    )
    return {
        "limit_rate": SLOW_RATE,
        "bytes": b.slow_bytes,
        "range": range_header,
        "depot": slow,
        "nginx": nginx,
        "ratio": slow["mb_s"] / nginx["mb_s"],
        "rss": rss.summary(),
        "rss_growth_mib": rss.growth_mib,
    }


def session_zip(b: Bench, nginx_fast: float) -> dict[str, Any]:
    """The session's zip to /dev/null (time to first byte, MB/s), then once to a file that
    zipfile must find whole: one entry of the big file's size."""
    zip_url = f"{b.server.base_url}/api/sessions/{b.sid}/download"
    log("session zip (curl -o /dev/null)")
    with RssWatch(b.server.pid) as rss:
        zipped = curl([*b.auth, "-o", "/dev/null", zip_url], max_time=b.big_timeout)
    if zipped["http_code"] != 200 or zipped["size_download"] < b.size:
        raise RuntimeError(f"zip download failed: {zipped}")
    zip_mb_s = mbps(zipped["size_download"], zipped["time_s"])
    log(
        f"  TTFB {zipped['ttfb_s']:.3f} s, {zipped['time_s']:.2f} s, {zip_mb_s:.0f} MB/s, "
        f"RSS +{rss.growth_mib:.1f} MiB"
    )
    log("validating the zip once (download to a file, zipfile.testzip)")
    zip_file = b.work / "session.zip"
    check = curl([*b.auth, "-o", str(zip_file), zip_url], max_time=b.big_timeout)
    with zipfile.ZipFile(zip_file) as archive:
        bad = archive.testzip()
        entries = [(info.filename, info.file_size) for info in archive.infolist()]
    one_entry = len(entries) == 1 and entries[0][1] == b.size
    valid = check["http_code"] == 200 and bad is None and one_entry
    zip_file.unlink()
    log(f"  zip valid={valid} entries={entries} testzip={bad}")
    return {
        "curl": zipped,
        "mb_s": zip_mb_s,
        "ratio_to_nginx_fast": zip_mb_s / nginx_fast,
        "valid": valid,
        "entries": entries,
        "rss": rss.summary(),
        "rss_growth_mib": rss.growth_mib,
    }


def request_rate(url: str, headers: dict[str, str], *, max_requests: int, max_seconds: float):
    """Sequential GETs on one keep-alive connection: the per-request floor of the stack."""
    statuses: dict[str, int] = {}
    done = 0
    with requests.Session() as http_session:
        started = time.perf_counter()
        while done < max_requests and time.perf_counter() - started < max_seconds:
            response = http_session.get(url, headers=headers, timeout=30)
            statuses[str(response.status_code)] = statuses.get(str(response.status_code), 0) + 1
            done += 1
        elapsed = time.perf_counter() - started
    return {"per_s": statuses.get("200", 0) / elapsed, "requests": done, "statuses": statuses}


def small_uploads(
    base_url: str,
    api_key: str,
    session_id: str,
    *,
    clients: int,
    max_uploads: int,
    max_seconds: float,
    file_bytes: int = MiB,
) -> dict[str, Any]:
    """1 MiB uploads, each with different bytes (so dedup cannot skip work), from `clients`
    threads with one keep-alive connection each, until `max_uploads` or `max_seconds`."""
    base = os.urandom(max(file_bytes, 32))
    lock = threading.Lock()
    started_count = checked = 0
    statuses: dict[str, int] = {}
    latencies: list[float] = []
    errors: list[str] = []
    url = f"{base_url}/api/uploads/{session_id}"
    deadline = time.perf_counter() + max_seconds

    def worker(index: int) -> None:
        nonlocal started_count, checked
        with requests.Session() as http_session:
            while time.perf_counter() < deadline:
                with lock:
                    if started_count >= max_uploads:
                        return
                    started_count += 1
                    number = started_count
                data = number.to_bytes(8, "big") + os.urandom(24) + base[32:]
                body, content_type = multipart_body(data, f"small-{clients}-{number}.bin")
                headers = {"X-API-Key": api_key, "Content-Type": content_type}
                began = time.perf_counter()
                try:
                    response = http_session.post(url, data=body, headers=headers, timeout=60)
                except requests.RequestException as error:
                    with lock:
                        statuses["exception"] = statuses.get("exception", 0) + 1
                        errors.append(repr(error)[:300])
                    continue
                took = time.perf_counter() - began
                with lock:
                    key = str(response.status_code)
                    statuses[key] = statuses.get(key, 0) + 1
                    if response.status_code == 201:
                        latencies.append(took)
                        if checked < 3:  # check content on a few, off the clock would be nicer
                            checked += 1
                            expected = hashlib.sha256(data).hexdigest()
                            if response.json().get("sha256") != expected:
                                errors.append(f"upload {number}: sha256 mismatch")
                    elif len(errors) < 20:
                        errors.append(
                            f"upload {number}: {response.status_code} {response.text[:300]}"
                        )

    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(clients) as pool:
        for future in [pool.submit(worker, i) for i in range(clients)]:
            future.result()
    elapsed = time.perf_counter() - started
    ok = statuses.get("201", 0)
    latencies.sort()
    return {
        "clients": clients,
        "ok": ok,
        "attempted": started_count,
        "seconds": elapsed,
        "per_s": ok / elapsed if elapsed else float("nan"),
        "file_bytes": len(base),
        "mb_s": mbps(ok * len(base), elapsed),
        "statuses": statuses,
        "latency_p50_ms": round(1000 * statistics.median(latencies), 1) if latencies else None,
        "latency_p95_ms": round(1000 * latencies[int(0.95 * (len(latencies) - 1))], 1)
        if latencies
        else None,
        "errors": errors[:20],
    }


def request_floor_and_small_uploads(b: Bench) -> tuple[dict[str, Any], dict[str, Any]]:
    """The GET floor and 32-byte uploads (1 client), then 1 MiB uploads with 1 and 8 clients,
    each after its fsync'd-files baseline."""
    base_url, api_key = b.server.base_url, b.server.api_key
    bounds = {"max_uploads": b.small_max_uploads, "max_seconds": b.small_max_seconds}
    log("request floor: authenticated GET /api/sessions/<id>, 1 client")
    floor = request_rate(
        f"{base_url}/api/sessions/{b.sid}",
        {"X-API-Key": api_key},
        max_requests=b.small_max_uploads,
        max_seconds=b.small_max_seconds / 2,
    )
    log(f"  {floor['per_s']:.1f} requests/s {floor['statuses']}")
    log("tiny 32-byte uploads, 1 client")
    tiny_sid = f"bench-tiny-{uuid.uuid4().hex[:8]}"
    tiny = small_uploads(
        base_url,
        api_key,
        tiny_sid,
        clients=1,
        file_bytes=32,
        max_uploads=b.small_max_uploads,
        max_seconds=b.small_max_seconds / 2,
    )
    log(f"  {tiny['per_s']:.1f} uploads/s {tiny['statuses']}")
    small: dict[str, Any] = {}
    for clients in (1, 8):
        log(f"baseline: 1 MiB files written+fdatasync'd, {clients} thread(s)")
        base_files = baseline_fsync_files(
            b.data_dir,
            threads=clients,
            max_files=b.small_max_uploads,
            max_seconds=b.small_max_seconds / 2,
        )
        log(f"  {base_files['per_s']:.1f} files/s")
        log(
            f"small uploads: {clients} client(s), <= {b.small_max_uploads} or "
            f"{b.small_max_seconds} s"
        )
        os.sync()
        sid = f"bench-small-{clients}-{uuid.uuid4().hex[:8]}"
        with RssWatch(b.server.pid) as rss:
            run = small_uploads(base_url, api_key, sid, clients=clients, **bounds)
        run["rss"] = rss.summary()
        run["baseline"] = base_files
        run["ratio"] = run["per_s"] / base_files["per_s"]
        log(
            f"  {run['per_s']:.1f} uploads/s ({run['ok']} ok, statuses {run['statuses']}, "
            f"p50 {run['latency_p50_ms']} ms, p95 {run['latency_p95_ms']} ms), "
            f"RSS +{rss.growth_mib:.1f} MiB"
        )
        small[str(clients)] = run
    return {"get_session": floor, "tiny_uploads": tiny}, small
