"""CORS for browsers on other origins (config/cors.py: django-cors-headers' rules in front of the
request gate). Through the real ASGI application in process: preflights answered without a key,
allowed and refused origins, the headers clients read exposed, and the answers that never
reach Django's middleware (the gate's 401 and 429, a long-poll, a streamed upload) marked too.
tests/test_cors_browser.py does the same from a page in real Chromium."""

from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from config.rate_limits import Rate
from sessions_app.models import Session
from tests.support import AsgiClient, Tenant

pytestmark = pytest.mark.django_db(transaction=True)

ALLOWED = "https://ui.example.test"
REFUSED = "https://evil.example.test"
NEEDED_EXPOSED = {
    "etag",
    "content-disposition",
    "retry-after",
    "ratelimit-limit",
    "ratelimit-remaining",
    "ratelimit-reset",
    "idempotent-replayed",
    "location",
    "upload-offset",
}


@pytest.fixture
def cors(settings: Any) -> Any:
    settings.CORS_ALLOWED_ORIGINS = [ALLOWED]
    return settings


def _preflight(origin: str, method: str = "POST", path: str = "/api/sessions") -> Any:
    return AsgiClient().request(
        "OPTIONS",
        path,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": "x-api-key, content-type, idempotency-key",
        },
    )


def _listed(value: str | None) -> set[str]:
    return {part.strip().lower() for part in (value or "").split(",") if part.strip()}


def test_off_by_default_no_header_is_added(tenant: Tenant) -> None:
    answer = AsgiClient(tenant.owner_key).get("/api/sessions", headers={"Origin": ALLOWED})
    assert answer.status_code == 200
    assert not [h for h in answer.headers if h.lower().startswith("access-control-")]
    assert "origin" not in _listed(answer.headers.get("vary"))


def test_a_preflight_from_an_allowed_origin_is_answered_without_a_key(cors: Any) -> None:
    answer = _preflight(ALLOWED)
    assert answer.status_code == 200
    assert answer.content == b""
    assert answer.headers["access-control-allow-origin"] == ALLOWED
    assert {"x-api-key", "content-type", "idempotency-key", "authorization", "range"} <= _listed(
        answer.headers["access-control-allow-headers"]
    )
    assert {"get", "post", "put", "patch", "delete", "head"} <= _listed(
        answer.headers["access-control-allow-methods"]
    )
    assert answer.headers["access-control-max-age"] == "600"
    assert "access-control-allow-credentials" not in answer.headers
    assert "origin" in _listed(answer.headers["vary"])
    assert Session.objects.count() == 0


def test_a_preflight_from_a_refused_origin_gets_no_grant(cors: Any) -> None:
    answer = _preflight(REFUSED)
    assert "access-control-allow-origin" not in answer.headers
    assert "access-control-allow-headers" not in answer.headers
    # Same scheme and host but another port is another origin.
    assert "access-control-allow-origin" not in _preflight(f"{ALLOWED}:8443").headers


def test_a_cross_origin_request_from_an_allowed_origin_can_read_what_clients_need(
    cors: Any, tenant: Tenant
) -> None:
    client = AsgiClient(tenant.owner_key, headers={"Origin": ALLOWED})
    made = client.post("/api/sessions", json={"session_id": "cors-1"})
    assert made.status_code == 201, made.text
    assert made.headers["access-control-allow-origin"] == ALLOWED
    assert _listed(made.headers["access-control-expose-headers"]) >= NEEDED_EXPOSED
    listed = client.get("/api/sessions")
    assert listed.headers["access-control-allow-origin"] == ALLOWED
    # Django's own Vary (Cookie, for the session middleware) is kept beside Origin.
    assert "origin" in _listed(listed.headers["vary"])


def test_a_refused_origin_is_served_but_its_page_cannot_read_the_answer(
    cors: Any, tenant: Tenant
) -> None:
    answer = AsgiClient(tenant.owner_key).get("/api/sessions", headers={"Origin": REFUSED})
    assert answer.status_code == 200
    assert "access-control-allow-origin" not in answer.headers
    assert "access-control-expose-headers" not in answer.headers
    assert "origin" in _listed(answer.headers["vary"])


def test_paths_outside_the_api_get_no_grant(cors: Any) -> None:
    answer = _preflight(ALLOWED, method="POST", path="/admin/login/")
    assert "access-control-allow-origin" not in answer.headers


def test_answers_that_never_reach_django_are_marked_too(cors: Any, tenant: Tenant) -> None:
    origin = {"Origin": ALLOWED}
    refused = AsgiClient("dpt_" + "0" * 32, headers=origin).get("/api/sessions")
    assert refused.status_code == 401  # the request gate's
    assert refused.headers["access-control-allow-origin"] == ALLOWED
    client = AsgiClient(tenant.owner_key, headers=origin)
    uploaded = client.upload("/api/uploads/cors-2", b"hello", name="a.txt")
    assert uploaded.status_code == 201, uploaded.text  # the streaming upload middleware's
    assert uploaded.headers["access-control-allow-origin"] == ALLOWED
    polled = client.get("/api/sessions/cors-2/artifact-events?after=0&wait_seconds=0")
    assert polled.status_code == 200, polled.text  # a Channels consumer's
    assert polled.headers["access-control-allow-origin"] == ALLOWED
    assert polled.json()["events"]


