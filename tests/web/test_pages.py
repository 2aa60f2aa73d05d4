"""The web pages through Django's test client: login, tenancy (another organization's ids are
404), CSRF on every form, the strict CSP with no inline script, the lists, filters and paging,
and previews that never let content run or serve active content inline."""

import asyncio
import re

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from rest_framework.test import APIClient

from sessions_app import services
from sessions_app.models import Event, Session
from tests.support import Stranger, Tenant, client_with
from tests.web.conftest import PASSWORD, Member
from web.security import CONTENT_SECURITY_POLICY

pytestmark = pytest.mark.django_db

NS = "/api/v1/orgs/acme/workspaces/alpha/namespaces/default"
HOSTILE_MARKDOWN = (
    "# Title\n\n<script>window.owned = 1</script>\n\n"
    '<img src="x" onerror="window.owned = 1">\n\n'
    '[click](javascript:alert(1)) and <a href="javascript:alert(1)">raw</a>\n\n'
    "| a | b |\n|---|---|\n| 1 | 2 |\n"
)


def _artifact(owner: APIClient, **fields: object) -> dict:
    answer = owner.post(f"{NS}/artifacts", fields, format="json")
    assert answer.status_code == 201, answer.content
    return answer.json()


def _new_version(owner: APIClient, artifact_id: str, **fields: object) -> dict:
    answer = owner.put(f"{NS}/artifacts/{artifact_id}", fields, format="json")
    assert answer.status_code == 200, answer.content
    return answer.json()


def _upload(owner: APIClient, session_id: str, name: str, body: bytes) -> dict:
    from django.core.files.uploadedfile import SimpleUploadedFile

    answer = owner.post(
        f"/api/uploads/{session_id}", {"file": SimpleUploadedFile(name, body)}, format="multipart"
    )
    assert answer.status_code == 201, answer.content
    return answer.json()


def _no_inline_script(html: str) -> None:
    for tag in re.findall(r"<script\b[^>]*>", html, re.IGNORECASE):
        assert "src=" in tag, tag
    assert not re.search(r"<script\b[^>]*>\s*[^<\s]", html), "inline script body"
    # Inside tags only: escaped content may spell anything.
    assert not re.search(r"<[^>]*\son[a-z]+\s*=", html, re.IGNORECASE), "inline event handler"
    assert not re.search(r"<[^>]*\sstyle\s*=", html, re.IGNORECASE), "inline style"


