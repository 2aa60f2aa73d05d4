"""A hostile client against what landed for issue 11 (per-request cost): the seed-002 PUT's one
read and its new-version path (artifacts/hot_reads.py, artifacts/locks.py), the namespace's
`artifact_count` behind the list's `total`, the prepared reads, fire-and-forget event
wake-ups, the access log and the thread binding. In process, through the real ASGI
application where it matters (either profile); the races on PostgreSQL with real threads.

Every answer to bad input or a lost race is a JSON 4xx (never a 500) that leaves nothing
behind, the counter always equals a real count, and version numbers never repeat."""

import json
import threading
from collections.abc import Callable
from typing import Any

import pytest

from artifacts import selectors as artifact_selectors
from artifacts import services as artifact_services
from artifacts.models import Artifact
from sessions_app.models import Event, EventKind, Namespace
from tests.support import AsgiClient, Tenant, multipart_body

pytestmark = pytest.mark.django_db(transaction=True)
NS = "/api/v1/orgs/acme/workspaces/alpha/namespaces/default"


def _namespace(tenant: Tenant, slug: str = "default") -> Namespace:
    return Namespace.objects.get(workspace=tenant.workspace, slug=slug)


def _json_4xx(response: Any, status: int | None = None) -> None:
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:300])
    if status is not None:
        assert response.status_code == status, (response.status_code, response.text[:300])
    assert response.headers["content-type"].startswith("application/json"), response.headers
    assert "detail" in response.json()


def _created(client: AsgiClient, path: str = NS, **body: Any) -> str:
    response = client.post(f"{path}/artifacts", json={"name": "Plan", "content": "v1", **body})
    assert response.status_code == 201, response.text
    return response.json()["artifact_id"]


def _real_count(namespace: Namespace) -> int:
    return Artifact.objects.filter(namespace=namespace, is_latest=True).count()


def _counter(namespace: Namespace) -> int:
    namespace.refresh_from_db(fields=["artifact_count"])
    return namespace.artifact_count


def _put(client: AsgiClient, artifact_id: str, body: Any, path: str = NS) -> Any:
    return client.request(
        "PUT",
        f"{path}/artifacts/{artifact_id}",
        content=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )


# --- a delete that lands between a write's read and its lock ---


def _deleted_after(
    monkeypatch: pytest.MonkeyPatch, module: Any, name: str, tenant: Tenant
) -> list[str]:
    """Make `module.name` (a read a view makes before its write) delete the artifact it read
    right after reading it, as a concurrent DELETE that commits in between would."""
    original = getattr(module, name)
    gone: list[str] = []

    def read_then_deleted(*args: Any, **kwargs: Any) -> Any:
        found = original(*args, **kwargs)
        if found is not None and not gone:
            artifact_services.artifact_delete(artifact=found)
            gone.append(found.artifact_id)
        return found

    monkeypatch.setattr(module, name, read_then_deleted)
    return gone


def _only_the_delete_left(tenant: Tenant, artifact_id: str) -> None:
    namespace = _namespace(tenant)
    assert not Artifact.objects.filter(namespace=namespace).exists()
    assert _counter(namespace) == 0 == _real_count(namespace)
    kinds = list(Event.objects.order_by("id").values_list("kind", flat=True))
    assert kinds == [EventKind.ARTIFACT_CREATED, EventKind.ARTIFACT_DELETED], kinds
    assert Event.objects.filter(artifact_id=artifact_id).exists()


