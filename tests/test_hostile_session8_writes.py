"""Hostile review of the write path's numbering after 2a8c09b, 8576fda and 72f5fef: an upload's
session counter, event sequence and quota in one UPDATE ... RETURNING (`session_file_added`),
the event's namespace number taken by its own INSERT on PostgreSQL
(`raw_writes.insert_numbered`), and `session_get_or_create_by_id`.

What must hold (sessions_app/events/log.py): a session's log and a namespace's feed are numbered
1, 2, 3... without gaps, each number once, in commit order (a reader following `after=` while
the writes run sees every event once); a write that is refused or fails leaves no number and no
event; no two writers of one namespace deadlock (sessions_app/locks.py)."""

import functools
import random
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models.signals import post_save, pre_save

from agents_mcp import operations as mcp_operations
from artifacts.models import Artifact
from artifacts.services import NewContent, artifact_create, artifact_version_create
from attachments import storage
from attachments.models import Attachment
from attachments.services import attachment_create
from sessions_app import services as session_services
from sessions_app.errors import Conflict, DepotError, NotFound
from sessions_app.events import log as event_log
from sessions_app.events.feeds import Feed, events_read
from sessions_app.models import Event, EventKind, Namespace, Organization, Session, Workspace
from sessions_app.principals import Principal, authenticate_raw_key, principal_for_key
from sessions_app.quota import QuotaExceeded
from tests.support import AsgiClient, Tenant, client_with, multipart_body
from tests.support.threads import run_jobs

pytestmark = pytest.mark.django_db(transaction=True)

NS = "/api/v1/orgs/acme/workspaces/alpha/namespaces/default"


def _upload(session: Session, name: str, content: bytes | None = None) -> Attachment:
    return attachment_create(
        session_lookup=lambda: session,
        staged=storage.write_stream(iter([content if content is not None else name.encode()])),
        original_name=name,
    )


def _artifact(namespace: Namespace, name: str, session: Session | None = None) -> Artifact:
    return artifact_create(
        namespace=namespace,
        content=NewContent(text=f"text of {name}"),
        fields={"name": name},
        session_lookup=(lambda: session) if session is not None else None,
    )


def _session_log(session: Session) -> list[tuple[int | None, str | None]]:
    return list(
        Event.objects.filter(session=session).order_by("sequence").values_list("sequence", "name")
    )


def _feed(namespace: Namespace) -> list[tuple[int, str | None]]:
    return list(
        Event.objects.filter(namespace=namespace)
        .order_by("namespace_sequence")
        .values_list("namespace_sequence", "name")
    )


def _assert_counters(session: Session) -> None:
    """The session row's counters say what its rows say."""
    row = Session.objects.get(pk=session.pk)
    sequences = [sequence for sequence, _ in _session_log(session)]
    assert sequences == list(range(1, len(sequences) + 1))
    assert row.last_event_sequence == len(sequences)
    assert row.file_count == Attachment.objects.filter(session=session).count()


def _assert_feed(namespace: Namespace) -> None:
    numbers = [number for number, _ in _feed(namespace)]
    assert numbers == list(range(1, len(numbers) + 1))
    assert Namespace.objects.get(pk=namespace.pk).last_event_sequence == len(numbers)


@pytest.fixture
def failing_names() -> Iterator[set[str]]:
    """Uploads whose name is in the set fail after the counter (their attachment row's
    post_save raises, after `session_file_added` took the count and the sequence)."""
    names: set[str] = set()

    def fail(sender: Any, instance: Attachment, **kwargs: Any) -> None:
        if instance.original_name in names or instance.original_name.startswith("boom"):
            raise RuntimeError(f"failed after the counter: {instance.original_name}")

    post_save.connect(fail, sender=Attachment, weak=False, dispatch_uid="hostile8w.fail")
    yield names
    post_save.disconnect(sender=Attachment, dispatch_uid="hostile8w.fail")


# --- refused and failed uploads leave no number (both databases) ---


def test_refused_and_failed_uploads_leave_no_gap_and_no_event(
    tenant: Tenant, settings: Any, failing_names: set[str]
) -> None:
    namespace = tenant.default_namespace()
    session = tenant.session("h8w-rollback")
    other = tenant.session("h8w-rollback-other")
    settings.DEPOT_MAX_FILES_PER_SESSION = 2
    _upload(session, "one.txt")
    # 413: the organization's own quota (the default is no limit).
    Organization.objects.filter(pk=tenant.organization.pk).update(storage_quota_bytes=10)
    with pytest.raises(QuotaExceeded):
        _upload(session, "big.txt", b"x" * 50)
    Organization.objects.filter(pk=tenant.organization.pk).update(storage_quota_bytes=None)
    # 413: the default quota, when the organization has none of its own.
    settings.DEPOT_STORAGE_QUOTA_BYTES = 10
    with pytest.raises(QuotaExceeded):
        _upload(other, "big2.txt", b"y" * 50)
    settings.DEPOT_STORAGE_QUOTA_BYTES = 0
    # A failure after the counter and the sequence were taken.
    with pytest.raises(RuntimeError, match="after the counter"):
        _upload(session, "boom.txt")
    # 422: a type not accepted.
    settings.DEPOT_ALLOWED_MIME_TYPES = ["image/"]
    with pytest.raises(DepotError) as refused:
        _upload(session, "text.txt")
    assert refused.value.status_code == 422
    settings.DEPOT_ALLOWED_MIME_TYPES = []
    _upload(session, "two.txt")
    # 409: the file limit (2) reached.
    with pytest.raises(Conflict):
        _upload(session, "three.txt")
    _upload(other, "other.txt")
    assert _session_log(session) == [(1, "one.txt"), (2, "two.txt")]
    assert _session_log(other) == [(1, "other.txt")]
    assert _feed(namespace) == [(1, "one.txt"), (2, "two.txt"), (3, "other.txt")]
    _assert_counters(session)
    _assert_counters(other)
    _assert_feed(namespace)
    assert set(Attachment.objects.values_list("name", flat=True)) == {
        "one.txt",
        "two.txt",
        "other.txt",
    }


