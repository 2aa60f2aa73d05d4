"""The event benchmark's table: one block of figures per profile."""

from __future__ import annotations

from typing import Any

from bench.common.report import Figure, check, info, log_check

# Targets (from the benchmark brief).
TARGET_P99_MS = {"embedded": 5.0, "redis": 10.0}  # commit -> push / poll return, p99
TARGET_POLLS_RSS_MIB = 300.0  # server RSS while 1,000 long-polls wait
TARGET_GET_P99_RATIO = 2.0  # GET /api/uploads/<sid> p99 under 1,000 polls over idle p99


def pair(summary: dict[str, Any], digits: int = 2) -> str:
    return f"{summary['p50']:.{digits}f}/{summary['p99']:.{digits}f}"


def over(value: float | None, base: float | None) -> float | None:
    return value / base if value is not None and base else None


# The rows below are laid out by hand, one figure in one to three lines; the formatter would
# give every keyword its own line.
# fmt: off
def latency_rows(
    figure: str, lat: dict[str, Any], base: dict[str, Any], base_name: str, target: float
) -> list[Figure]:
    """p50 (info), p99 (against `target`) and max of a delivery latency, each p against the
    same percentile of its same-run baseline."""
    p50, p99 = lat.get("p50"), lat.get("p99")
    return [
        info(f"{figure} p50 (n={lat['n']})", p50, "ms", digits=2, ratio=over(p50, base["p50"]),
             baseline=f"{base_name} p50 {base['p50']:.2f} ms"),
        check(f"{figure} p99", p99, "ms", p99 is not None and p99 <= target, digits=2,
              baseline=f"{base_name} p99 {base['p99']:.2f} ms", ratio=over(p99, base["p99"]),
              target=f"<= {target:.0f} ms"),
        info(f"{figure} max", lat.get("max"), "ms", digits=2),
    ]


def delivered(tag: str, run: dict[str, Any], baseline: str) -> Figure:
    """Every event delivered once, in order, and every upload accepted."""
    ok = not (run["missing"] or run["upload_failures"] or run["duplicates"] or run["client_error"])
    return check(f"{tag} delivered, in order, no duplicate", f"{run['delivered']}/{run['uploads']}",
                 "events", ok and run["in_order"], baseline=baseline, target="all")


def profile_rows(profile: str, r: dict[str, Any]) -> list[Figure]:
    target = TARGET_P99_MS[profile]
    tag = f"[{profile}]"
    rows: list[Figure] = []
    if ws := r.get("ws"):
        rows += latency_rows(f"{tag} WS commit->receive", ws["latency"], ws["ping_rtt"],
                             "WS ping RTT", target)
        rows.append(info(f"{tag} WS upload round trip p50/p99", pair(ws["upload_rtt"]), "ms"))
        per_message = f"{ws['messages']} msgs, <= {ws['max_events_per_message']}/msg"
        rows.append(delivered(f"{tag} WS", ws, per_message))
    if lp := r.get("long_poll"):
        rows += latency_rows(f"{tag} long-poll commit->return", lp["latency"],
                             lp["immediate_poll_rtt"], "answered-at-once poll RTT", target)
        rows.append(info(f"{tag} long-poll upload round trip p50/p99", pair(lp["upload_rtt"]),
                         "ms", baseline=f"/healthz RTT p50 {lp['healthz_rtt']['p50']:.2f} ms"))
        rows.append(delivered(f"{tag} long-poll", lp,
                              f"{lp['polls']} polls, {lp['polls_timed_out']} timed out"))
    if diag := r.get("diag"):
        new, kept = diag["read_new_connection"], diag["read_kept_connection"]
        worker = "in-process" if r.get("inprocess_worker") == "1" else "off"
        tasks = ", ".join(f"{k} {v}" for k, v in sorted(diag["task_status"].items()))
        rows += [
            info(f"{tag} diag: {diag['vendor']} connect+close p50/p99",
                 pair(diag["connect_close"]), "ms"),
            info(f"{tag} diag: events_read, new connection p50/p99", pair(new), "ms",
                 baseline=f"kept connection {pair(kept)} ms", ratio=new["p50"] / kept["p50"]),
            info(f"{tag} diag: events_read_async (server path) p50/p99",
                 pair(diag["read_async_as_server"]), "ms"),
            info(f"{tag} diag: {diag['layer']} group_send->receive p50/p99",
                 pair(diag["layer_send_receive"], 3), "ms"),
            info(f"{tag} background tasks after the run (worker {worker})", tasks or "none"),
        ]
    if many := r.get("many_polls"):
        idle, loaded, n = many["get_idle"], many["get_loaded"], many["polls"]
        ratio = over(loaded.get("p99"), idle.get("p99")) if loaded.get("p99") else None
        cpu, wake = many["server_cpu_share"], many["wake_latency"]
        peak, idle_rss = many["peak_rss_mib"], many["idle_rss_mib"]
        settled = f"idle {idle_rss:.1f} MiB; settled {many['waiting_rss_mib']:.1f} MiB"
        p99_ok = ratio is not None and ratio <= TARGET_GET_P99_RATIO
        rows += [
            check(f"{tag} {n} polls: server RSS while waiting (peak)", peak, "MiB",
                  peak <= TARGET_POLLS_RSS_MIB, baseline=settled, ratio=peak / idle_rss,
                  target=f"<= {TARGET_POLLS_RSS_MIB:.0f} MiB"),
            info(f"{tag} {n} polls: GET uploads p50 (n={loaded['n']})", loaded.get("p50"), "ms",
                 digits=2, baseline=f"idle p50 {idle['p50']:.2f} ms",
                 ratio=loaded["p50"] / idle["p50"]),
            check(f"{tag} {n} polls: GET uploads p99", loaded.get("p99"), "ms", p99_ok, digits=2,
                  baseline=f"idle p99 {idle['p99']:.2f} ms", ratio=ratio,
                  target=f"<= {TARGET_GET_P99_RATIO:.0f} x idle"),
            info(f"{tag} {n} polls: GET uploads max", loaded.get("max"), "ms", digits=2,
                 baseline=f"idle max {idle['max']:.2f} ms"),
            check(f"{tag} {n} polls: returned correctly", f"{many['correct']}/{n}", "polls",
                  many["correct"] == n, baseline=f"{many['woken']} woken by an upload",
                  target="all"),
            check(f"{tag} {n} polls: errors", many["errors"], "",
                  many["errors"] == 0 and not many["client_error"], target="0"),
            info(f"{tag} {n} polls: server CPU while waiting (no requests)", cpu["polls_waiting"],
                 "cores", digits=2, baseline=f"during idle GETs {cpu['idle_gets']:.2f}"),
            info(f"{tag} {n} polls: server threads while waiting", many["server_threads_waiting"],
                 "threads", baseline=f"idle {many['server_threads_idle']}"),
            info(f"{tag} {n} polls: wake-up under load p50/max",
                 f"{wake.get('p50', float('nan')):.2f}/{wake.get('max', float('nan')):.2f}", "ms"),
        ]
    if "server_log_errors" in r:
        rows.append(log_check(f"{tag} server log", r["server_log_errors"]))
    return rows


# fmt: on
def strip_samples(value: Any) -> Any:
    """The committed latest-events.json keeps summaries, not every sample."""
    if isinstance(value, dict):
        return {
            k: strip_samples(v)
            for k, v in value.items()
            if not (k.endswith("_ms") and isinstance(v, list))
        }
    if isinstance(value, list):
        return [strip_samples(v) for v in value]
    return value
