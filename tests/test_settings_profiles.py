"""Each profile is chosen by the environment alone: run Django in a fresh process per profile."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
import json, django
from django.conf import settings
django.setup()
from django.core.files.storage import default_storage
from channels.layers import get_channel_layer
print(json.dumps({
    "engine": settings.DATABASES["default"]["ENGINE"],
    "db_name": str(settings.DATABASES["default"]["NAME"]),
    "conn_max_age": settings.DATABASES["default"]["CONN_MAX_AGE"],
    "storage": type(default_storage._wrapped if hasattr(default_storage, "_wrapped") and
                    default_storage._wrapped is not None else default_storage).__name__,
    "storage_class": settings.STORAGES["default"]["BACKEND"],
    "bucket": settings.STORAGES["default"].get("OPTIONS", {}).get("bucket_name"),
    "endpoint": settings.STORAGES["default"].get("OPTIONS", {}).get("endpoint_url"),
    "layer": type(get_channel_layer()).__name__,
}))
"""

PROFILE_VARIABLES = (
    "DATABASE_URL",
    "REDIS_URL",
    "STORAGE_BACKEND",
    "S3_BUCKET",
    "S3_ENDPOINT_URL",
    "DJANGO_SECRET_KEY",
    "DEPOT_HTTPS",
)


def _clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in PROFILE_VARIABLES}
    env.update({"DEPOT_DATA_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "config.settings"})
    env.update(extra)
    return env


def _probe(env: dict[str, str]) -> dict[str, object]:
    result = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, cwd=ROOT, capture_output=True, text=True, check=True
    )
    return json.loads(result.stdout)


def test_embedded_default_needs_no_service(tmp_path: Path) -> None:
    found = _probe(_clean_env(tmp_path))
    # Django's sqlite3 backend with an in-process writer queue (config/sqlite/).
    assert found["engine"] == "config.sqlite"
    assert found["db_name"] == str(tmp_path / "depot.sqlite3")
    assert found["storage_class"] == "django.core.files.storage.FileSystemStorage"
    assert found["layer"] == "InMemoryChannelLayer"
    # Kept for the life of the request threads (config/threads.py), never per request.
    assert found["conn_max_age"] is None
    # The embedded default invents and keeps its own secret key.
    assert len((tmp_path / ".secret_key").read_text()) >= 50


def test_production_profile_from_environment(tmp_path: Path) -> None:
    found = _probe(
        _clean_env(
            tmp_path,
            DATABASE_URL="postgres://depot:pw@db.internal:5432/depot",
            REDIS_URL="redis://cache.internal:6379/0",
            STORAGE_BACKEND="s3",
            S3_BUCKET="depot-prod",
            S3_ENDPOINT_URL="http://minio:9000",
        )
    )
    assert found["engine"] == "django.db.backends.postgresql"
    assert found["db_name"] == "depot"
    assert found["storage_class"] == "attachments.s3.SharedS3Storage"
    assert (found["bucket"], found["endpoint"]) == ("depot-prod", "http://minio:9000")
    assert found["layer"] == "RedisPubSubChannelLayer"
    assert found["conn_max_age"] == 0


def test_unknown_storage_backend_is_refused(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        env=_clean_env(tmp_path, STORAGE_BACKEND="ftp"),
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "STORAGE_BACKEND must be 'local' or 's3'" in result.stderr


def test_check_deploy_passes_with_production_settings(tmp_path: Path) -> None:
    env = _clean_env(
        tmp_path,
        DATABASE_URL="postgres://depot:pw@db.internal:5432/depot",
        REDIS_URL="redis://cache.internal:6379/0",
        STORAGE_BACKEND="s3",
        DJANGO_SECRET_KEY="k" * 20 + "-production-secret-that-is-long-and-random-9f8e7d6c",
        DJANGO_ALLOWED_HOSTS="depot.example.com",
        DEPOT_HTTPS="1",
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr + result.stdout


def test_check_deploy_flags_the_embedded_default(tmp_path: Path) -> None:
    # The same check fails on the plain-HTTP embedded default, so the test above means something.
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env=_clean_env(tmp_path),
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "SECURE_HSTS_SECONDS" in result.stderr + result.stdout


@pytest.mark.parametrize("variable", ["DEPOT_MAX_UPLOAD_BYTES", "DEPOT_DATA_URI_MAX_BYTES"])
def test_numeric_knobs_are_read(tmp_path: Path, variable: str) -> None:
    code = f"import django; from django.conf import settings; print(settings.{variable})"
    result = subprocess.run(
        [sys.executable, "-c", code],
        env=_clean_env(tmp_path, **{variable: "12345"}),
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == "12345"


@pytest.mark.django_db
def test_this_run_uses_the_profile_its_environment_names() -> None:
    """Guards CI: the production run must really talk to PostgreSQL, Redis and S3."""
    from channels.layers import get_channel_layer
    from django.core.files.storage import default_storage
    from django.db import connection

    production = os.environ.get("DATABASE_URL", "").startswith("postgres")
    assert connection.vendor == ("postgresql" if production else "sqlite")
    layer = type(get_channel_layer()).__name__
    assert layer == (
        "RedisPubSubChannelLayer" if os.environ.get("REDIS_URL") else "InMemoryChannelLayer"
    )
    default_storage.exists("probe")  # materialises the lazy storage object
    storage = type(default_storage._wrapped).__name__
    expected = (
        "SharedS3Storage" if os.environ.get("STORAGE_BACKEND") == "s3" else "FileSystemStorage"
    )
    assert storage == expected


def test_every_environment_variable_is_documented() -> None:
    """Keeps `.env.example` and the README true to what the settings read."""
    import re

    names = set(
        re.findall(
            r'env\.(?:str|bool|int|float|list|db_url)\(\s*"([A-Z0-9_]+)"',
            "".join(
                (ROOT / "config" / name).read_text()
                for name in ("settings.py", "depot_settings.py")
            ),
        )
    )
    assert {
        "DATABASE_URL",
        "REDIS_URL",
        "STORAGE_BACKEND",
        "S3_BUCKET",
        "DEPOT_EMBEDDED_WORKER",
    } <= names
    example = (ROOT / ".env.example").read_text()
    readme = (ROOT / "README.md").read_text()
    assert sorted(name for name in names if f"{name}=" not in example) == []
    assert sorted(name for name in names if f"`{name}`" not in readme) == []


@pytest.mark.parametrize(
    ("database_url", "expected"),
    [(None, "True"), ("sqlite:////tmp/x.sqlite3", "True"), ("postgres://u@h:5432/d", "False")],
)
def test_the_embedded_worker_follows_the_database_engine(
    tmp_path: Path, database_url: str | None, expected: str
) -> None:
    extra = {"DATABASE_URL": database_url} if database_url else {}
    code = "from django.conf import settings; print(settings.DEPOT_EMBEDDED_WORKER)"
    result = subprocess.run(
        [sys.executable, "-c", code],
        env=_clean_env(tmp_path, **extra),
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == expected


@pytest.mark.s3
def test_s3_storage_keeps_one_connection_per_process() -> None:
    """A new boto3 session and resource per request thread cost 93-288 ms of CPU and ~6 MiB
    each (the sustained-load benchmark); every thread must share the first."""
    import threading

    from django.core.files.storage import default_storage

    default_storage.exists("probe")
    first = default_storage.connection
    seen: list[object] = []
    threads = [
        threading.Thread(target=lambda: seen.append(default_storage.connection)) for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(connection is first for connection in seen) and len(seen) == 4
