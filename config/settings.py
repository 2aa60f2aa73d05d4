"""Depot settings: every knob is an environment variable with a safe default.

With no environment at all Depot runs on the embedded default: SQLite and local-disk blobs in
`DEPOT_DATA_DIR`, and the in-memory channel layer. Setting `DATABASE_URL`, `REDIS_URL` and
`STORAGE_BACKEND=s3` selects the production profile. `.env.example` lists every variable.
"""

import secrets
import warnings
from pathlib import Path

from config.env import default_allowed_hosts, env, load_env_file
from config.logs import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent

# Every variable is read through config/env.py: an empty value means the default, a bad one
# stops start-up with a message naming it. A `.env` beside manage.py (or DEPOT_ENV_FILE) is
# read when present, so operators can keep settings in one file; the environment wins.
load_env_file(BASE_DIR)

DATA_DIR = Path(env.str("DEPOT_DATA_DIR", default=str(BASE_DIR / "data"))).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _embedded_secret_key() -> str:
    # The embedded default must start on a fresh machine with nothing configured, yet a
    # hard-coded key would sign every install's sessions alike: keep one per data folder.
    key_file = DATA_DIR / ".secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="") or _embedded_secret_key()
DEBUG = env.bool("DJANGO_DEBUG", default=False)
# Unset: the loopback names, plus this machine's names and addresses when the server binds a
# wildcard address (DEPOT_BIND_HOST, set by `make run` from HOST): config/env.py.
ALLOWED_HOSTS = env.list(
    "DJANGO_ALLOWED_HOSTS",
    default=default_allowed_hosts(env.str("DEPOT_BIND_HOST", default="127.0.0.1")),
)
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
# Origins (besides its own) a WebSocket may come from with the cookie (sessions_app/ws_auth.py)
DEPOT_ALLOWED_ORIGINS = env.list("DEPOT_ALLOWED_ORIGINS", default=[])

