"""The artifact benchmark's table, from its results."""

from __future__ import annotations

from typing import Any

from bench.artifacts.phases import READ_ROUTES
from bench.common.report import Figure, check, info, log_check
from bench.common.stats import p50_p99

MS = "ms p50/p99"
WRITE_RUNS = (
    "one_artifact_1_writer",
    "distinct_artifacts_1_writer",
    "one_artifact_8_writers",
    "distinct_artifacts_8_writers",
)
READ_ROWS = (
    ("ns_list", "seed-002 list ?limit=50 (all)", "ns_list_first"),
    ("flat_list", "seed-001 GET /api/artifacts?limit=50", "flat_list"),
    ("ns_detail", "seed-002 detail (random root)", "ns_detail"),
    ("flat_detail", "seed-001 GET /api/artifacts/<id>", "flat_detail"),
)
LIST_KINDS = (
    ("first", "  first pages"),
    ("next_cursor", "  next_cursor pages"),
    ("deep_resume", "  resumed at a random depth"),
)


def invariants_check(figure: str, found: dict[str, Any]) -> Figure:
    value = "ok" if found["ok"] else ",".join(found["violations"])
    return check(figure, value, "", found["ok"], target="all hold")


def scaling_rows(r: dict[str, Any]) -> list[Figure]:
    """Issue 11's list target: p50 at the big namespace <= 1.3 x at the small one, and <= 3 x
    `GET /api/sessions/{sid}` in the same run."""
    if "list_scaling" not in r:
        return []
    found = r["list_scaling"]
    small, big = (found[name] for name in found["lists"])
    session = found["session_detail"]
    small_name, big_name = (name.removeprefix("ns_list_") for name in found["lists"])
    checks = found["checks"]
    failed = sum(
        count
        for name in (*found["lists"], "session_detail")
        for code, count in found[name]["statuses"].items()
        if code != "200"
    )
    growth, to_session = big["p50_ms"] / small["p50_ms"], big["p50_ms"] / session["p50_ms"]
    return [
        info(
            "scaling: GET /api/sessions/{sid}",
            p50_p99(session),
            MS,
            baseline=f"{session['mean_bytes'] / 1000:.1f} kB",
        ),
        info(
            f"scaling: seed-002 list at {small_name} artifacts",
            p50_p99(small),
            MS,
            baseline=f"{small['mean_bytes'] / 1000:.1f} kB",
            ratio=small["p50_ms"] / session["p50_ms"],
            target="ratio: p50 / session",
        ),
        info(
            f"scaling: seed-002 list at {big_name} artifacts",
            p50_p99(big),
            MS,
            baseline=f"{big['mean_bytes'] / 1000:.1f} kB",
            ratio=to_session,
            target="ratio: p50 / session",
        ),
        check(
            f"scaling: list p50 at {big_name} / at {small_name}",
            round(growth, 2),
            "x",
            growth <= 1.3,
            target="<= 1.3",
        ),
        check(
            "scaling: list p50 at the big namespace / session GET",
            round(to_session, 2),
            "x",
            to_session <= 3.0,
            target="<= 3",
        ),
        check(
            "scaling: non-200 / wrong total / wrong page",
            f"{failed} / {checks['wrong_total']} / {checks['wrong_page']}",
            "",
            failed == checks["wrong_total"] == checks["wrong_page"] == 0,
            target="0 / 0 / 0",
        ),
    ]