WRITES: dict[str, tuple[str, Callable[[AsgiClient, str], Any]]] = {
    "seed-002 PUT, new content (the one read)": (
        "artifact_latest_in_namespace",
        lambda client, aid: _put(client, aid, {"content": "v2"}),
    ),
    "seed-002 PUT, fields only": (
        "artifact_latest_in_namespace",
        lambda client, aid: _put(client, aid, {"name": "Renamed"}),
    ),
    "seed-002 PUT, a later version's id": (
        "artifact_get",
        lambda client, aid: _put(client, aid, {"content": "v3"}),
    ),
    "seed-002 DELETE": (
        "artifact_get",
        lambda client, aid: client.delete(f"{NS}/artifacts/{aid}"),
    ),
    "seed-002 promote": (
        "artifact_get",
        lambda client, aid: client.post(f"{NS}/artifacts/{aid}/promote", json={}),
    ),
    "seed-001 upload (a new version)": (
        "artifact_get",
        lambda client, aid: client.upload(f"/api/artifacts/{aid}/upload", b"new bytes", "n.txt"),
    ),
}


@pytest.mark.parametrize("write", list(WRITES), ids=list(WRITES))
def test_a_delete_between_a_writes_read_and_its_lock_is_a_404(
    tenant: Tenant, monkeypatch: pytest.MonkeyPatch, write: str
) -> None:
    """The view reads the artifact before the write's transaction; a DELETE that commits
    meanwhile left the write's root lock (`artifact_root_for_update`, `artifact_root_lock`)
    raising Artifact.DoesNotExist, a 500. It is a 404 now, and nothing of the write stays."""
    client = AsgiClient(tenant.owner_key)
    artifact_id = _created(client)
    target = artifact_id
    if "later version" in write:
        second = _put(client, artifact_id, {"content": "v2"})
        target = second.json()["artifact_id"]
        Event.objects.filter(kind=EventKind.ARTIFACT_VERSION_CREATED).delete()
    read_name, send = WRITES[write]
    gone = _deleted_after(monkeypatch, artifact_selectors, read_name, tenant)
    response = send(client, target)
    assert gone, "the read never ran"
    _json_4xx(response, 404)
    _only_the_delete_left(tenant, artifact_id)


# --- bodies that are JSON but not an object ---


@pytest.mark.parametrize(
    "body",
    [[1, 2], "content", 7, None, [["content", "from a list"], ["name", "pairs"]]],
    ids=["list", "string", "number", "null", "list-of-pairs"],
)
def test_a_put_body_that_is_not_an_object_is_a_422(tenant: Tenant, body: Any) -> None:
    """`dict(request.data)` made a list or a string a 500, and a list of pairs a valid body
    (a new version from `[["content", "x"]]`)."""
    client = AsgiClient(tenant.owner_key)
    artifact_id = _created(client)
    response = _put(client, artifact_id, body)
    _json_4xx(response, 422)
    assert Artifact.objects.filter(root__artifact_id=artifact_id).count() == 1
    assert Event.objects.filter(artifact_id=artifact_id).count() == 1


# --- races on PostgreSQL with real threads ---


def _in_threads(count: int, send: Callable[[int], Any]) -> list[Any]:
    barrier = threading.Barrier(count)
    answers: list[Any] = [None] * count
    errors: list[BaseException] = []

    def run(number: int) -> None:
        try:
            barrier.wait(timeout=60)
            answers[number] = send(number)
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=run, args=(number,)) for number in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not errors, errors[:3]
    return answers


@pytest.mark.postgres
def test_concurrent_puts_make_distinct_versions_and_one_latest(tenant: Tenant) -> None:
    client = AsgiClient(tenant.owner_key)
    artifact_id = _created(client)
    answers = _in_threads(12, lambda number: _put(client, artifact_id, {"content": f"c{number}"}))
    bad = [(r.status_code, r.text[:200]) for r in answers if r.status_code != 200]
    assert not bad, bad
    numbers = sorted(r.json()["version"] for r in answers)
    assert numbers == list(range(2, 14))
    versions = Artifact.objects.filter(root__artifact_id=artifact_id)
    assert versions.count() == 13
    assert versions.filter(is_latest=True).count() == 1
    latest = versions.get(is_latest=True)
    assert latest.version == 13
    # Every replaced version says which version replaced it: the one after it.
    for row in versions.filter(is_latest=False):
        assert row.replaced_by_version == row.version + 1, (row.version, row.replaced_by_version)
    made = Event.objects.filter(kind=EventKind.ARTIFACT_VERSION_CREATED)
    assert made.count() == 12
    assert _counter(_namespace(tenant)) == 1