def test_a_failed_event_insert_takes_the_counters_back(tenant: Tenant) -> None:
    """The event's own statement fails (a pre_save receiver on Event raises, after the
    session counter and sequence were taken): nothing of the upload stays."""
    namespace = tenant.default_namespace()
    session = tenant.session("h8w-event-fails")
    _upload(session, "first.txt")

    def fail(sender: Any, instance: Event, **kwargs: Any) -> None:
        if instance.name == "second.txt":
            raise RuntimeError("the event failed")

    pre_save.connect(fail, sender=Event, weak=False, dispatch_uid="hostile8w.event")
    try:
        with pytest.raises(RuntimeError, match="event failed"):
            _upload(session, "second.txt")
    finally:
        pre_save.disconnect(sender=Event, dispatch_uid="hostile8w.event")
    _upload(session, "third.txt")
    assert _session_log(session) == [(1, "first.txt"), (2, "third.txt")]
    assert _feed(namespace) == [(1, "first.txt"), (2, "third.txt")]
    _assert_counters(session)
    _assert_feed(namespace)


# --- quota: the organization's own against the default ---


@pytest.mark.parametrize(
    ("own", "default", "refused"),
    [
        (None, 0, False),  # no limit anywhere
        (None, 10, True),  # the default applies
        (None, 100, False),
        (10, 0, True),  # its own, with no default
        (10, 1000, True),  # its own wins over a larger default
        (1000, 10, False),  # ... and over a smaller one
        (0, 10, False),  # its own 0: no limit (as organization_quota reads it)
    ],
)
def test_upload_quota_own_against_default(
    tenant: Tenant, settings: Any, own: int | None, default: int, refused: bool
) -> None:
    from sessions_app.quota import organization_quota

    settings.DEPOT_STORAGE_QUOTA_BYTES = default
    Organization.objects.filter(pk=tenant.organization.pk).update(storage_quota_bytes=own)
    session = tenant.session("h8w-quota")
    quota = organization_quota(organization_id=tenant.organization.pk)
    assert (quota is not None and quota < 50) is refused  # the reference reading agrees
    if refused:
        with pytest.raises(QuotaExceeded):
            _upload(session, "q.txt", b"z" * 50)
        assert _session_log(session) == []
    else:
        _upload(session, "q.txt", b"z" * 50)
        assert _session_log(session) == [(1, "q.txt")]
    _assert_counters(session)


def test_upload_quota_reads_the_quota_as_it_is_now(tenant: Tenant, settings: Any) -> None:
    """The quota read with the counter is the organization's current one, not a stale
    read: lowered between two uploads, the second is refused; raised, it passes."""
    settings.DEPOT_STORAGE_QUOTA_BYTES = 0
    session = tenant.session("h8w-quota-now")
    _upload(session, "a.txt", b"a" * 20)
    Organization.objects.filter(pk=tenant.organization.pk).update(storage_quota_bytes=30)
    with pytest.raises(QuotaExceeded):
        _upload(session, "b.txt", b"b" * 20)
    Organization.objects.filter(pk=tenant.organization.pk).update(storage_quota_bytes=40)
    _upload(session, "c.txt", b"c" * 20)
    assert _session_log(session) == [(1, "a.txt"), (2, "c.txt")]


def test_quota_of_another_organization_is_not_read(
    tenant: Tenant, stranger: Any, settings: Any
) -> None:
    """The subquery reads the session's own organization's quota."""
    settings.DEPOT_STORAGE_QUOTA_BYTES = 0
    Organization.objects.filter(pk=stranger.organization.pk).update(storage_quota_bytes=1)
    session = tenant.session("h8w-quota-mine")
    _upload(session, "mine.txt", b"m" * 50)
    theirs = session_services.session_create(
        organization_id=stranger.organization.pk,
        namespace=Namespace.objects.get(workspace=stranger.workspace, slug="default"),
        session_id="h8w-quota-theirs",
    )
    with pytest.raises(QuotaExceeded):
        _upload(theirs, "theirs.txt", b"t" * 50)


# --- sessions deleted, namespaces missing ---


def test_a_session_deleted_between_lookup_and_counter_is_a_404(tenant: Tenant) -> None:
    namespace = tenant.default_namespace()
    kept = tenant.session("h8w-kept")
    _upload(kept, "kept.txt")
    doomed = tenant.session("h8w-doomed")
    stale = Session.objects.get(pk=doomed.pk)
    session_services.session_delete(session=doomed)
    before = Namespace.objects.get(pk=namespace.pk).last_event_sequence
    with pytest.raises(NotFound):
        _upload(stale, "late.txt")
    assert not Attachment.objects.filter(name="late.txt").exists()
    assert not Event.objects.filter(name="late.txt").exists()
    assert Namespace.objects.get(pk=namespace.pk).last_event_sequence == before
    _upload(kept, "after.txt")
    _assert_feed(namespace)
    _assert_counters(kept)


def test_writes_into_a_session_deleted_under_them_are_404_and_leave_no_gap(
    tenant: Tenant,
) -> None:
    """An artifact write and a complete whose session went after their lookup: 404, no
    artifact row, no event, no namespace number taken."""
    namespace = tenant.default_namespace()
    doomed = tenant.session("h8w-gone-art")
    stale = Session.objects.get(pk=doomed.pk)
    _artifact(namespace, "first-art")
    session_services.session_delete(session=doomed)
    with pytest.raises(NotFound):
        _artifact(namespace, "late-art", stale)
    with pytest.raises(NotFound):
        session_services.session_complete(session=stale)
    assert not Artifact.objects.filter(name="late-art").exists()
    _artifact(namespace, "after-art")
    assert _feed(namespace) == [(1, "first-art"), (2, "after-art")]
    _assert_feed(namespace)


