"""Schema fuzzing: schemathesis drives every operation of `/api/schema/` (issue 14).

The schema is the one Depot serves, fetched from `/api/schema/` of the real ASGI application
(`config.asgi:application`: request gate, upload middleware, long-poll consumer, Django), and
every case goes through that same application in process:

- `test_operation`: each operation on its own, positive and negative data (and schemathesis'
  coverage cases), with the checks issue 14 names: no 5xx, documented status codes and content
  types, bodies that match their schemas, schema-violating requests rejected, and the key
  enforced (`ignored_auth` replays each served request without it and with a wrong one);
- `test_linked_operations`: the stateful mode, which chains a create to the reads and writes
  that take its id (links inferred from the schema). On top of it, Depot's tenancy rule
  (schemathesis' own object-level check needs a WFC identity file and replays only reads):
  every step on the owner's objects is sent first with a second organization's key, which
  must get a 404 (or the 400/422 that input naming nothing it can see gets), never a 2xx,
  403 or 409, and never an answer carrying one of the owner's minted ids;
- plain tests for what the fuzzing found and was fixed (the schema here; the reused-key 422
  and scalar coercion elsewhere);
- a strict xfail per open finding whose fix lives elsewhere (none at the moment), so it stays
  visible and its xfail turns red the day the fix lands.

Budget: a fixed seed and derandomized generation, so a run is repeatable; DEPOT_FUZZ_EXAMPLES
examples per operation (default 25) and DEPOT_FUZZ_SCENARIOS stateful scenarios (default 20)
bound the module (about 70 s embedded, 90 s on the production profile, on 2 cores). The
full-budget run:

    DEPOT_FUZZ_EXAMPLES=1000 DEPOT_FUZZ_SCENARIOS=300 pytest tests/test_schema_fuzz.py -s

(`-s` prints how often each known finding came up); add DEPOT_FUZZ_SEED=<n> to explore other
inputs than CI's.

Nothing is excluded silently: a failure is ignored only when it matches an entry of
KNOWN_FINDINGS, which says why (an open finding and where its fix belongs, or a case the fuzzer
gets wrong) and has a test of its own below.
"""

import contextlib
import json
import os
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import Case, checks
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.core.transport import Response

from config.asgi import application
from sessions_app.models import SESSION_ID_PATTERN
from tests.support import AsgiClient, Stranger, Tenant

pytestmark = pytest.mark.django_db(transaction=True)

EXAMPLES = int(os.environ.get("DEPOT_FUZZ_EXAMPLES", "25"))
SCENARIOS = int(os.environ.get("DEPOT_FUZZ_SCENARIOS", "20"))
# tus chunks (artifacts/tus/) are raw bytes under the media type the tus protocol names.
schemathesis.serializer.alias("application/offset+octet-stream", "application/octet-stream")
# CI derandomizes (the same cases every run). DEPOT_FUZZ_SEED=<n> explores other inputs,
# repeatably for the same n.
EXPLORE_SEED = os.environ.get("DEPOT_FUZZ_SEED")
SEED = int(EXPLORE_SEED) if EXPLORE_SEED else 14