# --- CORS: django-cors-headers' rules, applied in front of the request gate (config/cors.py) ---
# Origins (scheme://host[:port]) whose pages may call /api/ and /mcp with a key; empty: CORS off.
# No credentials: a page on another origin sends a key, never Depot's session cookie.
CORS_ALLOWED_ORIGINS = env.list("DEPOT_CORS_ALLOWED_ORIGINS", default=[])
CORS_URLS_REGEX = r"^/(?:api/|mcp/?$)"
CORS_PREFLIGHT_MAX_AGE = env.int("DEPOT_CORS_MAX_AGE", default=600)
CORS_ALLOW_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")
CORS_ALLOW_HEADERS = (
    *("accept", "authorization", "content-type", "user-agent", "x-requested-with"),
    *("x-api-key", "idempotency-key", "range", "if-range", "if-none-match"),
    # tus (artifacts/tus/), as tus-js-client sends them
    *("tus-resumable", "upload-length", "upload-offset", "upload-metadata", "upload-checksum"),
    *("upload-concat", "upload-defer-length", "x-http-method-override"),
    *("mcp-session-id", "mcp-protocol-version", "last-event-id"),  # MCP (agents_mcp/)
)
# What a script may read beyond the CORS-safelisted response headers.
CORS_EXPOSE_HEADERS = (
    *("etag", "content-disposition", "content-range", "accept-ranges", "content-length"),
    *("retry-after", "ratelimit-limit", "ratelimit-remaining", "ratelimit-reset"),
    *("idempotent-replayed", "www-authenticate", "location"),
    *("tus-resumable", "tus-version", "tus-extension", "tus-max-size", "tus-checksum-algorithm"),
    *("upload-offset", "upload-length", "upload-metadata", "upload-expires", "upload-concat"),
    *("upload-defer-length", "mcp-session-id", "mcp-protocol-version"),
)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "corsheaders",  # its system checks of the CORS_* settings; the rules run in config/cors.py
    "storages",
    "django_tasks",
    "django_tasks_db",
    "sessions_app",
    "attachments",
    "artifacts",
    "ops",
    "artifacts.tus",
    "web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "config.static.AsyncWhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database ---
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{DATA_DIR / 'depot.sqlite3'}"),
}
# Requests run their sync work on DEPOT_SYNC_THREADS kept threads (config/threads.py), so a
# SQLite connection lives as long as its thread: opening one per request cost 0.64 ms, and
# closing the last one checkpointed the WAL with fsyncs. PostgreSQL's pool (below) needs 0: the
# pool keeps the connection, Django hands it back at the end of each request.
DEPOT_SYNC_THREADS = env.int("DEPOT_SYNC_THREADS", default=4)
DATABASES["default"]["CONN_MAX_AGE"] = (
    None if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3" else 0
)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            # WAL lets readers (long-polls, downloads) run while one writer commits;
            # IMMEDIATE takes the write lock at BEGIN so two writers never deadlock upgrading.
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
    )
    DATABASES["default"].setdefault("TEST", {})["NAME"] = str(DATA_DIR / "test.sqlite3")
    # Django's sqlite3 backend with one in-process writer queue: a waiting writer is woken when
    # the previous commit ends instead of sleeping in SQLite's busy handler (config/sqlite/).
    DATABASES["default"]["ENGINE"] = "config.sqlite"
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env.bool(
    "DEPOT_DB_POOL", default=True
):
    # Django closes a connection at the end of every request (CONN_MAX_AGE=0 under ASGI); a
    # pool hands it back instead of tearing it down. Reconnecting made an event read 11.6 ms
    # against 1.7 ms on a kept connection here.
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": env.int("DEPOT_DB_POOL_MIN", default=2),
        "max_size": env.int("DEPOT_DB_POOL_MAX", default=20),
        "timeout": env.float("DEPOT_DB_POOL_TIMEOUT", default=30.0),
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Channel layer ---
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL]},
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
# Rate-limit counters must be shared by every process behind the load balancer.
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# --- Storage ---
STORAGE_BACKEND = env.str("STORAGE_BACKEND", default="local", choices=["local", "s3"])
# The S3 endpoint as clients reach it, for presigned URLs (DEPOT_S3_DOWNLOAD=redirect), when it
# is not S3_ENDPOINT_URL (compose's http://minio:9000 is no name a browser resolves). Empty:
# S3_ENDPOINT_URL (or AWS).
S3_PUBLIC_ENDPOINT_URL = env.str("S3_PUBLIC_ENDPOINT_URL", default="")
DEPOT_BLOB_ROOT = Path(env.str("DEPOT_BLOB_ROOT", default=str(DATA_DIR / "blobs")))
if STORAGE_BACKEND == "s3":
    BLOB_STORAGE = {
        "BACKEND": "attachments.s3.SharedS3Storage",
        "OPTIONS": {
            "bucket_name": env.str("S3_BUCKET", default="depot"),
            "region_name": env.str("S3_REGION", default="us-east-1"),
            "endpoint_url": env.str("S3_ENDPOINT_URL", default="") or None,
            "access_key": env.str("S3_ACCESS_KEY_ID", default="") or None,
            "secret_key": env.str("S3_SECRET_ACCESS_KEY", default="") or None,
            "location": env.str("S3_PREFIX", default=""),
            # Keys are content hashes, so an overwrite would only ever rewrite identical bytes;
            # off keeps django-storages from renaming, signing keeps URLs private.
            "file_overwrite": False,
            "querystring_auth": True,
            "default_acl": None,
            "signature_version": "s3v4",
            "addressing_style": env.str(
                "S3_ADDRESSING_STYLE", default="path", choices=["path", "virtual"]
            ),
        },
    }
else:
    BLOB_STORAGE = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(DEPOT_BLOB_ROOT), "base_url": None},
    }
