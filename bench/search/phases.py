"""The search benchmark's client side: the query phase (queries interleaved with /healthz and a
list page), and the upload phase (upload latency with the indexing worker off, on, and in a
separate process, beside a second client writing inline artifacts)."""

from __future__ import annotations

import collections
import hashlib
import json
import math
import random
import sqlite3
import statistics
import subprocess
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from bench.common import PYTHON, REPO, log
from bench.common.multipart import multipart_body
from bench.common.process import UvicornServer, bootstrap, depot_env, stop_process
from bench.common.stats import latency_summary
from bench.search.corpus import QUERIES, QUERY_CATEGORIES, TextGen

UPLOAD_BYTES = 64 * 1024
# Setting -> (server, with the writer, label). A and B share the worker-off server, C has the
# in-process worker on, D (diagnosis) a separate `manage.py db_worker` process.
SETTINGS = {
    "A": ("off", False, "worker off, uploads only"),
    "B": ("off", True, "worker off + writer"),
    "C": ("on", True, "worker on + writer (indexing)"),
    "D": ("ext", True, "separate db_worker process + writer"),
}


def query_phase(
    server: UvicornServer, org: str, ws: str, requests_per_route: int, seed: int
) -> dict[str, Any]:
    """One client, one keep-alive session; the query, healthz and list-page requests
    interleaved in a shuffled round-robin so that they share the same noise."""
    import requests

    ns = f"{server.base_url}/api/v1/orgs/{org}/workspaces/{ws}/namespaces/default"
    headers = {"X-API-Key": server.api_key}
    rng = random.Random(seed)
    queries = [QUERIES[i % len(QUERIES)] for i in range(requests_per_route)]
    rng.shuffle(queries)
    per_route: dict[str, list[float]] = {"query": [], "healthz": [], "list": []}
    per_query: dict[str, list[float]] = collections.defaultdict(list)
    answers: dict[str, dict[str, Any]] = {}
    statuses: collections.Counter[str] = collections.Counter()
    problems: list[str] = []
    with requests.Session() as http:

        def call(route: str, query: str | None = None) -> tuple[float, Any]:
            began = time.perf_counter()
            if route == "query":
                body = {"query": query, "limit": 10}
                response = http.post(
                    f"{ns}/artifacts/query", json=body, headers=headers, timeout=60
                )
            elif route == "list":
                response = http.get(f"{ns}/artifacts?limit=10", headers=headers, timeout=60)
            else:
                response = http.get(f"{server.base_url}/healthz", timeout=60)
            content = response.content  # read it all on the clock
            took = time.perf_counter() - began
            statuses[f"{route} {response.status_code}"] += 1
            if response.status_code != 200:
                problems.append(f"{route} {query!r}: {response.status_code} {content[:200]!r}")
                return took, None
            return took, response.json() if route != "healthz" else None

        # Warm-up, not counted: the first requests import and cache.
        for i in range(10):
            call("healthz")
            call("list")
            call("query", QUERIES[i % len(QUERIES)][1])
        for category, query in queries:
            order = ["query", "healthz", "list"]
            rng.shuffle(order)
            for route in order:
                took, data = call(route, query if route == "query" else None)
                per_route[route].append(took)
                if route == "list" and data is not None and len(data["artifacts"]) != 10:
                    problems.append(f"list page: {len(data['artifacts'])} artifacts")
                if route != "query":
                    continue
                per_query[query].append(took)
                if data is None:
                    continue
                results = data.get("results", [])
                answer = answers.setdefault(
                    query,
                    {
                        "category": category,
                        "total_results": data.get("total_results"),
                        "total_results_exact": data.get("total_results_exact"),
                        "results": len(results),
                        "mode": data.get("mode"),
                        "top": [r["artifact"].get("name") for r in results[:3]],
                    },
                )
                if data.get("mode") != "lexical":
                    problems.append(f"query {query!r}: mode {data.get('mode')}")
                if len(results) > 10:
                    problems.append(f"query {query!r}: more than 10 results")
                if answer["total_results"] != data.get("total_results"):
                    problems.append(f"query {query!r}: total_results changed")

    def category_times(category: str) -> list[float]:
        return [
            t
            for q, times in per_query.items()
            for t in times
            if answers.get(q, {}).get("category") == category
        ]

    return {
        "requests_per_route": requests_per_route,
        **{route: latency_summary(times) for route, times in per_route.items()},
        "by_category": {c: latency_summary(category_times(c)) for c in QUERY_CATEGORIES},
        "per_query": {
            query: {**latency_summary(times), **answers.get(query, {})}
            for query, times in per_query.items()
        },
        "statuses": dict(statuses),
        "problems": problems[:50],
    }