async def http_only(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Depot's ASGI application for HTTP. The lifespan scope is refused before it asks for a
    message, which tells schemathesis the app has none, so no task worker process starts."""
    if scope["type"] != "http":
        raise RuntimeError("HTTP only")
    await application(scope, receive, send)


CONFIG = schemathesis.Config.from_dict(
    {
        "seed": SEED,
        # In process, but a loaded 2-core CI machine with S3 on moto took over 10 s (the
        # default) for one upload; a hang still fails, at 60 s.
        "request-timeout": 60,
        "generation": {
            "max-examples": EXAMPLES,
            "deterministic": EXPLORE_SEED is None,
            # No example database: a run never depends on what an earlier run left behind.
            "database": "none",
        },
        # The tenant fixture's namespace, so cases reach real rows instead of a 404 on the
        # first path segment (the tenancy test below covers the other organization).
        "parameters": {
            "org": "acme",
            "ws": "alpha",
            "ns": "default",
            "appId": "alpha",
            "envName": "default",
            # A long-poll would otherwise wait up to 60 s per case.
            "wait_seconds": 0,
        },
    }
)
# Fetched with a Host Django allows at import time; cases go out as `testserver`, which the
# test environment allows.
schema = schemathesis.openapi.from_asgi(
    "/api/schema/?format=json", http_only, config=CONFIG, headers={"Host": "localhost"}
)

CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.negative_data_rejection,
    checks.ignored_auth,
]
STATEFUL_CHECKS = [*CHECKS, checks.use_after_free, checks.ensure_resource_availability]


# --- findings whose fix lives elsewhere ---


@dataclass(frozen=True)
class KnownFinding:
    name: str
    # What is wrong, and the file and line where the fix belongs.
    reason: str
    matches: Callable[[Case, Response, Failure], bool]


def _json(response: Response) -> Any:
    try:
        return json.loads(response.content or b"null")
    except ValueError:
        return None


# Not Depot's: a multipart field is text, so a "negative" value that only changes a string
# field's JSON type (false, null, 5, ["x"]) goes out as text that is a valid string ("false",
# "null"), or as a JSON array part that Depot reads as the list; the request on the wire is
# valid and its 201 is right. Only type changes of declared strings in multipart bodies; any
# other violation (length, pattern, a missing field) still fails.
_RETYPED_STRING = re.compile(r"violates `type` at \S+ \(was string, became \w+\)")
FORM_TEXT = KnownFinding(
    name="multipart-text-retyped",
    reason=(
        "schemathesis' negative mode changes a multipart string field's type; multipart "
        "carries text, so the server receives a valid string (see test_form_fields_are_text)."
    ),
    matches=lambda case, response, failure: (
        failure.code == "ST201"
        and (case.media_type or "").startswith("multipart/form-data")
        and "violates" in failure.message
        and all(
            _RETYPED_STRING.search(line)
            for line in failure.message.splitlines()
            if "violates" in line
        )
    ),
)

# None open: the reused-key 422's shape (config/idempotency.py) and scalar coercion in request
# serializers (StrictSerializer, sessions_app/api/common.py) were fixed; their reproducers
# below are plain regression tests now.
KNOWN_FINDINGS: list[KnownFinding] = [FORM_TEXT]


# How often each known finding came up in this run (printed at the end with `-s`).
MET: Counter[str] = Counter()


def _known(case: Case, response: Response, failure: Failure) -> bool:
    for known in KNOWN_FINDINGS:
        if known.matches(case, response, failure):
            MET[f"{known.name} ({case.method} {case.path})"] += 1
            return True
    return False


def _unknown_failures(case: Case, response: Response, failures: tuple[Failure, ...]) -> list:
    return [failure for failure in failures if not _known(case, response, failure)]


@pytest.fixture(scope="module", autouse=True)
def _report_known_findings() -> Iterator[None]:
    yield
    for finding, count in sorted(MET.items()):
        print(f"known finding met {count}x: {finding}")


def validate(case: Case, response: Response, headers: dict[str, str], checks: list[Any]) -> None:
    """schemathesis' checks on one response; failures listed in KNOWN_FINDINGS are dropped,
    anything else fails the test with schemathesis' own report (and its curl line)."""
    try:
        case.validate_response(response, checks=checks, headers=headers)
    except FailureGroup as group:
        remaining = _unknown_failures(case, response, group.exceptions)
        if len(remaining) == len(group.exceptions):
            raise
        if remaining:
            raise FailureGroup(remaining) from None


# --- every operation on its own ---


@schema.parametrize()
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
def test_operation(case: Case, tenant: Tenant) -> None:
    headers = {"X-API-Key": tenant.owner_key}
    response = case.call(headers=headers)
    validate(case, response, headers, CHECKS)


# --- linked operations, and a second organization on every step ---

# Ids Depot mints; a stranger's answer that contains one of the owner's has leaked it.
MINTED_ID = re.compile(
    r"\b(?:art|att|evt|src)_[0-9a-f]{32}\b"
    r"|\b[fs]-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b"
)
# Routes every caller may read whatever the ids in the path: lists of the caller's own rows, and
# the session feed, which waits for a session that does not exist yet in the caller's
# organization (product.md §6) instead of answering 404.
ANSWERED_FOR_EVERY_CALLER = {
    "GET /api/sessions",
    "GET /api/artifacts",
    "GET /api/sessions/{session_id}/artifact-events",
}
# A write by a client-chosen id makes the caller's own row of that id, so a stranger's write
# there is no probe of the owner's.
CREATES_BY_ID = {"POST /api/uploads/{session_id}"}
# What the stranger may get for a request the owner's key was served: the 404 of an unknown
# object, or the 400/422 of input that names nothing the stranger can see (a `derived_from`
# of the owner's ids is a 422 "not found", as for ids that never existed). Never the object,
# never a 403 or 409 that tells it exists.
STRANGER_REFUSALS = {400, 404, 422}
PINNED_PATH = {key: CONFIG.projects.get_default().parameters[key] for key in ("org", "ws", "ns")}


def _minted_ids(content: bytes) -> set[str]:
    return set(MINTED_ID.findall(content.decode("utf-8", "replace")))


def _request_text(case: Case) -> str:
    return json.dumps([case.formatted_path, case.query, case.body], default=str)


def stranger_probe(case: Case, stranger_key: str, owner_ids: set[str]) -> Response:
    """The owner's request with the other organization's key; it must not echo back any of the
    owner's ids that the request itself did not name."""
    response = case.call(headers={"X-API-Key": stranger_key})
    named = _request_text(case)
    leaked = {found for found in _minted_ids(response.content) & owner_ids if found not in named}
    assert not leaked, (
        f"{case.method} {case.formatted_path} as a stranger answered {response.status_code} "
        f"with the owner's {sorted(leaked)}"
    )
    return response


def judge_stranger(case: Case, stranger: Response, owner: Response) -> None:
    label = f"{case.method} {case.path}"
    if label in ANSWERED_FOR_EVERY_CALLER or not 200 <= owner.status_code < 300:
        return
    assert stranger.status_code in STRANGER_REFUSALS, (
        f"{case.method} {case.formatted_path}: the owner got {owner.status_code}, a stranger "
        f"{stranger.status_code} {stranger.content[:300]!r}"
    )


# schemathesis starts a scenario only from "reliable" roots when there are any, and counts a POST
# whose inputs name no resource nobody produces as one. `complete` is the only such POST here (the
# creates take a `workflow_id`, which no operation produces), so every walk would start from a
# complete of a random id, a 404, and never reach a create. Without it the creates and lists are
# the roots; `complete` is still fuzzed above on its own.
STATEFUL_SCHEMA = schema.exclude(operation_id="sessions_complete")


@contextlib.contextmanager
def _recorded(failures: list[str]) -> Iterator[None]:
    try:
        yield
    except Exception as error:
        failures.append(f"{type(error).__name__}: {error}"[:2000])
        raise


def test_linked_operations(tenant: Tenant, stranger: Stranger) -> None:
    owner_headers = {"X-API-Key": tenant.owner_key}
    seen: set[str] = set()
    probes: dict[int, Response] = {}
    judged: list[str] = []
    # Every check that failed in any walk, so a failure is reported even when hypothesis's
    # replay of it ends in FlakyStrategyDefinition (see below).
    failures: list[str] = []

    class LinkedOperations(STATEFUL_SCHEMA.as_state_machine()):  # type: ignore[misc]
        def get_call_kwargs(self, case: Case) -> dict[str, Any]:
            return {"headers": owner_headers}

        def before_call(self, case: Case) -> None:
            # The stateful phase does not apply the config's fixed parameters.
            for name, value in PINNED_PATH.items():
                if name in case.path_parameters:
                    case.path_parameters[name] = value
            if case.query and "wait_seconds" in case.query:
                case.query["wait_seconds"] = 0
            # Before the owner's own step, so a stranger's write that went through shows up
            # as the owner's step failing too.
            label = f"{case.method} {case.path}"
            if seen and case.path_parameters and label not in CREATES_BY_ID:
                with _recorded(failures):
                    probes[id(case)] = stranger_probe(case, stranger.key, seen)

        def after_call(self, response: Response, case: Case) -> None:
            probe = probes.pop(id(case), None)
            if probe is not None:
                with _recorded(failures):
                    judge_stranger(case, probe, response)
                if 200 <= response.status_code < 300:
                    judged.append(f"{case.method} {case.path}")
            if 200 <= response.status_code < 300:
                seen.update(_minted_ids(response.content))

        def validate_response(self, response: Response, case: Case, **kwargs: Any) -> None:
            with _recorded(failures):
                validate(case, response, owner_headers, STATEFUL_CHECKS)

    if EXPLORE_SEED is not None:
        # What hypothesis.seed() sets; run_state_machine_as_test reads it from the class.
        LinkedOperations._hypothesis_internal_use_seed = SEED  # type: ignore[attr-defined]

    def walk(derandomize: bool) -> None:
        LinkedOperations.run(
            settings=hypothesis.settings(
                max_examples=SCENARIOS,
                stateful_step_count=6,
                derandomize=derandomize,
                database=None,
                deadline=None,
                suppress_health_check=list(HealthCheck),
                # No shrinking: a walk's draws depend on what the server answered, so replaying
                # a failing walk against a database its first run changed draws differently,
                # and hypothesis then reports FlakyStrategyDefinition instead of the failure.
                phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
            )
        )

    # Which rules are enabled depends on what earlier walks left in the database (a create
    # that succeeded once is a 409 the next time, so its bundle stays empty). Now and then a
    # new walk retraces a recorded prefix under a different state, and hypothesis stops the
    # run with FlakyStrategyDefinition: no check failed, the draws just diverged (seen in CI
    # about once in six full runs). The walks up to that point have run their checks; one
    # more run, on a fresh random seed, walks the rest. A real failure is an AssertionError or
    # a schemathesis FailureGroup, which neither run catches; and a check that failed in a
    # walk whose replay then diverged is in `failures`, asserted empty below.
    try:
        walk(derandomize=EXPLORE_SEED is None)
    except hypothesis.errors.FlakyStrategyDefinition:
        with contextlib.suppress(hypothesis.errors.FlakyStrategyDefinition):
            walk(derandomize=False)
    assert not failures, f"{len(failures)} failed checks, the first: {failures[0]}"
    # The walks reached the owner's objects, so the stranger's probes above probed something.
    assert seen, "no step created anything: the stateful links are gone from the schema"
    assert judged, "no stranger probe met an object the owner's key was served"
    print(f"stranger probes of served objects: {len(judged)} over {sorted(set(judged))}")


# --- what the fuzzing found in the schema, and fixed ---

NS = "/api/v1/orgs/acme/workspaces/alpha/namespaces/default"
OPERATIONS = [
    (path, method, operation)
    for path, item in schema.raw_schema["paths"].items()
    for method, operation in item.items()
    if method in {"get", "put", "post", "patch", "delete"}
]


def _parameters(operation: dict[str, Any], where: str) -> dict[str, dict[str, Any]]:
    return {p["name"]: p for p in operation.get("parameters", []) if p["in"] == where}


def test_path_parameters_are_the_paths_own() -> None:
    # `GET`/`POST /api/sessions` carried a required `session_id` path parameter.
    for path, method, operation in OPERATIONS:
        declared = set(_parameters(operation, "path"))
        assert declared == set(re.findall(r"{(\w+)}", path)), (method, path, declared)


def test_session_ids_in_paths_carry_the_pattern_the_views_check() -> None:
    # Without it every id was schema-valid and the views' 422 for `E=\x12` broke the contract.
    found = 0
    for path, method, operation in OPERATIONS:
        parameter = _parameters(operation, "path").get("session_id")
        if parameter is not None:
            found += 1
            assert parameter["schema"].get("pattern") == SESSION_ID_PATTERN, (method, path)
    assert found >= 10


def test_the_sessions_list_is_one_page_not_a_list_of_pages() -> None:
    page = schema.raw_schema["paths"]["/api/sessions"]["get"]["responses"]["200"]
    assert page["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/SessionPageResponse"
    }


def test_session_bodies_are_json_only() -> None:
    paths = schema.raw_schema["paths"]
    for path, method in [
        ("/api/sessions", "post"),
        ("/api/sessions/{session_id}", "patch"),
        ("/api/sessions/{session_id}/complete", "post"),
    ]:
        assert list(paths[path][method]["requestBody"]["content"]) == ["application/json"]


def test_a_form_body_to_a_session_is_refused_as_json(tenant: Tenant) -> None:
    client = AsgiClient(tenant.owner_key)
    client.post("/api/sessions", json={"session_id": "formless"})
    response = client.request("PATCH", "/api/sessions/formless", data={"reference": "r"})
    assert response.status_code == 415
    assert "detail" in response.json()


def test_either_key_header_is_enough() -> None:
    # One requirement object naming both schemes meant both at once.
    for path, method, operation in OPERATIONS:
        for requirement in operation.get("security", []):
            assert len(requirement) <= 1, (method, path, requirement)


def test_stored_bytes_may_carry_any_media_type() -> None:
    # A stored text/markdown file went out as text/markdown under a documented
    # application/octet-stream.
    paths = schema.raw_schema["paths"]
    for path in [
        "/api/sessions/{session_id}/artifacts/{artifact_id}/stream",
        "/api/artifacts/{artifact_id}/file",
        "/api/signed/{token}",
    ]:
        assert "*/*" in paths[path]["get"]["responses"]["200"]["content"], path


def test_signed_download_refusals_have_a_body() -> None:
    responses = schema.raw_schema["paths"]["/api/signed/{token}"]["get"]["responses"]
    for status in ("403", "404"):
        body = responses[status]["content"]["application/json"]["schema"]
        assert body == {"$ref": "#/components/schemas/ErrorResponse"}


def test_literal_routes_are_no_valid_ids_of_their_siblings() -> None:
    # `PUT …/artifacts/query` and `DELETE …/attachments/upload` were schema-valid calls of the
    # detail routes that reached the literal routes' 405.
    checked = 0
    for path, _, operation in OPERATIONS:
        segments = path.split("/")
        for name, parameter in _parameters(operation, "path").items():
            index = segments.index(f"{{{name}}}")
            pattern = parameter["schema"].get("pattern")
            for other in schema.raw_schema["paths"]:
                others = other.split("/")
                if len(others) != len(segments) or others[:index] != segments[:index]:
                    continue
                literal = others[index]
                if literal.startswith("{"):
                    continue
                checked += 1
                assert pattern and not re.search(pattern, literal), (path, name, literal)
    assert checked >= 3


def test_form_fields_are_text(tenant: Tenant) -> None:
    # What FORM_TEXT relies on: the multipart text `false` is the string "false".
    client = AsgiClient(tenant.owner_key)
    response = client.upload(
        f"{NS}/artifacts/upload", b"bytes", name="f.txt", artifact_type="false"
    )
    assert response.status_code == 201, response.text
    assert response.json()["artifact_type"] == "false"


# --- reproducers of findings that were fixed ---


def test_a_reused_idempotency_key_is_a_detail_list(tenant: Tenant) -> None:
    client = AsgiClient(tenant.owner_key, headers={"Idempotency-Key": "fuzz-1"})
    client.post("/api/sessions", json={"session_id": "first"})
    response = client.post("/api/sessions", json={"session_id": "second"})
    assert response.status_code == 422
    assert isinstance(response.json()["detail"], list), response.json()


@pytest.mark.parametrize(
    ("path", "body"),
    [
        (
            "/api/artifacts",
            {"workflow_id": "w", "artifact_type": "t", "title": "x", "content": 5},
        ),
        (
            "/api/artifacts",
            {
                "workflow_id": "w",
                "artifact_type": "t",
                "title": "x",
                "content": "c",
                "is_primary_deliverable": 0,
            },
        ),
        (f"{NS}/artifacts", {"name": 5}),
        (f"{NS}/artifacts", {"name": "n", "ttl_seconds": "5"}),
        (f"{NS}/artifacts/query", {"query": "x", "thread_id": 0}),
        ("/api/sessions", {"reference": 5}),
    ],
)
def test_a_scalar_of_the_wrong_type_is_422(tenant: Tenant, path: str, body: dict[str, Any]) -> None:
    response = AsgiClient(tenant.owner_key).post(path, json=body)
    assert response.status_code == 422, response.text
