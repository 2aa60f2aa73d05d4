"""Session ids are unique per workspace, not per organization (issue 14, item 11).

A workspace-limited key must not learn which session ids exist in the organization's other
workspaces. Every status it gets for "taken in another workspace" equals the status for "free".
"""

import asyncio
import time

import httpx
import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.models import F

from config.asgi import application
from sessions_app import services
from sessions_app.errors import Conflict
from sessions_app.events import session_group
from sessions_app.models import ApiKey, Event, Namespace, Session, Workspace
from sessions_app.principals import authenticate_raw_key, principal_for_key
from sessions_app.selectors import session_watch_workspace
from tests.support import AsgiClient, Tenant, multipart_body

pytestmark = pytest.mark.django_db(transaction=True)

MIGRATION_BEFORE = ("sessions_app", "0005_organization_storage_quota")
MIGRATION = ("sessions_app", "0006_session_workspace")


# --- the migration ---


def test_migration_backfills_workspace_and_swaps_the_constraint() -> None:
    """Sessions made before 0006 get their namespace's workspace; afterwards the same id can
    exist in two workspaces of one organization, but not twice in one workspace."""
    executor = MigrationExecutor(connection)
    executor.migrate([MIGRATION_BEFORE])
    old = executor.loader.project_state([MIGRATION_BEFORE]).apps
    OldOrg = old.get_model("sessions_app", "Organization")
    OldWs = old.get_model("sessions_app", "Workspace")
    OldNs = old.get_model("sessions_app", "Namespace")
    OldSession = old.get_model("sessions_app", "Session")
    org = OldOrg.objects.create(slug="mig", name="Mig")
    ws_a = OldWs.objects.create(organization=org, slug="a", name="a")
    ws_b = OldWs.objects.create(organization=org, slug="b", name="b")
    ns_a = OldNs.objects.create(workspace=ws_a, slug="default")
    ns_b = OldNs.objects.create(workspace=ws_b, slug="other")
    OldSession.objects.create(organization=org, namespace=ns_a, session_id="one")
    OldSession.objects.create(organization=org, namespace=ns_b, session_id="two")

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())

    rows = {s.session_id: s.workspace_id for s in Session.objects.filter(organization_id=org.pk)}
    assert rows == {"one": ws_a.pk, "two": ws_b.pk}
    # Same id in the other workspace: allowed now.
    Session.objects.create(
        organization_id=org.pk, namespace=Namespace.objects.get(pk=ns_b.pk), session_id="one"
    )
    # Same id twice in one workspace (another namespace of it): still refused by the database.
    from django.db import IntegrityError, transaction

    second_ns = Namespace.objects.create(workspace=Workspace.objects.get(pk=ws_a.pk), slug="x")
    with pytest.raises(IntegrityError), transaction.atomic():
        Session.objects.create(organization_id=org.pk, namespace=second_ns, session_id="one")


# --- the model ---


def _assert_workspaces_follow_namespaces() -> None:
    """Each session's `workspace` is its namespace's workspace (run at the end of each test)."""
    drifted = Session.objects.exclude(workspace_id=F("namespace__workspace_id"))
    assert list(drifted.values_list("session_id", flat=True)) == []


def test_save_takes_the_workspace_from_the_namespace(tenant: Tenant) -> None:
    beta = Namespace.objects.get(workspace=tenant.other_workspace, slug="default")
    session = Session(
        organization=tenant.organization,
        namespace=beta,
        workspace=tenant.workspace,  # wrong on purpose: save() does not trust it
        session_id="moved",
    )
    session.save()
    assert Session.objects.get(pk=session.pk).workspace_id == tenant.other_workspace.pk
    session.namespace = Namespace.objects.get(workspace=tenant.workspace, slug="default")
    session.save(update_fields=["namespace"])
    assert Session.objects.get(pk=session.pk).workspace_id == tenant.workspace.pk


def test_an_id_taken_in_the_same_workspace_is_still_409(tenant: Tenant) -> None:
    """Another namespace of the same workspace shares its ids."""
    alpha = Namespace.objects.get(workspace=tenant.workspace, slug="default")
    other = services.namespace_create(workspace=tenant.workspace, slug="other")
    services.session_create(organization_id=tenant.organization.pk, namespace=alpha, session_id="x")
    with pytest.raises(Conflict):
        services.session_create(
            organization_id=tenant.organization.pk, namespace=other, session_id="x"
        )
    beta = Namespace.objects.get(workspace=tenant.other_workspace, slug="default")
    made = services.session_create(
        organization_id=tenant.organization.pk, namespace=beta, session_id="x"
    )
    assert made.workspace_id == tenant.other_workspace.pk


# --- every status: "taken in another workspace" answers as "free" ---


