"""Shared fixtures: an organization with two workspaces, an owner key, a read-only key, a key
limited to one workspace, and a stranger organization with its own key (healthchecks-style)."""

import os
from collections.abc import Iterator

import pytest
from django.conf import settings
from django.core.signals import request_started
from django.db import connection
from rest_framework.test import APIClient

from sessions_app import services

# Helpers live in tests/support/; these names stay importable from here for older imports.
from tests.support import (  # noqa: F401
    IN_CI,
    AsgiClient,
    DjangoRequests,
    Stranger,
    Tenant,
    client_with,
    http_scope,
    multipart_body,
    reachable,
    stored_keys,
)


def pytest_sessionstart(session: pytest.Session) -> None:
    """On the production profile in CI, a service that cannot be reached fails the run
    instead of quietly skipping the tests that need it."""
    if not IN_CI:
        return
    missing = []
    if os.environ.get("REDIS_URL") and not reachable(os.environ["REDIS_URL"], 6379):
        missing.append("Redis at REDIS_URL")
    if os.environ.get("DATABASE_URL", "").startswith("postgres") and not reachable(
        os.environ["DATABASE_URL"], 5432
    ):
        missing.append("PostgreSQL at DATABASE_URL")
    s3_endpoint = os.environ.get("S3_ENDPOINT_URL", "")
    if (
        os.environ.get("STORAGE_BACKEND") == "s3"
        and s3_endpoint
        and not reachable(s3_endpoint, 443)
    ):
        missing.append("S3 at S3_ENDPOINT_URL")
    if missing:
        pytest.exit(f"production profile: cannot reach {', '.join(missing)}", returncode=3)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    engine = settings.DATABASES["default"]["ENGINE"]
    for item in items:
        if "postgres" in item.keywords and "postgresql" not in engine:
            item.add_marker(pytest.mark.skip(reason="needs PostgreSQL (production profile)"))
        if "redis" in item.keywords and not settings.REDIS_URL:
            item.add_marker(pytest.mark.skip(reason="needs Redis (production profile)"))
        if "s3" in item.keywords and settings.STORAGE_BACKEND != "s3":
            item.add_marker(pytest.mark.skip(reason="needs S3 storage (production profile)"))


@pytest.fixture
def tenant(db: None) -> Tenant:
    organization = services.organization_create(slug="acme", name="Acme")
    workspace = services.workspace_create(organization=organization, slug="alpha")
    other = services.workspace_create(organization=organization, slug="beta")
    _, owner_key = services.api_key_create(organization=organization, default_workspace=workspace)
    _, read_only_key = services.api_key_create(
        organization=organization, default_workspace=workspace, read_only=True
    )
    _, limited_key = services.api_key_create(
        organization=organization, default_workspace=other, limit_to_workspace=True
    )
    return Tenant(organization, workspace, other, owner_key, read_only_key, limited_key)


@pytest.fixture
def stranger(db: None) -> Stranger:
    organization = services.organization_create(slug="globex", name="Globex")
    workspace = services.workspace_create(organization=organization, slug="alpha")
    _, key = services.api_key_create(organization=organization, default_workspace=workspace)
    return Stranger(organization, workspace, key)


@pytest.fixture
def owner(tenant: Tenant) -> APIClient:
    return client_with(tenant.owner_key)


@pytest.fixture
def reader(tenant: Tenant) -> APIClient:
    return client_with(tenant.read_only_key)


@pytest.fixture
def outsider(stranger: Stranger) -> APIClient:
    return client_with(stranger.key)


@pytest.fixture
def on_postgres() -> bool:
    return connection.vendor == "postgresql"


# --- storage and the ASGI stack ---


@pytest.fixture(scope="session", autouse=True)
def loop_readers_closed(django_db_setup):  # type: ignore[no-untyped-def]
    """The event loop's own database connections (config/loop_reads.py) closed before the
    test databases are dropped (PostgreSQL refuses to drop a database in use)."""
    from config import loop_reads

    yield
    loop_reads.close_all()


@pytest.fixture(autouse=True)
def isolated_storage(settings, tmp_path):  # type: ignore[no-untyped-def]
    """Each test gets its own blob store: a temp folder on local disk, a fresh key prefix in
    the (moto) S3 bucket on the production profile."""
    import uuid

    default = settings.STORAGES["default"]
    if settings.STORAGE_BACKEND == "s3":
        options = {**default["OPTIONS"], "location": f"test-{uuid.uuid4().hex}"}
    else:
        options = {**default["OPTIONS"], "location": str(tmp_path / "storage")}
    settings.STORAGES = {**settings.STORAGES, "default": {**default, "OPTIONS": options}}
    return options["location"]


@pytest.fixture
def asgi_owner(tenant: Tenant) -> AsgiClient:
    return AsgiClient(tenant.owner_key)


@pytest.fixture
def django_requests() -> Iterator[DjangoRequests]:
    """The requests Django's handler takes while the test runs (its `request_started`)."""
    seen = DjangoRequests()
    request_started.connect(seen, weak=False)
    yield seen
    request_started.disconnect(seen)


# Rate windows are fixed and aligned to the clock (config/rate_limits.py: `time // seconds`). A
# test that counts requests up to a 429 within one 60 s window failed when it straddled a
# window's end (CI: a 200 where the 429 was due, tests/test_hostile_session5.py). Such tests
# start at least this long before the window ends.
RATE_WINDOW_MARGIN = 15.0


@pytest.fixture
def rate_window() -> None:
    """Wait, if need be, until the current 60 s rate window has RATE_WINDOW_MARGIN left."""
    import time

    left = 60 - time.time() % 60
    if left < RATE_WINDOW_MARGIN:
        time.sleep(left + 0.05)
