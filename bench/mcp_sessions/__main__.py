"""`python -m bench.mcp_sessions`: many MCP sessions on one Depot process (issue 17).

One uvicorn (the embedded default, or with --prod PostgreSQL and Redis), N sessions made
through REST, then N MCP clients of the official SDK (`streamable_http_client` +
`ClientSession`, each with its own HTTP connection pool, as separate agents would have),
each subscribed to its own session. Then one REST upload per session: every client must hear
`notifications/resources/updated` for its session, and the server's resident memory (sampled
from /proc, and the kernel's own peak VmHWM) must stay within the target. The baseline is the
same server idle, after a first MCP call, before the clients connect."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import tempfile
import time
import uuid
import warnings
from pathlib import Path
from typing import Any

import httpx
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from bench.common import log
from bench.common.databases import DEFAULT_PG_ADMIN, database_create, database_drop_logged, pg_url
from bench.common.process import (
    RssWatch,
    UvicornServer,
    bootstrap,
    depot_env,
    exit_on_sigterm,
    status_kib,
)
from bench.common.report import check, fail, finish_run, info, log_check, new_results
from bench.common.stats import latency_summary

TARGET_MIB = 300


def _options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.mcp_sessions", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="20 sessions")
    parser.add_argument("--sessions", type=int, default=None, help="MCP sessions (200)")
    parser.add_argument("--prod", action="store_true", help="PostgreSQL and Redis")
    parser.add_argument("--pg-admin", default=os.environ.get("BENCH_PG_ADMIN", DEFAULT_PG_ADMIN))
    parser.add_argument(
        "--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/6")
    )
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    return parser.parse_args()


class Agent:
    """One MCP client subscribed to one session; notes when its update arrives."""

    def __init__(self, url: str, key: str, session_id: str) -> None:
        self.url, self.key, self.session_id = url, key, session_id
        self.uri = f"depot://sessions/{session_id}"
        self.heard = asyncio.Event()
        self.heard_at = 0.0
        self.ready = asyncio.Event()
        self.done = asyncio.Event()
        self.error: BaseException | None = None

    async def _on_message(self, message: Any) -> None:
        params = getattr(message, "params", None)
        if (
            getattr(message, "method", "") == "notifications/resources/updated"
            and (str(getattr(params, "uri", "")) == self.uri)
            and not self.heard.is_set()
        ):
            self.heard_at = time.monotonic()
            self.heard.set()

    async def run(self) -> None:
        try:
            async with (
                create_mcp_http_client(headers={"X-API-Key": self.key}) as http,
                streamable_http_client(self.url, http_client=http) as (read, write),
                ClientSession(read, write, message_handler=self._on_message) as session,
            ):
                await session.initialize()
                await session.subscribe_resource(self.uri)
                self.ready.set()
                await self.done.wait()
        except BaseException as error:  # reported, not raised: one agent must not stop the rest
            self.error = error
            self.ready.set()


async def _upload(
    http: httpx.AsyncClient, base: str, key: str, session_id: str
) -> tuple[float, float]:
    """Uploads one file; returns when it was sent and when its answer came (the event has
    committed by then; the notification may even arrive before the answer)."""
    started = time.monotonic()
    response = await http.post(
        f"{base}/api/uploads/{session_id}",
        files={"file": ("update.txt", b"an update")},
        headers={"X-API-Key": key},
    )
    response.raise_for_status()
    return started, time.monotonic()


async def _run(server: UvicornServer, count: int) -> dict[str, Any]:
    base, key = server.base_url, server.api_key
    ids = [f"mcp-bench-{number}" for number in range(count)]
    async with httpx.AsyncClient(timeout=60) as http:
        for session_id in ids:
            await _upload(http, base, key, session_id)
        # Off the record: the first MCP session (imports, the session manager's start).
        warm = Agent(f"{base}/mcp", key, ids[0])
        task = asyncio.create_task(warm.run())
        await asyncio.wait_for(warm.ready.wait(), 60)
        warm.done.set()
        await task
        await asyncio.sleep(1)
        idle_kib = status_kib(server.pid, "VmRSS") or 0
        agents = [Agent(f"{base}/mcp", key, session_id) for session_id in ids]
        with RssWatch(server.pid, interval=0.05) as watch:
            started = time.monotonic()
            tasks = [asyncio.create_task(agent.run()) for agent in agents]
            await asyncio.wait_for(asyncio.gather(*(a.ready.wait() for a in agents)), 300)
            connect_seconds = time.monotonic() - started
            connected = [a for a in agents if a.error is None]
            await asyncio.sleep(2)
            subscribed_kib = status_kib(server.pid, "VmRSS") or 0
            semaphore = asyncio.Semaphore(16)
            written: dict[str, tuple[float, float]] = {}

            async def write(agent: Agent) -> None:
                async with semaphore:
                    written[agent.session_id] = await _upload(http, base, key, agent.session_id)

            await asyncio.gather(*(write(agent) for agent in connected))
            deadline = time.monotonic() + 30
            for agent in connected:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(
                        agent.heard.wait(), max(0.1, deadline - time.monotonic())
                    )
            for agent in agents:
                agent.done.set()
            await asyncio.gather(*tasks)
    heard = [a for a in connected if a.heard.is_set()]
    from_answer = [max(0.0, a.heard_at - written[a.session_id][1]) for a in heard]
    from_start = [a.heard_at - written[a.session_id][0] for a in heard]
    uploads = [answered - sent for sent, answered in written.values()]
    errors = [repr(a.error) for a in agents if a.error is not None]
    return {
        "sessions": count,
        "connected": len(connected),
        "heard": len(heard),
        "errors": errors[:5],
        "connect_seconds": round(connect_seconds, 2),
        "idle_rss_mib": round(idle_kib / 1024, 1),
        "subscribed_rss_mib": round(subscribed_kib / 1024, 1),
        "peak_rss_mib": round(watch.peak_kib / 1024, 1),
        "hwm_mib": round((watch.hwm_kib or 0) / 1024, 1),
        "update_after_answer": latency_summary(from_answer),
        "update_after_send": latency_summary(from_start),
        "upload_seconds": latency_summary(uploads),
    }


def _rows(figures: dict[str, Any], log_errors: int) -> list[Any]:
    count = figures["sessions"]
    peak = max(figures["peak_rss_mib"], figures["hwm_mib"])
    latency = figures["update_after_answer"]
    sent = figures["update_after_send"]
    upload = figures["upload_seconds"]
    per_session = (figures["subscribed_rss_mib"] - figures["idle_rss_mib"]) * 1024 / count
    return [
        check(
            "MCP sessions connected and subscribed",
            figures["connected"],
            "",
            figures["connected"] == count,
            target=str(count),
        ),
        check(
            "sessions that heard their update",
            figures["heard"],
            "",
            figures["heard"] == count,
            target=str(count),
        ),
        check(
            "server RSS, peak (sampled or VmHWM)",
            peak,
            "MiB",
            peak <= TARGET_MIB,
            target=f"<= {TARGET_MIB}",
            baseline=f"{figures['idle_rss_mib']} MiB idle",
            ratio=round(peak / figures["idle_rss_mib"], 2) if figures["idle_rss_mib"] else None,
        ),
        info("server RSS with every session subscribed", figures["subscribed_rss_mib"], "MiB"),
        info("RSS per subscribed MCP session", round(per_session, 1), "KiB"),
        info("time to connect and subscribe all", figures["connect_seconds"], "s"),
        info("update after the upload's answer, p50", latency["p50_ms"], "ms"),
        check(
            "update after the upload's answer, p99",
            latency["p99_ms"],
            "ms",
            (latency["p99_ms"] or 0) <= 2000,
            target="<= 2000",
        ),
        info(
            "update after the upload was sent, p50 / p99",
            f"{sent['p50_ms']} / {sent['p99_ms']}",
            "ms",
        ),
        info(
            "the upload itself (16 at a time), p50 / p99",
            f"{upload['p50_ms']} / {upload['p99_ms']}",
            "ms",
        ),
        log_check("server", log_errors),
    ]


def main() -> int:
    exit_on_sigterm()
    # The 2025-11-25 wire (resources/subscribe) is what this measures; the SDK warns that 2026 has
    # subscriptions/listen instead.
    warnings.filterwarnings("ignore", message="resources/subscribe is removed")
    options = _options()
    count = options.sessions or (20 if options.quick else 200)
    work = Path(tempfile.mkdtemp(prefix="bench-mcp-"))
    # Each profile keeps its own latest-<name>.json.
    name = "mcp_sessions_prod" if options.prod else "mcp_sessions"
    results = new_results(name, work, sessions=count, prod=options.prod, fingerprint=True)
    database = f"bench_mcp_{uuid.uuid4().hex[:8]}"
    made_database = False
    server: UvicornServer | None = None
    rows: list[Any] = []
    try:
        settings: dict[str, str] = {"DEPOT_EMBEDDED_WORKER": "0"}
        if options.prod:
            database_create(options.pg_admin, database)
            made_database = True
            settings |= {
                "DATABASE_URL": pg_url(options.pg_admin, database),
                "REDIS_URL": options.redis_url,
            }
        server = UvicornServer("depot", depot_env(work / "depot", **settings), work / "uvicorn.log")
        server.api_key = bootstrap(server.env)["api_key"]
        server.start()
        figures = asyncio.run(_run(server, count))
        log(str(figures))
        results["figures"] = figures
        rows = _rows(figures, server.log_errors()[0])
    except BaseException as error:
        fail(results, error, work)
        if not isinstance(error, Exception):
            raise
    finally:
        if server is not None:
            server.stop()
        if made_database:
            database_drop_logged(options.pg_admin, database)
        finish_run(
            results,
            rows,
            name=name,
            title="MCP sessions on one process (bench.mcp_sessions)",
            suffix="-quick" if options.quick else "",
            latest=not options.quick and options.sessions is None,
            work=work,
            keep=options.keep,
        )
    return 0 if rows and all(row.ok is not False for row in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