def _owner_makes(tenant: Tenant, session_id: str) -> Session:
    """A session of the org-wide key's default workspace (alpha), with one file and one event."""
    response = AsgiClient(tenant.owner_key).upload(f"/api/uploads/{session_id}", b"alpha's")
    assert response.status_code == 201, response.text
    return Session.objects.get(session_id=session_id, workspace=tenant.workspace)


def _fingerprint(session: Session) -> tuple:
    session.refresh_from_db()
    return (
        session.pk,
        session.namespace_id,
        session.status,
        session.reference,
        session.last_event_sequence,
        sorted(session.attachments.values_list("uid", flat=True)),
        session.artifacts.count(),
        Event.objects.filter(session=session).count(),
    )


def _reads(client: AsgiClient, sid: str) -> list[tuple[str, int]]:
    """Every seed-000 surface that takes a session id, before the caller has that session."""
    events = client.get(f"/api/sessions/{sid}/artifact-events", params={"wait_seconds": 0})
    assert events.status_code != 200 or events.json()["events"] == []
    return [
        ("retrieve", client.get(f"/api/sessions/{sid}").status_code),
        (
            "update",
            client.request("PATCH", f"/api/sessions/{sid}", json={"reference": "r"}).status_code,
        ),
        ("complete", client.post(f"/api/sessions/{sid}/complete", json={}).status_code),
        ("uploads_list", client.get(f"/api/uploads/{sid}").status_code),
        ("upload_delete", client.delete(f"/api/uploads/{sid}/a-whatever").status_code),
        ("item", client.get(f"/api/sessions/{sid}/artifacts/a-whatever").status_code),
        ("zip", client.get(f"/api/sessions/{sid}/download").status_code),
        ("events", events.status_code),
        ("delete", client.delete(f"/api/sessions/{sid}").status_code),
    ]


def _create_session(client: AsgiClient, sid: str) -> int:
    return client.post("/api/sessions", json={"session_id": sid}).status_code


def _seed_000_upload(client: AsgiClient, sid: str) -> int:
    return client.upload(f"/api/uploads/{sid}", b"beta's").status_code


def _seed_001_artifact(client: AsgiClient, sid: str) -> int:
    body = {
        "workflow_id": "wf",
        "artifact_type": "report",
        "title": "R",
        "content": "x",
        "session_id": sid,
    }
    return client.post("/api/artifacts", json=body).status_code


def _seed_002_artifact(client: AsgiClient, sid: str) -> int:
    body = {"name": "r", "content": "x", "session_id": sid}
    return client.post(f"{BETA_NS}/artifacts", json=body).status_code


def _seed_003_upload(client: AsgiClient, sid: str) -> int:
    form = {"userReference": f"ref-{sid}", "uploadType": "runtime", "sessionId": sid}
    body, content_type = multipart_body("file", "f.txt", b"beta's", form)
    return client.post(
        "/api/v2/apps/beta/environments/default/attachments/upload",
        content=body,
        headers={"Content-Type": content_type},
    ).status_code


BETA_NS = "/api/v1/orgs/acme/workspaces/beta/namespaces/default"
FIRST_WRITES = {
    "sessions_create": (_create_session, 201),
    "seed_000_upload": (_seed_000_upload, 201),
    "seed_001_artifact": (_seed_001_artifact, 201),
    "seed_002_artifact": (_seed_002_artifact, 201),
    "seed_003_upload": (_seed_003_upload, 201),
}


def _answers(client: AsgiClient, sid: str, first_write) -> list[tuple[str, int]]:  # type: ignore[no-untyped-def]
    """What the limited key is told about `sid`: the reads, the first write (which makes the
    session in the key's workspace), every write after it, then the reads again."""
    answers = _reads(client, sid)
    answers.append(("first_write", first_write(client, sid)))
    answers += [(name, write(client, sid)) for name, (write, _) in FIRST_WRITES.items()]
    retrieved = client.get(f"/api/sessions/{sid}")
    answers.append(("retrieve_after", retrieved.status_code))
    assert retrieved.json()["workspace"] == "beta"
    answers.append(("uploads_list_after", client.get(f"/api/uploads/{sid}").status_code))
    answers.append(("zip_after", client.get(f"/api/sessions/{sid}/download").status_code))
    return answers