@pytest.mark.usefixtures("rate_window")
def test_a_rate_limited_answer_can_be_read_with_its_retry_after(cors: Any, tenant: Tenant) -> None:
    cors.DEPOT_RATE_LIMIT_READS = Rate(1, 60)
    client = AsgiClient(tenant.owner_key, headers={"Origin": ALLOWED})
    assert client.get("/api/sessions").status_code == 200
    limited = client.get("/api/sessions")
    assert limited.status_code == 429
    assert limited.headers["access-control-allow-origin"] == ALLOWED
    assert "retry-after" in _listed(limited.headers["access-control-expose-headers"])
    assert int(limited.headers["retry-after"]) > 0


def test_a_malformed_origin_setting_stops_the_checks(settings: Any) -> None:
    settings.CORS_ALLOWED_ORIGINS = ["https://ui.example.test/app"]
    with pytest.raises(SystemCheckError, match="should not have path"):
        call_command("check")


# --- /mcp (agents_mcp/): what a browser MCP client sends and reads ---

MCP_REQUEST_HEADERS = (
    "authorization, x-api-key, content-type, mcp-session-id, mcp-protocol-version, last-event-id"
)


def _mcp_preflight(origin: str, method: str = "POST") -> Any:
    return AsgiClient().request(
        "OPTIONS",
        "/mcp",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": MCP_REQUEST_HEADERS,
        },
    )


@pytest.mark.parametrize("method", ["POST", "GET", "DELETE"])
def test_a_preflight_to_mcp_from_an_allowed_origin_is_answered_without_a_key(
    cors: Any, method: str
) -> None:
    answer = _mcp_preflight(ALLOWED, method)
    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == ALLOWED
    assert _listed(MCP_REQUEST_HEADERS) <= _listed(answer.headers["access-control-allow-headers"])
    assert method.lower() in _listed(answer.headers["access-control-allow-methods"])
    assert "access-control-allow-credentials" not in answer.headers


def test_a_preflight_to_mcp_from_a_refused_origin_gets_no_grant(cors: Any) -> None:
    for origin in (REFUSED, f"{ALLOWED}:8443", "http://ui.example.test"):
        answer = _mcp_preflight(origin)
        assert not [h for h in answer.headers if h.lower().startswith("access-control-")], origin


def test_mcp_answers_let_a_page_read_the_session_id(cors: Any) -> None:
    """The answer to a request without a key (the gate's 401) is marked, and exposes what an
    MCP client reads: `Mcp-Session-Id` (initialize's answer) and `WWW-Authenticate`."""
    answer = AsgiClient().post("/mcp", json={}, headers={"Origin": ALLOWED})
    assert answer.status_code == 401
    assert answer.headers["access-control-allow-origin"] == ALLOWED
    exposed = _listed(answer.headers["access-control-expose-headers"])
    assert {"mcp-session-id", "mcp-protocol-version", "www-authenticate"} <= exposed
    refused = AsgiClient().post("/mcp", json={}, headers={"Origin": REFUSED})
    assert "access-control-allow-origin" not in refused.headers


def test_an_allowed_origin_with_an_explicit_default_port_is_the_same_origin(settings: Any) -> None:
    settings.CORS_ALLOWED_ORIGINS = ["https://ui.example.test:443", "http://plain.example.test:80"]
    for origin in ("https://ui.example.test", "http://plain.example.test"):
        assert _preflight(origin).headers["access-control-allow-origin"] == origin
        assert _mcp_preflight(origin).headers["access-control-allow-origin"] == origin
    for origin in ("http://ui.example.test", "https://plain.example.test"):
        assert "access-control-allow-origin" not in _preflight(origin).headers


def test_whether_cors_is_on_is_read_once_and_again_when_a_cors_setting_changes(
    settings: Any, tenant: Tenant
) -> None:
    """config/cors.py keeps cors_on()'s answer instead of reading the settings on every
    request; a CORS_* change (setting_changed) makes it read them again, both ways."""
    from config import cors as cors_module

    def granted() -> bool:
        answer = AsgiClient(tenant.owner_key).get("/api/sessions", headers={"Origin": ALLOWED})
        assert answer.status_code == 200
        return answer.headers.get("access-control-allow-origin") == ALLOWED

    assert not granted()
    assert cors_module._on is False  # read by the request, and kept
    settings.CORS_ALLOWED_ORIGINS = [ALLOWED]
    assert granted()
    assert cors_module._on is True
    settings.CORS_ALLOWED_ORIGINS = []
    assert not granted()