class InlineWriter:
    """A second client creating inline artifacts (about 2 KB each) at `rate` per second on its
    own keep-alive connection, until stopped (bounded by `max_seconds`)."""

    def __init__(self, server: UvicornServer, org: str, ws: str, rate: float, texts: list[str]):
        namespace = f"/api/v1/orgs/{org}/workspaces/{ws}/namespaces/default"
        self.url = f"{server.base_url}{namespace}/artifacts"
        self.api_key, self.rate, self.texts = server.api_key, rate, texts
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.latencies: list[float] = []
        self.statuses: collections.Counter[str] = collections.Counter()
        self.errors: list[str] = []
        self.seconds = 0.0
        self.max_seconds = 600.0

    def start(self) -> InlineWriter:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=70)

    def _run(self) -> None:
        import requests

        began = time.monotonic()
        next_at = began
        with requests.Session() as http:
            while not self._stop.is_set() and time.monotonic() - began < self.max_seconds:
                number = sum(self.statuses.values())
                text = self.texts[number % len(self.texts)] + f"\n\nwriter {number} {uuid.uuid4()}"
                t0 = time.perf_counter()
                try:
                    response = http.post(
                        self.url,
                        json={"name": f"writer {number}", "content": text},
                        headers={"X-API-Key": self.api_key},
                        timeout=60,
                    )
                    self.statuses[str(response.status_code)] += 1
                    if response.status_code == 201:
                        self.latencies.append(time.perf_counter() - t0)
                    elif len(self.errors) < 10:
                        self.errors.append(f"{response.status_code} {response.text[:200]}")
                except requests.RequestException as error:
                    self.statuses["exception"] += 1
                    if len(self.errors) < 10:
                        self.errors.append(repr(error)[:200])
                next_at = max(next_at + 1.0 / self.rate, time.monotonic())
                self._stop.wait(max(0.0, next_at - time.monotonic()))
        self.seconds += time.monotonic() - began

    def summary(self) -> dict[str, Any]:
        created = self.statuses.get("201", 0)
        return {
            "created": created,
            "statuses": dict(self.statuses),
            "seconds": round(self.seconds, 1),
            "per_s": round(created / self.seconds, 1) if self.seconds else None,
            "latency": latency_summary(self.latencies),
            "errors": self.errors,
        }


def _sqlite_counts(sqlite_path: Path, query: str) -> dict[str, int]:
    """`query`'s (key, count) rows from a server's SQLite file (WAL lets us read it live)."""
    with sqlite3.connect(sqlite_path, timeout=10) as connection:
        rows = connection.execute(query).fetchall()
    connection.close()
    return dict(rows)


def task_counts(sqlite_path: Path) -> dict[str, int]:
    """django-tasks rows by status."""
    query = "SELECT status, count(*) FROM django_tasks_database_dbtaskresult GROUP BY status"
    return _sqlite_counts(sqlite_path, query)


def sqlite_index_state(sqlite_path: Path) -> dict[str, Any]:
    query = "SELECT index_status, count(*) FROM {} GROUP BY index_status"
    return {
        "artifacts": _sqlite_counts(sqlite_path, query.format("artifacts_artifact")),
        "attachments": _sqlite_counts(sqlite_path, query.format("attachments_attachment")),
    }


