"""The artifact benchmark's client side: varied text, the read phase (six routes
interleaved), the cursor walk under a new version, the PUT runs with a lock watch, and the
checks in SQL over every row (psycopg, from the benchmark process)."""

# ruff: noqa: S608  (SQL text holds table names from Django _meta, never input)
from __future__ import annotations

import base64
import concurrent.futures
import hashlib
import json
import random
import statistics
import threading
import time
import uuid
from typing import Any

from bench.common.stats import latency_summary

TEXT_MIN_BYTES, TEXT_MAX_BYTES = 1800, 2300  # "about 2 KB" of inline text per artifact
ARTIFACT_TYPES = ("note", "plan", "report", "code", "summary")
READ_ROUTES = ("healthz", "sessions_list", "ns_list", "flat_list", "ns_detail", "flat_detail")

_SYLLABLES = [
    *("ka", "ri", "to", "me", "sa", "lo", "ne", "vi", "du", "pa", "an", "el", "or", "us"),
    *("ti", "ra", "be", "co", "de", "fi", "ga", "ho", "ju", "ly", "mo", "nu", "pe", "qu"),
    *("si", "ta", "ve", "wo", "xe", "yo", "za", "ch", "th", "st", "pr", "gl", "tr"),
]
# A few non-ASCII words, so size_bytes (UTF-8 bytes) differs from the character count.
_EXTRA_WORDS = ["café", "naïve", "Zürich", "façade", "résumé", "→", "—", "Ångström", "日本語", "π"]