@pytest.mark.postgres
def test_concurrent_puts_and_deletes_of_one_artifact_are_never_a_500(tenant: Tenant) -> None:
    client = AsgiClient(tenant.owner_key)
    artifact_id = _created(client)

    def send(number: int) -> Any:
        if number % 3 == 0:
            return client.delete(f"{NS}/artifacts/{artifact_id}")
        if number % 3 == 1:
            return _put(client, artifact_id, {"content": f"c{number}"})
        return _put(client, artifact_id, {"name": f"n{number}"})

    answers = _in_threads(9, send)
    statuses = [r.status_code for r in answers]
    odd = [(r.status_code, r.text[:300]) for r in answers if r.status_code not in (200, 204, 404)]
    assert not odd, odd
    assert statuses.count(204) == 1, statuses
    namespace = _namespace(tenant)
    assert not Artifact.objects.filter(namespace=namespace).exists()
    assert _counter(namespace) == 0


@pytest.mark.postgres
def test_concurrent_creates_and_deletes_keep_the_counter_a_real_count(tenant: Tenant) -> None:
    client = AsgiClient(tenant.owner_key)
    first = [_created(client, name=f"old-{number}") for number in range(8)]

    def send(number: int) -> Any:
        if number < 8:
            return client.delete(f"{NS}/artifacts/{first[number]}")
        if number < 16:
            return client.post(f"{NS}/artifacts", json={"name": f"new-{number}", "content": "x"})
        body, content_type = multipart_body("file", f"f{number}.txt", b"same bytes", {})
        return client.post(
            f"{NS}/artifacts/upload", content=body, headers={"Content-Type": content_type}
        )

    answers = _in_threads(24, send)
    assert sorted({r.status_code for r in answers}) == [201, 204], [
        (r.status_code, r.text[:200]) for r in answers if r.status_code >= 300
    ]
    namespace = _namespace(tenant)
    assert _counter(namespace) == _real_count(namespace) == 16
    listed = client.get(f"{NS}/artifacts?limit=1").json()
    assert listed["total"] == 16


READS = {
    "seed-002 GET": lambda client, aid: client.get(f"{NS}/artifacts/{aid}"),
    "seed-002 DELETE": lambda client, aid: client.delete(f"{NS}/artifacts/{aid}"),
    "seed-002 PUT of a later version's id": lambda client, aid: _put(client, aid, {"content": "x"}),
    "seed-001 GET": lambda client, aid: client.get(f"/api/artifacts/{aid}"),
}


@pytest.mark.parametrize("read", list(READS), ids=list(READS))
@pytest.mark.parametrize("which", ["root id", "later version id"])
def test_a_delete_between_the_two_reads_of_an_id_is_a_404(
    tenant: Tenant, monkeypatch: pytest.MonkeyPatch, read: str, which: str
) -> None:
    """`artifact_get` finds the id's row, then reads the version with its related rows: a
    DELETE committing between the two made the second read's `.get()` raise
    Artifact.DoesNotExist, a 500 (seen on PostgreSQL with a PUT and a DELETE racing)."""
    client = AsgiClient(tenant.owner_key)
    artifact_id = _created(client)
    target = artifact_id
    if which == "later version id":
        target = _put(client, artifact_id, {"content": "v2"}).json()["artifact_id"]
    if which == "root id" and "PUT" in read:
        pytest.skip("a root id's PUT takes the one read (the test above)")
    original = artifact_selectors.with_list_related

    def deleted_first(queryset: Any) -> Any:
        monkeypatch.setattr(artifact_selectors, "with_list_related", original)
        root = Artifact.objects.get(artifact_id=artifact_id)
        artifact_services.artifact_delete(artifact=root)
        return original(queryset)

    monkeypatch.setattr(artifact_selectors, "with_list_related", deleted_first)
    response = READS[read](client, target)
    _json_4xx(response, 404)
    assert not Artifact.objects.exists()
    assert _counter(_namespace(tenant)) == 0


