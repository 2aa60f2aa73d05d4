"""Shared fixtures: an organization with two workspaces, an owner key, a read-only key, a key
limited to one workspace, and a stranger organization with its own key (healthchecks-style)."""

import os
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.db import connection
from rest_framework.test import APIClient

from sessions_app import services
from sessions_app.models import Organization, Workspace

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _reachable(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection(
            (parts.hostname or "127.0.0.1", parts.port or default_port), 2
        ):
            return True
    except OSError:
        return False


def pytest_sessionstart(session: pytest.Session) -> None:
    """On the production profile in CI, a service that cannot be reached fails the run
    instead of quietly skipping the tests that need it."""
    if not IN_CI:
        return
    missing = []
    if os.environ.get("REDIS_URL") and not _reachable(os.environ["REDIS_URL"], 6379):
        missing.append("Redis at REDIS_URL")
    if os.environ.get("DATABASE_URL", "").startswith("postgres") and not _reachable(
        os.environ["DATABASE_URL"], 5432
    ):
        missing.append("PostgreSQL at DATABASE_URL")
    s3_endpoint = os.environ.get("S3_ENDPOINT_URL", "")
    if (
        os.environ.get("STORAGE_BACKEND") == "s3"
        and s3_endpoint
        and not _reachable(s3_endpoint, 443)
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


@dataclass
class Tenant:
    organization: Organization
    workspace: Workspace
    other_workspace: Workspace
    owner_key: str
    read_only_key: str
    limited_key: str  # limited to other_workspace


@dataclass
class Stranger:
    organization: Organization
    workspace: Workspace
    key: str


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


def client_with(key: str | None = None, *, bearer: bool = False) -> APIClient:
    client = APIClient()
    if key is not None:
        if bearer:
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
        else:
            client.credentials(HTTP_X_API_KEY=key)
    return client


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


def stored_keys() -> set[str]:
    """Every key in the test's blob store (blobs and temporary uploads)."""
    from attachments import storage

    return {key for key, _ in storage.iter_keys("")}


class AsgiClient:
    """Requests through the real ASGI application (upload middleware included), in process."""

    def __init__(self, key: str | None = None, headers: dict[str, str] | None = None) -> None:
        self.headers = dict(headers or {})
        if key:
            self.headers["X-API-Key"] = key

    def request(self, method: str, path: str, **kwargs):  # type: ignore[no-untyped-def]
        import asyncio

        import httpx

        from config.asgi import application

        headers = {**self.headers, **kwargs.pop("headers", {})}

        async def send() -> httpx.Response:
            transport = httpx.ASGITransport(app=application)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://testserver"
            ) as client:
                return await client.request(method, path, headers=headers, **kwargs)

        return asyncio.run(send())

    def get(self, path: str, **kwargs):  # type: ignore[no-untyped-def]
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs):  # type: ignore[no-untyped-def]
        return self.request("POST", path, **kwargs)

    def delete(self, path: str, **kwargs):  # type: ignore[no-untyped-def]
        return self.request("DELETE", path, **kwargs)

    def upload(  # type: ignore[no-untyped-def]
        self, url: str, content: bytes, name: str = "file.bin", field: str = "file", **fields: str
    ):
        body, content_type = multipart_body(field, name, content, fields)
        return self.post(url, content=body, headers={"Content-Type": content_type})


def multipart_body(
    field: str, file_name: str, content: bytes, fields: dict[str, str] | None = None
) -> tuple[bytes, str]:
    """A hand-built multipart body, so a test controls every byte of the part headers
    (clients such as httpx escape hostile file names before they reach the server)."""
    boundary = "depot-test-boundary-7c1f"
    parts = []
    for name, value in (fields or {}).items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
            + value.encode()
            + b"\r\n"
        )
    # Escaped as browsers and HTTP clients do (HTML5): quotes and line breaks cannot appear raw.
    quoted = (
        file_name.replace("\\", "\\\\")
        .replace('"', '\\"')
        .replace("\r", "%0D")
        .replace("\n", "%0A")
    )
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; '
        f'filename="{quoted}"\r\nContent-Type: application/octet-stream\r\n\r\n'.encode()
        + content
        + b"\r\n"
    )
    return b"".join(
        parts
    ) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


@pytest.fixture
def asgi_owner(tenant: Tenant) -> AsgiClient:
    return AsgiClient(tenant.owner_key)


def http_scope(method: str, path: str, **extra: object) -> dict:
    """An ASGI HTTP scope for driving the application by hand (`extra` adds or overrides
    keys, e.g. headers or query_string)."""
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "server": ("testserver", 80),
        "client": ("127.0.0.1", 5555),
        **extra,
    }
