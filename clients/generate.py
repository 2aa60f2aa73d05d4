"""Depot's shipped clients, regenerated from the code (`make sdk` runs this; issue 12).

    clients/openapi.yaml            the schema: `manage.py spectacular --validate --fail-on-warn`
    clients/python/                 the Python package `depot-client` (import `depot_client`):
                                    openapi-python-client, config/openapi_python_client.yaml
    clients/typescript/depot.d.ts   the TypeScript types: openapi-typescript (its version pinned
                                    in tests/js/sdk/package-lock.json, with that folder's
                                    redocly.yaml)

The Python package and the types are made from the committed schema, so the three agree. Each
generator runs with its warnings as errors, and each is deterministic: the same code gives the
same bytes, which is what `--check` relies on.

    python clients/generate.py                  regenerate all three in place
    python clients/generate.py --schema-only    the schema alone (`make schema`)
    python clients/generate.py --check schema   is clients/openapi.yaml what the code gives now?
    python clients/generate.py --check python   is clients/python what the committed schema gives?
    python clients/generate.py --check typescript   and clients/typescript/depot.d.ts?
    --no-typescript                             regenerate without the types (no node here)

A check regenerates into a temporary folder and compares byte for byte; it exits 1 naming the
files that differ, with "run make sdk". tests/test_sdk_up_to_date.py runs both checks.
"""

from __future__ import annotations

import argparse
import difflib
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLIENTS = ROOT / "clients"
SCHEMA = CLIENTS / "openapi.yaml"
PYTHON = CLIENTS / "python"
TYPES = CLIENTS / "typescript" / "depot.d.ts"
GENERATOR_CONFIG = ROOT / "config" / "openapi_python_client.yaml"
NODE_TOOLS = ROOT / "tests" / "js" / "sdk"
# What building, installing or importing the package leaves beside it (never generated).
LEFTOVERS = {"__pycache__", "build", "dist", ".ruff_cache", ".mypy_cache"}
SECONDS = 180


class GenerationFailed(Exception):
    pass


def _run(command: list[str], cwd: Path) -> str:
    done = subprocess.run(  # noqa: S603 (fixed commands, no shell)
        command, cwd=cwd, capture_output=True, text=True, timeout=SECONDS, check=False
    )
    output = done.stdout + done.stderr
    if done.returncode != 0:
        raise GenerationFailed(f"{' '.join(command)} failed:\n{output}")
    return output


def write_schema(target: Path) -> None:
    """The schema the code gives now, validated, with any warning an error."""
    _run(
        [
            *(sys.executable, str(ROOT / "manage.py"), "spectacular"),
            *("--validate", "--fail-on-warn", "--file", str(target)),
        ],
        ROOT,
    )


def write_python(schema: Path, target: Path) -> None:
    """The Python package (with setup.py: `pip install ./clients/python`)."""
    generator = Path(sys.executable).with_name("openapi-python-client")
    output = _run(
        [
            *(str(generator), "generate", "--path", str(schema), "--meta", "setup"),
            *("--config", str(GENERATOR_CONFIG), "--output-path", str(target)),
            "--fail-on-warning",
        ],
        ROOT,
    )
    said = output.replace(str(schema), "").replace(str(target), "").lower()  # not the paths
    if "warning" in said or "cannot" in said:
        raise GenerationFailed(f"openapi-python-client warned:\n{output}")


