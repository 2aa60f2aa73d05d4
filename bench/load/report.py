"""From the raw figures of the three processes to the per-route table and the result rows."""

from __future__ import annotations

import statistics
from typing import Any

from bench.common.report import Figure, check, info
from bench.common.stats import latency_summary, percentile

RSS_TOLERANCE = 0.10
READ_PREFIX = "GET "


def route_table(load: dict[str, Any]) -> list[dict[str, Any]]:
    """Per route: Depot's and the bare app's n, req/s, p50/p99/max (ms), and the ratios."""
    seconds = {
        target: sum(b["end"] - b["start"] for b in load["blocks"] if b["target"] == target)
        for target in ("depot", "bare")
    }
    latencies = load["latencies_ms"]
    routes = sorted(
        {key.split(" ", 1)[1] for key in latencies},
        key=lambda route: (not route.startswith(READ_PREFIX), route),
    )
    table = []
    for route in routes:
        row: dict[str, Any] = {"route": route}
        for target in ("depot", "bare"):
            values = latencies.get(f"{target} {route}", [])
            summary = latency_summary([value / 1000 for value in values])
            row[target] = summary | {
                "req_s": round(len(values) / seconds[target], 1) if seconds[target] else None
            }
        depot, bare = row["depot"], row["bare"]
        for key in ("p50_ms", "p99_ms"):
            row[f"ratio_{key[:3]}"] = (
                round(depot[key] / bare[key], 1) if depot[key] and bare[key] else None
            )
        table.append(row)
    return table


def aggregate(load: dict[str, Any], target: str, reads_only: bool) -> dict[str, Any]:
    values = [
        value
        for key, series in load["latencies_ms"].items()
        if key.startswith(target + " ")
        and (not reads_only or key.split(" ", 1)[1].startswith(READ_PREFIX))
        for value in series
    ]
    return latency_summary([value / 1000 for value in values])


def throughput(load: dict[str, Any], target: str) -> dict[str, Any]:
    blocks = [b for b in load["blocks"] if b["target"] == target]
    seconds = sum(b["end"] - b["start"] for b in blocks)
    requests = sum(b["requests"] for b in blocks)
    server_cpu = [b["server_cpu_s"][target] for b in blocks]
    cpu = sum(server_cpu) if None not in server_cpu else None
    client_cpu = sum(b["client_cpu_s"] for b in blocks)
    per_block = sorted(b["requests"] / (b["end"] - b["start"]) for b in blocks)
    return {
        "seconds": round(seconds, 2),
        "requests": requests,
        "req_s": round(requests / seconds, 1) if seconds else None,
        "req_s_per_block_min_median_max": [
            round(per_block[0], 1),
            round(statistics.median(per_block), 1),
            round(per_block[-1], 1),
        ]
        if per_block
        else None,
        "server_cpu_cores": round(cpu / seconds, 2) if cpu is not None and seconds else None,
        "server_cpu_ms_per_request": round(1000 * cpu / requests, 3) if cpu and requests else None,
        "client_cpu_cores": round(client_cpu / seconds, 2) if seconds else None,
    }


def rss_windows(
    samples: list[tuple[float, int]], start: float, end: float, window_cap: float = 60.0
) -> dict[str, Any]:
    """RSS over the counted load, [start, end]: the mean of the first and of the last window
    (a minute, or a third of the span when the run is shorter than three minutes' worth)."""
    span = end - start
    window = min(window_cap, span / 3)
    inside = [(t, kib) for t, kib in samples if start <= t <= end]
    first = [kib for t, kib in inside if t < start + window]
    last = [kib for t, kib in inside if t > end - window]

    def mib(kib: float) -> float:
        return round(kib / 1024, 1)

    if not first or not last:
        return {"window_s": round(window, 1), "samples": len(inside), "ratio": None}
    first_mean, last_mean = statistics.fmean(first), statistics.fmean(last)
    all_kib = sorted(kib for _, kib in inside)
    return {
        "window_s": round(window, 1),
        "samples": len(inside),
        "first_mean_mib": mib(first_mean),
        "last_mean_mib": mib(last_mean),
        "ratio": round(last_mean / first_mean, 3),
        "min_mib": mib(all_kib[0]),
        "p50_mib": mib(percentile(all_kib, 50) or 0),
        "max_mib": mib(all_kib[-1]),
    }


def render_routes(table: list[dict[str, Any]]) -> str:
    headers = [
        "route",
        "n",
        "req/s",
        "p50",
        "p99",
        "max",
        "bare n",
        "bare p50",
        "bare p99",
        "×p50",
        "×p99",
    ]

    def cell(value: Any) -> str:
        return (
            "-" if value is None else (f"{value:.1f}" if isinstance(value, float) else str(value))
        )

    lines = [
        [
            row["route"],
            *(cell(row["depot"][k]) for k in ("n", "req_s", "p50_ms", "p99_ms", "max_ms")),
            *(cell(row["bare"][k]) for k in ("n", "p50_ms", "p99_ms")),
            cell(row["ratio_p50"]),
            cell(row["ratio_p99"]),
        ]
        for row in table
    ]
    widths = [max(len(line[i]) for line in [headers, *lines]) for i in range(len(headers))]

    def render(cells: list[str]) -> str:
        return "  ".join(
            c.ljust(widths[i]) if i == 0 else c.rjust(widths[i]) for i, c in enumerate(cells)
        )

    return "\n".join(
        [
            "per route, latency in ms (Depot, then the bare ASGI app on the same requests):",
            render(headers),
            "  ".join("-" * w for w in widths),
            *map(render, lines),
        ]
    )