def test_an_event_for_a_missing_namespace_writes_nothing(tenant: Tenant) -> None:
    """A sessionless event for a namespace id that does not exist: refused on both databases
    (SQLite: Namespace.DoesNotExist from the counter; PostgreSQL: the counter's CTE updates no
    row and the NOT NULL namespace_sequence refuses the row), and nothing is written."""
    missing = (Namespace.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1000
    with pytest.raises((IntegrityError, Namespace.DoesNotExist)), transaction.atomic():
        event_log.event_append(
            kind=EventKind.ARTIFACT_CREATED, namespace_id=missing, artifact_id="art_x"
        )
    assert not Event.objects.filter(namespace_id=missing).exists()
    with pytest.raises(ValueError, match="needs a session or a namespace"), transaction.atomic():
        event_log.event_append(kind=EventKind.ARTIFACT_CREATED)


# --- the returned instance and its signals ---


def test_event_signals_are_sent_and_the_instance_is_numbered(tenant: Tenant) -> None:
    namespace = tenant.default_namespace()
    session = tenant.session("h8w-signals")
    seen: list[tuple[str, Any, Any, Any, bool]] = []

    def before(sender: Any, instance: Event, **kwargs: Any) -> None:
        seen.append(("pre", instance.pk, instance.sequence, instance.namespace_sequence, False))

    def after(sender: Any, instance: Event, created: bool, **kwargs: Any) -> None:
        seen.append(("post", instance.pk, instance.sequence, instance.namespace_sequence, created))

    pre_save.connect(before, sender=Event, weak=False, dispatch_uid="hostile8w.pre")
    post_save.connect(after, sender=Event, weak=False, dispatch_uid="hostile8w.post")
    try:
        _upload(session, "s1.txt")
        with transaction.atomic():
            event = event_log.event_append(
                session=session, kind=EventKind.ATTACHMENT_CREATED, attachment_id="direct"
            )
        with transaction.atomic():
            loose = event_log.event_append(
                kind=EventKind.ARTIFACT_CREATED, namespace_id=namespace.pk, artifact_id="loose"
            )
    finally:
        pre_save.disconnect(sender=Event, dispatch_uid="hostile8w.pre")
        post_save.disconnect(sender=Event, dispatch_uid="hostile8w.post")
    assert [(kind, pk is None) for kind, pk, *_ in seen] == [
        ("pre", True),
        ("post", False),
    ] * 3
    # A difference between the databases, kept on purpose by 8576fda: on PostgreSQL the
    # namespace number is taken by the INSERT itself, so a pre_save receiver sees none yet;
    # on SQLite it was taken by the statement before. (No receiver in Depot reads it.)
    pres = [number for kind, _, _, number, _ in seen if kind == "pre"]
    assert pres == ([None] * 3 if connection.vendor == "postgresql" else [1, 2, 3])
    posts = [entry for entry in seen if entry[0] == "post"]
    assert [(sequence, number, created) for _, _, sequence, number, created in posts] == [
        (1, 1, True),
        (2, 2, True),
        (None, 3, True),
    ]
    for returned in (event, loose):
        stored = Event.objects.get(pk=returned.pk)
        assert returned.namespace_sequence == stored.namespace_sequence
        assert isinstance(returned.namespace_sequence, int)
        assert returned.sequence == stored.sequence
        assert returned.event_id == stored.event_id
        assert returned._state.adding is False and returned._state.db == "default"
    assert (event.sequence, event.namespace_sequence) == (2, 2)
    assert session.last_event_sequence == 2
    assert (loose.sequence, loose.namespace_sequence, loose.session_id) == (None, 3, None)


def test_insert_numbered_caches_one_statement_per_counter_column(tenant: Tenant) -> None:
    """Two counter columns of one counter model: each gets its own statement (the statement
    cache is keyed by the counter column too)."""
    from sessions_app import raw_writes

    if connection.vendor != "postgresql":
        pytest.skip("insert_numbered is PostgreSQL's")
    namespace = tenant.default_namespace()
    Namespace.objects.filter(pk=namespace.pk).update(last_event_sequence=10, artifact_count=100)
    with transaction.atomic():
        first = raw_writes.insert_numbered(
            Event(event_id=Event.mint_id(), namespace_id=namespace.pk, kind="artifact.created"),
            "namespace_sequence",
            Namespace,
            namespace.pk,
            "last_event_sequence",
        )
        second = raw_writes.insert_numbered(
            Event(event_id=Event.mint_id(), namespace_id=namespace.pk, kind="artifact.created"),
            "namespace_sequence",
            Namespace,
            namespace.pk,
            "artifact_count",
        )
        transaction.set_rollback(True)
    assert (first.namespace_sequence, second.namespace_sequence) == (11, 101)


# --- concurrency on PostgreSQL ---


class FeedReader:
    """Follows feeds with `after=` while the writes run, as a client does; records what it
    saw, in the order it saw it."""

    def __init__(self, feeds: dict[str, Feed]) -> None:
        self.feeds = feeds
        self.seen: dict[str, list[tuple[int, str]]] = {name: [] for name in feeds}
        self.stop = threading.Event()
        self.failures: list[BaseException] = []
        self.thread = threading.Thread(target=self._run)

    def _read_all(self) -> bool:
        progressed = False
        for name, feed in self.feeds.items():
            field = feed.sequence_field
            cursor = self.seen[name][-1][0] if self.seen[name] else 0
            page = events_read(feed=feed, after=cursor, limit=50)
            for event in page.events:
                self.seen[name].append((event[field], event["name"]))
                progressed = True
        return progressed

    def _run(self) -> None:
        try:
            while not self.stop.is_set():
                if not self._read_all():
                    time.sleep(0.005)
            while self._read_all():
                pass
        except BaseException as error:
            self.failures.append(error)
        finally:
            connection.close()

    def __enter__(self) -> "FeedReader":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(timeout=120)


def _complete(pk: int) -> None:
    session_services.session_complete(session=Session.objects.get(pk=pk))


def _delete(pk: int) -> None:
    session_services.session_delete(session=Session.objects.get(pk=pk))


def _names(events: list[tuple[int, str | None]]) -> list[str | None]:
    return [name for _, name in events]


@pytest.mark.postgres
def test_concurrent_uploads_and_artifact_writes_number_gapless_in_commit_order(
    tenant: Tenant, settings: Any, failing_names: set[str]
) -> None:
    """Eight writers at once into one namespace: uploads and artifact writes (new and new
    versions) into one hot session, uploads into a session that reaches its file limit (409s),
    uploads that fail after the counter, artifacts without a session. A reader following the
    namespace feed and both session logs with `after=` while they run sees every committed
    event once, numbered 1..n, and none of a write that rolled back."""
    settings.DEPOT_MAX_FILES_PER_SESSION = 25
    namespace = tenant.default_namespace()
    hot = tenant.session("h8w-hot")
    full = tenant.session("h8w-full")
    base = _artifact(namespace, "base-artifact", hot)
    jobs: list[Callable[[], Any]] = []
    outcomes: dict[str, str] = {}
    record_lock = threading.Lock()

    def job(label: str, write: Callable[[], Any]) -> Callable[[], Any]:
        def run() -> None:
            time.sleep(random.uniform(0, 0.01))
            try:
                write()
            except Conflict:
                outcome = "409"
            except RuntimeError as error:
                if "after the counter" not in str(error):
                    raise
                outcome = "failed"
            else:
                outcome = "ok"
            with record_lock:
                outcomes[label] = outcome

        return run

    for number in range(20):
        name = f"hot-{number}.txt"
        jobs.append(job(name, functools.partial(_upload, hot, name)))
    for number in range(6):
        name = f"boom-{number}.txt"
        jobs.append(job(name, functools.partial(_upload, hot, name)))
    for number in range(35):
        name = f"full-{number}.txt"
        jobs.append(job(name, functools.partial(_upload, full, name)))
    for number in range(15):
        name = f"art-{number}"
        jobs.append(job(name, functools.partial(_artifact, namespace, name, hot)))
    for number in range(10):
        name = f"loose-{number}"
        jobs.append(job(name, functools.partial(_artifact, namespace, name)))
    for number in range(10):
        name = f"version-{number}"
        jobs.append(
            job(
                name,
                functools.partial(
                    artifact_version_create, artifact=base, content=NewContent(text=f"v{number}")
                ),
            )
        )
    random.Random(8).shuffle(jobs)
    feeds = {
        "namespace": Feed(namespace_id=namespace.pk),
        "hot": Feed(workspace_id=tenant.workspace.pk, session_id="h8w-hot"),
        "full": Feed(workspace_id=tenant.workspace.pk, session_id="h8w-full"),
    }
    with FeedReader(feeds) as reader:
        errors = run_jobs(jobs, workers=8)
    assert not errors, errors[:3]
    assert not reader.failures, reader.failures[:3]
    assert sum(1 for o in outcomes.values() if o == "409") == 10
    assert sum(1 for o in outcomes.values() if o == "failed") == 6
    for name, seen in reader.seen.items():
        numbers = [number for number, _ in seen]
        assert numbers == list(range(1, len(numbers) + 1)), name
    stored_feed = _feed(namespace)
    assert reader.seen["namespace"] == stored_feed
    assert reader.seen["hot"] == _session_log(hot)
    assert reader.seen["full"] == _session_log(full)
    # 1 base + 20 uploads + 25 full + 15 + 10 + 10 versions (named after the base artifact).
    assert len(stored_feed) == 1 + 20 + 25 + 15 + 10 + 10
    assert len(reader.seen["full"]) == 25
    assert len(reader.seen["hot"]) == 1 + 20 + 15 + 10
    rolled_back = {label for label, outcome in outcomes.items() if outcome != "ok"}
    assert not rolled_back & set(_names(stored_feed))
    _assert_counters(hot)
    _assert_counters(full)
    _assert_feed(namespace)


@pytest.mark.postgres
def test_uploads_artifacts_completes_and_deletes_in_one_namespace_never_deadlock(
    tenant: Tenant, settings: Any
) -> None:
    """Uploads, artifact writes, completes and deletes of ten sessions of one namespace at
    once, the same bytes shared between sessions and artifacts (so the blob rows are contended
    too): every write either commits or is a 404 for a session deleted under it, never a
    deadlock or another database error; the feed stays gapless."""
    settings.DEPOT_AUTO_CLEAN_ATTACHMENTS = True
    namespace = tenant.default_namespace()
    sessions = [tenant.session(f"h8w-mix-{number}") for number in range(10)]
    artifacts = [_artifact(namespace, f"mix-art-{n}", sessions[n]) for n in range(10)]
    shared = [f"shared bytes {n}".encode() * 50 for n in range(3)]
    rng = random.Random(11)
    jobs: list[Callable[[], Any]] = []
    not_found: list[str] = []
    lock = threading.Lock()

    def tolerant(label: str, write: Callable[[], Any]) -> Callable[[], Any]:
        def run() -> None:
            try:
                write()
            except NotFound:
                with lock:
                    not_found.append(label)

        return run

    for number in range(60):
        session = sessions[rng.randrange(10)]
        content = rng.choice(shared)
        name = f"mix-up-{number}.txt"
        jobs.append(tolerant(name, functools.partial(_upload, session, name, content)))
    for number in range(30):
        index = rng.randrange(10)
        text = f"mix version {number}"

        def version(index: int = index, text: str = text) -> None:
            latest = Artifact.objects.get(root=artifacts[index], is_latest=True)
            artifact_version_create(artifact=latest, content=NewContent(text=text))

        jobs.append(tolerant(f"mix-version-{number}", version))
    for number in range(10):
        index = rng.randrange(10)
        staged = rng.choice(shared)

        def with_file(index: int = index, staged_bytes: bytes = staged, n: int = number) -> None:
            artifact_create(
                namespace=namespace,
                content=NewContent(
                    staged=storage.write_stream(iter([staged_bytes])),
                    content_type="text/plain",
                    file_name=f"mix-file-{n}.txt",
                ),
                fields={"name": f"mix-file-{n}"},
                session_lookup=lambda: sessions[index],
            )

        jobs.append(tolerant(f"mix-file-{number}", with_file))
    for index in (1, 3, 5):
        jobs.append(
            tolerant(
                f"complete-{index}",
                functools.partial(_complete, sessions[index].pk),
            )
        )
    for index in (2, 4, 7):
        jobs.append(
            tolerant(
                f"delete-{index}",
                functools.partial(_delete, sessions[index].pk),
            )
        )
    rng.shuffle(jobs)
    with FeedReader({"namespace": Feed(namespace_id=namespace.pk)}) as reader:
        errors = run_jobs(jobs, workers=8)
    assert not errors, [f"{type(e).__name__}: {e}" for e in errors[:3]]
    assert not reader.failures, reader.failures[:3]
    assert not [label for label in not_found if label.startswith(("complete", "delete"))]
    numbers = [number for number, _ in reader.seen["namespace"]]
    assert numbers == list(range(1, len(numbers) + 1))
    assert reader.seen["namespace"] == _feed(namespace)
    _assert_feed(namespace)
    for session in sessions:
        if Session.objects.filter(pk=session.pk).exists():
            _assert_counters(session)
    assert not Session.objects.filter(pk__in=[sessions[i].pk for i in (2, 4, 7)]).exists()
    # Every upload that did not get a 404 is in the feed once as created (and once more as
    # deleted when its session was deleted after it); a 404 left nothing.
    created = list(
        Event.objects.filter(namespace=namespace, kind=EventKind.ATTACHMENT_CREATED).values_list(
            "name", flat=True
        )
    )
    deleted = list(
        Event.objects.filter(namespace=namespace, kind=EventKind.ATTACHMENT_DELETED).values_list(
            "name", flat=True
        )
    )
    gone = {sessions[i].session_id for i in (2, 4, 7)}
    for number in range(60):
        name = f"mix-up-{number}.txt"
        assert created.count(name) == (0 if name in not_found else 1), name
        assert deleted.count(name) <= created.count(name), name
    for event in Event.objects.filter(namespace=namespace, kind=EventKind.ATTACHMENT_DELETED):
        assert event.session_public_id in gone and event.session_id is None
    assert {label.split(":")[0] for label in not_found} <= {
        f"mix-up-{n}.txt" for n in range(60)
    } | {f"mix-version-{n}" for n in range(30)} | {f"mix-file-{n}" for n in range(10)}


@pytest.mark.postgres
def test_uploads_racing_a_session_delete_are_404_or_deleted_with_it(tenant: Tenant) -> None:
    """Many uploads into one session while it is deleted: each upload either committed before
    the delete (and then has its deletion event in the feed) or is a 404 leaving nothing."""
    namespace = tenant.default_namespace()
    session = tenant.session("h8w-race-delete")
    outcomes: dict[str, str] = {}
    lock = threading.Lock()

    def upload(name: str) -> None:
        try:
            _upload(session, name)
        except NotFound:
            outcome = "404"
        else:
            outcome = "ok"
        with lock:
            outcomes[name] = outcome

    def delete() -> None:
        time.sleep(0.05)
        session_services.session_delete(session=Session.objects.get(pk=session.pk))

    jobs: list[Callable[[], Any]] = [functools.partial(upload, f"race-{n}.txt") for n in range(30)]
    jobs.insert(15, delete)
    errors = run_jobs(jobs, workers=6)
    assert not errors, errors[:3]
    assert not Session.objects.filter(pk=session.pk).exists()
    feed = _feed(namespace)
    _assert_feed(namespace)
    kinds = dict(
        Event.objects.filter(namespace=namespace)
        .values_list("name", "kind")
        .filter(kind=EventKind.ATTACHMENT_DELETED)
    )
    created = set(
        Event.objects.filter(namespace=namespace, kind=EventKind.ATTACHMENT_CREATED).values_list(
            "name", flat=True
        )
    )
    for name, outcome in outcomes.items():
        if outcome == "ok":
            assert name in created and name in kinds, name
        else:
            assert name not in _names(feed), name
    assert not Attachment.objects.filter(name__startswith="race-").exists()


@pytest.mark.postgres
def test_concurrent_uploads_into_one_new_session_through_http(tenant: Tenant) -> None:
    """Sixteen uploads at once through the HTTP stack into a session none of them finds:
    one session is made, its log and the namespace feed are 1..16."""
    namespace = tenant.default_namespace()
    client = AsgiClient(tenant.owner_key)
    statuses: list[int] = []
    lock = threading.Lock()

    def send(number: int) -> None:
        response = client.upload(
            "/api/uploads/h8w-http-new", f"c{number}".encode(), name=f"h{number}.txt"
        )
        with lock:
            statuses.append(response.status_code)

    errors = run_jobs([functools.partial(send, n) for n in range(16)], workers=8)
    assert not errors, errors[:3]
    assert statuses == [201] * 16
    session = Session.objects.get(session_id="h8w-http-new")
    assert [s for s, _ in _session_log(session)] == list(range(1, 17))
    _assert_counters(session)
    _assert_feed(namespace)


# --- other surfaces still number right ---


def test_seed_002_mcp_and_upload_surfaces_number_in_one_feed(tenant: Tenant) -> None:
    namespace = tenant.default_namespace()
    owner = client_with(tenant.owner_key)
    asgi = AsgiClient(tenant.owner_key)
    assert asgi.upload("/api/uploads/h8w-surf", b"a", name="rest.txt").status_code == 201
    made = owner.post(
        f"{NS}/artifacts",
        {"name": "seed2", "content": "v1", "session_id": "h8w-surf"},
        format="json",
    )
    assert made.status_code == 201, made.content
    artifact_id = made.json()["artifact_id"]
    put = owner.put(f"{NS}/artifacts/{artifact_id}", {"content": "v2"}, format="json")
    assert put.status_code in (200, 201), put.content
    principal = principal_for_key(authenticate_raw_key(tenant.owner_key))  # type: ignore[arg-type]
    mcp_operations.upload_attachment(
        principal, {"session_id": "h8w-surf", "name": "mcp.txt", "content": "m"}
    )
    owner.post(f"{NS}/artifacts", {"name": "no-session", "content": "x"}, format="json")
    form = {"userReference": "ref-h8w", "uploadType": "runtime", "sessionId": "h8w-surf"}
    body, content_type = multipart_body("file", "app.txt", b"seed 003", form)
    app = asgi.post(
        "/api/v2/apps/alpha/environments/default/attachments/upload",
        content=body,
        headers={"Content-Type": content_type},
    )
    assert app.status_code == 201, app.text
    assert owner.post("/api/sessions/h8w-surf/complete").status_code == 200
    session = Session.objects.get(session_id="h8w-surf")
    log = Event.objects.filter(session=session).order_by("sequence")
    assert [(e.sequence, e.kind) for e in log] == [
        (1, "attachment.created"),
        (2, "artifact.created"),
        (3, "artifact.version_created"),
        (4, "attachment.created"),
        (5, "attachment.created"),
        (6, "session.completed"),
    ]
    feed = Event.objects.filter(namespace=namespace).order_by("namespace_sequence")
    assert [(e.namespace_sequence, e.sequence) for e in feed] == [
        (1, 1),
        (2, 2),
        (3, 3),
        (4, 4),
        (5, None),
        (6, 5),
        (7, 6),
    ]
    _assert_counters(session)
    _assert_feed(namespace)


# --- session_get_or_create_by_id ---


def _principal(raw_key: str) -> Principal:
    api_key = authenticate_raw_key(raw_key)
    assert api_key is not None
    return principal_for_key(api_key)


def test_by_id_org_wide_key_finds_a_session_in_another_workspace(tenant: Tenant) -> None:
    beta = Namespace.objects.get(workspace=tenant.other_workspace, slug="default")
    theirs = tenant.session("h8w-elsewhere", beta)
    owner = _principal(tenant.owner_key)
    found = session_services.session_get_or_create_by_id(
        principal=owner, session_id="h8w-elsewhere"
    )
    assert found.pk == theirs.pk
    # Both workspaces hold the id: the key's default workspace's one, as session_find picks.
    mine = tenant.session("h8w-elsewhere")
    found = session_services.session_get_or_create_by_id(
        principal=owner, session_id="h8w-elsewhere"
    )
    assert found.pk == mine.pk
    # A new id: made in the default namespace.
    made = session_services.session_get_or_create_by_id(principal=owner, session_id="h8w-new-id")
    assert made.namespace_id == tenant.default_namespace().pk
    # The same as session_get_or_create_for gives in the default namespace.
    for session_id in ("h8w-elsewhere", "h8w-new-id"):
        reference = session_services.session_get_or_create_for(
            principal=owner, namespace=owner.default_namespace, session_id=session_id
        )
        again = session_services.session_get_or_create_by_id(principal=owner, session_id=session_id)
        assert reference.pk == again.pk


def test_by_id_limited_key_stays_in_its_workspace(tenant: Tenant) -> None:
    tenant.session("h8w-alpha-only")  # in alpha, which the limited key cannot see
    limited = _principal(tenant.limited_key)
    made = session_services.session_get_or_create_by_id(
        principal=limited, session_id="h8w-alpha-only"
    )
    assert made.workspace_id == tenant.other_workspace.pk
    assert Session.objects.filter(session_id="h8w-alpha-only").count() == 2
    again = session_services.session_get_or_create_by_id(
        principal=limited, session_id="h8w-alpha-only"
    )
    assert again.pk == made.pk


def test_by_id_workspace_without_a_default_namespace(tenant: Tenant) -> None:
    """A workspace made around `workspace_create`, with no default namespace: an org-wide key
    writes into a session it already reads (the on-purpose difference of 72f5fef) and gets a
    404 for a new one; a limited key gets a 404 either way; nothing is made."""
    from sessions_app.models import ApiKey

    bare = Workspace.objects.create(organization=tenant.organization, slug="bare", name="bare")
    _, org_key = session_services.api_key_create(
        organization=tenant.organization, default_workspace=bare
    )
    _, limited_key = session_services.api_key_create(
        organization=tenant.organization, default_workspace=bare, limit_to_workspace=True
    )
    existing = tenant.session("h8w-existing")
    org_wide = _principal(org_key)
    found = session_services.session_get_or_create_by_id(
        principal=org_wide, session_id="h8w-existing"
    )
    assert found.pk == existing.pk
    sessions = Session.objects.count()
    with pytest.raises(NotFound):
        session_services.session_get_or_create_by_id(principal=org_wide, session_id="h8w-none")
    with pytest.raises(NotFound):
        session_services.session_get_or_create_by_id(
            principal=_principal(limited_key), session_id="h8w-existing"
        )
    assert Session.objects.count() == sessions
    # Through the upload: the same answers, and a 404 leaves no event.
    assert ApiKey.objects.filter(default_workspace=bare).count() == 2
    assert (
        AsgiClient(org_key).upload("/api/uploads/h8w-existing", b"e", name="e.txt").status_code
        == 201
    )
    assert (
        AsgiClient(org_key).upload("/api/uploads/h8w-none", b"n", name="n.txt").status_code == 404
    )
    assert (
        AsgiClient(limited_key).upload("/api/uploads/h8w-existing", b"l", name="l.txt").status_code
        == 404
    )
    assert list(Event.objects.values_list("name", flat=True)) == ["e.txt"]
    _assert_counters(existing)


# --- two server processes ---


@pytest.mark.postgres
def test_two_processes_writing_one_session_number_it_gapless(tenant: Tenant, tmp_path: Any) -> None:
    """Two uvicorn processes (each its own connections, the direct upload answer and Django's
    views): uploads and seed-002 artifact writes into one session through both at once, while
    a reader follows the namespace feed and the session log over HTTP with `after=`."""
    import contextlib

    import requests

    from tests.support.live_server import live_uvicorn

    headers = {"X-API-Key": tenant.owner_key}
    session_id = "h8w-two-processes"
    for name in ("h8w-a", "h8w-b"):
        (tmp_path / name).mkdir()
    with contextlib.ExitStack() as stack:
        bases = [
            stack.enter_context(live_uvicorn(tmp_path / name, name=name, env={}))[1]
            for name in ("h8w-a", "h8w-b")
        ]
        stop = threading.Event()
        seen: dict[str, list[tuple[int, str]]] = {"namespace": [], "session": []}
        reader_errors: list[BaseException] = []
        urls = {
            "namespace": (f"{NS}/events", "namespace_sequence"),
            "session": (f"/api/sessions/{session_id}/artifact-events", "sequence"),
        }

        def read_all() -> bool:
            progressed = False
            for feed, (path, field) in urls.items():
                after = seen[feed][-1][0] if seen[feed] else 0
                body = requests.get(
                    f"{bases[len(seen[feed]) % 2]}{path}",
                    params={"after": after, "wait_seconds": 0, "limit": 100},
                    headers=headers,
                    timeout=30,
                ).json()
                for event in body["events"]:
                    seen[feed].append((event[field], event["name"]))
                    progressed = True
            return progressed

        def reader() -> None:
            try:
                while not stop.is_set():
                    if not read_all():
                        time.sleep(0.01)
                while read_all():
                    pass
            except BaseException as error:
                reader_errors.append(error)

        statuses: list[int] = []
        lock = threading.Lock()

        def write(number: int) -> None:
            base = bases[number % 2]
            if number % 4 == 3:
                response = requests.post(
                    f"{base}{NS}/artifacts",
                    json={"name": f"mp-art-{number}", "content": "x", "session_id": session_id},
                    headers=headers,
                    timeout=60,
                )
            else:
                response = requests.post(
                    f"{base}/api/uploads/{session_id}",
                    files={"file": (f"mp-{number}.txt", f"bytes {number}".encode())},
                    headers=headers,
                    timeout=60,
                )
            with lock:
                statuses.append(response.status_code)

        reading = threading.Thread(target=reader)
        reading.start()
        try:
            errors = run_jobs([functools.partial(write, n) for n in range(40)], workers=8)
        finally:
            stop.set()
            reading.join(timeout=120)
    assert not errors, errors[:3]
    assert not reader_errors, reader_errors[:3]
    assert sorted(statuses) == [201] * 40
    session = Session.objects.get(session_id=session_id)
    for feed in ("namespace", "session"):
        assert [number for number, _ in seen[feed]] == list(range(1, 41)), feed
    assert seen["session"] == _session_log(session)
    assert seen["namespace"] == _feed(tenant.default_namespace())
    _assert_counters(session)
    _assert_feed(tenant.default_namespace())


@pytest.mark.postgres
def test_a_session_delete_and_a_version_write_of_its_artifact_do_not_deadlock(
    tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A version write holds the artifact's root row and goes on to its latest version (the
    lock order); the session's delete unlinks the session's artifact rows before it locks the
    session. When the root row lies after its latest version on disk (here: moved by an
    update of its indexed session column; in production, by any update or free-space reuse),
    one UPDATE over the session's rows locked the latest first and then waited on the root:
    PostgreSQL found the cycle and aborted the version write (OperationalError, deadlock
    detected). Fixed in sessions_app/services.py `_unlink_survivors`: the rows are locked in
    id order (a root is older than its versions) before the update."""
    from artifacts import services as artifact_services

    namespace = tenant.default_namespace()
    session = tenant.session("h8w-unlink-order")
    first = _artifact(namespace, "unlink-art", session)
    second, _ = artifact_version_create(artifact=first, content=NewContent(text="v2"))
    Artifact.objects.filter(pk=first.pk).update(session=None)
    Artifact.objects.filter(pk=first.pk).update(session=session)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id FROM artifacts_artifact WHERE session_id = %s ORDER BY ctid", [session.pk]
        )
        assert [row[0] for row in cursor.fetchall()] == [second.pk, first.pk]
    locked = threading.Event()
    real_lock = artifact_services.artifact_root_lock
    real_for_update = artifact_services.artifact_root_for_update

    def slow_lock(pk: int) -> None:
        real_lock(pk)
        locked.set()
        time.sleep(1.5)

    def slow_for_update(pk: int) -> Artifact:
        row = real_for_update(pk)
        locked.set()
        time.sleep(1.5)
        return row

    monkeypatch.setattr(artifact_services, "artifact_root_lock", slow_lock)
    monkeypatch.setattr(artifact_services, "artifact_root_for_update", slow_for_update)

    def write() -> None:
        artifact_version_create(
            artifact=Artifact.objects.get(pk=second.pk), content=NewContent(text="v3")
        )

    def delete() -> None:
        assert locked.wait(30)
        time.sleep(0.2)
        session_services.session_delete(session=Session.objects.get(pk=session.pk))

    errors = run_jobs([delete, write], workers=2)
    assert not errors, [f"{type(error).__name__}: {error}" for error in errors]
    assert not Session.objects.filter(pk=session.pk).exists()
    versions = Artifact.objects.filter(root_id=first.pk).order_by("version")
    assert [(a.version, a.session_id) for a in versions] == [(1, None), (2, None), (3, None)]
    _assert_feed(namespace)


@pytest.mark.postgres
def test_an_artifact_made_between_a_delete_s_unlink_and_its_session_lock(
    tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by this review: the delete unlinks the session's artifacts (t0), then locks the
    session (t1). An artifact created in the session between t0 and t1 commits with the
    session set; a version write of it then holds its root and latest rows and waits on the
    session row the delete holds, while the delete's `session.delete()` (Django's collector,
    SET_NULL) updated that artifact's row: a cycle, and PostgreSQL aborted one of them (a
    5xx). Orchestrated here with a gate before the session lock and a slow `session_deleting`
    receiver. Fixed in sessions_app/services.py `session_delete`: under the session's lock it
    unlinks again (NOWAIT), before the receivers, so the late artifact lets go of the session
    before the version write takes its rows, and the version write waits on the delete."""
    from sessions_app.signals import session_deleting

    namespace = tenant.default_namespace()
    session = tenant.session("h8w-late-artifact")
    unlinked, made_late, delete_locked = threading.Event(), threading.Event(), threading.Event()
    real = session_services.session_for_update
    made: dict[str, Artifact] = {}

    def gated(pk: int, *only: str) -> Session:
        unlinked.set()
        assert made_late.wait(30)
        return real(pk, *only)

    def slow_receiver(sender: Any, session: Session, **kwargs: Any) -> list[Any]:
        delete_locked.set()
        time.sleep(2)
        return []

    monkeypatch.setattr(session_services, "session_for_update", gated)
    session_deleting.connect(slow_receiver, weak=False, dispatch_uid="hostile8w.slow")

    def delete() -> None:
        session_services.session_delete(session=Session.objects.get(pk=session.pk))

    def create() -> None:
        assert unlinked.wait(30)
        made["late"] = _artifact(namespace, "late-artifact", session)
        made_late.set()

    def version() -> None:
        assert delete_locked.wait(30)
        latest = Artifact.objects.get(pk=made["late"].pk)
        artifact_version_create(artifact=latest, content=NewContent(text="late v2"))

    try:
        errors = run_jobs([version, create, delete], workers=3)
    finally:
        session_deleting.disconnect(dispatch_uid="hostile8w.slow")
    assert not errors, [f"{type(error).__name__}: {error}"[:120] for error in errors]
    assert not Session.objects.filter(pk=session.pk).exists()
    versions = Artifact.objects.filter(root_id=made["late"].pk).order_by("version")
    assert [(a.version, a.session_id) for a in versions] == [(1, None), (2, None)]
    _assert_feed(namespace)


def _hold_late_artifacts(
    monkeypatch: pytest.MonkeyPatch, namespace: Namespace, session: Session, *, times: int
) -> tuple[list[bool], list[BaseException], Callable[[], None]]:
    """Each of the first `times` attempts of `session_delete`, between its first unlink and its
    session lock, finds an artifact made in the session by another connection (committed) and
    then locked by it (FOR UPDATE, its transaction open) until the next attempt begins: the
    NOWAIT unlink under the session's lock finds the row held. Returns the attempts (each
    one's `may_retry`), the errors of the other connections, and the call that releases them."""
    attempts: list[bool] = []
    errors: list[BaseException] = []
    releases: list[threading.Event] = []
    threads: list[threading.Thread] = []
    real_attempt = session_services._session_delete
    real_lock = session_services.session_for_update

    def attempt(*args: Any, **kwargs: Any) -> None:
        attempts.append(kwargs["may_retry"])
        for release in releases:  # the previous attempt's row: its holder commits
            release.set()
        real_attempt(*args, **kwargs)

    def hold(name: str, release: threading.Event, held: threading.Event) -> None:
        try:
            artifact = _artifact(namespace, name, session)
            with transaction.atomic():
                Artifact.objects.select_for_update().get(pk=artifact.pk)
                held.set()
                assert release.wait(30)
                time.sleep(0.2)  # the delete's next attempt is waiting on the row by now
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    def gated(pk: int, *only: str) -> Session:
        if len(releases) < times:
            release, held = threading.Event(), threading.Event()
            args = (f"late-{len(releases)}", release, held)
            releases.append(release)
            threads.append(threading.Thread(target=hold, args=args))
            threads[-1].start()
            assert held.wait(30), errors
        return real_lock(pk, *only)

    def release_all() -> None:
        for release in releases:
            release.set()
        for thread in threads:
            thread.join(30)

    monkeypatch.setattr(session_services, "_session_delete", attempt)
    monkeypatch.setattr(session_services, "session_for_update", gated)
    return attempts, errors, release_all


@pytest.mark.postgres
def test_a_delete_that_finds_a_row_of_its_session_held_starts_again(
    tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The NOWAIT unlink under the session's lock finds an artifact of the session held by
    another connection (linked after the delete's first unlink): the attempt rolls back, the
    next one's first unlink waits for that connection to commit, and the delete goes through
    once, with one event per file and one audit entry, leaving nothing of the session."""
    from attachments.models import Blob
    from sessions_app.models import AuditAction, AuditEntry

    namespace = tenant.default_namespace()
    session = tenant.session("h8w-delete-retry")
    attachment = _upload(session, "retry.txt")
    _artifact(namespace, "early", session)
    attempts, errors, release_all = _hold_late_artifacts(monkeypatch, namespace, session, times=1)
    try:
        session_services.session_delete(session=Session.objects.get(pk=session.pk))
    finally:
        release_all()
    assert not errors, errors
    assert attempts == [True, True]
    assert not Session.objects.filter(pk=session.pk).exists()
    assert not Attachment.objects.filter(pk=attachment.pk).exists()
    assert not Blob.objects.filter(pk=attachment.blob_id).exists()
    artifacts = Artifact.objects.filter(namespace=namespace).order_by("pk")
    assert list(artifacts.values_list("name", "session_id")) == [("early", None), ("late-0", None)]
    _assert_feed(namespace)
    feed = Event.objects.filter(namespace=namespace).order_by("namespace_sequence")
    assert list(feed.values_list("kind", "name", "session_id", "session_public_id")) == [
        (EventKind.ATTACHMENT_CREATED, "retry.txt", None, "h8w-delete-retry"),
        (EventKind.ARTIFACT_CREATED, "early", None, "h8w-delete-retry"),
        (EventKind.ARTIFACT_CREATED, "late-0", None, "h8w-delete-retry"),
        (EventKind.ATTACHMENT_DELETED, "retry.txt", None, "h8w-delete-retry"),
    ]
    audit = AuditEntry.objects.filter(action=AuditAction.SESSION_DELETED)
    assert list(audit.values_list("target", flat=True)) == ["h8w-delete-retry"]


@pytest.mark.postgres
def test_a_delete_that_keeps_finding_a_row_held_is_a_503_that_changes_nothing(
    tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every attempt finds a row of the session held: after the last one, the lock error is
    the API's 503 with Retry-After, every attempt rolled back; once nothing holds the rows,
    the same DELETE goes through."""
    from sessions_app.models import AuditAction, AuditEntry

    namespace = tenant.default_namespace()
    session = tenant.session("h8w-delete-busy")
    attachment = _upload(session, "busy.txt")
    owner = client_with(tenant.owner_key)
    attempts, errors, release_all = _hold_late_artifacts(
        monkeypatch, namespace, session, times=session_services.SESSION_DELETE_ATTEMPTS
    )
    try:
        response = owner.delete("/api/sessions/h8w-delete-busy")
    finally:
        release_all()
    assert not errors, errors
    assert attempts == [True, True, False]
    assert response.status_code == 503, response.content
    assert response.headers["content-type"] == "application/json"
    assert "database is unavailable" in response.json()["detail"]
    assert int(response.headers["retry-after"]) > 0
    assert Session.objects.filter(pk=session.pk).exists()
    assert Attachment.objects.filter(pk=attachment.pk, session=session).exists()
    assert Artifact.objects.filter(session=session).count() == 3
    assert not Event.objects.filter(kind=EventKind.ATTACHMENT_DELETED).exists()
    assert not AuditEntry.objects.filter(action=AuditAction.SESSION_DELETED).exists()
    _assert_counters(session)
    _assert_feed(namespace)

    assert owner.delete("/api/sessions/h8w-delete-busy").status_code == 204
    assert attempts == [True, True, False, True]
    assert not Artifact.objects.filter(session_id=session.pk).exists()
    assert Event.objects.filter(kind=EventKind.ATTACHMENT_DELETED).count() == 1
    _assert_feed(namespace)