# The rows below are laid out by hand, one figure in one to three lines; the formatter would
# give every keyword its own line.
# fmt: off
def rows(r: dict[str, Any]) -> list[Figure]:
    populate, reads, counts = r["populate"], r["reads"], r["query_counts"]
    gap = r["cursor_gap_check"]
    health, sessions = reads["healthz"], reads["sessions_list"]
    out = [
        info(f"populate: {populate['artifacts']} rows bulk-inserted", populate["insert_rows_per_s"],
             "rows/s", baseline=f"{populate['insert_seconds']} s"),
        info(f"populate: {populate['versions_created']} versions via the service",
             populate["versions_per_s_in_process"], "versions/s",
             baseline=f"{populate['versioned_artifacts']} artifacts"),
        invariants_check("populate: model invariants (SQL over every row)",
                         r["invariants_after_populate"]),
        info("baseline: PG connect+SELECT 1+close", p50_p99(r["baseline_pg_connect"]), MS),
        info("baseline: GET /healthz (no DB)", p50_p99(health), MS),
        info("baseline: GET /api/sessions?limit=50", p50_p99(sessions), MS,
             baseline=f"{counts['sessions_list']['queries']} queries",
             ratio=sessions["p50_ms"] / health["p50_ms"], target="ratio: p50 / healthz"),
    ]
    for route, title, name in READ_ROWS:
        summary = reads[route]
        out.append(info(title, p50_p99(summary), MS, target="ratio: p50 / sessions",
                        baseline=f"{counts[name]['queries']} queries, "
                        f"{summary['mean_bytes'] / 1000:.1f} kB",
                        ratio=summary["p50_ms"] / sessions["p50_ms"]))
        if route == "ns_list":
            for kind, kind_title in LIST_KINDS:
                if (part := reads["ns_list_by_kind"][kind])["n"]:
                    out.append(info(f"{kind_title} (n={part['n']})", p50_p99(part), MS,
                                    ratio=part["p50_ms"] / sessions["p50_ms"]))
    failed = sum(count for route in READ_ROUTES
                 for code, count in reads[route]["statuses"].items() if code != "200")
    checks = reads["checks"]
    wrong_size, wrong_artifact = checks["list_pages_not_50_items"], checks["detail_wrong_artifact"]
    out_of_order, pages = checks["ns_list_pages_not_in_root_order"], checks["list_pages_checked"]
    position = gap["victim_position_on_first_page_after"]
    out += [
        check("reads: non-200 / wrong page size / wrong artifact",
              f"{failed} / {wrong_size} / {wrong_artifact}", "",
              failed == wrong_size == wrong_artifact == 0, target="0 / 0 / 0"),
        check("seed-002 list pages in root order (newest artifact first)",
              f"{pages - out_of_order} of {pages}", "pages", out_of_order == 0, target="all"),
        check("cursor walk keeps an artifact versioned mid-walk", str(gap["ok"]), "", gap["ok"],
              baseline="-" if position is None else f"now at #{position} of page 1", target="True"),
    ]
    for name in ("ns_list_deep", "ns_detail_versioned", "ns_put_new_version"):
        out.append(info(f"queries: {name}", counts[name]["queries"], "queries",
                        baseline=f"DB {counts[name]['db_ms']} ms"))
    out += scaling_rows(r)
    writes = r.get("writes", {})
    for label in (WRITE_RUNS if writes else ()):
        run = writes[label]
        base = writes["distinct_artifacts_8_writers" if label.endswith("8_writers")
                      else "distinct_artifacts_1_writer"]
        failures = run["attempted"] - run["ok"]
        latency = f"p50/p99 {run['latency_p50_ms']}/{run['latency_p99_ms']} ms"
        out.append(check(f"PUT {label.replace('_', ' ')}", run["versions_per_s"], "versions/s",
                         failures == 0, target="no failures",
                         baseline=latency + (f", {failures} failed" if failures else ""),
                         ratio=run["versions_per_s"] / base["versions_per_s"]
                         if label.startswith("one") else None))
    if not writes:
        return [*out, invariants_check("model invariants at the end (every row)",
                                       r["invariants_at_end"]),
                log_check("server log", r["server_log_errors"])]
    one, distinct = r["verify_one_artifact"], r["verify_distinct_artifacts"]
    one_detail = next(iter(one["detail"].values()), {})
    return [
        *out,
        check("one artifact: versions exactly 1..N, one is_latest",
              f"N={one_detail.get('versions')}", "", one["ok"], target="1..N, latest=N",
              baseline=f"expected N={one_detail.get('expected')}"),
        check("distinct artifacts: versions 1..2, contents as sent", distinct["artifacts_checked"],
              "artifacts", distinct["ok"], target="all"),
        invariants_check("model invariants at the end (every row)", r["invariants_at_end"]),
        log_check("server log", r["server_log_errors"]),
    ]