def node_tools() -> Path:
    """tests/js/sdk's node_modules/.bin, installed from its lock file when missing."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        raise GenerationFailed(
            "node and npm are needed for the TypeScript types (Debian: apt-get install nodejs "
            "npm); --no-typescript leaves them out"
        )
    bin_dir = NODE_TOOLS / "node_modules" / ".bin"
    if not (bin_dir / "openapi-typescript").exists():
        _run(["npm", "ci", "--no-audit", "--no-fund", "--silent"], NODE_TOOLS)
    return bin_dir


def write_types(schema: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    output = _run(
        [
            *(str(node_tools() / "openapi-typescript"), str(schema)),
            *("--redocly", "redocly.yaml", "-o", str(target)),
        ],
        NODE_TOOLS,
    )
    said = output.replace(str(schema), "").replace(str(target), "").lower()  # not the paths
    if "warn" in said or "error" in said:
        raise GenerationFailed(f"openapi-typescript warned:\n{output}")


def _files(top: Path) -> dict[str, Path]:
    found = {}
    for path in sorted(top.rglob("*")):
        parts = path.relative_to(top).parts
        if path.is_dir() or any(p in LEFTOVERS or p.endswith(".egg-info") for p in parts):
            continue
        if path.suffix == ".pyc":
            continue
        found["/".join(parts)] = path
    return found


def differences(committed: Path, fresh: Path) -> list[str]:
    """What differs between a committed file or folder and a fresh one, one line a file (with
    the first lines of a text diff)."""
    if committed.is_file() or fresh.is_file():
        pairs = [(committed, fresh)]
    else:
        names = set(_files(fresh)) | (set(_files(committed)) if committed.exists() else set())
        pairs = [(committed / name, fresh / name) for name in sorted(names)]
    found = []
    for old_path, new_path in pairs:
        where = old_path.relative_to(ROOT) if old_path.is_relative_to(ROOT) else old_path
        if not old_path.exists():
            found.append(f"{where}: missing (it would be generated)")
        elif not new_path.exists():
            found.append(f"{where}: not generated any more")
        elif old_path.read_bytes() != new_path.read_bytes():
            diff = difflib.unified_diff(
                old_path.read_text(errors="replace").splitlines(),
                new_path.read_text(errors="replace").splitlines(),
                "committed",
                "generated now",
                n=1,
                lineterm="",
            )
            excerpt = "\n    ".join(list(diff)[:12])
            found.append(f"{where}: differs\n    {excerpt}")
    return found


def check(what: str) -> list[str]:
    """What differs between clients/ and a fresh generation: the schema from the code, the
    Python package or the types from the committed schema."""
    with tempfile.TemporaryDirectory(prefix="depot-sdk-") as tmp:
        fresh = Path(tmp)
        if what == "schema":
            write_schema(fresh / "openapi.yaml")
            return differences(SCHEMA, fresh / "openapi.yaml")
        if what == "python":
            write_python(SCHEMA, fresh / "python")
            return differences(PYTHON, fresh / "python")
        write_types(SCHEMA, fresh / "depot.d.ts")
        return differences(TYPES, fresh / "depot.d.ts")


def regenerate(typescript: bool, schema_only: bool = False) -> None:
    """All three in place; a generator's failure leaves clients/ as it was."""
    with tempfile.TemporaryDirectory(prefix="depot-sdk-") as tmp:
        fresh = Path(tmp)
        write_schema(fresh / "openapi.yaml")
        if schema_only:
            shutil.copyfile(fresh / "openapi.yaml", SCHEMA)
            return
        write_python(fresh / "openapi.yaml", fresh / "python")
        if typescript:
            write_types(fresh / "openapi.yaml", fresh / "depot.d.ts")
        shutil.copyfile(fresh / "openapi.yaml", SCHEMA)
        shutil.rmtree(PYTHON, ignore_errors=True)
        shutil.copytree(fresh / "python", PYTHON)
        if typescript:
            TYPES.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(fresh / "depot.d.ts", TYPES)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--check", choices=["schema", "python", "typescript"])
    parser.add_argument("--schema-only", action="store_true")
    parser.add_argument("--no-typescript", action="store_true")
    args = parser.parse_args(argv)
    typescript = not args.no_typescript
    try:
        if args.check is None and args.schema_only:
            regenerate(typescript, schema_only=True)
            print(f"wrote {SCHEMA.relative_to(ROOT)} (make sdk regenerates the clients from it)")
            return 0
        if args.check is None:
            regenerate(typescript)
            print(f"regenerated {SCHEMA.relative_to(ROOT)}, {PYTHON.relative_to(ROOT)}/", end="")
            print(f", {TYPES.relative_to(ROOT)}" if typescript else " (no TypeScript types)")
            return 0
        found = check(args.check)
    except GenerationFailed as failed:
        print(failed, file=sys.stderr)
        return 2
    if found:
        subject = {
            "schema": "clients/openapi.yaml is not the schema the code gives now",
            "python": "clients/python is not what clients/openapi.yaml generates",
            "typescript": "clients/typescript/depot.d.ts is not what the schema generates",
        }[args.check]
        print(f"{subject}: run make sdk\n" + "\n".join(found), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
