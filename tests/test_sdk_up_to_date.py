"""The shipped clients are what `make sdk` makes now (issue 12), so CI fails on an API change
that was not regenerated: clients/openapi.yaml is the schema the code gives (`manage.py
spectacular`), and clients/python and clients/typescript/depot.d.ts are what the generators
make from that file. Each check regenerates into a temporary folder (clients/generate.py
--check) and compares byte for byte; a difference says "run make sdk".

The TypeScript check needs node (tests/js/sdk's npm tools): it skips without it, except in CI."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.support import IN_CI
from tests.test_generated_clients import CLIENTS, generator

ROOT = Path(__file__).resolve().parent.parent


def _check(what: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(CLIENTS / "generate.py"), "--check", what],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_the_committed_schema_is_what_the_code_generates() -> None:
    done = _check("schema")
    assert done.returncode == 0, done.stderr


def test_the_python_package_is_what_the_committed_schema_generates() -> None:
    done = _check("python")
    assert done.returncode == 0, done.stderr


def test_the_typescript_types_are_what_the_committed_schema_generates() -> None:
    if shutil.which("node") is None or shutil.which("npm") is None:
        if IN_CI:
            pytest.fail("CI checks the shipped TypeScript types: node and npm are not installed")
        pytest.skip("node and npm are not installed (Debian: apt-get install nodejs npm)")
    done = _check("typescript")
    assert done.returncode == 0, done.stderr


def test_a_stale_package_fails_the_check_naming_the_file_and_make_sdk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    sdk = generator()
    shipped = tmp_path / "python"
    shutil.copytree(CLIENTS / "python", shipped)
    # What importing or installing the package leaves beside it is not a difference.
    (shipped / "depot_client" / "__pycache__").mkdir(exist_ok=True)
    (shipped / "depot_client" / "__pycache__" / "client.cpython-311.pyc").write_bytes(b"\0")
    (shipped / "depot_client.egg-info").mkdir()
    (shipped / "build" / "lib").mkdir(parents=True)
    monkeypatch.setattr(sdk, "PYTHON", shipped)
    assert sdk.main(["--check", "python"]) == 0
    # A file changed by hand, one the generator no longer makes, and one it makes that is gone.
    client = shipped / "depot_client" / "client.py"
    client.write_text(client.read_text().replace("class Client", "class OldClient", 1))
    (shipped / "depot_client" / "api" / "sessions" / "old_operation.py").write_text("")
    (shipped / "depot_client" / "errors.py").unlink()
    capsys.readouterr()
    assert sdk.main(["--check", "python"]) == 1
    report = capsys.readouterr().err
    assert "run make sdk" in report
    assert f"{shipped}/depot_client/client.py: differs" in report
    assert "-class OldClient" in report and "+class Client" in report
    assert "old_operation.py: not generated any more" in report
    assert "errors.py: missing (it would be generated)" in report


def test_a_generator_warning_fails_the_generation(tmp_path: Path) -> None:
    """A schema the generator can only half use (here a response type it has no decoder for,
    which it would drop with a warning) stops `make sdk` instead of shipping a client without
    that answer."""
    sdk = generator()
    schema = yaml.safe_load((CLIENTS / "openapi.yaml").read_text())
    usage = schema["paths"]["/api/usage"]["get"]["responses"]["200"]
    usage["content"] = {"application/x-depot-unknown": {"schema": {"type": "string"}}}
    (tmp_path / "openapi.yaml").write_text(yaml.safe_dump(schema))
    with pytest.raises(sdk.GenerationFailed, match="application/x-depot-unknown"):
        sdk.write_python(tmp_path / "openapi.yaml", tmp_path / "python")