class TextGen:
    """Deterministic, varied markdown-ish text of TEXT_MIN_BYTES..TEXT_MAX_BYTES UTF-8 bytes."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        vocab: set[str] = set()
        while len(vocab) < 6000:
            vocab.add("".join(self.rng.choices(_SYLLABLES, k=self.rng.randint(1, 4))))
        self.vocab = sorted(vocab) + _EXTRA_WORDS * 3

    def text(self, label: str) -> str:
        rng = self.rng
        target = rng.randint(TEXT_MIN_BYTES, TEXT_MAX_BYTES)
        words = rng.choices(self.vocab, k=target // 4)
        lines = [f"# {label}", ""]
        position = 0
        while position < len(words):
            size = rng.randint(8, 30)
            lines.append(" ".join(words[position : position + size]) + ".")
            position += size
            if rng.random() < 0.25:
                lines.append("")
        text = "\n".join(lines).encode()[:target].decode("utf-8", "ignore")
        return text[: text.rfind(" ")] if " " in text[-40:] else text


def encode_cursor(pk: int) -> str:
    """The server's own cursor format (sessions_app.api.common.encode_cursor): a client that
    kept a cursor from an earlier walk resumes from it."""
    return base64.urlsafe_b64encode(f"id:{pk}".encode()).decode().rstrip("=")


def _timed_get(
    http: Any,
    url: str,
    headers: dict[str, str],
    route: str,
    times: dict[str, list[float]],
    sizes: dict[str, list[int]],
    statuses: dict[str, dict[str, int]],
    problems: list[str],
) -> tuple[float, bytes | None]:
    """One GET of `route`, timed and counted; its body, or None (recorded as a problem) when
    it was not a 200."""
    began = time.perf_counter()
    response = http.get(url, headers=headers, timeout=60)
    body = response.content
    took = time.perf_counter() - began
    times[route].append(took)
    sizes[route].append(len(body))
    key = str(response.status_code)
    statuses[route][key] = statuses[route].get(key, 0) + 1
    if response.status_code != 200:
        if len(problems) < 20:
            problems.append(f"{route} {url}: {response.status_code} {body[:200]!r}")
        return took, None
    return took, body


def read_phase(
    base_url: str,
    api_key: str,
    ns_path: str,
    roots: list[tuple[int, str]],
    *,
    requests_per_route: int,
    seed: int,
) -> dict[str, Any]:
    """One client, one keep-alive connection, the routes interleaved round-robin so that every
    route sees the same machine noise. The namespaced list runs in cycles of 10 requests: a
    first page followed by 4 next_cursor pages, then a resume at a random depth (a cursor the
    server would have issued) followed by 4 next_cursor pages."""
    import requests

    rng = random.Random(seed)
    pk_of = {public: pk for pk, public in roots}
    headers = {"X-API-Key": api_key}
    routes = list(READ_ROUTES)
    times: dict[str, list[float]] = {route: [] for route in routes}
    sizes: dict[str, list[int]] = {route: [] for route in routes}
    statuses: dict[str, dict[str, int]] = {route: {} for route in routes}
    ns_kind_times: dict[str, list[float]] = {"first": [], "deep_resume": [], "next_cursor": []}
    problems: list[str] = []
    pages_checked = pages_out_of_order = pages_wrong_size = detail_wrong = deepest_rank = 0
    cursor: str | None = None
    sorted_pks = sorted((pk for pk, _ in roots), reverse=True)
    fixed = {
        "healthz": f"{base_url}/healthz",
        "sessions_list": f"{base_url}/api/sessions?limit=50",
        "flat_list": f"{base_url}/api/artifacts?limit=50",
    }

    with requests.Session() as http:
        for index in range(requests_per_route):
            order = routes[:]
            rng.shuffle(order)
            for route in order:
                kind = None
                if route in fixed:
                    url = fixed[route]
                elif route == "ns_list":
                    step = index % 10
                    if step == 0 or cursor is None:
                        kind, query = "first", ""
                    elif step == 5:
                        rank = rng.randrange(len(sorted_pks) // 10, len(sorted_pks) - 300)
                        deepest_rank = max(deepest_rank, rank)
                        kind, query = "deep_resume", f"&cursor={encode_cursor(sorted_pks[rank])}"
                    else:
                        kind, query = "next_cursor", f"&cursor={cursor}"
                    url = f"{base_url}{ns_path}/artifacts?limit=50{query}"
                else:
                    public = roots[rng.randrange(len(roots))][1]
                    prefix = f"{base_url}{ns_path}" if route == "ns_detail" else f"{base_url}/api"
                    url = f"{prefix}/artifacts/{public}"
                took, body = _timed_get(http, url, headers, route, times, sizes, statuses, problems)
                if body is None:
                    continue
                # Correctness checks, off the clock.
                if route == "ns_list":
                    ns_kind_times[kind or "first"].append(took)
                    page = json.loads(body)
                    cursor = page["next_cursor"]
                    items = page["artifacts"]
                    pages_checked += 1
                    pages_wrong_size += len(items) != 50
                    root_pks = [pk_of.get(item["root_artifact_id"], -1) for item in items]
                    descending = root_pks == sorted(root_pks, reverse=True)
                    pages_out_of_order += not descending or len(set(root_pks)) != len(root_pks)
                elif route == "flat_list":
                    pages_wrong_size += len(json.loads(body)) != 50
                elif route == "ns_detail":
                    item = json.loads(body)
                    detail_wrong += item["root_artifact_id"] != public or not item["is_latest"]
                elif route == "flat_detail":
                    detail_wrong += json.loads(body)["id"] != public

    out: dict[str, Any] = {
        route: {
            **latency_summary(times[route]),
            "statuses": statuses[route],
            "mean_bytes": round(statistics.fmean(sizes[route])) if sizes[route] else None,
        }
        for route in routes
    }
    out["ns_list_by_kind"] = {kind: latency_summary(v) for kind, v in ns_kind_times.items()}
    out["checks"] = {
        "list_pages_checked": pages_checked,
        "ns_list_pages_not_in_root_order": pages_out_of_order,
        "list_pages_not_50_items": pages_wrong_size,
        "detail_wrong_artifact": detail_wrong,
        "deepest_resume_rank": deepest_rank,
        "problems": problems,
    }
    return out


def list_scaling_phase(
    base_url: str,
    api_key: str,
    lists: dict[str, tuple[str, list[int]]],
    session_path: str,
    *,
    rounds: int,
    seed: int,
) -> dict[str, Any]:
    """The seed-002 list of each namespace in `lists` (route name -> (artifacts URL path, its
    root pks)) and `GET <session_path>`, one request of each per round in a shuffled order, on
    one keep-alive connection, so that every route sees the same machine noise. Each list runs
    read_phase's cycle of 10 (a first page, 4 next_cursor pages, a resume at a random depth, 4
    next_cursor pages). Off the clock: every page's `total` equals the namespace's artifact
    count, holds 50 items in root order."""
    import requests

    rng = random.Random(seed)
    headers = {"X-API-Key": api_key}
    routes = [*lists, "session_detail"]
    times: dict[str, list[float]] = {route: [] for route in routes}
    sizes: dict[str, list[int]] = {route: [] for route in routes}
    statuses: dict[str, dict[str, int]] = {route: {} for route in routes}
    cursors: dict[str, str | None] = dict.fromkeys(lists)
    ordered = {route: sorted(pks, reverse=True) for route, (_, pks) in lists.items()}
    wrong_total = wrong_page = 0
    problems: list[str] = []
    with requests.Session() as http:
        for index in range(rounds):
            order = routes[:]
            rng.shuffle(order)
            for route in order:
                if route == "session_detail":
                    url = f"{base_url}{session_path}"
                else:
                    path, pks = lists[route][0], ordered[route]
                    step, cursor = index % 10, cursors[route]
                    if step == 0 or cursor is None:
                        query = ""
                    elif step == 5:
                        low = len(pks) // 10
                        rank = rng.randrange(low, max(low + 1, len(pks) - 300))
                        query = f"&cursor={encode_cursor(pks[rank])}"
                    else:
                        query = f"&cursor={cursor}"
                    url = f"{base_url}{path}?limit=50{query}"
                _, body = _timed_get(http, url, headers, route, times, sizes, statuses, problems)
                if body is None:
                    continue
                if route != "session_detail":
                    page = json.loads(body)
                    cursors[route] = page["next_cursor"]
                    wrong_total += page["total"] != len(ordered[route])
                    items = [item["root_artifact_id"] for item in page["artifacts"]]
                    wrong_page += len(items) != 50 or len(set(items)) != 50
    out: dict[str, Any] = {
        route: {
            **latency_summary(times[route]),
            "statuses": statuses[route],
            "mean_bytes": round(statistics.fmean(sizes[route])) if sizes[route] else None,
        }
        for route in routes
    }
    out["checks"] = {"wrong_total": wrong_total, "wrong_page": wrong_page, "problems": problems}
    return out


def cursor_gap_check(
    base_url: str, api_key: str, ns_path: str, roots: list[tuple[int, str]]
) -> dict[str, Any]:
    """A client walks the namespaced list; between two of its pages another client creates a
    new version of an artifact the walk has not reached yet. Does the walk still return it?
    (selectors.artifact_list promises "each artifact once, newest artifact first", and the
    list's pages are "stable under new versions".)"""
    import requests

    headers = {"X-API-Key": api_key}
    sorted_pks = sorted((pk for pk, _ in roots), reverse=True)
    start = encode_cursor(sorted_pks[len(sorted_pks) // 2])  # somewhere in the middle
    with requests.Session() as http:

        def get(url: str) -> Any:
            return http.get(url, headers=headers, timeout=60).json()

        url = f"{base_url}{ns_path}/artifacts?limit=50"
        page_one = get(f"{url}&cursor={start}")
        # What the next page holds right now (peeked by the benchmark, not by the walker).
        before = get(f"{url}&cursor={page_one['next_cursor']}")
        expected = [item["root_artifact_id"] for item in before["artifacts"]]
        victim = expected[10]
        put = http.put(
            f"{base_url}{ns_path}/artifacts/{victim}",
            json={"content": f"gap check {uuid.uuid4().hex}"},
            headers=headers,
            timeout=60,
        )
        page_two = get(f"{url}&cursor={page_one['next_cursor']}")
        got = [item["root_artifact_id"] for item in page_two["artifacts"]]
        first_page = [item["root_artifact_id"] for item in get(url)["artifacts"]]
    return {
        "victim": victim,
        "put_status": put.status_code,
        "put_version": put.json().get("version") if put.status_code == 200 else None,
        "victim_on_page_two_before": victim in expected,
        "victim_on_page_two_after": victim in got,
        "victim_position_on_first_page_after": first_page.index(victim)
        if victim in first_page
        else None,
        "page_two_items_before": len(expected),
        "page_two_items_after": len(got),
        "ok": victim in got,
    }


def put_run(
    base_url: str,
    api_key: str,
    ns_path: str,
    targets: list[str],
    *,
    writers: int,
    max_puts: int,
    max_seconds: float,
    label: str,
) -> dict[str, Any]:
    """PUT {"content": <unique text>} from `writers` threads (one keep-alive connection each)
    until `max_puts` or `max_seconds`. With one target every PUT hits the same root; with many,
    PUT number i goes to targets[i] (no root is hit twice)."""
    import requests

    base_text = TextGen(4242).text("write benchmark")
    lock = threading.Lock()
    started_count = 0
    statuses: dict[str, int] = {}
    latencies: list[float] = []
    errors: list[str] = []
    sent_hashes: dict[str, list[str]] = {}
    versions_returned: dict[str, list[int]] = {}
    deadline = time.perf_counter() + max_seconds

    def worker(index: int) -> None:
        nonlocal started_count
        with requests.Session() as http:
            while time.perf_counter() < deadline:
                with lock:
                    if started_count >= max_puts or (
                        len(targets) > 1 and started_count >= len(targets)
                    ):
                        return
                    number = started_count
                    started_count += 1
                target = targets[number] if len(targets) > 1 else targets[0]
                text = f"{label} PUT {number} {uuid.uuid4().hex}\n{base_text}"
                began = time.perf_counter()
                try:
                    response = http.put(
                        f"{base_url}{ns_path}/artifacts/{target}",
                        json={"content": text},
                        headers={"X-API-Key": api_key},
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
                    if response.status_code == 200:
                        latencies.append(took)
                        body = response.json()
                        digest = "sha256:" + hashlib.sha256(text.encode()).hexdigest()
                        sent_hashes.setdefault(target, []).append(digest)
                        versions_returned.setdefault(target, []).append(body["version"])
                        if body["content_hash"] != digest or body["root_artifact_id"] != target:
                            errors.append(f"PUT {number}: response does not match the request")
                    elif len(errors) < 20:
                        errors.append(f"PUT {number}: {response.status_code} {response.text[:300]}")

    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(writers) as pool:
        for future in [pool.submit(worker, i) for i in range(writers)]:
            future.result()
    elapsed = time.perf_counter() - started
    ok = statuses.get("200", 0)
    return {
        "label": label,
        "writers": writers,
        "targets": len(targets),
        "ok": ok,
        "attempted": started_count,
        "seconds": round(elapsed, 3),
        "versions_per_s": ok / elapsed if elapsed else float("nan"),
        **{f"latency_{k}": v for k, v in latency_summary(latencies).items()},
        "statuses": statuses,
        "errors": errors[:20],
        "_sent_hashes": sent_hashes,
        "_versions_returned": versions_returned,
    }


class LockWatch:
    """Samples pg_stat_activity of the benchmark database every `interval` s: how many
    backends are waiting on a heavyweight lock (row locks show up as `Lock`/`transactionid`
    or `tuple`) and how many are active."""

    def __init__(self, url: str, db_name: str, interval: float = 0.02) -> None:
        self.url, self.db_name, self.interval = url, db_name, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.samples = self.waiting_total = self.samples_with_wait = 0
        self.max_waiting = self.active_total = 0
        self.error: str | None = None

    def __enter__(self) -> LockWatch:
        self._thread.start()
        return self

    def _run(self) -> None:
        import psycopg

        try:
            with psycopg.connect(self.url, autocommit=True, connect_timeout=10) as connection:
                while not self._stop.wait(self.interval):
                    waiting, active = connection.execute(
                        "SELECT count(*) FILTER (WHERE wait_event_type = 'Lock'), "
                        "count(*) FILTER (WHERE state = 'active') FROM pg_stat_activity "
                        "WHERE datname = %s AND pid <> pg_backend_pid()",
                        [self.db_name],
                    ).fetchone()
                    self.samples += 1
                    self.waiting_total += waiting
                    self.active_total += active
                    self.samples_with_wait += int(waiting > 0)
                    self.max_waiting = max(self.max_waiting, waiting)
        except Exception as error:  # diagnostics only
            self.error = repr(error)

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def summary(self) -> dict[str, Any]:
        samples = max(self.samples, 1)
        return {
            "samples": self.samples,
            "mean_backends_waiting_on_lock": round(self.waiting_total / samples, 2),
            "share_of_samples_with_a_lock_wait": round(self.samples_with_wait / samples, 3),
            "max_backends_waiting_on_lock": self.max_waiting,
            "mean_active_backends": round(self.active_total / samples, 2),
            "error": self.error,
        }


def baseline_pg_connect(url: str, count: int) -> dict[str, Any]:
    """What CONN_MAX_AGE=0 costs per request at least: connect, SELECT 1, close."""
    import psycopg

    times = []
    for _ in range(count):
        began = time.perf_counter()
        with psycopg.connect(url, autocommit=True, connect_timeout=10) as connection:
            connection.execute("SELECT 1").fetchone()
        times.append(time.perf_counter() - began)
    return latency_summary(times)


INVARIANT_QUERIES = {
    # Every version 1 is its own root; every other version points at a version-1 root.
    "root_not_self_for_v1": "SELECT count(*) FROM {t} WHERE version = 1 AND root_id <> id",
    "root_null": "SELECT count(*) FROM {t} WHERE root_id IS NULL",
    "root_not_v1": "SELECT count(*) FROM {t} a JOIN {t} r ON r.id = a.root_id "
    "WHERE r.version <> 1 OR r.root_id <> r.id",
    # Versions 1..n, exactly one latest, and the latest is the highest version.
    "roots_bad_version_range": "SELECT count(*) FROM (SELECT root_id FROM {t} GROUP BY root_id "
    "HAVING min(version) <> 1 OR max(version) <> count(*)) x",
    "roots_not_one_latest": "SELECT count(*) FROM (SELECT root_id FROM {t} GROUP BY root_id "
    "HAVING count(*) FILTER (WHERE is_latest) <> 1) x",
    "roots_latest_not_max": "SELECT count(*) FROM (SELECT root_id FROM {t} GROUP BY root_id "
    "HAVING max(version) <> max(version) FILTER (WHERE is_latest)) x",
    "replaced_by_wrong": "SELECT count(*) FROM {t} WHERE (is_latest AND replaced_by_version <> 0)"
    " OR (NOT is_latest AND replaced_by_version <> version + 1)",
    # Inline content fields as new_content.content_fields computes them.
    "inline_fields_wrong": "SELECT count(*) FROM {t} WHERE blob_id IS NULL AND ("
    "content_hash <> 'sha256:' || encode(sha256(convert_to(content, 'UTF8')), 'hex') "
    "OR size_bytes <> octet_length(convert_to(content, 'UTF8')) "
    "OR content_text <> content OR content_preview <> left(content, 500))",
    # The namespace feed: 1..n with no gap, and the namespace's counter at n.
    "feed_gaps": "SELECT count(*) FROM (SELECT namespace_id FROM {e} GROUP BY namespace_id "
    "HAVING min(namespace_sequence) <> 1 OR max(namespace_sequence) <> count(*)) x",
    "feed_counter_wrong": "SELECT count(*) FROM sessions_app_namespace n WHERE "
    "n.last_event_sequence <> (SELECT count(*) FROM {e} e WHERE e.namespace_id = n.id)",
    # The namespace's live-artifact counter (the list's total) at its artifacts' count.
    "artifact_counter_wrong": "SELECT count(*) FROM sessions_app_namespace n WHERE "
    "n.artifact_count <> (SELECT count(*) FROM {t} a WHERE a.namespace_id = n.id AND a.is_latest)",
}


def check_invariants(url: str, table: str, event_table: str) -> dict[str, Any]:
    """Every invariant above over every row: the count of rows breaking it (0 is good)."""
    import psycopg

    out: dict[str, Any] = {}
    with psycopg.connect(url, connect_timeout=10) as connection:
        for name, query in INVARIANT_QUERIES.items():
            out[name] = connection.execute(query.format(t=table, e=event_table)).fetchone()[0]
        out["rows"], out["roots"], out["non_root_versions"] = connection.execute(
            f"SELECT count(*), count(*) FILTER (WHERE id = root_id), "
            f"count(*) FILTER (WHERE id <> root_id) FROM {table}"
        ).fetchone()
    out["violations"] = bad = [name for name in INVARIANT_QUERIES if out[name]]
    out["ok"] = not bad
    return out


def verify_versions(
    url: str, table: str, root_pk_of: dict[str, int], sent: dict[str, list[str]]
) -> dict[str, Any]:
    """For every artifact the writers touched: versions exactly 1..N with N = 1 + successful
    PUTs, exactly one is_latest (version N), each earlier version replaced_by its successor,
    and versions 2..N hold exactly the contents that were sent."""
    import psycopg

    bad: list[str] = []
    detail: dict[str, Any] = {}
    with psycopg.connect(url, connect_timeout=10) as connection:
        for public, hashes in sent.items():
            rows = connection.execute(
                f"SELECT version, is_latest, replaced_by_version, content_hash FROM {table} "
                f"WHERE root_id = %s ORDER BY version",
                [root_pk_of[public]],
            ).fetchall()
            versions = [row[0] for row in rows]
            latest = [row[0] for row in rows if row[1]]
            expected_n = 1 + len(hashes)
            problems = []
            if versions != list(range(1, expected_n + 1)):
                problems.append(f"versions {versions[:5]}..{versions[-5:]} (n={len(versions)})")
            if latest != [expected_n]:
                problems.append(f"is_latest on {latest}")
            if any(row[2] != row[0] + 1 for row in rows[:-1]) or (rows and rows[-1][2] != 0):
                problems.append("replaced_by_version chain broken")
            if sorted(row[3] for row in rows[1:]) != sorted(hashes):
                problems.append("stored contents differ from the sent ones")
            if problems:
                bad.append(f"{public}: {'; '.join(problems)}")
            if len(sent) <= 2:
                detail[public] = {
                    "versions": len(versions),
                    "expected": expected_n,
                    "latest": latest,
                    "problems": problems,
                }
    return {"artifacts_checked": len(sent), "bad": bad[:20], "ok": not bad, "detail": detail}