def _page(client: Client, url: str, status: int = 200) -> str:
    response = client.get(url)
    assert response.status_code == status, (url, response.status_code)
    assert response["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    html = response.content.decode()
    _no_inline_script(html)
    return html


# --- sign-in ---


def test_pages_ask_for_a_login_first(tenant: Tenant) -> None:
    anonymous = Client()
    for url in ("/", "/sessions/run-1/", "/artifacts/art_x/", "/search/"):
        response = anonymous.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/login/?next=")


def test_sign_in_needs_the_csrf_token_and_the_password(member: Member) -> None:
    browser = Client(enforce_csrf_checks=True)
    page = browser.get("/login/")
    assert page["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())
    assert token
    form = {"username": "ada", "password": PASSWORD, "next": "/"}
    assert browser.post("/login/", form).status_code == 403  # no token
    wrong = browser.post("/login/", {**form, "password": "nope", "csrfmiddlewaretoken": token[1]})
    assert wrong.status_code == 200 and "do not match" in wrong.content.decode()
    signed_in = browser.post("/login/", {**form, "csrfmiddlewaretoken": token[1]})
    assert signed_in.status_code == 302 and signed_in["Location"] == "/"
    assert browser.get("/").status_code == 200


def test_a_user_without_a_membership_gets_a_403_page(db: None) -> None:
    user = get_user_model().objects.create_user("loner", "l@example.com", PASSWORD)
    client = Client()
    client.force_login(user)
    assert "not a member" in _page(client, "/", 403)


# --- the sessions list ---


def test_sessions_list_counts_searches_filters_and_pages(
    member: Member, tenant: Tenant, owner: APIClient
) -> None:
    ns = services.namespace_create(workspace=tenant.workspace, slug="extra")
    for index in range(30):
        services.session_create(
            organization_id=tenant.organization.pk,
            namespace=ns,
            session_id=f"batch-{index:02d}",
            reference=f"ticket-{index}",
            workflow_id="nightly" if index % 2 else "",
        )
    _upload(owner, "counted", "a.txt", b"a")
    _upload(owner, "counted", "b.txt", b"b")
    art = _artifact(owner, name="plan", content="v1", session_id="counted")
    _new_version(owner, art["artifact_id"], content="v2")  # still one artifact

    html = _page(member.client, "/?q=counted")
    assert "1 session" in html
    row = re.search(r"counted</a></th>(.*?)</tr>", html, re.S)[1]
    assert re.findall(r'class="num">(\d+)<', row) == ["2", "1"]

    assert "31 sessions" in _page(member.client, "/")
    first = _page(member.client, "/?status=active")
    assert "Page 1 of 2" in first and 'rel="next"' in first
    second = _page(member.client, "/?status=active&page=2")
    assert "Page 2 of 2" in second and "status=active&amp;page=1" in second
    assert "15 sessions" in _page(member.client, "/?workflow=nightly")
    assert "1 session" in _page(member.client, "/?q=ticket-17")
    services.session_complete(session=Session.objects.get(session_id="batch-03"))
    completed = _page(member.client, "/?status=completed")
    assert "1 session" in completed and "batch-03" in completed


def test_sessions_list_shows_only_the_members_organization(
    member: Member, owner: APIClient, stranger: Stranger
) -> None:
    _upload(owner, "ours", "a.txt", b"a")
    _upload(client_with(stranger.key), "theirs", "b.txt", b"b")
    html = _page(member.client, "/")
    assert "ours" in html and "theirs" not in html


# --- a session's page ---


def test_session_page_lists_files_and_artifacts_and_wires_the_live_feed(
    member: Member, owner: APIClient
) -> None:
    uploaded = _upload(owner, "run-1", "notes.md", b"# notes")
    art = _artifact(owner, name="report", content="hello", session_id="run-1")
    html = _page(member.client, "/sessions/run-1/")
    assert "notes.md" in html and uploaded["attachment_id"] in html
    assert f'href="/artifacts/{art["artifact_id"]}/"' in html
    assert 'href="/api/sessions/run-1/download"' in html
    last = Session.objects.get(session_id="run-1").last_event_sequence
    assert last == 2 and f'data-after="{last}"' in html
    assert 'data-ws-path="/ws/sessions/run-1"' in html
    assert 'type="file" multiple' in html and 'for="file-picker"' in html
    rows = _page(member.client, "/sessions/run-1/artifact-rows")
    assert "report" in rows and "<tr" in rows


def test_another_organizations_session_and_artifact_answer_404(
    member: Member, stranger: Stranger
) -> None:
    theirs = client_with(stranger.key)
    _upload(theirs, "secret-run", "s.txt", b"secret")
    art = theirs.post(
        "/api/v1/orgs/globex/workspaces/alpha/namespaces/default/artifacts",
        {"name": "secret", "content": "secret text", "session_id": "secret-run"},
        format="json",
    ).json()
    for url in (
        "/sessions/secret-run/",
        "/sessions/secret-run/artifact-rows",
        f"/artifacts/{art['artifact_id']}/",
        f"/artifacts/{art['artifact_id']}/file",
        "/sessions/no-such/",
        "/sessions/bad%20id!/",
        "/artifacts/art_nope/",
        "/search/?ns=alpha/nope&q=x",
    ):
        html = _page(member.client, url, 404)
        assert "secret" not in html
    response = member.client.post("/sessions/secret-run/complete")
    assert response.status_code == 404
    assert Session.objects.get(session_id="secret-run").status == "active"


def test_completing_a_session_takes_a_csrf_token_and_a_writer(
    tenant: Tenant, member: Member, reader: Member, owner: APIClient
) -> None:
    _upload(owner, "run-2", "a.txt", b"a")
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(member.user)
    assert strict.post("/sessions/run-2/complete").status_code == 403
    assert member.client.get("/sessions/run-2/complete").status_code == 405
    assert reader.client.post("/sessions/run-2/complete").status_code == 403
    reader_page = _page(reader.client, "/sessions/run-2/")
    assert "Mark complete" not in reader_page and "file-picker" not in reader_page
    assert Session.objects.get(session_id="run-2").status == "active"

    page = strict.get("/sessions/run-2/").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)[1]
    done = strict.post("/sessions/run-2/complete", {"csrfmiddlewaretoken": token})
    assert done.status_code == 302 and done["Location"] == "/sessions/run-2/"
    session = Session.objects.get(session_id="run-2")
    assert session.status == "completed"
    assert Event.objects.filter(session=session, kind="session.completed").count() == 1
    assert "Mark complete" not in _page(member.client, "/sessions/run-2/")


# --- an artifact's page ---


def test_artifact_page_shows_versions_diff_lineage_and_sanitised_markdown(
    member: Member, owner: APIClient
) -> None:
    base = _artifact(owner, name="base", content="base text", content_type="text/plain")
    art = _artifact(
        owner,
        name="plan",
        content="line one\nline two\n",
        content_type="text/markdown",
        derived_from=[base["artifact_id"]],
    )
    _new_version(owner, art["artifact_id"], content="line one\nline 2\n")
    _new_version(owner, art["artifact_id"], content=HOSTILE_MARKDOWN)
    child = _artifact(owner, name="child", content="c", derived_from=[art["artifact_id"]])

    html = _page(member.client, f"/artifacts/{art['artifact_id']}/")
    assert "version 3 (latest)" in html
    assert len(re.findall(r"Download version \d", html)) == 3
    # The latest two text versions are compared by default.
    assert 'class="diff-add">+# Title' in html and 'class="diff-remove">-line 2' in html
    preview = re.search(r'id="markdown-preview">(.*?)</div>', html, re.S)[1]
    assert "<h1>Title</h1>" in preview and "<table>" in preview
    # The script and the handler arrive as text, never as markup; no javascript: link.
    assert "&lt;script&gt;window.owned = 1&lt;/script&gt;" in preview
    assert not re.search(r"<(script|img|iframe)", preview)
    assert not re.search(r"<[^>]*\son[a-z]+\s*=", preview)
    assert not re.search(r"<a[^>]*href=\"\s*javascript:", preview)
    assert f'href="/artifacts/{base["artifact_id"]}/"' in html
    assert f'href="/artifacts/{child["artifact_id"]}/"' in html

    chosen = _page(member.client, f"/artifacts/{art['artifact_id']}/?version=1&from=1&to=2")
    assert "version 1" in chosen and "line one" in chosen
    assert 'class="diff-remove">-line two' in chosen and 'class="diff-add">+line 2' in chosen
    _page(member.client, f"/artifacts/{art['artifact_id']}/?version=9", 404)
    _page(member.client, f"/artifacts/{art['artifact_id']}/?version=x", 404)


def test_json_and_csv_previews(member: Member, owner: APIClient) -> None:
    data = _artifact(
        owner,
        name="data",
        content='{"b": [1, 2], "a": "<b>x</b>"}',
        content_type="application/json",
    )
    html = _page(member.client, f"/artifacts/{data['artifact_id']}/")
    assert "&quot;a&quot;: &quot;&lt;b&gt;x&lt;/b&gt;&quot;" in html
    table = _artifact(
        owner, name="table", content="name,score\nada,3\n<i>x</i>,4\n", content_type="text/csv"
    )
    html = _page(member.client, f"/artifacts/{table['artifact_id']}/")
    assert '<th scope="col">name</th><th scope="col">score</th>' in html
    assert "<td>ada</td><td>3</td>" in html and "<td>&lt;i&gt;x&lt;/i&gt;</td>" in html


def test_active_content_is_never_previewed_or_served_inline(
    member: Member, owner: APIClient
) -> None:
    page = "<html><body><script>window.owned = 1</script></body></html>"
    html_art = _artifact(owner, name="page", content=page, content_type="text/html")
    svg = '<svg xmlns="http://www.w3.org/2000/svg"><script>window.owned=1</script></svg>'
    svg_art = _artifact(owner, name="pic", content=svg, content_type="image/svg+xml")
    shown = _page(member.client, f"/artifacts/{html_art['artifact_id']}/")
    # HTML is text: its source is shown escaped, never as markup.
    assert "&lt;script&gt;window.owned = 1&lt;/script&gt;" in shown
    assert "image-preview" not in _page(member.client, f"/artifacts/{svg_art['artifact_id']}/")
    for art in (html_art, svg_art):
        served = member.client.get(f"/artifacts/{art['artifact_id']}/file?download=false")
        assert served.status_code == 200
        assert served["Content-Security-Policy"] == "sandbox"
        assert served["Content-Disposition"].startswith("attachment")
        assert served["X-Content-Type-Options"] == "nosniff"
    text = _artifact(owner, name="t", content="plain", content_type="text/plain")
    inline = member.client.get(f"/artifacts/{text['artifact_id']}/file?download=false")
    assert inline["Content-Disposition"].startswith("inline")

    async def body() -> bytes:
        return b"".join([chunk async for chunk in inline.streaming_content])

    assert asyncio.run(body()) == b"plain"


@pytest.mark.django_db(transaction=True)
def test_search_page_finds_artifacts_in_a_namespace(
    member: Member, owner: APIClient, settings: object
) -> None:
    settings.DEPOT_SEMANTIC_SEARCH = "off"  # type: ignore[attr-defined]
    found = _artifact(owner, name="zebra notes", content="the zebra crossing report")
    _artifact(owner, name="other", content="nothing to see")
    call_command("db_worker", "--batch", "--no-startup-delay", "--queue-name", "*", verbosity=0)
    html = _page(member.client, "/search/?ns=alpha/default&q=zebra")
    assert f'href="/artifacts/{found["artifact_id"]}/"' in html and "other</a>" not in html
    assert "Nothing matched" in _page(member.client, "/search/?q=quagga")


@pytest.mark.django_db(transaction=True)
def test_the_pages_upload_needs_the_csrf_token_with_the_session_cookie(
    member: Member, owner: APIClient
) -> None:
    """The session page posts files to the API with its cookie: without the page's CSRF token
    that is a 403 and nothing is stored."""
    from django.conf import settings

    from tests.conftest import AsgiClient

    _upload(owner, "run-csrf", "a.txt", b"a")
    page = _page(member.client, "/sessions/run-csrf/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)[1]
    cookies = "; ".join(
        f"{name}={member.client.cookies[name].value}"
        for name in (settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME)
    )
    browser = AsgiClient(headers={"Cookie": cookies, "Origin": "http://testserver"})
    refused = browser.upload("/api/uploads/run-csrf", b"no token", name="b.txt")
    assert refused.status_code == 403 and "CSRF" in refused.text, refused.text
    browser.headers["X-CSRFToken"] = token
    accepted = browser.upload("/api/uploads/run-csrf", b"token", name="c.txt")
    assert accepted.status_code == 201, accepted.text
    names = set(
        Session.objects.get(session_id="run-csrf").attachments.values_list("name", flat=True)
    )
    assert names == {"a.txt", "c.txt"}


def test_a_png_is_previewed_inline(member: Member, owner: APIClient) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    png = (
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
        b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N"
        b"\x00\x00\x00\x00IEND\xaeB`\x82"
    )
    answer = owner.post(
        f"{NS}/artifacts/upload", {"file": SimpleUploadedFile("dot.png", png)}, format="multipart"
    )
    assert answer.status_code == 201, answer.content
    artifact_id = answer.json()["artifact_id"]
    html = _page(member.client, f"/artifacts/{artifact_id}/")
    assert f'src="/artifacts/{artifact_id}/file?version=1&amp;download=false"' in html
    served = member.client.get(f"/artifacts/{artifact_id}/file?version=1&download=false")
    assert served["Content-Type"] == "image/png"
    assert served["Content-Disposition"].startswith("inline")