# --- an upload deleted twice at once: the session's file counter and the blob ---


def _upload(client: AsgiClient, session_id: str, content: bytes, name: str = "a.txt") -> str:
    response = client.upload(f"/api/uploads/{session_id}", content, name=name)
    assert response.status_code == 201, response.text
    return response.json()["attachment_id"]


def test_an_upload_deleted_by_two_requests_at_once_counts_once(
    tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The DELETE reads the attachment, then `attachment_delete` locks the session and deletes
    the row. A second DELETE of the same file that read it before the first committed went
    on with a row that was gone: `attachment.delete()` deleted nothing, yet the session's
    `file_count` went down again, a second `attachment.deleted` event and audit row were
    written, and it answered 204. Now it is a 404 that changes nothing."""
    from attachments import selectors as attachment_selectors
    from attachments import services as attachment_services
    from attachments.models import Attachment
    from sessions_app.models import Session

    client = AsgiClient(tenant.owner_key)
    session_id = "twice-deleted"
    kept = _upload(client, session_id, b"kept")
    doomed = _upload(client, session_id, b"doomed")
    original = attachment_selectors.attachment_get

    def read_then_deleted_by_another(*args: Any, **kwargs: Any) -> Any:
        found = original(*args, **kwargs)
        monkeypatch.setattr(attachment_selectors, "attachment_get", original)
        attachment_services.attachment_delete(attachment=original(*args, **kwargs))
        return found

    monkeypatch.setattr(attachment_selectors, "attachment_get", read_then_deleted_by_another)
    response = client.delete(f"/api/uploads/{session_id}/{doomed}")
    _json_4xx(response, 404)
    session = Session.objects.get(session_id=session_id)
    assert session.file_count == Attachment.objects.filter(session=session).count() == 1
    deleted = Event.objects.filter(kind=EventKind.ATTACHMENT_DELETED)
    assert deleted.count() == 1
    listed = client.get(f"/api/uploads/{session_id}").json()["attachments"]
    assert [item["attachment_id"] for item in listed] == [kept]


@pytest.mark.postgres
def test_concurrent_deletes_of_one_upload_leave_the_file_counter_right(tenant: Tenant) -> None:
    from attachments.models import Attachment
    from sessions_app.models import Session

    client = AsgiClient(tenant.owner_key)
    session_id = "racing-deletes"
    _upload(client, session_id, b"kept")
    doomed = _upload(client, session_id, b"doomed")
    answers = _in_threads(6, lambda number: client.delete(f"/api/uploads/{session_id}/{doomed}"))
    statuses = sorted(r.status_code for r in answers)
    assert statuses == [204, 404, 404, 404, 404, 404], [
        (r.status_code, r.text[:200]) for r in answers
    ]
    session = Session.objects.get(session_id=session_id)
    assert session.file_count == Attachment.objects.filter(session=session).count() == 1
    assert Event.objects.filter(kind=EventKind.ATTACHMENT_DELETED).count() == 1


# --- a session deleted between a request's read and its write ---

SESSION_WRITES = {
    "PATCH": lambda client, sid: client.request(
        "PATCH", f"/api/sessions/{sid}", json={"reference": "changed"}
    ),
    "complete": lambda client, sid: client.post(f"/api/sessions/{sid}/complete", json={}),
    "DELETE": lambda client, sid: client.delete(f"/api/sessions/{sid}"),
    "upload": lambda client, sid: client.upload(f"/api/uploads/{sid}", b"late", name="l.txt"),
}


@pytest.mark.parametrize("write", list(SESSION_WRITES), ids=list(SESSION_WRITES))
def test_a_session_deleted_between_a_writes_read_and_its_write_is_a_404(
    tenant: Tenant, monkeypatch: pytest.MonkeyPatch, write: str
) -> None:
    from sessions_app import selectors as session_selectors
    from sessions_app import services as session_services
    from sessions_app.models import Session

    client = AsgiClient(tenant.owner_key)
    session_id = "deleted-meanwhile"
    _upload(client, session_id, b"first")
    original = session_selectors.session_find

    def found_then_deleted(*args: Any, **kwargs: Any) -> Any:
        found = original(*args, **kwargs)
        if found is not None and Session.objects.filter(pk=found.pk).exists():
            session_services.session_delete(session=Session.objects.get(pk=found.pk))
        return found

    monkeypatch.setattr(session_selectors, "session_find", found_then_deleted)
    response = SESSION_WRITES[write](client, session_id)
    monkeypatch.setattr(session_selectors, "session_find", original)
    if write == "upload":
        # An upload by id makes the session it names when there is none: a new one, or a 404.
        assert response.status_code in (201, 404), (response.status_code, response.text[:300])
        return
    _json_4xx(response, 404)
    assert not Session.objects.filter(session_id=session_id).exists()


def test_a_file_put_that_loses_to_a_delete_leaves_no_bytes(
    tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The multipart PUT staged its file before the write; the write found the artifact gone
    (a 404 now): the staged bytes go too, and no blob is kept for them."""
    from attachments.models import Blob
    from tests.support import stored_keys

    client = AsgiClient(tenant.owner_key)
    artifact_id = _created(client)
    before = stored_keys()
    _deleted_after(monkeypatch, artifact_selectors, "artifact_latest_in_namespace", tenant)
    body, content_type = multipart_body("file", "late.bin", b"\x00late bytes" * 100, {})
    response = client.request(
        "PUT", f"{NS}/artifacts/{artifact_id}", content=body, headers={"Content-Type": content_type}
    )
    _json_4xx(response, 404)
    assert stored_keys() == before
    assert not Blob.objects.exists()
    _only_the_delete_left(tenant, artifact_id)


def test_a_counter_below_the_real_count_never_makes_a_delete_a_500(tenant: Tenant) -> None:
    """An artifact written without the counter (a server from before migration sessions_app
    0008 during a rolling deploy, a bulk import) left the count below the real one, and the
    DELETE that would take it below 0 was an IntegrityError on the column's CHECK, a 500. The
    count stops at 0, and `recount_artifacts` sets it right."""
    client = AsgiClient(tenant.owner_key)
    artifact_id = _created(client)
    namespace = _namespace(tenant)
    Namespace.objects.filter(pk=namespace.pk).update(artifact_count=0)  # written without it
    response = client.delete(f"{NS}/artifacts/{artifact_id}")
    assert response.status_code == 204, (response.status_code, response.text[:300])
    assert _counter(namespace) == _real_count(namespace) == 0


def test_recount_artifacts_repairs_a_count_that_drifted_either_way(tenant: Tenant) -> None:
    from django.core.management import call_command

    client = AsgiClient(tenant.owner_key)
    for _ in range(3):
        _created(client)
    namespace = _namespace(tenant)
    assert _counter(namespace) == _real_count(namespace) == 3
    for drifted in (0, 1, 17):
        Namespace.objects.filter(pk=namespace.pk).update(artifact_count=drifted)
        call_command("recount_artifacts", "--quiet")
        assert _counter(namespace) == 3
        listed = client.get(f"{NS}/artifacts")
        assert listed.status_code == 200 and listed.json()["total"] == 3
    # Nothing to correct: a second run changes nothing.
    from artifacts.services import artifacts_recount

    assert artifacts_recount() == 0
