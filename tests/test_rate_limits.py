"""Per-caller rates in front of every /api/ route (issue 14, "Abuse limits"): reads and
writes counted apart per key, the long-poll and uploads included, callers without credentials
per client address, `X-Forwarded-For` believed only behind configured proxies."""

import uuid

import pytest

from config.rate_limits import Rate, client_address
from tests.support import AsgiClient, Tenant, http_scope

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def rates(settings, rate_window):  # type: ignore[no-untyped-def]
    settings.DEPOT_RATE_LIMIT_READS = Rate(3, 60)
    settings.DEPOT_RATE_LIMIT_WRITES = Rate(2, 60)
    settings.DEPOT_RATE_LIMIT_ANONYMOUS = Rate(2, 60)
    return settings


@pytest.mark.parametrize(
    ("value", "expected"),
    [("600/min", Rate(600, 60)), ("10/s", Rate(10, 1)), ("100/5m", Rate(100, 300)), ("", None)],
)
def test_rates_parse(value: str, expected: Rate | None) -> None:
    assert Rate.parse(value, setting="X") == expected


@pytest.mark.parametrize("value", ["600", "lots/min", "0/min", "10/week"])
def test_a_malformed_rate_stops_start_up(value: str) -> None:
    with pytest.raises(ValueError, match="X must look like"):
        Rate.parse(value, setting="X")


def test_reads_past_the_limit_get_a_json_429_with_headers(tenant: Tenant, rates) -> None:  # type: ignore[no-untyped-def]
    client = AsgiClient(tenant.owner_key)
    answers = [client.get("/api/sessions") for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert [a.headers["ratelimit-remaining"] for a in answers] == ["2", "1", "0", "0"]
    assert answers[0].headers["ratelimit-limit"] == "3"
    refused = answers[-1]
    assert refused.json() == {"detail": "Too many requests: try again after Retry-After seconds."}
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    # The long-poll counts as a read of the same key.
    poll = client.get("/api/sessions/s1/artifact-events", params={"wait_seconds": 0})
    assert poll.status_code == 429


def test_writes_have_their_own_budget_and_refusals_read_no_body(tenant: Tenant, rates) -> None:  # type: ignore[no-untyped-def]
    client = AsgiClient(tenant.owner_key)
    uploads = [client.upload(f"/api/uploads/s{n}", b"x") for n in range(3)]
    assert [u.status_code for u in uploads] == [201, 201, 429]
    # Reads are still allowed: a flood of writes does not starve polls, and the other way.
    assert client.get("/api/uploads/s0").status_code == 200
    from attachments.models import Attachment

    assert Attachment.objects.count() == 2


def test_the_search_post_is_a_read(tenant: Tenant, rates) -> None:  # type: ignore[no-untyped-def]
    client = AsgiClient(tenant.owner_key)
    url = "/api/v1/orgs/acme/workspaces/alpha/namespaces/default/artifacts/query"
    for _ in range(2):  # the write budget is 2: these must not use it
        assert client.post(url, json={"query": "x"}).status_code == 200
    assert client.post("/api/sessions", json={}).status_code == 201


def test_each_key_has_its_own_budget(tenant: Tenant, rates) -> None:  # type: ignore[no-untyped-def]
    owner, reader = AsgiClient(tenant.owner_key), AsgiClient(tenant.read_only_key)
    assert [owner.get("/api/sessions").status_code for _ in range(4)][-1] == 429
    assert reader.get("/api/sessions").status_code == 200


def test_callers_without_credentials_are_counted_per_address(tenant: Tenant, rates) -> None:  # type: ignore[no-untyped-def]
    anonymous = AsgiClient()
    answers = [anonymous.get("/api/sessions").status_code for _ in range(3)]
    assert answers == [401, 401, 429]
    bad_key = AsgiClient("dpt_" + uuid.uuid4().hex)
    assert bad_key.get("/api/sessions").status_code == 429  # same address, same budget


def test_no_limit_by_default(tenant: Tenant) -> None:
    client = AsgiClient(tenant.owner_key)
    answers = [client.get("/api/sessions") for _ in range(20)]
    assert {a.status_code for a in answers} == {200}
    assert "ratelimit-limit" not in answers[0].headers


def _scope(peer: str, forwarded: str | None) -> tuple[dict, dict[bytes, bytes]]:
    headers = {b"x-forwarded-for": forwarded.encode()} if forwarded is not None else {}
    return http_scope("GET", "/api/sessions", client=(peer, 1234)), headers


@pytest.mark.parametrize(
    ("proxies", "peer", "forwarded", "expected"),
    [
        (0, "10.0.0.9", "6.6.6.6", "10.0.0.9"),  # no proxy configured: the header is ignored
        (1, "10.0.0.9", "6.6.6.6, 203.0.113.7", "203.0.113.7"),  # the client wrote 6.6.6.6
        (2, "10.0.0.9", "6.6.6.6, 203.0.113.7, 10.0.0.8", "203.0.113.7"),
        (1, "10.0.0.9", None, "10.0.0.9"),
    ],
)
def test_forwarded_addresses_are_believed_only_behind_configured_proxies(
    settings,  # type: ignore[no-untyped-def]
    proxies: int,
    peer: str,
    forwarded: str | None,
    expected: str,
) -> None:
    settings.DEPOT_TRUSTED_PROXIES = proxies
    scope, headers = _scope(peer, forwarded)
    assert client_address(scope, headers) == expected


def test_every_api_operation_documents_429() -> None:
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    missing = [
        f"{method.upper()} {path}"
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if path.startswith("/api/") and "429" not in operation["responses"]
    ]
    assert missing == []
    sample = schema["paths"]["/api/sessions"]["get"]["responses"]["429"]
    assert set(sample["headers"]) >= {"Retry-After", "RateLimit-Remaining"}


def test_while_the_cache_is_down_requests_are_not_counted_but_served(
    tenant: Tenant,
    rates,  # type: ignore[no-untyped-def]
    monkeypatch,  # type: ignore[no-untyped-def]
) -> None:
    from django.core.cache import cache

    async def down(*args: object, **kwargs: object) -> None:
        raise ConnectionError("Redis is gone")

    monkeypatch.setattr(cache, "aadd", down)
    client = AsgiClient(tenant.owner_key)
    answers = [client.get("/api/sessions") for _ in range(5)]  # the read budget is 3
    assert {a.status_code for a in answers} == {200}
    assert "ratelimit-limit" not in answers[0].headers