@pytest.mark.parametrize("first", sorted(FIRST_WRITES))
def test_taken_elsewhere_answers_as_free(tenant: Tenant, first: str) -> None:
    """A workspace-limited key (beta) gets the same status, surface by surface, for an id that
    exists in workspace alpha and for one that exists nowhere; alpha's session is untouched."""
    write, expected = FIRST_WRITES[first]
    taken = _owner_makes(tenant, f"taken-{first}")
    before = _fingerprint(taken)
    limited = AsgiClient(tenant.limited_key)

    for_taken = _answers(limited, f"taken-{first}", write)
    for_free = _answers(limited, f"free-{first}", write)

    assert [status for _, status in for_taken] == [status for _, status in for_free], (
        for_taken,
        for_free,
    )
    assert dict(for_taken)["first_write"] == expected
    assert dict(for_taken)["retrieve"] == 404 and dict(for_taken)["retrieve_after"] == 200
    assert _fingerprint(taken) == before
    theirs = Session.objects.get(session_id=f"taken-{first}", workspace=tenant.other_workspace)
    assert theirs.pk != taken.pk
    # The org-wide key still reads alpha's (its default workspace's) session of that id.
    owner = AsgiClient(tenant.owner_key).get(f"/api/sessions/taken-{first}").json()
    assert owner["workspace"] == "alpha"
    _assert_workspaces_follow_namespaces()


def test_a_limited_key_deletes_only_its_own_session_of_an_id(tenant: Tenant) -> None:
    taken = _owner_makes(tenant, "doomed")
    before = _fingerprint(taken)
    limited = AsgiClient(tenant.limited_key)
    assert limited.delete("/api/sessions/doomed").status_code == 404
    assert _seed_000_upload(limited, "doomed") == 201
    assert limited.delete("/api/sessions/doomed").status_code == 204
    assert _fingerprint(taken) == before
    assert not Session.objects.filter(workspace=tenant.other_workspace).exists()
    _assert_workspaces_follow_namespaces()


# --- an organization-wide key ---


def test_org_wide_key_prefers_its_default_workspace_then_the_newest(tenant: Tenant) -> None:
    org = tenant.organization
    gamma = services.workspace_create(organization=org, slug="gamma")
    _, gamma_key = services.api_key_create(organization=org, default_workspace=gamma)
    owner = AsgiClient(tenant.owner_key)  # org-wide, default workspace alpha
    limited = AsgiClient(tenant.limited_key)  # beta only

    # Only beta has it: the org-wide key resolves beta's.
    assert _seed_000_upload(limited, "shared") == 201
    assert owner.get("/api/sessions/shared").json()["workspace"] == "beta"
    # Creating with the org-wide key makes one in its default workspace: not a 409.
    assert owner.post("/api/sessions", json={"session_id": "shared"}).json()["workspace"] == (
        "alpha"
    )
    assert owner.post("/api/sessions", json={"session_id": "shared"}).status_code == 409
    # alpha's is newer here; the next test of the order makes alpha's the older one.
    assert owner.get("/api/sessions/shared").json()["workspace"] == "alpha"
    listed = owner.get("/api/sessions").json()["sessions"]
    assert sorted(s["workspace"] for s in listed if s["session_id"] == "shared") == [
        "alpha",
        "beta",
    ]
    # A key whose default workspace (gamma) has none gets the newest: alpha's, made last.
    assert AsgiClient(gamma_key).get("/api/sessions/shared").json()["workspace"] == "alpha"
    # The org-wide key's uploads by id land in its default workspace's session.
    assert _seed_000_upload(owner, "shared") == 201
    alpha = Session.objects.get(session_id="shared", workspace=tenant.workspace)
    beta = Session.objects.get(session_id="shared", workspace=tenant.other_workspace)
    assert (alpha.attachments.count(), beta.attachments.count()) == (1, 1)
    # A write by id with the gamma key goes where its reads resolve (alpha's, the newest), not
    # into a new gamma session that its reads and watchers would not follow.
    assert _seed_000_upload(AsgiClient(gamma_key), "shared") == 201
    assert AsgiClient(gamma_key).get("/api/sessions/shared").json()["workspace"] == "alpha"
    assert alpha.attachments.count() == 2
    assert Session.objects.filter(session_id="shared").count() == 2
    _assert_workspaces_follow_namespaces()


def test_org_wide_writes_by_id_follow_the_session_reads_resolve(tenant: Tenant) -> None:
    """An id only another workspace holds: an org-wide key's read, its watcher and its write by
    id (paths without a namespace) all name that one session; none makes a second."""
    owner = AsgiClient(tenant.owner_key)  # org-wide, default workspace alpha
    limited = AsgiClient(tenant.limited_key)  # beta only
    assert _seed_000_upload(limited, "only-beta") == 201
    assert owner.get("/api/sessions/only-beta").json()["workspace"] == "beta"
    assert _seed_000_upload(owner, "only-beta") == 201
    assert list(
        Session.objects.filter(session_id="only-beta").values_list("workspace", flat=True)
    ) == [tenant.other_workspace.pk]
    beta = Session.objects.get(session_id="only-beta")
    assert beta.attachments.count() == 2
    # A watcher of the id follows beta's feed, which holds both uploads' events.
    owner_principal = principal_for_key(authenticate_raw_key(tenant.owner_key))
    watched = session_watch_workspace(principal=owner_principal, session_id="only-beta")
    assert watched == tenant.other_workspace.pk
    assert Event.objects.filter(session=beta).count() == 2
    # A fresh id still goes to the default workspace.
    assert _seed_000_upload(owner, "fresh-id") == 201
    assert Session.objects.get(session_id="fresh-id").workspace_id == tenant.workspace.pk


