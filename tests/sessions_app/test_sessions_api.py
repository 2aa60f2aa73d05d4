import re

import pytest
from rest_framework.test import APIClient

from sessions_app.models import Event, EventKind, Session
from tests.support import Stranger, Tenant, client_with

pytestmark = pytest.mark.django_db

SESSION_FIELDS = {
    "session_id",
    "status",
    "reference",
    "user_reference",
    "workflow_id",
    "metadata",
    "workspace",
    "namespace",
    "created_at",
    "updated_at",
    "completed_at",
}


def test_create_with_client_id_and_read_back(owner: APIClient) -> None:
    body = {
        "session_id": "run_42-A",
        "reference": "ref-1",
        "user_reference": "user-9",
        "workflow_id": "wf-1",
        "metadata": {"model": "x", "n": 3},
    }
    response = owner.post("/api/sessions", body, format="json")
    assert response.status_code == 201
    created = response.json()
    assert set(created) == SESSION_FIELDS
    assert {key: created[key] for key in body} == body
    assert created["status"] == "active"
    assert created["completed_at"] is None
    assert (created["workspace"], created["namespace"]) == ("alpha", "default")
    assert owner.get("/api/sessions/run_42-A").json() == created


def test_create_without_id_mints_one(owner: APIClient) -> None:
    response = owner.post("/api/sessions", {}, format="json")
    assert response.status_code == 201
    assert re.fullmatch(r"s-[0-9a-f-]{36}", response.json()["session_id"])


def test_duplicate_id_is_409(owner: APIClient) -> None:
    assert owner.post("/api/sessions", {"session_id": "dup"}, format="json").status_code == 201
    response = owner.post("/api/sessions", {"session_id": "dup"}, format="json")
    assert response.status_code == 409
    assert "already exists" in response.json()["detail"]
    assert Session.objects.filter(session_id="dup").count() == 1


def test_same_id_in_two_organizations_is_fine(owner: APIClient, outsider: APIClient) -> None:
    assert owner.post("/api/sessions", {"session_id": "shared"}, format="json").status_code == 201
    assert (
        outsider.post("/api/sessions", {"session_id": "shared"}, format="json").status_code == 201
    )


@pytest.mark.parametrize(
    "bad_id", ["has space", "slash/inside", "dot.dot", "ünïcode", "x" * 129, "", "semi;colon"]
)
def test_bad_session_id_in_body_is_422(owner: APIClient, bad_id: str) -> None:
    response = owner.post("/api/sessions", {"session_id": bad_id}, format="json")
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert isinstance(detail, list) and detail
    assert detail[0]["loc"] == ["body", "session_id"]
    assert isinstance(detail[0]["msg"], str) and isinstance(detail[0]["type"], str)
    assert not Session.objects.exists()


@pytest.mark.parametrize("bad_id", ["has%20space", "dot.dot", "x" * 129, "semi;colon"])
def test_bad_session_id_in_path_is_422(owner: APIClient, bad_id: str) -> None:
    response = owner.get(f"/api/sessions/{bad_id}")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["path", "session_id"]


def test_128_character_id_is_accepted(owner: APIClient) -> None:
    session_id = "a" * 128
    assert owner.post("/api/sessions", {"session_id": session_id}, format="json").status_code == 201
    assert owner.get(f"/api/sessions/{session_id}").status_code == 200


def test_unknown_and_invalid_fields_are_reported_together(owner: APIClient) -> None:
    response = owner.post("/api/sessions", {"session_id": "bad id", "colour": "red"}, format="json")
    assert response.status_code == 422
    locs = {tuple(item["loc"]): item["type"] for item in response.json()["detail"]}
    assert locs[("body", "colour")] == "extra_forbidden"
    assert ("body", "session_id") in locs


def test_null_characters_are_422_not_a_database_error(owner: APIClient) -> None:
    for body in (
        {"reference": "a\x00b"},
        {"metadata": {"k": "a\x00b"}},
        {"metadata": {"a\x00": 1}},
    ):
        response = owner.post("/api/sessions", body, format="json")
        assert response.status_code == 422, body
    assert not Session.objects.exists()


def test_wrong_types_are_422(owner: APIClient) -> None:
    response = owner.post("/api/sessions", {"metadata": "not-a-dict"}, format="json")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "metadata"]


def test_unknown_session_is_404(owner: APIClient) -> None:
    response = owner.get("/api/sessions/never-made")
    assert response.status_code == 404
    assert response.json() == {"detail": "Session 'never-made' not found."}


def test_patch_changes_only_given_fields(owner: APIClient) -> None:
    owner.post("/api/sessions", {"session_id": "p", "reference": "r0"}, format="json")
    response = owner.patch(
        "/api/sessions/p", {"workflow_id": "wf-2", "metadata": {"a": 1}}, format="json"
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["reference"], body["workflow_id"], body["metadata"]) == ("r0", "wf-2", {"a": 1})


def test_patch_cannot_set_status(owner: APIClient) -> None:
    owner.post("/api/sessions", {"session_id": "p"}, format="json")
    response = owner.patch("/api/sessions/p", {"status": "completed"}, format="json")
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "extra_forbidden"
    assert Session.objects.get(session_id="p").status == "active"


