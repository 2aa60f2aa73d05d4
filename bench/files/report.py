"""The file benchmark's table, from its results."""

from __future__ import annotations

from typing import Any

from bench.common.report import Figure, check, info, log_check
from bench.files.baselines import MB
from bench.files.phases import SLOW_RATE

# Targets (from the benchmark brief).
TARGET_UPLOAD_RATIO = 0.70  # upload MB/s over L = min(disk fdatasync write, sha256)
TARGET_DOWNLOAD_RATIO = 0.30  # Depot download MB/s over nginx (sendfile) for the same file
TARGET_RSS_MIB = 64.0  # server RSS growth during any one big transfer
TARGET_ZIP_TTFB_S = 1.0
RSS = f"<= {TARGET_RSS_MIB:.0f} MiB"


def rss_check(figure: str, growth: float) -> Figure:
    return check(figure, growth, "MiB", growth <= TARGET_RSS_MIB, target=RSS)


# The rows below are laid out by hand, one figure in one to three lines; the formatter would
# give every keyword its own line.
# fmt: off
def rows(r: dict[str, Any]) -> list[Figure]:
    base, up, fast, slow = r["baselines"], r["upload"], r["download_fast"], r["download_slow"]
    zipped, dd_runs, limit_l = r["zip"], base["dd_fdatasync_runs"], base["L_mb_s"]
    nginx_fast = fast["nginx_mb_s_median"]
    up_ratio, fast_ratio = up["mb_s_median"] / limit_l, fast["depot_mb_s_median"] / nginx_fast
    slow_mb_s, nginx_slow = slow["depot"]["mb_s"], slow["nginx"]["mb_s"]
    ttfb = zipped["curl"]["ttfb_s"]
    floor, tiny = r["request_floor"]["get_session"], r["request_floor"]["tiny_uploads"]
    out = [
        info(f"baseline: dd conv=fdatasync (median of {len(dd_runs)})",
             base["dd_fdatasync_median_mb_s"], "MB/s", digits=0,
             baseline="runs " + "/".join(f"{run['mb_s']:.0f}" for run in dd_runs)),
        info("baseline: sha256 1 MiB chunks", base["sha256"]["mb_s"], "MB/s", digits=0),
        info("baseline: L = min(dd, sha256)", limit_l, "MB/s", digits=0),
        check(f"upload {r['size_mib']} MiB (median of {len(up['runs'])})", up["mb_s_median"],
              "MB/s", up_ratio >= TARGET_UPLOAD_RATIO, digits=0, baseline=f"L {limit_l:.0f} MB/s",
              ratio=up_ratio, target=f">= {TARGET_UPLOAD_RATIO:.2f} x L"),
        rss_check("upload: server RSS growth (max)", up["rss_growth_mib_max"]),
        check("upload: response sha256/size match", str(up["sha256_ok"]), "", up["sha256_ok"]),
        check(f"download fast (median of {len(fast['depot_runs'])})", fast["depot_mb_s_median"],
              "MB/s", fast_ratio >= TARGET_DOWNLOAD_RATIO, digits=0, ratio=fast_ratio,
              baseline=f"nginx {nginx_fast:.0f} MB/s",
              target=f">= {TARGET_DOWNLOAD_RATIO:.2f} x nginx"),
        rss_check("download fast: server RSS growth (max)", fast["rss_growth_mib_max"]),
        check("download: content sha256 match", str(fast["content_ok"]), "", fast["content_ok"]),
        info(f"download slow ({SLOW_RATE}/s, {slow['bytes'] / MB:.0f} MB range)", slow_mb_s, "MB/s",
             baseline=f"nginx {nginx_slow:.1f} MB/s", ratio=slow_mb_s / nginx_slow),
        rss_check("download slow: server RSS growth", slow["rss_growth_mib"]),
        check("zip: time to first byte", ttfb, "s", ttfb <= TARGET_ZIP_TTFB_S, digits=3,
              target=f"<= {TARGET_ZIP_TTFB_S:.1f} s"),
        info("zip: total time", zipped["curl"]["time_s"], "s", digits=2),
        info("zip: throughput", zipped["mb_s"], "MB/s", digits=0,
             baseline=f"nginx {nginx_fast:.0f} MB/s", ratio=zipped["mb_s"] / nginx_fast),
        rss_check("zip: server RSS growth", zipped["rss_growth_mib"]),
        check("zip: valid (testzip, 1 entry, size)", str(zipped["valid"]), "", zipped["valid"]),
        info("floor: GET /api/sessions/<id>, 1 client", floor["per_s"], "requests/s"),
        check("tiny 32 B uploads, 1 client", tiny["per_s"], "uploads/s",
              tiny["attempted"] == tiny["ok"], baseline=f"GET floor {floor['per_s']:.0f}/s",
              ratio=tiny["per_s"] / floor["per_s"], target="no failures"),
    ]
    for clients, run in r["small_uploads"].items():
        out += [
            check(f"small 1 MiB uploads, {clients} client(s)", run["per_s"], "uploads/s",
                  run["attempted"] == run["ok"], ratio=run["ratio"], target="no failures",
                  baseline=f"fsync'd files {run['baseline']['per_s']:.0f}/s"),
            info(f"small uploads {clients}c: server RSS growth", run["rss"]["growth_mib"], "MiB"),
        ]
    return [*out, log_check("server log", r["server_log_errors"])]
