"""Clients Depot did not write: its live /api/schema/ through the standard tools, and the SDKs
it ships (clients/, issue 12) run against a real uvicorn.

- openapi-spec-validator and Redocly CLI's recommended rules accept the schema (the rules
  turned off are named in tests/js/sdk/redocly.yaml), and it is the committed
  clients/openapi.yaml;
- openapi-python-client generates a package from the live schema without a warning, and it is
  the shipped clients/python; a scenario that uses only the shipped package (sessions, an upload,
  artifacts with tags and versions, a signed download, long-polled events, a streamed file,
  complete and delete) works;
- openapi-typescript generates the types from the live schema without a warning, and they are
  the shipped clients/typescript/depot.d.ts; a small program using them with openapi-fetch
  (tests/js/sdk/client.ts) type-checks under `tsc --strict` and works under node.

clients/ is made by `make sdk` (clients/generate.py, whose functions these tests call);
tests/test_sdk_up_to_date.py checks it against the code without a server. The Node tools are
the npm packages pinned in tests/js/sdk/package-lock.json (installed with `npm ci` when
missing). Without node the TypeScript and Redocly tests skip, except in CI."""

import hashlib
import importlib
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
import requests
import yaml
from openapi_spec_validator import validate

from tests.support import IN_CI, AsgiClient, Tenant
from tests.test_embedded_worker import Server

ROOT = Path(__file__).resolve().parent.parent
SDK_JS = ROOT / "tests" / "js" / "sdk"
CLIENTS = ROOT / "clients"
HTTP_METHODS = {"get", "put", "post", "delete", "patch"}
STALE = "the shipped clients are not what the live schema generates: run make sdk"
# Each outside tool gets this long; the scenarios are a few dozen requests.
TOOL_SECONDS = 90


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = Server(tmp_path_factory.mktemp("sdk-server"), worker="0")
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def live_schema(server: Server) -> dict[str, Any]:
    answer = requests.get(f"{server.base}/api/schema/?format=json", timeout=30)
    assert answer.status_code == 200, answer.text
    schema = answer.json()
    return schema