# --- feeds and wake-ups ---


def test_session_groups_are_per_workspace(tenant: Tenant) -> None:
    alpha, beta = tenant.workspace.pk, tenant.other_workspace.pk
    assert session_group(alpha, "x") != session_group(beta, "x")
    assert session_group(alpha, "x") == session_group(alpha, "x")
    assert (
        session_watch_workspace(
            principal=principal_for_key(ApiKey.objects.get(workspace=tenant.other_workspace)),
            session_id="nowhere",
        )
        == beta
    )


async def _long_poll(key: str, sid: str, **params: object) -> httpx.Response:
    transport = httpx.ASGITransport(app=application)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://testserver", timeout=30
    ) as client:
        return await client.get(
            f"/api/sessions/{sid}/artifact-events", params=params, headers={"X-API-Key": key}
        )


def _upload_as(key: str, sid: str, name: str) -> None:
    response = AsgiClient(key).upload(f"/api/uploads/{sid}", name.encode(), name=name)
    assert response.status_code == 201, response.text


async def test_long_polls_of_one_id_in_two_workspaces_stay_apart(tenant: Tenant) -> None:
    upload = sync_to_async(_upload_as, thread_sensitive=False)
    await upload(tenant.owner_key, "lp-shared", "alpha-1.txt")
    # The limited key waits for beta's "lp-shared", which does not exist yet.
    started = time.monotonic()
    beta_wait = asyncio.create_task(_long_poll(tenant.limited_key, "lp-shared", wait_seconds=1.5))
    await asyncio.sleep(0.3)
    await upload(tenant.owner_key, "lp-shared", "alpha-2.txt")  # alpha's only
    body = (await asyncio.wait_for(beta_wait, 10)).json()
    assert (body["events"], body["timed_out"]) == ([], True)
    assert time.monotonic() - started >= 1.4

    # Now beta's is written: its watcher wakes with beta's event alone, the owner's watcher
    # (alpha's session) gets nothing.
    beta_wait = asyncio.create_task(_long_poll(tenant.limited_key, "lp-shared", wait_seconds=10))
    alpha_wait = asyncio.create_task(
        _long_poll(tenant.owner_key, "lp-shared", after=2, wait_seconds=1.5)
    )
    await asyncio.sleep(0.3)
    started = time.monotonic()
    await upload(tenant.limited_key, "lp-shared", "beta-1.txt")
    body = (await asyncio.wait_for(beta_wait, 10)).json()
    assert [e["name"] for e in body["events"]] == ["beta-1.txt"]
    assert body["events"][0]["sequence"] == 1 and time.monotonic() - started < 5
    alpha = (await asyncio.wait_for(alpha_wait, 10)).json()
    assert (alpha["events"], alpha["timed_out"]) == ([], True)
    # Read from the start, each feed holds its own workspace's events only.
    alpha_all = (await _long_poll(tenant.owner_key, "lp-shared", wait_seconds=0)).json()
    assert [e["name"] for e in alpha_all["events"]] == ["alpha-1.txt", "alpha-2.txt"]


async def _socket(path: str, key: str) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(application, path, headers=[(b"x-api-key", key.encode())])
    connected, _ = await communicator.connect(timeout=5)
    assert connected
    return communicator


async def _names(communicator: WebsocketCommunicator, count: int) -> list[str]:
    names: list[str] = []
    deadline = time.monotonic() + 10
    while len(names) < count:
        message = await communicator.receive_json_from(
            timeout=max(deadline - time.monotonic(), 0.01)
        )
        if message["type"] != "pong":
            names += [e["name"] for e in message["data"]["events"]]
    return names


async def test_sockets_of_one_id_in_two_workspaces_stay_apart(tenant: Tenant) -> None:
    upload = sync_to_async(_upload_as, thread_sensitive=False)
    await upload(tenant.owner_key, "ws-shared", "alpha-0.txt")
    # Beta's socket opens before beta has the session; alpha's on alpha's existing one.
    beta = await _socket("/ws/sessions/ws-shared", tenant.limited_key)
    alpha = await _socket("/ws/sessions/ws-shared", tenant.owner_key)
    try:
        await upload(tenant.owner_key, "ws-shared", "alpha-1.txt")
        assert await _names(alpha, 1) == ["alpha-1.txt"]
        assert await beta.receive_nothing(timeout=1)
        await upload(tenant.limited_key, "ws-shared", "beta-1.txt")
        assert await _names(beta, 1) == ["beta-1.txt"]
        assert await alpha.receive_nothing(timeout=1)
    finally:
        await beta.disconnect()
        await alpha.disconnect()
