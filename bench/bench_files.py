"""Depot file benchmarks: big upload, big download (fast and slow client), session zip, and
small-upload rate, each against a baseline measured in the same run.

    .venv/bin/python bench/bench_files.py [--size-mib 1024] [--quick]

Run from anywhere; paths are resolved from this file. See bench/README.md for what each figure
means. Everything it starts (uvicorn, nginx, curl) is stopped in `finally`, and the temporary
folder is removed unless --keep is given.

Units: MB = 10^6 bytes, MiB = 2^20 bytes. RSS figures are MiB.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime as dt
import hashlib
import http.client
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import zipfile
from pathlib import Path
from typing import Any

import requests
from common import (
    REPO,
    VENV_BIN,
    finish_run,
    free_port,
    git_info,
    log,
    start_uvicorn,
    stop_process,
    verdict,
    wait_http,
)

MiB = 1024 * 1024
MB = 1_000_000

# Targets (from the benchmark brief).
TARGET_UPLOAD_RATIO = 0.70  # upload MB/s over L = min(disk fdatasync write, sha256)
TARGET_DOWNLOAD_RATIO = 0.30  # Depot download MB/s over nginx (sendfile) for the same file
TARGET_RSS_MIB = 64.0  # server RSS growth during any one big transfer
TARGET_ZIP_TTFB_S = 1.0

SLOW_RATE = "20M"  # curl --limit-rate: 20 MiB/s = 20.97 MB/s


def mbps(nbytes: float, seconds: float) -> float:
    return nbytes / seconds / MB if seconds > 0 else float("nan")


# --- server memory ---


def _status_kib(pid: int, field: str) -> int | None:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        return None
    return None


class RssWatch:
    """Samples VmRSS of `pid` every `interval` s in a thread, and resets/reads VmHWM (the
    kernel's own peak, which catches spikes between samples) through /proc/<pid>/clear_refs."""

    def __init__(self, pid: int, interval: float = 0.01) -> None:
        self.pid = pid
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.before_kib = 0
        self.peak_kib = 0
        self.hwm_kib: int | None = None
        self.hwm_reset = False
        self.samples = 0

    def __enter__(self) -> RssWatch:
        try:
            with open(f"/proc/{self.pid}/clear_refs", "w") as refs:
                refs.write("5")  # resets VmHWM to the current RSS (Linux >= 4.0)
            self.hwm_reset = True
        except OSError:
            self.hwm_reset = False
        self.before_kib = _status_kib(self.pid, "VmRSS") or 0
        self.peak_kib = self.before_kib
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            rss = _status_kib(self.pid, "VmRSS")
            if rss is None:
                return
            self.samples += 1
            if rss > self.peak_kib:
                self.peak_kib = rss

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.hwm_kib = _status_kib(self.pid, "VmHWM")
        self.after_kib = _status_kib(self.pid, "VmRSS") or 0

    @property
    def growth_sampled_mib(self) -> float:
        return (self.peak_kib - self.before_kib) / 1024

    @property
    def growth_hwm_mib(self) -> float | None:
        if not self.hwm_reset or self.hwm_kib is None:
            return None
        return (self.hwm_kib - self.before_kib) / 1024

    @property
    def growth_mib(self) -> float:
        hwm = self.growth_hwm_mib
        return max(self.growth_sampled_mib, hwm if hwm is not None else 0.0)

    def summary(self) -> dict[str, Any]:
        return {
            "rss_before_mib": round(self.before_kib / 1024, 1),
            "rss_after_mib": round(self.after_kib / 1024, 1),
            "peak_sampled_mib": round(self.peak_kib / 1024, 1),
            "vmhwm_mib": None if self.hwm_kib is None else round(self.hwm_kib / 1024, 1),
            "vmhwm_reset": self.hwm_reset,
            "growth_sampled_mib": round(self.growth_sampled_mib, 1),
            "growth_hwm_mib": None
            if self.growth_hwm_mib is None
            else round(self.growth_hwm_mib, 1),
            "growth_mib": round(self.growth_mib, 1),
            "samples": self.samples,
        }


# --- curl ---

CURL_WRITE_OUT = "%{http_code} %{size_download} %{size_upload} %{time_starttransfer} %{time_total}"


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


# --- baselines ---


def baseline_dd(directory: Path, size_mib: int) -> dict[str, Any]:
    target = directory / "dd-baseline.bin"
    os.sync()
    started = time.perf_counter()
    done = subprocess.run(
        [
            "dd",
            "if=/dev/zero",
            f"of={target}",
            "bs=1M",
            f"count={size_mib}",
            "conv=fdatasync",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    elapsed = time.perf_counter() - started
    target.unlink(missing_ok=True)
    os.sync()
    return {
        "mb_s": mbps(size_mib * MiB, elapsed),
        "seconds": elapsed,
        "dd_says": done.stderr.strip().splitlines()[-1],
    }


def baseline_sha256(size_mib: int) -> dict[str, Any]:
    chunk = os.urandom(MiB)
    digest = hashlib.sha256()
    started = time.perf_counter()
    count = 0
    while count < size_mib and time.perf_counter() - started < 60:
        digest.update(chunk)
        count += 1
    elapsed = time.perf_counter() - started
    return {"mb_s": mbps(count * MiB, elapsed), "seconds": elapsed, "mib": count}


def baseline_fsync_files(
    directory: Path, *, threads: int, max_files: int, max_seconds: float
) -> dict[str, Any]:
    """What a 1 MiB upload must at least cost on this disk: hash, write and fdatasync a new
    1 MiB file, then rename it into place. Files per second with `threads` writers."""
    folder = directory / f"fsync-baseline-{threads}"
    folder.mkdir()
    base = os.urandom(MiB)
    lock = threading.Lock()
    done = 0
    deadline = time.perf_counter() + max_seconds

    def worker(index: int) -> None:
        nonlocal done
        while time.perf_counter() < deadline:
            with lock:
                if done >= max_files:
                    return
                done += 1
                number = done
            data = number.to_bytes(8, "big") + base[8:]
            hashlib.sha256(data).hexdigest()
            temp = folder / f"tmp-{index}-{number}"
            with open(temp, "wb") as file:
                file.write(data)
                file.flush()
                os.fdatasync(file.fileno())
            os.replace(temp, folder / f"file-{number}")

    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(threads) as pool:
        for future in [pool.submit(worker, i) for i in range(threads)]:
            future.result()
    elapsed = time.perf_counter() - started
    shutil.rmtree(folder, ignore_errors=True)
    return {"per_s": done / elapsed, "files": done, "seconds": elapsed, "threads": threads}


# --- servers ---


def depot_env(data_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    # Pin the embedded default whatever the caller's environment (or a .env) says.
    env.update(
        {
            "DEPOT_DATA_DIR": str(data_dir),
            "DATABASE_URL": f"sqlite:///{data_dir / 'depot.sqlite3'}",
            "REDIS_URL": "",
            "STORAGE_BACKEND": "local",
            "DEPOT_BLOB_ROOT": str(data_dir / "blobs"),
            "DEPOT_RATE_LIMIT": "",
            "DEPOT_AUTO_CLEAN_ATTACHMENTS": "0",
            "DEPOT_LOG_LEVEL": "WARNING",
            "DJANGO_DEBUG": "0",
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


NGINX_CONF = """\
{user}worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 64; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    default_type application/octet-stream;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    server {{
        listen 127.0.0.1:{port};
        root {root};
        location / {{ }}
    }}
}}
"""


def start_nginx(work: Path, root: Path, port: int) -> subprocess.Popen:
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(nginx).exists():
        raise RuntimeError("nginx is not installed: apt-get update && apt-get install -y nginx")
    work.mkdir(parents=True, exist_ok=True)
    conf = work / "nginx.conf"
    conf.write_text(
        NGINX_CONF.format(
            user="user root;\n" if os.geteuid() == 0 else "",
            dir=work,
            port=port,
            root=root,
        )
    )
    process = subprocess.Popen(
        [
            nginx,
            "-p",
            str(work),
            "-e",
            str(work / "error.log"),
            "-c",
            str(conf),
            "-g",
            "daemon off;",
        ],
        stdout=subprocess.DEVNULL,
        stderr=open(work / "stderr.log", "wb"),  # noqa: SIM115
        start_new_session=True,
    )
    return process


# --- phases ---


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


def multipart_body(data: bytes, file_name: str) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    head = (
        f"--{boundary}\r\n"
        f'Content-Disposition: form-data; name="file"; filename="{file_name}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    return head + data + tail, f"multipart/form-data; boundary={boundary}"


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
    started_count = 0
    statuses: dict[str, int] = {}
    latencies: list[float] = []
    errors: list[str] = []
    checked = 0
    url = f"{base_url}/api/uploads/{session_id}"
    deadline = time.perf_counter() + max_seconds

    def worker(index: int) -> None:
        nonlocal started_count, checked
        http_session = requests.Session()
        try:
            while time.perf_counter() < deadline:
                with lock:
                    if started_count >= max_uploads:
                        return
                    started_count += 1
                    number = started_count
                data = number.to_bytes(8, "big") + os.urandom(24) + base[32:]
                body, content_type = multipart_body(data, f"small-{clients}-{number}.bin")
                began = time.perf_counter()
                try:
                    response = http_session.post(
                        url,
                        data=body,
                        headers={"X-API-Key": api_key, "Content-Type": content_type},
                        timeout=60,
                    )
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
        finally:
            http_session.close()

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


# --- report ---


# --- main ---


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mib", type=int, default=None, help="big file size (default 1024)")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke run: 128 MiB (unless --size-mib), 1 download repetition, short windows; "
        "does not overwrite results/latest-files.json",
    )
    parser.add_argument("--tmp-root", default="/tmp", help="where the temporary folder goes")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument(
        "--reps",
        type=int,
        default=None,
        help="repetitions of the big upload (each after a dd) and of the fast download "
        "(default 3, --quick 1)",
    )
    args = parser.parse_args()

    size_mib = args.size_mib or (128 if args.quick else 1024)
    size = size_mib * MiB
    reps = args.reps or (1 if args.quick else 3)
    upload_reps = reps
    slow_bytes = min(size, 100 * MB if args.quick else 400 * MB)
    small_max_uploads, small_max_seconds = (60, 4.0) if args.quick else (300, 10.0)
    # Generous per-transfer time bounds (curl --max-time): at least 10 MB/s.
    big_timeout = max(120.0, size / (10 * MB))

    # SIGTERM should run the finally blocks too.
    def on_sigterm(*_: Any) -> None:
        raise SystemExit(143)

    signal.signal(signal.SIGTERM, on_sigterm)

    tmp_root = Path(args.tmp_root)
    work = Path(tempfile.mkdtemp(prefix="depot-bench-", dir=tmp_root))
    data_dir = work / "data"
    data_dir.mkdir()
    source = work / "source.bin"
    uvicorn: subprocess.Popen | None = None
    nginx: subprocess.Popen | None = None
    results: dict[str, Any] = {
        "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": " ".join([".venv/bin/python", "bench/bench_files.py", *sys.argv[1:]]),
        "size_mib": size_mib,
        "quick": args.quick,
        "machine": {
            "cpus": os.cpu_count(),
            "kernel": platform.release(),
            "python": platform.python_version(),
        },
        "git": git_info(),
        "work_dir": str(work),
    }
    rows: list[dict[str, Any]] = []
    try:
        # -- where we write ---------------------------------------------------------------
        df = subprocess.run(
            ["df", "-h", str(work)], capture_output=True, text=True, timeout=20
        ).stdout.strip()
        log(f"work dir {work}\n{df}")
        results["df"] = df
        free = shutil.disk_usage(work).free
        if free < 4 * size + 1024 * MiB:
            raise RuntimeError(
                f"only {free / MiB:.0f} MiB free in {work}; need {4 * size_mib + 1024}"
            )

        log(f"generating {size_mib} MiB of random bytes")
        source_sha = make_random_file(source, size_mib)
        os.sync()

        # -- baselines ----------------------------------------------------------------------
        log("baseline: sha256 on 1 MiB chunks")
        sha = baseline_sha256(size_mib)
        log(f"  sha256: {sha['mb_s']:.0f} MB/s")
        # dd runs just before each upload repetition (below): the disk's rate swings widely
        # from one minute to the next here, so L uses their median.

        # -- Depot --------------------------------------------------------------------------
        env = depot_env(data_dir)
        python = str(VENV_BIN / "python")
        for command in (["migrate", "--noinput"], ["bootstrap"]):
            subprocess.run(
                [python, "manage.py", *command],
                cwd=REPO,
                env=env,
                check=True,
                capture_output=True,
                timeout=300,
            )
        api_key = json.loads((data_dir / "bootstrap.json").read_text())["api_key"]
        port = free_port()
        base_url = f"http://127.0.0.1:{port}"
        uvicorn_log = open(work / "uvicorn.log", "wb")  # noqa: SIM115
        uvicorn = start_uvicorn(env, port, uvicorn_log)
        log(f"uvicorn pid {uvicorn.pid} on {base_url}")
        auth = ["-H", f"X-API-Key: {api_key}"]
        sid = f"bench-{uuid.uuid4().hex[:12]}"

        # -- 1. big upload, each repetition right after a dd baseline ------------------------
        dd_runs: list[dict[str, Any]] = []
        upload_runs: list[dict[str, Any]] = []
        main_upload: dict[str, Any] = {}
        for rep in range(upload_reps):
            if rep:
                # New bytes each time (so dedup skips nothing) and a session of its own (so
                # the benchmark session keeps exactly one file for the zip).
                with open(source, "r+b") as file:
                    file.write(os.urandom(64))
                current_sha = file_sha256(source)
                upload_sid = f"bench-upload-{rep + 1}-{uuid.uuid4().hex[:8]}"
            else:
                current_sha, upload_sid = source_sha, sid
            log(f"baseline: dd bs=1M count={size_mib} conv=fdatasync (#{rep + 1})")
            dd_run = baseline_dd(data_dir, size_mib)
            dd_runs.append(dd_run)
            log(f"  dd: {dd_run['mb_s']:.0f} MB/s ({dd_run['dd_says']})")
            log(f"upload {size_mib} MiB #{rep + 1} (curl -F, streamed from disk)")
            os.sync()
            response_file = work / "upload-response.json"
            response_file.unlink(missing_ok=True)
            with RssWatch(uvicorn.pid) as rss:
                up = curl(
                    [
                        *auth,
                        "-o",
                        str(response_file),
                        "-F",
                        f"file=@{source};type=application/octet-stream;filename=big.bin",
                        f"{base_url}/api/uploads/{upload_sid}",
                    ],
                    max_time=big_timeout,
                )
            body = response_file.read_text() if response_file.exists() else ""
            if up["http_code"] != 201:
                raise RuntimeError(f"upload failed: {up} {body[:500]}")
            uploaded = json.loads(body)
            up["mb_s"] = mbps(size, up["time_s"])
            up["sha256_ok"] = uploaded.get("sha256") == current_sha and uploaded.get("size") == size
            up["rss"] = rss.summary()
            up["response"] = uploaded
            upload_runs.append(up)
            if rep == 0:
                main_upload = uploaded
            log(
                f"  {up['mb_s']:.0f} MB/s in {up['time_s']:.2f} s, sha256 ok={up['sha256_ok']}, "
                f"RSS +{rss.growth_mib:.1f} MiB"
            )
        dd_median = statistics.median(run["mb_s"] for run in dd_runs)
        limit_l = min(dd_median, sha["mb_s"])
        upload_mb_s = statistics.median(run["mb_s"] for run in upload_runs)
        upload_rss_mib = max(run["rss"]["growth_mib"] for run in upload_runs)
        sha_ok = all(run["sha256_ok"] for run in upload_runs)
        attachment_id = main_upload["attachment_id"]
        results["baselines"] = {
            "dd_fdatasync_runs": dd_runs,
            "dd_fdatasync_median_mb_s": dd_median,
            "sha256": sha,
            "L_mb_s": limit_l,
        }
        results["upload"] = {
            "mb_s_median": upload_mb_s,
            "ratio_to_L": upload_mb_s / limit_l,
            "sha256_ok": sha_ok,
            "rss_growth_mib_max": upload_rss_mib,
            "runs": upload_runs,
        }

        # -- nginx on the very blob Depot serves ---------------------------------------------
        # Local storage keeps `blobs/ab/cd/<sha256>` under DEPOT_BLOB_ROOT (attachments.models).
        blob_root = Path(env["DEPOT_BLOB_ROOT"])
        blob_rel = f"blobs/{source_sha[:2]}/{source_sha[2:4]}/{source_sha}"
        blob_path = blob_root / blob_rel
        if not blob_path.is_file() or blob_path.stat().st_size != size:
            raise RuntimeError(f"expected blob at {blob_path}")
        nginx_port = free_port()
        nginx = start_nginx(work / "nginx", blob_root, nginx_port)
        nginx_url = f"http://127.0.0.1:{nginx_port}/{blob_rel}"
        wait_http(nginx_url, seconds=15, process=nginx)
        log(f"nginx pid {nginx.pid} on port {nginx_port}")

        # -- 2. big download, fast client ------------------------------------------------------
        depot_url = f"{base_url}/api/sessions/{sid}/artifacts/{attachment_id}?mode=stream"
        log("checking the downloaded bytes once (sha256 of a streamed GET)")
        got_size, got_sha = hash_download(
            depot_url, {"X-API-Key": api_key}, max_seconds=big_timeout
        )
        download_ok = got_size == size and got_sha == source_sha
        log(f"  content ok={download_ok}")
        depot_runs, nginx_runs, fast_rss = [], [], []
        for rep in range(reps):
            with RssWatch(uvicorn.pid) as rss:
                run = curl([*auth, "-o", "/dev/null", depot_url], max_time=big_timeout)
            if run["http_code"] != 200 or run["size_download"] != size:
                raise RuntimeError(f"Depot download failed: {run}")
            run["mb_s"] = mbps(size, run["time_s"])
            run["rss"] = rss.summary()
            depot_runs.append(run)
            fast_rss.append(rss.growth_mib)
            ng = curl(["-o", "/dev/null", nginx_url], max_time=big_timeout)
            if ng["http_code"] != 200 or ng["size_download"] != size:
                raise RuntimeError(f"nginx download failed: {ng}")
            ng["mb_s"] = mbps(size, ng["time_s"])
            nginx_runs.append(ng)
            log(
                f"  fast #{rep + 1}: Depot {run['mb_s']:.0f} MB/s (RSS +{rss.growth_mib:.1f} MiB), "
                f"nginx {ng['mb_s']:.0f} MB/s"
            )
        depot_fast = statistics.median(r["mb_s"] for r in depot_runs)
        nginx_fast = statistics.median(r["mb_s"] for r in nginx_runs)
        results["download_fast"] = {
            "content_ok": download_ok,
            "depot_mb_s_median": depot_fast,
            "nginx_mb_s_median": nginx_fast,
            "ratio": depot_fast / nginx_fast,
            "rss_growth_mib_max": max(fast_rss),
            "depot_runs": depot_runs,
            "nginx_runs": nginx_runs,
        }

        # -- 3. big download, slow client -------------------------------------------------------
        range_header = f"Range: bytes=0-{slow_bytes - 1}"
        slow_timeout = slow_bytes / (5 * MB) + 30
        log(
            f"slow client: --limit-rate {SLOW_RATE}, "
            f"first {slow_bytes / MB:.0f} MB ({range_header})"
        )
        with RssWatch(uvicorn.pid) as slow_rss:
            slow = curl(
                [
                    *auth,
                    "--limit-rate",
                    SLOW_RATE,
                    "-H",
                    range_header,
                    "-o",
                    "/dev/null",
                    depot_url,
                ],
                max_time=slow_timeout,
            )
        if slow["http_code"] != 206 or slow["size_download"] != slow_bytes:
            raise RuntimeError(f"Depot slow download failed: {slow}")
        slow["mb_s"] = mbps(slow_bytes, slow["time_s"])
        nginx_slow = curl(
            ["--limit-rate", SLOW_RATE, "-H", range_header, "-o", "/dev/null", nginx_url],
            max_time=slow_timeout,
        )
        if nginx_slow["http_code"] != 206 or nginx_slow["size_download"] != slow_bytes:
            raise RuntimeError(f"nginx slow download failed: {nginx_slow}")
        nginx_slow["mb_s"] = mbps(slow_bytes, nginx_slow["time_s"])
        log(
            f"  Depot {slow['mb_s']:.1f} MB/s (RSS +{slow_rss.growth_mib:.1f} MiB), "
            f"nginx {nginx_slow['mb_s']:.1f} MB/s"
        )
        results["download_slow"] = {
            "limit_rate": SLOW_RATE,
            "bytes": slow_bytes,
            "range": range_header,
            "depot": slow,
            "nginx": nginx_slow,
            "ratio": slow["mb_s"] / nginx_slow["mb_s"],
            "rss": slow_rss.summary(),
        }

        # -- 4. session zip ----------------------------------------------------------------------
        zip_url = f"{base_url}/api/sessions/{sid}/download"
        log("session zip (curl -o /dev/null)")
        with RssWatch(uvicorn.pid) as zip_rss:
            zipped = curl([*auth, "-o", "/dev/null", zip_url], max_time=big_timeout)
        if zipped["http_code"] != 200 or zipped["size_download"] < size:
            raise RuntimeError(f"zip download failed: {zipped}")
        zip_mb_s = mbps(zipped["size_download"], zipped["time_s"])
        log(
            f"  TTFB {zipped['ttfb_s']:.3f} s, {zipped['time_s']:.2f} s, {zip_mb_s:.0f} MB/s, "
            f"RSS +{zip_rss.growth_mib:.1f} MiB"
        )
        log("validating the zip once (download to a file, zipfile.testzip)")
        zip_file = work / "session.zip"
        check = curl([*auth, "-o", str(zip_file), zip_url], max_time=big_timeout)
        with zipfile.ZipFile(zip_file) as archive:
            bad = archive.testzip()
            entries = [(info.filename, info.file_size) for info in archive.infolist()]
        zip_ok = (
            check["http_code"] == 200
            and bad is None
            and len(entries) == 1
            and entries[0][1] == size
        )
        zip_file.unlink()
        log(f"  zip valid={zip_ok} entries={entries} testzip={bad}")
        results["zip"] = {
            "curl": zipped,
            "mb_s": zip_mb_s,
            "ratio_to_nginx_fast": zip_mb_s / nginx_fast,
            "valid": zip_ok,
            "entries": entries,
            "rss": zip_rss.summary(),
        }

        # -- 5. small uploads ----------------------------------------------------------------------
        log("request floor: authenticated GET /api/sessions/<id>, 1 client")
        floor = request_rate(
            f"{base_url}/api/sessions/{sid}",
            {"X-API-Key": api_key},
            max_requests=small_max_uploads,
            max_seconds=small_max_seconds / 2,
        )
        log(f"  {floor['per_s']:.1f} requests/s {floor['statuses']}")
        log("tiny 32-byte uploads, 1 client")
        tiny = small_uploads(
            base_url,
            api_key,
            f"bench-tiny-{uuid.uuid4().hex[:8]}",
            clients=1,
            max_uploads=small_max_uploads,
            max_seconds=small_max_seconds / 2,
            file_bytes=32,
        )
        log(f"  {tiny['per_s']:.1f} uploads/s {tiny['statuses']}")
        results["request_floor"] = {"get_session": floor, "tiny_uploads": tiny}
        small: dict[str, Any] = {}
        for clients in (1, 8):
            log(f"baseline: 1 MiB files written+fdatasync'd, {clients} thread(s)")
            base_files = baseline_fsync_files(
                data_dir,
                threads=clients,
                max_files=small_max_uploads,
                max_seconds=small_max_seconds / 2,
            )
            log(f"  {base_files['per_s']:.1f} files/s")
            log(
                f"small uploads: {clients} client(s), "
                f"<= {small_max_uploads} or {small_max_seconds} s"
            )
            os.sync()
            with RssWatch(uvicorn.pid) as rss:
                run = small_uploads(
                    base_url,
                    api_key,
                    f"bench-small-{clients}-{uuid.uuid4().hex[:8]}",
                    clients=clients,
                    max_uploads=small_max_uploads,
                    max_seconds=small_max_seconds,
                )
            run["rss"] = rss.summary()
            run["baseline"] = base_files
            run["ratio"] = run["per_s"] / base_files["per_s"]
            log(
                f"  {run['per_s']:.1f} uploads/s ({run['ok']} ok, statuses {run['statuses']}, "
                f"p50 {run['latency_p50_ms']} ms, p95 {run['latency_p95_ms']} ms), "
                f"RSS +{rss.growth_mib:.1f} MiB"
            )
            small[str(clients)] = run
        results["small_uploads"] = small

        # -- server log ---------------------------------------------------------------------------
        uvicorn_log.flush()
        text = (work / "uvicorn.log").read_text(errors="replace")
        results["server_log_errors"] = text.count("Traceback") + text.count(" ERROR")
        results["server_log_tail"] = text[-4000:]

        # -- table --------------------------------------------------------------------------------
        up_rss = upload_rss_mib
        rows += [
            {
                "figure": f"baseline: dd conv=fdatasync (median of {len(dd_runs)})",
                "value": dd_median,
                "unit": "MB/s",
                "digits": 0,
                "baseline_text": "runs " + "/".join(f"{run['mb_s']:.0f}" for run in dd_runs),
                "result": "info",
            },
            {
                "figure": "baseline: sha256 1 MiB chunks",
                "value": sha["mb_s"],
                "unit": "MB/s",
                "digits": 0,
                "result": "info",
            },
            {
                "figure": "baseline: L = min(dd, sha256)",
                "value": limit_l,
                "unit": "MB/s",
                "digits": 0,
                "result": "info",
            },
            {
                "figure": f"upload {size_mib} MiB (median of {len(upload_runs)})",
                "value": upload_mb_s,
                "unit": "MB/s",
                "digits": 0,
                "baseline_text": f"L {limit_l:.0f} MB/s",
                "ratio": upload_mb_s / limit_l,
                "target": f">= {TARGET_UPLOAD_RATIO:.2f} x L",
                "result": verdict(upload_mb_s / limit_l >= TARGET_UPLOAD_RATIO),
            },
            {
                "figure": "upload: server RSS growth (max)",
                "value": up_rss,
                "unit": "MiB",
                "target": f"<= {TARGET_RSS_MIB:.0f} MiB",
                "result": verdict(up_rss <= TARGET_RSS_MIB),
            },
            {
                "figure": "upload: response sha256/size match",
                "value": str(sha_ok),
                "unit": "",
                "result": verdict(sha_ok),
            },
            {
                "figure": f"download fast (median of {reps})",
                "value": depot_fast,
                "unit": "MB/s",
                "digits": 0,
                "baseline_text": f"nginx {nginx_fast:.0f} MB/s",
                "ratio": depot_fast / nginx_fast,
                "target": f">= {TARGET_DOWNLOAD_RATIO:.2f} x nginx",
                "result": verdict(depot_fast / nginx_fast >= TARGET_DOWNLOAD_RATIO),
            },
            {
                "figure": "download fast: server RSS growth (max)",
                "value": max(fast_rss),
                "unit": "MiB",
                "target": f"<= {TARGET_RSS_MIB:.0f} MiB",
                "result": verdict(max(fast_rss) <= TARGET_RSS_MIB),
            },
            {
                "figure": "download: content sha256 match",
                "value": str(download_ok),
                "unit": "",
                "result": verdict(download_ok),
            },
            {
                "figure": f"download slow ({SLOW_RATE}/s, {slow_bytes / MB:.0f} MB range)",
                "value": slow["mb_s"],
                "unit": "MB/s",
                "baseline_text": f"nginx {nginx_slow['mb_s']:.1f} MB/s",
                "ratio": slow["mb_s"] / nginx_slow["mb_s"],
                "result": "info",
            },
            {
                "figure": "download slow: server RSS growth",
                "value": slow_rss.growth_mib,
                "unit": "MiB",
                "target": f"<= {TARGET_RSS_MIB:.0f} MiB",
                "result": verdict(slow_rss.growth_mib <= TARGET_RSS_MIB),
            },
            {
                "figure": "zip: time to first byte",
                "value": zipped["ttfb_s"],
                "unit": "s",
                "digits": 3,
                "target": f"<= {TARGET_ZIP_TTFB_S:.1f} s",
                "result": verdict(zipped["ttfb_s"] <= TARGET_ZIP_TTFB_S),
            },
            {
                "figure": "zip: total time",
                "value": zipped["time_s"],
                "unit": "s",
                "digits": 2,
                "result": "info",
            },
            {
                "figure": "zip: throughput",
                "value": zip_mb_s,
                "unit": "MB/s",
                "digits": 0,
                "baseline_text": f"nginx {nginx_fast:.0f} MB/s",
                "ratio": zip_mb_s / nginx_fast,
                "result": "info",
            },
            {
                "figure": "zip: server RSS growth",
                "value": zip_rss.growth_mib,
                "unit": "MiB",
                "target": f"<= {TARGET_RSS_MIB:.0f} MiB",
                "result": verdict(zip_rss.growth_mib <= TARGET_RSS_MIB),
            },
            {
                "figure": "zip: valid (testzip, 1 entry, size)",
                "value": str(zip_ok),
                "unit": "",
                "result": verdict(zip_ok),
            },
        ]
        rows.append(
            {
                "figure": "floor: GET /api/sessions/<id>, 1 client",
                "value": floor["per_s"],
                "unit": "requests/s",
                "result": "info",
            }
        )
        rows.append(
            {
                "figure": "tiny 32 B uploads, 1 client",
                "value": tiny["per_s"],
                "unit": "uploads/s",
                "baseline_text": f"GET floor {floor['per_s']:.0f}/s",
                "ratio": tiny["per_s"] / floor["per_s"],
                "result": verdict(tiny["attempted"] == tiny["ok"]),
                "target": "no failures",
            }
        )
        for clients, run in small.items():
            failures = run["attempted"] - run["ok"]
            rows.append(
                {
                    "figure": f"small 1 MiB uploads, {clients} client(s)",
                    "value": run["per_s"],
                    "unit": "uploads/s",
                    "baseline_text": f"fsync'd files {run['baseline']['per_s']:.0f}/s",
                    "ratio": run["ratio"],
                    "target": "no failures",
                    "result": verdict(failures == 0),
                }
            )
            rows.append(
                {
                    "figure": f"small uploads {clients}c: server RSS growth",
                    "value": run["rss"]["growth_mib"],
                    "unit": "MiB",
                    "result": "info",
                }
            )
        rows.append(
            {
                "figure": "server log: tracebacks/errors",
                "value": results["server_log_errors"],
                "unit": "",
                "target": "0",
                "result": verdict(results["server_log_errors"] == 0),
            }
        )
        results["rows"] = rows
        results["passed"] = all(row["result"] != "FAIL" for row in rows)
        return 0 if results["passed"] else 1
    except BaseException as error:
        results["error"] = repr(error)
        log(f"ERROR: {error!r}")
        log_file = work / "uvicorn.log"
        if log_file.exists():
            print("--- uvicorn log (tail) ---\n" + log_file.read_text(errors="replace")[-3000:])
        raise
    finally:
        stop_process(nginx, "nginx", signal.SIGQUIT)
        stop_process(uvicorn, "uvicorn")
        finish_run(
            results,
            rows,
            name="files",
            title=f"Depot file benchmarks, {size_mib} MiB",
            suffix="-quick" if args.quick else "",
            latest=not args.quick,
            work=work,
            keep=args.keep,
        )


if __name__ == "__main__":
    sys.exit(main())
