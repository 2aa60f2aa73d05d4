"""Depot file benchmarks: big upload, big download (fast and slow client), session zip, and
small-upload rate, each against a baseline measured in the same run.

    .venv/bin/python -m bench.files [--size-mib 1024] [--quick]

Run from the repository root. See bench/README.md for what each figure means. Everything it
starts (uvicorn, nginx, curl) is stopped in `finally`, and the temporary folder is removed
unless --keep is given.

Units: MB = 10^6 bytes, MiB = 2^20 bytes. RSS figures are MiB.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

from bench.common import log
from bench.common.process import (
    UvicornServer,
    bootstrap,
    depot_env,
    exit_on_sigterm,
    free_port,
    stop_process,
    wait_http,
)
from bench.common.report import Figure, fail, finish_run, new_results, passed
from bench.files import phases
from bench.files.baselines import MB, MiB, baseline_sha256, start_nginx
from bench.files.report import rows as file_rows


# One option a line (the formatter would spread each over several).
# fmt: off
def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench.files", description=__doc__.split("\n\n")[0])
    add = parser.add_argument
    add("--size-mib", type=int, help="big file size (default 1024)")
    add("--quick", action="store_true", help="smoke run: 128 MiB (unless --size-mib), 1 download "
        "repetition, short windows; does not overwrite results/latest-files.json")
    add("--tmp-root", default="/tmp", help="where the temporary folder goes")
    add("--keep", action="store_true", help="keep the temporary folder")
    add("--reps", type=int, help="repetitions of the big upload (each after a dd) and of the fast "
        "download (default 3, --quick 1)")
    return parser.parse_args()
# fmt: on


def main() -> int:
    args = parse_args()
    size_mib = args.size_mib or (128 if args.quick else 1024)
    size = size_mib * MiB
    exit_on_sigterm()
    work = Path(tempfile.mkdtemp(prefix="depot-bench-", dir=Path(args.tmp_root)))
    data_dir = work / "data"
    data_dir.mkdir()
    server = UvicornServer("files", depot_env(data_dir), work / "uvicorn.log")
    nginx: subprocess.Popen | None = None
    results = new_results("files", work, size_mib=size_mib, quick=args.quick)
    rows: list[Figure] = []
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
        source = work / "source.bin"
        source_sha = phases.make_random_file(source, size_mib)
        os.sync()
        log("baseline: sha256 on 1 MiB chunks")
        sha = baseline_sha256(size_mib)
        log(f"  sha256: {sha['mb_s']:.0f} MB/s")
        # dd runs just before each upload repetition: the disk's rate swings widely from one
        # minute to the next here, so L uses their median.

        server.api_key = bootstrap(server.env)["api_key"]
        server.start()
        b = phases.Bench(
            server=server,
            work=work,
            data_dir=data_dir,
            source=source,
            source_sha=source_sha,
            size_mib=size_mib,
            reps=args.reps or (1 if args.quick else 3),
            slow_bytes=min(size, 100 * MB if args.quick else 400 * MB),
            small_max_uploads=60 if args.quick else 300,
            small_max_seconds=4.0 if args.quick else 10.0,
            sid=f"bench-{uuid.uuid4().hex[:12]}",
        )
        results["baselines"], results["upload"], attachment_id = phases.big_upload(b, sha)

        # nginx on the very blob Depot serves: local storage keeps `blobs/ab/cd/<sha256>`
        # under DEPOT_BLOB_ROOT (attachments.models).
        blob_root = Path(server.env["DEPOT_BLOB_ROOT"])
        blob_rel = f"blobs/{source_sha[:2]}/{source_sha[2:4]}/{source_sha}"
        blob_path = blob_root / blob_rel
        if not blob_path.is_file() or blob_path.stat().st_size != size:
            raise RuntimeError(f"expected blob at {blob_path}")
        nginx_port = free_port()
        nginx = start_nginx(work / "nginx", blob_root, nginx_port)
        nginx_url = f"http://127.0.0.1:{nginx_port}/{blob_rel}"
        wait_http(nginx_url, seconds=15, process=nginx)
        log(f"nginx pid {nginx.pid} on port {nginx_port}")

        depot_url = f"{server.base_url}/api/sessions/{b.sid}/artifacts/{attachment_id}?mode=stream"
        results["download_fast"] = fast = phases.download_fast(b, depot_url, nginx_url)
        results["download_slow"] = phases.download_slow(b, depot_url, nginx_url)
        results["zip"] = phases.session_zip(b, fast["nginx_mb_s_median"])
        results["request_floor"], results["small_uploads"] = phases.request_floor_and_small_uploads(
            b
        )
        results["server_log_errors"], results["server_log_tail"] = server.log_errors()
        rows = file_rows(results)
        return 0 if passed(rows) else 1
    except BaseException as error:
        fail(results, error, work)
        raise
    finally:
        stop_process(nginx, "nginx", signal.SIGQUIT)
        server.stop()
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