@pytest.fixture(scope="module")
def schema_file(live_schema: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("schema") / "depot.json"
    path.write_text(json.dumps(live_schema))
    return path


def generator() -> ModuleType:
    """clients/generate.py, what `make sdk` runs (a script, not a package: loaded by path)."""
    spec = importlib.util.spec_from_file_location("depot_sdk_generate", CLIENTS / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _node_tools() -> Path:
    """tests/js/sdk's node_modules/.bin, installed from its lock file if missing."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        reason = "node and npm are not installed (Debian: apt-get install nodejs npm)"
        if IN_CI:
            pytest.fail(f"CI runs the TypeScript and Redocly checks: {reason}")
        pytest.skip(reason)
    bin_dir = SDK_JS / "node_modules" / ".bin"
    if not (bin_dir / "tsc").exists():
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund"],
            cwd=SDK_JS,
            check=True,
            capture_output=True,
            timeout=TOOL_SECONDS,
        )
    return bin_dir


def _run(command: list[str], cwd: Path) -> str:
    done = subprocess.run(
        command, cwd=cwd, capture_output=True, text=True, timeout=TOOL_SECONDS, check=False
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"{' '.join(command)} failed:\n{output}"
    return output


def _operations(schema: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in HTTP_METHODS:
                yield path, method, operation


# --- the schema through the standard tools ---


def test_openapi_spec_validator_accepts_the_live_schema(live_schema: dict[str, Any]) -> None:
    validate(live_schema)


def test_the_live_schema_is_the_committed_one(live_schema: dict[str, Any]) -> None:
    committed = yaml.safe_load((CLIENTS / "openapi.yaml").read_text())
    differing = [
        f"{part} {name}"
        for part, live, old in (
            ("path", live_schema["paths"], committed["paths"]),
            ("component", live_schema["components"]["schemas"], committed["components"]["schemas"]),
        )
        for name in sorted(set(live) | set(old))
        if live.get(name) != old.get(name)
    ]
    assert not differing, f"clients/openapi.yaml is not the live schema: run make sdk: {differing}"
    assert live_schema == committed, "clients/openapi.yaml is not the live schema: run make sdk"


def test_redocly_lint_passes_with_its_recommended_rules(schema_file: Path) -> None:
    bin_dir = _node_tools()
    output = _run(
        [str(bin_dir / "redocly"), "lint", "--config", "redocly.yaml", str(schema_file)], SDK_JS
    )
    assert "Your API description is valid" in output, output
    assert not re.search(r"You have \d+ warning", output), output


def test_every_operation_is_named_summarized_and_documents_its_errors(
    live_schema: dict[str, Any],
) -> None:
    ids = []
    for path, method, operation in _operations(live_schema):
        where = f"{method.upper()} {path}"
        ids.append(operation.get("operationId"))
        assert operation.get("summary"), f"{where}: no summary"
        templated = set(re.findall(r"{([^}]+)}", path))
        declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
        assert declared == templated, f"{where}: path parameters {declared} != {templated}"
        responses = operation["responses"]
        expected = {"429", "503"}
        if operation.get("security"):
            expected.add("401")
        if "requestBody" in operation:
            expected |= {"408", "413", "415"}
        if method == "post":
            expected |= {"409", "422"}
        assert expected <= set(responses), f"{where}: missing {expected - set(responses)}"
        for status, response in responses.items():
            if status.startswith(("4", "5")) and status != "304":
                assert "application/json" in response.get("content", {}), f"{where} {status}"
        # Either key header is enough: one requirement per scheme, never two in one.
        assert all(len(requirement) <= 1 for requirement in operation.get("security", []))
    assert None not in ids and len(ids) == len(set(ids))


def test_request_components_carry_no_defaults_and_no_doubled_names(
    live_schema: dict[str, Any],
) -> None:
    schemas = live_schema["components"]["schemas"]
    assert not [name for name in schemas if name.endswith("RequestRequest")]
    request_refs = {
        ref.rsplit("/", 1)[-1]
        for _, _, operation in _operations(live_schema)
        for ref in re.findall(r'"\$ref": "([^"]+)"', json.dumps(operation.get("requestBody", {})))
    }
    assert request_refs
    for name in request_refs:
        assert '"default"' not in json.dumps(schemas[name]), name
    # No operation answers JSON and bytes under one status (a generator picks one decoder).
    for path, method, operation in _operations(live_schema):
        for status, response in operation["responses"].items():
            kinds = {"json" if "json" in t else "bytes" for t in response.get("content", {})}
            assert len(kinds) <= 1, f"{method.upper()} {path} {status}: {kinds}"
    # A body that JSON and a form both take has one class per encoding.
    for path, method, operation in _operations(live_schema):
        content = operation.get("requestBody", {}).get("content", {})
        refs = [media.get("schema", {}).get("$ref") for media in content.values()]
        assert len(refs) == len(set(refs)), f"{method.upper()} {path}: {list(content)}"


# --- SDKs generated from the live schema, run against the live server ---


def test_python_client_generated_from_the_live_schema_is_the_shipped_one(
    schema_file: Path, tmp_path: Path
) -> None:
    sdk = generator()
    sdk.write_python(schema_file, tmp_path / "python")  # any generator warning fails it
    found = sdk.differences(CLIENTS / "python", tmp_path / "python")
    assert not found, "\n".join([STALE, *found])


def test_the_shipped_python_client_works_against_the_live_server(
    server: Server, capsys: pytest.CaptureFixture[str]
) -> None:
    sys.path.insert(0, str(CLIENTS / "python"))
    try:
        _python_scenario(server)
        # The README's five lines, as printed there, on the same server.
        readme = (ROOT / "README.md").read_text()
        blocks = re.findall(r"```python\n(.*?)```", readme, re.S)
        example = next(b for b in blocks if "from depot_client import AuthenticatedClient" in b)
        capsys.readouterr()
        exec(  # noqa: S102 (the README's own example)
            example.replace("http://127.0.0.1:8000", server.base),
            {"KEY": server.credentials["api_key"]},
        )
        assert "'run-1'" in capsys.readouterr().out
    finally:
        sys.path.remove(str(CLIENTS / "python"))
        for name in [m for m in sys.modules if m.partition(".")[0] == "depot_client"]:
            del sys.modules[name]


def _python_scenario(server: Server) -> None:
    sdk = importlib.import_module("depot_client")
    assert Path(sdk.__file__).is_relative_to(CLIENTS / "python"), sdk.__file__  # the shipped one
    api = "depot_client.api"
    sessions = importlib.import_module(f"{api}.sessions")
    uploads = importlib.import_module(f"{api}.uploads_seed_000")
    artifacts = importlib.import_module(f"{api}.artifacts_seed_002")
    events = importlib.import_module(f"{api}.events")
    models = importlib.import_module("depot_client.models")
    types = importlib.import_module("depot_client.types")
    for module in (sessions, uploads, artifacts, events):
        for name in os.listdir(Path(module.__file__).parent):
            if name.endswith(".py") and name != "__init__.py":
                importlib.import_module(f"{module.__name__}.{name[:-3]}")

    c = server.credentials
    ns = {"org": c["organization"], "ws": c["workspace"], "ns": "default"}
    client = sdk.AuthenticatedClient(
        base_url=server.base, token=c["api_key"], prefix="", auth_header_name="X-API-Key"
    )

    made = sessions.sessions_create.sync_detailed(
        client=client, body=models.SessionCreateRequest(session_id="py-run", reference="sdk")
    )
    assert made.status_code == 201, made.content
    assert made.parsed.session_id == "py-run"
    page = sessions.sessions_list.sync(client=client, limit=10)
    assert isinstance(page, models.SessionPageResponse)
    assert "py-run" in [s.session_id for s in page.sessions]

    upload = uploads.uploads_create.sync_detailed(
        "py-run",
        client=client,
        body=models.AttachmentUploadRequest(
            file=types.File(BytesIO(b"# notes\n"), file_name="notes.md", mime_type="text/markdown"),
            path="docs/notes.md",
        ),
    )
    assert upload.status_code == 201, upload.content
    # Meta and bytes by id (seed 000) are two operations, each parsed as what it is.
    downloads = importlib.import_module(f"{api}.downloads_seed_000")
    for name in ("session_item_retrieve", "session_item_stream"):
        importlib.import_module(f"{downloads.__name__}.{name}")
    attachment_id = upload.parsed.attachment_id
    meta = downloads.session_item_retrieve.sync("py-run", attachment_id, client=client)
    assert isinstance(meta, models.SessionItemMetaResponse), meta
    assert meta.sha256 == hashlib.sha256(b"# notes\n").hexdigest()
    stream = downloads.session_item_stream.sync_detailed("py-run", attachment_id, client=client)
    assert stream.status_code == 200 and stream.content == b"# notes\n"
    assert isinstance(stream.parsed, types.File)
    listed = uploads.uploads_list.sync("py-run", client=client)
    assert [(a.name, a.sha256) for a in listed.attachments] == [
        ("notes.md", hashlib.sha256(b"# notes\n").hexdigest())
    ]

    # An artifact from a file with tags sent as repeated parts, then a new version from JSON.
    payload = os.urandom(300_000)
    with_file = artifacts.artifacts_create_with_file.sync_detailed(
        **ns,
        client=client,
        body=models.ArtifactUploadRequest(
            file=types.File(BytesIO(payload), file_name="blob.bin"),
            session_id="py-run",
            tags=["t1", "t2"],
        ),
    )
    assert with_file.status_code == 201, with_file.content
    assert with_file.parsed.tags == ["t1", "t2"]
    created = artifacts.artifacts_create.sync_detailed(
        **ns, client=client, body=models.ArtifactCreateRequest(name="plan", content="first")
    )
    assert created.status_code == 201, created.content
    plan = {**ns, "artifact_id": created.parsed.artifact_id}
    second = artifacts.artifacts_update.sync_detailed(
        **plan, client=client, body=models.ArtifactUpdateRequest(content="second")
    )
    assert second.status_code == 200, second.content
    assert second.parsed.version == 2
    versions = artifacts.artifacts_versions.sync(**plan, client=client)
    assert sorted(v.version for v in versions.versions) == [1, 2]

    # A signed download URL, followed with a client that has no key.
    blob = {**ns, "artifact_id": with_file.parsed.artifact_id}
    link = artifacts.artifacts_download_url.sync(**blob, client=client)
    assert isinstance(link, models.DownloadUrlResponse), link
    token = link.download_url.rstrip("/").rsplit("/", 1)[-1]
    anonymous = sdk.Client(base_url=server.base)
    got = artifacts.signed_download.sync_detailed(token, client=anonymous)
    assert got.status_code == 200 and got.content == payload

    # Streamed, a chunk at a time, with the request the generated code builds.
    download = artifacts.signed_download._get_kwargs(token)
    received = 0
    with anonymous.get_httpx_client().stream(**download) as streamed:
        assert streamed.status_code == 200
        for chunk in streamed.iter_bytes(64 * 1024):
            assert len(chunk) <= 64 * 1024
            received += len(chunk)
    assert received == len(payload)

    feed = events.session_artifact_events.sync("py-run", client=client, after=0, wait_seconds=1)
    assert isinstance(feed, models.EventPageResponse), feed
    assert len(feed.events) >= 2
    later = events.session_artifact_events.sync(
        "py-run", client=client, after=feed.next_cursor, wait_seconds=1
    )
    assert later.events == [] and later.timed_out is True
    # A long-poll, answered by the upload made while it waits (its own client: one per thread).
    waiter = sdk.AuthenticatedClient(
        base_url=server.base,
        token=c["api_key"],
        prefix="",
        auth_header_name="X-API-Key",
        timeout=httpx.Timeout(60),
    )
    woken: dict[str, Any] = {}

    def long_poll() -> None:
        started = time.monotonic()
        woken["page"] = events.session_artifact_events.sync(
            "py-run", client=waiter, after=feed.next_cursor, wait_seconds=30
        )
        woken["seconds"] = time.monotonic() - started

    polling = threading.Thread(target=long_poll)
    polling.start()
    time.sleep(1)
    late = uploads.uploads_create.sync(
        "py-run",
        client=client,
        body=models.AttachmentUploadRequest(
            file=types.File(BytesIO(b"late"), file_name="late.txt", mime_type="text/plain")
        ),
    )
    assert isinstance(late, models.AttachmentUploadResponse), late
    polling.join(45)
    assert not polling.is_alive()
    assert isinstance(woken["page"], models.EventPageResponse), woken
    assert woken["page"].timed_out is False and woken["page"].events, woken
    assert woken["seconds"] < 20, woken  # woken by the upload, not by its 30 s running out
    gone_upload = uploads.uploads_destroy.sync_detailed("py-run", late.attachment_id, client=client)
    assert gone_upload.status_code == 204, gone_upload.content
    assert len(uploads.uploads_list.sync("py-run", client=client).attachments) == 1
    namespace = events.namespace_events.sync(**ns, client=client, after=0, wait_seconds=1)
    assert len(namespace.events) >= len(feed.events)

    # Refusals parse into their documented bodies.
    missing = sessions.sessions_retrieve.sync("no-such-session", client=client)
    assert isinstance(missing, models.ErrorResponse)
    bad = artifacts.artifacts_create.sync(
        **ns, client=client, body=models.ArtifactCreateRequest(name="")
    )
    assert isinstance(bad, models.ValidationErrorResponse)

    done = sessions.sessions_complete.sync(
        "py-run", client=client, body=models.SessionCompleteRequest()
    )
    assert done.status == models.SessionStatusEnum.COMPLETED
    gone = sessions.sessions_destroy.sync_detailed("py-run", client=client)
    assert gone.status_code == 204


def test_typescript_types_from_the_live_schema_are_the_shipped_ones(
    schema_file: Path, tmp_path: Path
) -> None:
    _node_tools()
    sdk = generator()
    sdk.write_types(schema_file, tmp_path / "depot.d.ts")  # any generator warning fails it
    found = sdk.differences(CLIENTS / "typescript" / "depot.d.ts", tmp_path / "depot.d.ts")
    assert not found, "\n".join([STALE, *found])


def test_typescript_client_on_the_shipped_types_type_checks_and_runs(server: Server) -> None:
    bin_dir = _node_tools()
    build = SDK_JS / "build"
    shutil.rmtree(build, ignore_errors=True)
    # client.ts imports clients/typescript/depot.d.ts; strict, and fails on any error.
    _run([str(bin_dir / "tsc"), "-p", "tsconfig.json"], SDK_JS)
    c = server.credentials
    ran = _run(
        [
            *("node", str(build / "out" / "client.js"), server.base, c["api_key"]),
            *(c["organization"], c["workspace"]),
        ],
        SDK_JS,
    )
    assert json.loads(ran.strip().splitlines()[-1])["ok"] is True
    # The README's TypeScript lines, as printed there (beside a copy of the shipped types, as
    # it says), compiled strict and run against the same server.
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```ts\n(.*?)```", readme, re.S)
    example = next(b for b in blocks if "createClient<paths>" in b)
    folder = build / "readme"
    folder.mkdir()
    shutil.copyfile(CLIENTS / "typescript" / "depot.d.ts", folder / "depot.d.ts")
    program = example.replace("http://127.0.0.1:8000", server.base)
    (folder / "readme.ts").write_text(f'const KEY = process.argv[2] ?? "";\n{program}')
    _run(
        [
            *(str(bin_dir / "tsc"), "--strict", "--target", "es2022", "--types", "node"),
            *("--module", "nodenext", "--moduleResolution", "nodenext", "--skipLibCheck"),
            *("--outDir", str(folder / "out"), str(folder / "readme.ts")),
        ],
        SDK_JS,
    )
    printed = _run(["node", str(folder / "out" / "readme.js"), c["api_key"]], SDK_JS)
    assert "'run-1'" in printed or '"run-1"' in printed, printed


@pytest.mark.django_db(transaction=True)
def test_the_stream_route_and_seed_000s_mode_stream_serve_the_same_bytes(tenant: Tenant) -> None:
    client = AsgiClient(tenant.owner_key)
    made = client.upload("/api/uploads/both", b"same bytes", name="b.txt")
    assert made.status_code == 201, made.text
    item = f"/api/sessions/both/artifacts/{made.json()['attachment_id']}"
    seed = client.get(f"{item}?mode=stream")
    own = client.get(f"{item}/stream?mode=meta")  # the route decides, not the query
    assert seed.status_code == own.status_code == 200
    assert seed.content == own.content == b"same bytes"
    assert seed.headers["etag"] == own.headers["etag"]
    assert client.get(item).json()["sha256"] == hashlib.sha256(b"same bytes").hexdigest()