def rows(results: dict[str, Any]) -> list[Figure]:
    load, sockets = results["load"], results["sockets"]
    depot, bare = results["throughput"]["depot"], results["throughput"]["bare"]
    reads, bare_reads = results["latency"]["depot_reads"], results["latency"]["bare_reads"]
    every, bare_every = results["latency"]["depot_all"], results["latency"]["bare_all"]
    rss = results["rss"]
    errors = results["server_log_errors"]

    def ratio(a: float | None, b: float | None) -> float | None:
        return round(a / b, 3) if a and b else None

    def pair(summary: dict[str, Any]) -> str:
        return " / ".join(
            "-" if summary[key] is None else f"{summary[key]:.1f}" for key in ("p50_ms", "p99_ms")
        )

    http_failures = load["failures"]
    socket_failures = sockets["failures"]
    out = [
        info(
            "Depot throughput (mixed workload)",
            depot["req_s"],
            "req/s",
            baseline=f"bare {bare['req_s']} req/s",
            ratio=ratio(depot["req_s"], bare["req_s"]),
        ),
        info(
            "reads p50 / p99 (ratio of the p99s)",
            pair(reads),
            "ms",
            baseline=f"bare {pair(bare_reads)}",
            ratio=ratio(reads["p99_ms"], bare_reads["p99_ms"]),
        ),
        info(
            "all requests p50 / p99 (ratio of the p99s)",
            pair(every),
            "ms",
            baseline=f"bare {pair(bare_every)}",
            ratio=ratio(every["p99_ms"], bare_every["p99_ms"]),
        ),
        info(
            "server CPU per request",
            depot["server_cpu_ms_per_request"],
            "ms",
            baseline=f"bare {bare['server_cpu_ms_per_request']} ms",
            ratio=ratio(depot["server_cpu_ms_per_request"], bare["server_cpu_ms_per_request"]),
            digits=2,
        ),
        info(
            "client (locust) CPU in the bare blocks",
            bare["client_cpu_cores"],
            "cores",
            target="< 1 (else the baseline is client-bound)",
            digits=2,
        ),
        check("failed HTTP requests (locust)", http_failures, "", http_failures == 0, target="0"),
        check(
            "WebSockets open at the start / alive at the end",
            f"{sockets['ws_open']} / {sockets['ws_alive_at_end']}",
            f"of {sockets['websockets']}",
            sockets["ws_open"] == sockets["ws_alive_at_end"] == sockets["websockets"],
            target="all",
        ),
        info(
            "WebSocket ping → pong p50 / p99 during the load",
            pair(sockets["pong"]),
            "ms",
            target=f"n={sockets['pong']['n']}",
        ),
        check(
            "events on the hot sessions' WebSockets",
            sum(hot["events"] for hot in sockets["hot_sockets"]),
            "events",
            all(h["in_order"] and h["behind_at_end"] == 0 for h in sockets["hot_sockets"]),
            target="in order, none missing",
        ),
        check(
            "long-polls waiting at the end",
            sockets["polls_waiting_at_stop"],
            f"of {sockets['polls']}",
            sockets["polls_waiting_at_stop"] == sockets["polls"],
            target="all",
        ),
        info(
            "long-polls returned (timed out / with events)",
            sockets["polls_returned"],
            f"({sockets['polls_timed_out']} / {sockets['polls_with_events']})",
        ),
        check(
            "socket failures (handshake, close, error frame, pong, poll)",
            socket_failures,
            "",
            socket_failures == 0,
            target="0",
        ),
        info("server RSS before the sockets opened", results["rss_idle_mib"], "MiB"),
        info("server RSS with the sockets open, before the load", results["rss_ready_mib"], "MiB"),
        check(
            f"server RSS, last {rss['window_s']:g} s (mean)",
            rss.get("last_mean_mib"),
            "MiB",
            rss["ratio"] is not None and abs(rss["ratio"] - 1) <= RSS_TOLERANCE,
            baseline=f"first {rss['window_s']:g} s {rss.get('first_mean_mib')} MiB",
            ratio=rss["ratio"],
            target="within 10 %",
        ),
        info("server RSS max during the load", rss.get("max_mib"), "MiB"),
        check("Depot server log: tracebacks/errors", errors, "", errors == 0, target="0"),
        info(
            "machine load average, start / end",
            " / ".join(f"{results[k][0]:.1f}" for k in ("load_average_start", "load_average_end")),
            f"on {results['machine']['cpus']} cores",
        ),
        info(
            "code unchanged during the run",
            "yes" if results.get("code_unchanged") else "no",
            "",
            target="else no latest-load.json",
        ),
    ]
    return out
