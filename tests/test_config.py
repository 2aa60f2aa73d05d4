# ruff: noqa: S104  (0.0.0.0 is a value under test, nothing binds it)
"""Configuration that works as shipped (issue 13): `cp .env.example .env` starts the same server
as no `.env` at all; every variable that takes a number, a boolean or one of a few words is
checked at start-up, with a message naming it; DEPOT_HTTPS=1 alone turns on the SSL redirect,
secure cookies and HSTS; `HOST=0.0.0.0 make run` answers at the machine's own name."""

import io
import json
import os
import re
import runpy
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from django.core.exceptions import ImproperlyConfigured

from config.env import Env, default_allowed_hosts

ROOT = Path(__file__).resolve().parent.parent

DUMP = """
import json, django
django.setup()
from django.conf import settings
values = {}
for name in dir(settings):
    if name.isupper():
        try:
            values[name] = json.loads(json.dumps(getattr(settings, name), default=str))
        except (TypeError, ValueError):
            values[name] = repr(getattr(settings, name))
print(json.dumps(values, sort_keys=True))
"""

PRODUCTION = {
    "DATABASE_URL": "postgres://depot@127.0.0.1:5432/depot",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "STORAGE_BACKEND": "s3",
}


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The process environment minus every variable Depot reads, plus `extra`."""
    example = (ROOT / ".env.example").read_text()
    ours = {line.split("=", 1)[0] for line in example.splitlines() if "=" in line[:60]}
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ours and not k.startswith(("DEPOT_", "DJANGO_", "S3_"))
    }
    env.update(
        DEPOT_DATA_DIR=str(tmp_path / "data"),
        DJANGO_SETTINGS_MODULE="config.settings",
        DEPOT_ENV_FILE=str(tmp_path / "no.env"),
    )
    env.update(extra)
    return env


def dump_settings(env: dict[str, str]) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-c", DUMP], env=env, cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr[-2000:]
    # Objects in settings (LOGGING's processors) print with their address: not a setting.
    return json.loads(re.sub(r" (?:object )?at 0x[0-9a-f]+", "", result.stdout))


@pytest.fixture
def env_file(tmp_path: Path) -> Path:
    """`cp .env.example .env` (in a temporary folder: the tree's own .env is the operator's)."""
    target = tmp_path / ".env"
    shutil.copy(ROOT / ".env.example", target)
    return target


def test_env_example_gives_the_same_settings_as_no_env(tmp_path: Path, env_file: Path) -> None:
    without = dump_settings(clean_env(tmp_path))
    with_example = dump_settings(clean_env(tmp_path, DEPOT_ENV_FILE=str(env_file)))
    differences = {
        name: (without.get(name), with_example.get(name))
        for name in without.keys() | with_example.keys()
        if without.get(name) != with_example.get(name)
    }
    assert differences == {}
    # What the issue found broken: blobs in the data folder, the embedded worker on.
    data = str(tmp_path / "data")
    assert with_example["STORAGES"]["default"]["OPTIONS"]["location"] == f"{data}/blobs"
    assert with_example["DEPOT_EMBEDDED_WORKER"] is True
    assert with_example["DATABASES"]["default"]["NAME"] == f"{data}/depot.sqlite3"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_server_starts_from_env_example(tmp_path: Path, env_file: Path) -> None:
    """migrate, bootstrap and uvicorn, as `make run` does, with only `.env` from the example:
    the server answers, an upload lands in DEPOT_DATA_DIR/blobs, the embedded worker indexes."""
    env = clean_env(tmp_path, DEPOT_ENV_FILE=str(env_file), DEPOT_SEMANTIC_SEARCH="off")
    python = sys.executable
    for command in (["migrate", "--noinput"], ["bootstrap", "--quiet-if-done"]):
        subprocess.run(
            [python, "manage.py", *command], env=env, cwd=ROOT, check=True, capture_output=True
        )
    key = json.loads((tmp_path / "data" / "bootstrap.json").read_text())["api_key"]
    port = _free_port()
    server = subprocess.Popen(
        [
            str(Path(python).parent / "uvicorn"),
            "config.asgi:application",
            "--http",
            "config.http_protocol:BoundedHttpToolsProtocol",
            "--port",
            str(port),
        ],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "server did not start"
            assert server.poll() is None, server.stderr.read().decode()[-2000:]  # type: ignore[union-attr]
            time.sleep(0.2)
        headers = {"X-API-Key": key}
        upload = httpx.post(
            f"{base}/api/uploads/env-example",
            files={"file": ("notes.md", b"# the zebra file\n", "text/markdown")},
            headers=headers,
        )
        assert upload.status_code in {200, 201}, upload.text
        sha256 = upload.json()["sha256"]
        assert (tmp_path / "data" / "blobs").is_dir()
        assert any(sha256 in path.name for path in (tmp_path / "data" / "blobs").rglob("*"))
        made = httpx.post(
            f"{base}/api/v1/orgs/demo/workspaces/main/namespaces/default/artifacts",
            json={"name": "zebra", "content": "the zebra artifact"},
            headers=headers,
        )
        assert made.status_code == 201, made.text
        artifacts = f"{base}/api/v1/orgs/demo/workspaces/main/namespaces/default/artifacts"
        url = f"{artifacts}/{made.json()['artifact_id']}"
        deadline = time.monotonic() + 60
        while httpx.get(url, headers=headers).json().get("index_status") != "indexed":
            assert time.monotonic() < deadline, "the embedded worker did not index"
            time.sleep(0.5)
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_https_alone_turns_on_redirect_secure_cookies_and_hsts(
    tmp_path: Path, env_file: Path
) -> None:
    found = dump_settings(
        clean_env(
            tmp_path,
            DEPOT_ENV_FILE=str(env_file),
            DEPOT_HTTPS="1",
            DJANGO_SECRET_KEY="x" * 60,
        )
    )
    assert found["SECURE_SSL_REDIRECT"] is True
    assert found["SESSION_COOKIE_SECURE"] is True
    assert found["CSRF_COOKIE_SECURE"] is True
    assert found["SECURE_HSTS_SECONDS"] == 31536000
    assert found["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert found["SECURE_HSTS_PRELOAD"] is True


# --- every variable checked at start-up ---------------------------------------------------


def _variables_read(tmp_path: Path, **extra: str) -> dict[str, Any]:
    """Run the settings module in this process with a clean environment; return the
    variables it read (config.env records each)."""
    saved = dict(os.environ)
    import config.env

    reader = Env()
    try:
        os.environ.clear()
        os.environ.update(clean_env(tmp_path, **extra))
        original, config.env.env = config.env.env, reader
        # The settings star-import config.depot_settings: run it afresh too, then put back the
        # module the process loaded.
        loaded = sys.modules.pop("config.depot_settings", None)
        try:
            runpy.run_path(str(ROOT / "config" / "settings.py"))
        finally:
            config.env.env = original
            if loaded is not None:
                sys.modules["config.depot_settings"] = config.depot_settings = loaded
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return dict(reader.read)


BAD = {"int": ["many", "-1"], "float": ["soon", "-0.5", "nan"], "bool": ["maybe", "2"]}


def _cases(tmp_root: Path) -> list[Any]:
    embedded = _variables_read(tmp_root)
    production = _variables_read(tmp_root, **PRODUCTION)
    cases = []
    for name, variable in sorted({**production, **embedded}.items()):
        profile = {} if name in embedded else PRODUCTION
        values = list(BAD.get(variable.kind, []))
        if variable.choices:
            values.append("bogus")
        if variable.kind == "db_url":
            values.append("nonsense")
        if name.startswith("DEPOT_RATE_LIMIT"):
            values.append("lots")
        cases += [pytest.param(name, value, profile, id=f"{name}={value}") for value in values]
    return cases


def _collect_cases() -> list[Any]:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        return _cases(Path(folder))


CASES = _collect_cases()


def test_the_cases_cover_every_kind() -> None:
    names = {case.values[0] for case in CASES}
    assert {
        "DEPOT_SEMANTIC_SEARCH",
        "DEPOT_HTTPS",
        "DEPOT_MAX_UPLOAD_BYTES",
        "DEPOT_EMBEDDED_WORKER",
        "STORAGE_BACKEND",
        "S3_ADDRESSING_STYLE",
        "DATABASE_URL",
        "DEPOT_DB_POOL_MAX",
        "DJANGO_SECURE_HSTS_SECONDS",
        "DEPOT_LOG_LEVEL",
    } <= names


@pytest.mark.parametrize(("variable", "value", "profile"), CASES)
def test_a_bad_value_stops_start_up_naming_the_variable(
    tmp_path: Path, variable: str, value: str, profile: dict[str, str]
) -> None:
    with pytest.raises((ImproperlyConfigured, ValueError)) as refused:
        _variables_read(tmp_path, **profile, **{variable: value})
    assert str(refused.value).startswith(f"{variable} must")
    assert repr(value) in str(refused.value)


def test_a_bad_value_stops_the_real_start_up(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        env=clean_env(tmp_path, DEPOT_SEMANTIC_SEARCH="maybe"),
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "DEPOT_SEMANTIC_SEARCH must be 'auto' or 'off' (got 'maybe')" in result.stderr


def test_booleans_and_empty_values() -> None:
    reader = Env()
    os.environ["H3_TEST_FLAG"] = " Yes "
    os.environ["H3_TEST_EMPTY"] = ""
    try:
        assert reader.bool("H3_TEST_FLAG") is True
        assert reader.int("H3_TEST_EMPTY", default=7) == 7
        assert reader.str("H3_TEST_EMPTY", default="auto", choices=["auto", "off"]) == "auto"
        assert reader.list("H3_TEST_EMPTY", default=["a"]) == ["a"]
    finally:
        del os.environ["H3_TEST_FLAG"], os.environ["H3_TEST_EMPTY"]


# --- HOST=0.0.0.0 make run ----------------------------------------------------------------


def test_a_wildcard_bind_allows_this_machines_names() -> None:
    assert default_allowed_hosts("127.0.0.1") == ["localhost", "127.0.0.1", "[::1]"]
    assert default_allowed_hosts("10.1.2.3")[-1] == "10.1.2.3"
    assert default_allowed_hosts("::1") == ["localhost", "127.0.0.1", "[::1]"]
    wildcard = default_allowed_hosts("0.0.0.0")
    assert socket.gethostname() in wildcard
    assert wildcard[:3] == ["localhost", "127.0.0.1", "[::1]"]


def test_make_run_passes_host_to_the_settings(tmp_path: Path) -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert "DEPOT_BIND_HOST=$(HOST) $(BIN)/uvicorn" in makefile
    found = dump_settings(clean_env(tmp_path, DEPOT_BIND_HOST="0.0.0.0"))
    assert socket.gethostname() in found["ALLOWED_HOSTS"]
    explicit = dump_settings(
        clean_env(tmp_path, DEPOT_BIND_HOST="0.0.0.0", DJANGO_ALLOWED_HOSTS="depot.example")
    )
    assert explicit["ALLOWED_HOSTS"] == ["depot.example"]


# --- the URLs `make run` prints answer ----------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_urls_make_run_prints_answer(tmp_path: Path) -> None:
    """Every URL the welcome command prints answers (no 404), through the whole ASGI stack."""
    import re

    from django.core.management import call_command

    from tests.conftest import AsgiClient

    out = io.StringIO()
    call_command("welcome", host="127.0.0.1", port="8000", stdout=out)
    urls = set(re.findall(r"http://127\.0\.0\.1:8000(/[^\s)]*)", out.getvalue()))
    assert "/api/" in urls and "/admin/" in urls
    from ops.heartbeat import beat

    beat("welcome-test")  # /readyz also wants a task worker (here: none runs)
    client = AsgiClient()
    for path in sorted(urls):
        answer = client.get(path)
        # Answers: the curl lines' /api/sessions wants the key they send (401 without it).
        assert answer.status_code != 404 and answer.status_code < 500, (path, answer.status_code)
    roots = client.get("/api/").json()["surfaces"]
    assert roots["sessions"] == "/api/sessions" and roots["schema"] == "/api/schema/"