STORAGES = {
    "default": BLOB_STORAGE,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

STATIC_URL = "/static/"
STATIC_ROOT = Path(env.str("DJANGO_STATIC_ROOT", default=str(DATA_DIR / "static")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# Serve admin and API-docs assets straight from the installed apps when collectstatic has not
# run (the embedded default); production images run collectstatic and may turn this off.
WHITENOISE_USE_FINDERS = env.bool("DEPOT_STATIC_USE_FINDERS", default=True)

# --- Auth, i18n ---
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
LOGIN_URL = "/admin/login/"

# --- HTTPS and security (production turns these on; see README) ---
DEPOT_HTTPS = env.bool("DEPOT_HTTPS", default=False)
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=DEPOT_HTTPS)
SESSION_COOKIE_SECURE = env.bool("DJANGO_SESSION_COOKIE_SECURE", default=DEPOT_HTTPS)
CSRF_COOKIE_SECURE = env.bool("DJANGO_CSRF_COOKIE_SECURE", default=DEPOT_HTTPS)
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31536000 if DEPOT_HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool(
    "DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=DEPOT_HTTPS
)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=DEPOT_HTTPS)
if env.bool("DJANGO_TRUST_X_FORWARDED_PROTO", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Any header an HTTP reverse proxy may use for health checks is fine; /healthz needs no HTTPS.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]

# --- Django REST framework and the OpenAPI schema ---
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "sessions_app.auth.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["sessions_app.auth.HasTenantAccess"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "config.exceptions.exception_handler",
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PARSER_CLASSES": [
        "sessions_app.api.common.DepotJSONParser",
        "rest_framework.parsers.MultiPartParser",
        "rest_framework.parsers.FormParser",
    ],
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Depot API",
    "DESCRIPTION": (
        "Files of AI-agent sessions: uploads, versioned artifacts and a replayable event "
        "stream. Authenticate with `X-API-Key: <key>` or `Authorization: Bearer <key>`."
    ),
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "ENUM_NAME_OVERRIDES": {
        "SessionStatusEnum": "sessions_app.models.SessionStatus.choices",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "config.schema.add_gate_behaviour",
        "config.schema.for_generators",
    ],
}

# --- Depot's own knobs (DEPOT_*), in config/depot_settings.py; read after the .env file ---
from config.depot_settings import *  # noqa: E402, F403
from config.depot_settings import (  # noqa: E402 (the ones Django's settings below derive from)
    DEPOT_LOG_FORMAT,
    DEPOT_LOG_LEVEL,
    DEPOT_MAX_BODY_BYTES,
    DEPOT_MAX_FORM_TEXT_BYTES,
)

# Django's own check sits behind the gate's: the url-encoded form the upload middleware hands
# on may be up to three times its text (percent-encoding), and a JSON body up to the cap.
DATA_UPLOAD_MAX_MEMORY_SIZE = max(DEPOT_MAX_BODY_BYTES, 3 * DEPOT_MAX_FORM_TEXT_BYTES) + 65536
LOGGING = logging_config(DEPOT_LOG_LEVEL, DEPOT_LOG_FORMAT)
CSRF_FAILURE_VIEW = "config.views.csrf_failure"

# WhiteNoise serves the (small) admin and API-docs assets with a sync iterator, which Django
# warns about under ASGI. Depot's own downloads stream with async generators.
warnings.filterwarnings(
    "ignore", message="StreamingHttpResponse must consume synchronous iterators", module="django"
)

# --- Background work (text extraction, indexing) ------------------------------------------------
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
# The embedded default's server starts `manage.py db_worker` as its own child process (from the
# ASGI lifespan), so nothing else has to run; production runs `manage.py db_worker` itself.
DEPOT_EMBEDDED_WORKER = env.bool(
    "DEPOT_EMBEDDED_WORKER",
    default=DATABASES["default"]["ENGINE"] == "config.sqlite",
)
