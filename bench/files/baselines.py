"""The file benchmark's same-run baselines: the disk (dd with fdatasync), the hash (sha256 on
1 MiB chunks), what a 1 MiB upload costs at least on this disk (write, fdatasync, rename), and
nginx serving the very blob file Depot serves."""

from __future__ import annotations

import concurrent.futures
import hashlib
import os
import shutil
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

MiB = 1024 * 1024
MB = 1_000_000


def mbps(nbytes: float, seconds: float) -> float:
    return nbytes / seconds / MB if seconds > 0 else float("nan")


def baseline_dd(directory: Path, size_mib: int) -> dict[str, Any]:
    target = directory / "dd-baseline.bin"
    os.sync()
    started = time.perf_counter()
    done = subprocess.run(
        ["dd", "if=/dev/zero", f"of={target}", "bs=1M", f"count={size_mib}", "conv=fdatasync"],
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    elapsed = time.perf_counter() - started
    target.unlink(missing_ok=True)
    os.sync()
    said = done.stderr.strip().splitlines()[-1]
    return {"mb_s": mbps(size_mib * MiB, elapsed), "seconds": elapsed, "dd_says": said}


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
    """nginx (only the binary, never the system service) serving `root` on `port`, with its
    own configuration and temporary files in `work`."""
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(nginx).exists():
        raise RuntimeError("nginx is not installed: apt-get update && apt-get install -y nginx")
    work.mkdir(parents=True, exist_ok=True)
    conf = work / "nginx.conf"
    user = "user root;\n" if os.geteuid() == 0 else ""
    conf.write_text(NGINX_CONF.format(user=user, dir=work, port=port, root=root))
    command = [nginx, "-p", str(work), "-e", str(work / "error.log"), "-c", str(conf)]
    return subprocess.Popen(
        [*command, "-g", "daemon off;"],
        stdout=subprocess.DEVNULL,
        stderr=open(work / "stderr.log", "wb"),
        start_new_session=True,
    )