def test_complete_records_one_event_and_is_idempotent(owner: APIClient) -> None:
    owner.post("/api/sessions", {"session_id": "c"}, format="json")
    first = owner.post("/api/sessions/c/complete")
    assert first.status_code == 200
    assert first.json()["status"] == "completed"
    assert first.json()["completed_at"] is not None
    second = owner.post("/api/sessions/c/complete", {"status": "failed"}, format="json")
    assert second.status_code == 200
    assert second.json()["status"] == "completed"
    events = list(Event.objects.filter(session__session_id="c"))
    assert [(e.sequence, e.kind, e.change_type) for e in events] == [
        (1, EventKind.SESSION_COMPLETED, "updated")
    ]
    assert events[0].event_id.startswith("evt_")


def test_complete_as_failed(owner: APIClient) -> None:
    owner.post("/api/sessions", {"session_id": "f"}, format="json")
    response = owner.post("/api/sessions/f/complete", {"status": "failed"}, format="json")
    assert response.json()["status"] == "failed"
    bad = owner.post("/api/sessions/f/complete", {"status": "active"}, format="json")
    assert bad.status_code == 422


def test_delete_is_204_then_404(owner: APIClient) -> None:
    owner.post("/api/sessions", {"session_id": "d"}, format="json")
    assert owner.delete("/api/sessions/d").status_code == 204
    assert owner.get("/api/sessions/d").status_code == 404
    assert not Session.objects.filter(session_id="d").exists()


def test_list_filters(owner: APIClient) -> None:
    owner.post("/api/sessions", {"session_id": "a", "workflow_id": "wf"}, format="json")
    owner.post("/api/sessions", {"session_id": "b"}, format="json")
    owner.post("/api/sessions/a/complete")
    by_status = owner.get("/api/sessions", {"status": "completed"}).json()["sessions"]
    assert [s["session_id"] for s in by_status] == ["a"]
    by_workflow = owner.get("/api/sessions", {"workflow_id": "wf"}).json()["sessions"]
    assert [s["session_id"] for s in by_workflow] == ["a"]
    bad = owner.get("/api/sessions", {"status": "sleeping"})
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"] == ["query", "status"]


def test_cursor_pages_walk_everything_once_newest_first(owner: APIClient) -> None:
    made = [f"s{index:03d}" for index in range(23)]
    for session_id in made:
        owner.post("/api/sessions", {"session_id": session_id}, format="json")
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params = {"limit": 5, **({"cursor": cursor} if cursor else {})}
        page = owner.get("/api/sessions", params).json()
        seen += [s["session_id"] for s in page["sessions"]]
        pages += 1
        # A session created mid-walk is newer than the cursor, so it never shows up.
        if pages == 2:
            owner.post("/api/sessions", {"session_id": "late"}, format="json")
        if not page["has_more"]:
            assert page["next_cursor"] is None
            break
        cursor = page["next_cursor"]
    assert seen == list(reversed(made))
    assert pages == 5


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 201}, {"cursor": "!!!"}, {"x": 1}])
def test_bad_page_parameters_are_422(owner: APIClient, params: dict) -> None:
    response = owner.get("/api/sessions", params)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][0] == "query"


CROSS_TENANT_ROUTES = [
    ("get", "/api/sessions/theirs", None),
    ("patch", "/api/sessions/theirs", {"reference": "x"}),
    ("delete", "/api/sessions/theirs", None),
    ("post", "/api/sessions/theirs/complete", None),
]


@pytest.mark.parametrize(("method", "path", "body"), CROSS_TENANT_ROUTES)
def test_another_tenants_session_is_404(
    stranger: Stranger, tenant: Tenant, method: str, path: str, body: dict | None
) -> None:
    client_with(stranger.key).post("/api/sessions", {"session_id": "theirs"}, format="json")
    response = getattr(client_with(tenant.owner_key), method)(path, body, format="json")
    assert response.status_code == 404
    assert response.json() == {"detail": "Session 'theirs' not found."}
    theirs = Session.objects.get(session_id="theirs")
    assert theirs.status == "active" and theirs.reference == ""


def test_list_shows_only_own_organization(owner: APIClient, outsider: APIClient) -> None:
    outsider.post("/api/sessions", {"session_id": "theirs"}, format="json")
    owner.post("/api/sessions", {"session_id": "mine"}, format="json")
    assert [s["session_id"] for s in owner.get("/api/sessions").json()["sessions"]] == ["mine"]


def test_query_counts_are_pinned(owner: APIClient, django_assert_num_queries: object) -> None:
    for index in range(5):
        owner.post("/api/sessions", {"session_id": f"q{index}"}, format="json")
    # 1 key lookup + 1 sessions page (namespace and workspace joined in).
    with django_assert_num_queries(2):  # type: ignore[operator]
        assert len(owner.get("/api/sessions").json()["sessions"]) == 5
    with django_assert_num_queries(2):  # type: ignore[operator]
        assert owner.get("/api/sessions/q3").status_code == 200
