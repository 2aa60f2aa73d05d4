"""The log is append-only: deleting a session keeps its history in the namespace feed and
tells the feed's readers which files went with it."""

import pytest
from rest_framework.test import APIClient

from artifacts.models import Artifact
from sessions_app.models import Event, EventKind
from tests.support import AsgiClient

pytestmark = pytest.mark.django_db(transaction=True)

NAMESPACE = "/api/v1/orgs/acme/workspaces/alpha/namespaces/default"
FEED = f"{NAMESPACE}/events"


def _feed(client: AsgiClient, after: int = 0) -> dict:
    response = client.get(FEED, params={"after": after, "wait_seconds": 0, "limit": 200})
    assert response.status_code == 200, response.text
    return response.json()


def test_deleting_a_session_keeps_the_namespace_feed_and_appends_its_deletions(
    asgi_owner: AsgiClient, owner: APIClient
) -> None:
    first = asgi_owner.upload(
        "/api/uploads/doomed", b"# notes\n", name="notes.md", node_id="writer", path="out/notes.md"
    ).json()
    second = asgi_owner.upload("/api/uploads/doomed", b"\x00\x01", name="data.bin").json()
    asgi_owner.upload("/api/uploads/kept", b"stays", name="kept.txt")
    made = owner.post(
        f"{NAMESPACE}/artifacts",
        {"name": "report", "content": "made in the session", "session_id": "doomed"},
        format="json",
    )
    assert made.status_code == 201
    assert owner.post("/api/sessions/doomed/complete").status_code == 200
    before = _feed(asgi_owner)
    assert [event["namespace_sequence"] for event in before["events"]] == [1, 2, 3, 4, 5]

    assert owner.delete("/api/sessions/doomed").status_code == 204

    after = _feed(asgi_owner)
    # Nothing before the delete changed or went missing, its session's events included.
    assert after["events"][: len(before["events"])] == before["events"]
    sequences = [event["namespace_sequence"] for event in after["events"]]
    assert sequences == list(range(1, len(sequences) + 1))
    # One `attachment.deleted` per file that went with the session, in the shape a single
    # delete has; the artifact outlives the session (it only loses its link), so no event.
    deletions = after["events"][len(before["events"]) :]
    assert [(event["kind"], event["change_type"]) for event in deletions] == [
        ("attachment.deleted", "deleted"),
        ("attachment.deleted", "deleted"),
    ]
    assert [event["attachment_id"] for event in deletions] == [
        first["attachment_id"],
        second["attachment_id"],
    ]
    assert {event["session_id"] for event in deletions} == {"doomed"}
    # The session's own log went with it: these are namespace-feed events only.
    assert {event["sequence"] for event in deletions} == {None}
    assert (deletions[0]["name"], deletions[0]["node_id"], deletions[0]["path"]) == (
        "notes.md",
        "writer",
        "out/notes.md",
    )
    assert deletions[0]["hash"] == f"sha256:{first['sha256']}"
    assert deletions[1]["size"] == 2
    # A reader following the feed from where it was gets exactly the deletions.
    assert _feed(asgi_owner, after=before["next_cursor"])["events"] == deletions
    assert Artifact.objects.get(name="report").session_id is None


def test_a_session_of_the_same_id_starts_a_new_log(
    asgi_owner: AsgiClient, owner: APIClient
) -> None:
    """The kept events are unlinked from the deleted row: a new session that reuses the id
    starts at sequence 1 and does not inherit them."""
    asgi_owner.upload("/api/uploads/again", b"old", name="old.txt")
    assert owner.delete("/api/sessions/again").status_code == 204
    asgi_owner.upload("/api/uploads/again", b"new", name="new.txt")
    session_feed = asgi_owner.get(
        "/api/sessions/again/artifact-events", params={"wait_seconds": 0}
    ).json()
    assert [(event["sequence"], event["name"]) for event in session_feed["events"]] == [
        (1, "new.txt")
    ]
    assert list(
        Event.objects.order_by("namespace_sequence").values_list("kind", "session_public_id")
    ) == [
        (EventKind.ATTACHMENT_CREATED, "again"),
        (EventKind.ATTACHMENT_DELETED, "again"),
        (EventKind.ATTACHMENT_CREATED, "again"),
    ]