def _start_upload_servers(
    work: Path, names: list[str], servers: dict[str, UvicornServer], creds: dict[str, dict]
) -> subprocess.Popen | None:
    """Fresh data folders, migrate + bootstrap, and a uvicorn each (`--lifespan on`): "off"
    and "ext" with DEPOT_EMBEDDED_WORKER=0, "on" with =1; "ext" also gets a separate
    `manage.py db_worker` process, which is returned."""
    db_worker = None
    for name in names:
        worker_on = name == "on"
        data_dir = work / f"uploads-{name}"
        data_dir.mkdir()
        env = depot_env(
            data_dir, DEPOT_SEMANTIC_SEARCH="off", DEPOT_EMBEDDED_WORKER="1" if worker_on else "0"
        )
        log(f"uploads: migrate + bootstrap ({name}, DEPOT_EMBEDDED_WORKER={int(worker_on)})")
        creds[name] = bootstrap(env) | {"sqlite": str(data_dir / "depot.sqlite3")}
        log_path = work / f"uvicorn-uploads-{name}.log"
        servers[name] = server = UvicornServer(f"uploads-{name}", env, log_path, lifespan="on")
        server.api_key = creds[name]["api_key"]
        server.start()
        if name == "ext":
            # The production way: the worker in its own process, with the in-process worker's
            # settings (all queues, 0.5 s poll interval).
            command = ["manage.py", "db_worker", "--queue-name", "*", "--interval", "0.5"]
            db_worker = subprocess.Popen(
                [PYTHON, *command, "--no-startup-delay", "--no-reload"],
                cwd=REPO,
                env=env,
                stdout=open(work / "db-worker-ext.log", "wb"),  # noqa: SIM115
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            log(f"db_worker (ext) pid {db_worker.pid}")
    return db_worker


def upload_phase(
    work: Path, uploads: int, block: int, writer_rate: float, seed: int, external: bool
) -> dict[str, Any]:
    """Settings alternated in blocks of `block` uploads, the order rotating each round (see
    SETTINGS). After a block of an indexing setting the phase waits for its task queue to
    drain, so that a worker never runs during another setting's block."""
    import requests

    gen = TextGen(seed)
    servers: dict[str, UvicornServer] = {}
    creds: dict[str, dict[str, str]] = {}
    out: dict[str, Any] = {}
    db_worker: subprocess.Popen | None = None
    settings = {key: s for key, s in SETTINGS.items() if external or key != "D"}
    try:
        names = ["off", "on"] + (["ext"] if external else [])
        db_worker = _start_upload_servers(work, names, servers, creds)
        indexing_keys = {key: s[0] for key, s in settings.items() if s[0] in ("on", "ext")}
        log("uploads: generating distinct 64 KiB texts and 2 KB writer texts")
        bodies: dict[str, list[tuple[bytes, str, str]]] = {}
        for key in settings:
            bodies[key] = []
            for n in range(uploads + 5):
                data = gen.long_text(f"upload {key} {n} {uuid.uuid4()}", UPLOAD_BYTES)
                body, ctype = multipart_body(data, f"up-{key}-{n}.txt", "text/plain")
                bodies[key].append((body, ctype, hashlib.sha256(data).hexdigest()))
        writer_texts = [gen.document(f"w{i}")[1] for i in range(200)]
        sids = {key: f"bench-up-{key}-{uuid.uuid4().hex[:8]}" for key in settings}
        sessions = {name: requests.Session() for name in servers}
        latencies: dict[str, list[float]] = {key: [] for key in settings}
        by_round: dict[str, list[list[float]]] = {key: [] for key in settings}
        statuses: dict[str, collections.Counter[str]] = {k: collections.Counter() for k in settings}
        errors: list[str] = []
        writers = {
            key: InlineWriter(
                servers[name],
                creds[name]["organization"],
                creds[name]["workspace"],
                writer_rate,
                writer_texts,
            )
            for key, (name, with_writer, _) in settings.items()
            if with_writer
        }
        tasks_during: dict[str, list[int]] = {key: [] for key in indexing_keys}
        backlog_end: dict[str, list[int]] = {key: [] for key in indexing_keys}
        drains: dict[str, list[float]] = {key: [] for key in indexing_keys}
        sqlite_of = {key: Path(creds[name]["sqlite"]) for key, name in indexing_keys.items()}

        def upload(key: str, index: int, record: bool) -> None:
            name = settings[key][0]
            body, ctype, sha = bodies[key][index]
            headers = {"X-API-Key": creds[name]["api_key"], "Content-Type": ctype}
            url = f"{servers[name].base_url}/api/uploads/{sids[key]}"
            began = time.perf_counter()
            try:
                response = sessions[name].post(url, data=body, headers=headers, timeout=120)
                content = response.content
            except requests.RequestException as error:
                statuses[key]["exception"] += 1
                errors.append(f"{key}: {error!r}"[:300])
                return
            took = time.perf_counter() - began
            if not record:
                return
            statuses[key][str(response.status_code)] += 1
            if response.status_code == 201:
                latencies[key].append(took)
                by_round[key][-1].append(took)
                if index % 50 == 0 and json.loads(content).get("sha256") != sha:
                    errors.append(f"{key} upload {index}: sha256 mismatch")
            elif len(errors) < 20:
                errors.append(f"{key} upload {index}: {response.status_code} {content[:200]!r}")

        def drain(key: str) -> float:
            """Waits (at most 120 s) until the setting's task queue is empty."""
            began = time.monotonic()
            while time.monotonic() - began < 120:
                counts = task_counts(sqlite_of[key])
                if counts.get("READY", 0) + counts.get("RUNNING", 0) == 0:
                    break
                time.sleep(0.2)
            return round(time.monotonic() - began, 2)

        # Warm-up, not counted.
        for key in settings:
            for index in range(uploads, uploads + 5):
                upload(key, index, record=False)
        rounds = math.ceil(uploads / block)
        done = {key: 0 for key in settings}
        keys = list(settings)
        for round_index in range(rounds):
            shift = round_index % len(keys)
            for key in keys[shift:] + keys[:shift]:
                count = min(block, uploads - done[key])
                if count <= 0:
                    continue
                by_round[key].append([])
                writer = writers.get(key)
                before = task_counts(sqlite_of[key]) if key in indexing_keys else {}
                if writer:
                    writer.start()
                time.sleep(1.0)  # every setting: the writer (if any) gets going first
                for index in range(done[key], done[key] + count):
                    upload(key, index, record=True)
                done[key] += count
                if key in indexing_keys:
                    after = task_counts(sqlite_of[key])
                    successful = after.get("SUCCESSFUL", 0) - before.get("SUCCESSFUL", 0)
                    tasks_during[key].append(successful)
                    backlog_end[key].append(after.get("READY", 0) + after.get("RUNNING", 0))
                if writer:
                    writer.stop()
                if key in indexing_keys:
                    drains[key].append(drain(key))
            medians = [
                f"{key} p50 {1000 * statistics.median(by_round[key][-1]):.1f} ms"
                for key in keys
                if by_round[key] and by_round[key][-1]
            ]
            log(f"  round {round_index + 1}/{rounds}: " + ", ".join(medians))
        for http in sessions.values():
            http.close()

        def split_half(key: str) -> float | None:
            even = [t for i, r in enumerate(by_round[key]) for t in r if i % 2 == 0]
            odd = [t for i, r in enumerate(by_round[key]) for t in r if i % 2 == 1]
            if not even or not odd:
                return None
            return statistics.median(odd) / statistics.median(even)

        summary = {key: latency_summary(latencies[key]) for key in settings}
        out = {
            "uploads_per_setting": uploads,
            "block": block,
            "writer_rate_per_s": writer_rate,
            "settings": {key: setting[2] for key, setting in settings.items()},
            "latency": summary,
            "block_medians_ms": {
                key: [round(1000 * statistics.median(r), 1) for r in by_round[key] if r]
                for key in settings
            },
            "statuses": {key: dict(counter) for key, counter in statuses.items()},
            "errors": errors[:20],
            "noise_split_half_p50_ratio": {key: split_half(key) for key in settings},
            "writers": {key: writer.summary() for key, writer in writers.items()},
            "indexing": {
                key: {
                    "tasks_completed_during_blocks": tasks_during[key],
                    "tasks_completed_during_total": sum(tasks_during[key]),
                    "backlog_at_block_end": backlog_end[key],
                    "drain_seconds": drains[key],
                    "tasks_at_end": task_counts(sqlite_of[key]),
                    "index_state_at_end": sqlite_index_state(sqlite_of[key]),
                }
                for key in indexing_keys
            },
            "worker_off": {
                "tasks_at_end": task_counts(Path(creds["off"]["sqlite"])),
                "index_state_at_end": sqlite_index_state(Path(creds["off"]["sqlite"])),
            },
        }
        for top, bottom in (("C", "A"), ("C", "B"), ("D", "B"), ("C", "D")):
            if top in summary and bottom in summary and summary[bottom]["p50_ms"]:
                out[f"ratio_{top}_over_{bottom}"] = {
                    "p50": summary[top]["p50_ms"] / summary[bottom]["p50_ms"],
                    "p99": summary[top]["p99_ms"] / summary[bottom]["p99_ms"],
                }
        return out
    finally:
        stop_process(db_worker, "db_worker (ext)", wait=20)
        for server in servers.values():
            server.stop()
        for name, server in servers.items():
            count, tail = server.log_errors(tail=3000)
            out.setdefault("server_log", {})[name] = {"errors": count, "tail": tail[-1500:]}
