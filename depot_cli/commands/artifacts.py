"""`depot artifacts ls|get|put|versions|diff|download`: a namespace's versioned artifacts
(the seed-002 routes under --namespace org/workspace/namespace)."""

import difflib
import mimetypes
import sys
import tempfile
from pathlib import Path
from typing import Any

import click
from rich.syntax import Syntax
from rich.table import Table

from depot_cli.client import CliError, Config, human_size, pages
from depot_cli.transfer import download_one, progress_bars

DIFF_MAX_BYTES = 4 * 1024 * 1024


@click.group("artifacts")
def command() -> None:
    """List, read, write, compare and download artifacts."""


def _version(config: Config, artifact_id: str, version: int | None) -> dict[str, Any]:
    params = {"version": version} if version else {}
    return config.request("GET", f"{config.namespace_path}/artifacts/{artifact_id}", params=params)


def _bytes_of(config: Config, artifact: dict[str, Any]) -> bytes:
    """A version's bytes: its inline text, or its file through the download URL."""
    if artifact.get("content") is not None:
        return str(artifact["content"]).encode()
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / "content"
        _download(config, artifact, target)
        return target.read_bytes()


def _download(config: Config, artifact: dict[str, Any], target: Path) -> dict[str, Any]:
    """One version's bytes by `GET /api/artifacts/{id}/file?version=N` (any artifact the key
    can see; Range, ETag), through `target.part` and checked against the SHA-256."""
    root = artifact.get("root_artifact_id") or artifact["artifact_id"]
    path = f"/api/artifacts/{root}/file?version={artifact['version']}"
    with progress_bars(config) as progress:
        result = download_one(config, progress, path, target)
    if result.get("error"):
        raise CliError(result["error"], result.get("exit_code", 1), result.get("status"))
    return result


@command.command("ls")
@click.option("--type", "artifact_types", help="Comma-separated artifact types.")
@click.option("--thread", "thread_id", help="Only this thread.")
@click.option("--limit", type=click.IntRange(1, 10000), default=50, show_default=True)
@click.pass_obj
def list_artifacts(
    config: Config, artifact_types: str | None, thread_id: str | None, limit: int
) -> None:
    """The namespace's artifacts (latest versions), newest first."""
    params: dict[str, Any] = {"limit": min(limit, 200)}
    params.update(
        {k: v for k, v in {"artifact_types": artifact_types, "thread_id": thread_id}.items() if v}
    )
    found = []
    for artifact in pages(config, f"{config.namespace_path}/artifacts", "artifacts", **params):
        found.append(artifact)
        if len(found) == limit:
            break
    if config.json:
        config.emit(found)
        return
    table = Table("artifact", "name", "version", "type", "size", "created")
    for a in found:
        table.add_row(
            a["artifact_id"],
            a["name"],
            str(a["version"]),
            a["mime_type"],
            human_size(a["size_bytes"]),
            a["created_at"],
        )
    config.out.print(table)


@command.command("get")
@click.argument("artifact_id")
@click.option("--version", type=click.IntRange(1), help="This version (default: the latest).")
@click.option("--content", "show_content", is_flag=True, help="Print the content itself.")
@click.pass_obj
def get(config: Config, artifact_id: str, version: int | None, show_content: bool) -> None:
    """An artifact's fields, or with --content its bytes on stdout."""
    artifact = _version(config, artifact_id, version)
    if show_content:
        sys.stdout.buffer.write(_bytes_of(config, artifact))
        sys.stdout.flush()
        return
    if config.json:
        config.emit(artifact)
        return
    for name in (
        "artifact_id",
        "name",
        "version",
        "mime_type",
        "size_bytes",
        "session_id",
        "artifact_type",
        "created_at",
    ):
        config.out.print(f"{name}: {artifact.get(name)}", highlight=False)


@command.command("put")
@click.argument(
    "file", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option("--id", "artifact_id", help="Add a version to this artifact instead of making one.")
@click.option("--name", help="Title (default: the file's name).")
@click.option("--content", "text", help="Inline text instead of a FILE ('-': read standard input).")
@click.option("--content-type", help="MIME type of inline text (default text/markdown).")
@click.option("--session", "session_id", help="Link the artifact to this session.")
@click.option("--type", "artifact_type", help="Artifact type, e.g. report.")
@click.pass_obj
def put(
    config: Config,
    file: Path | None,
    artifact_id: str | None,
    name: str | None,
    text: str | None,
    content_type: str | None,
    session_id: str | None,
    artifact_type: str | None,
) -> None:
    """Create an artifact from FILE or --content, or with --id add its next version."""
    if (file is None) == (text is None):
        raise CliError("give a FILE or --content, not both or neither", 2)
    if text == "-":
        text = sys.stdin.read()
    fields = {
        k: v
        for k, v in {"name": name, "session_id": session_id, "artifact_type": artifact_type}.items()
        if v
    }
    base = config.namespace_path
    if artifact_id and (session_id or artifact_type):
        raise CliError("--session and --type are set when an artifact is made, not per version", 2)
    if file is not None:
        mime = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        with file.open("rb") as raw:
            files = {"file": (file.name, raw, mime)}
            if artifact_id:
                answer = config.request(
                    "PUT", f"{base}/artifacts/{artifact_id}", data=fields, files=files
                )
            else:
                answer = config.request(
                    "POST", f"{base}/artifacts/upload", data=fields, files=files
                )
    else:
        body: dict[str, Any] = {**fields, "content": text}
        if content_type:
            body["content_type"] = content_type
        if artifact_id:
            answer = config.request("PUT", f"{base}/artifacts/{artifact_id}", json=body)
        else:
            body.setdefault("name", "untitled")
            answer = config.request("POST", f"{base}/artifacts", json=body)
    if config.json:
        config.emit(answer)
    else:
        config.out.print(f"{answer['artifact_id']} version {answer['version']}", highlight=False)


@command.command("versions")
@click.argument("artifact_id")
@click.pass_obj
def versions(config: Config, artifact_id: str) -> None:
    """Every version of an artifact, newest first."""
    answer = config.request("GET", f"{config.namespace_path}/artifacts/{artifact_id}/versions")
    if config.json:
        config.emit(answer)
        return
    table = Table("version", "id", "type", "size", "created", "by")
    for v in answer["versions"]:
        table.add_row(
            str(v["version"]),
            v["artifact_id"],
            v["mime_type"],
            human_size(v["size_bytes"]),
            v["created_at"],
            v["created_by"],
        )
    config.out.print(table)


@command.command("diff")
@click.argument("artifact_id")
@click.argument("old", type=click.IntRange(1), required=False)
@click.argument("new", type=click.IntRange(1), required=False)
@click.pass_obj
def diff(config: Config, artifact_id: str, old: int | None, new: int | None) -> None:
    """A unified diff between two versions (default: the latest two)."""
    if new is None:
        listed = config.request("GET", f"{config.namespace_path}/artifacts/{artifact_id}/versions")
        numbers = sorted(v["version"] for v in listed["versions"])
        if old is None and len(numbers) < 2:
            raise CliError("this artifact has one version: nothing to compare", 2)
        new = numbers[-1]
        old = old or numbers[-2]
    texts = []
    for number in (old, new):
        artifact = _version(config, artifact_id, number)
        if artifact["size_bytes"] > DIFF_MAX_BYTES:
            raise CliError(f"version {number} is too large to compare here", 2)
        try:
            texts.append(_bytes_of(config, artifact).decode("utf-8"))
        except UnicodeDecodeError:
            raise CliError(f"version {number} is not UTF-8 text", 2) from None
    lines = list(
        difflib.unified_diff(
            texts[0].splitlines(),
            texts[1].splitlines(),
            fromfile=f"version {old}",
            tofile=f"version {new}",
            lineterm="",
        )
    )
    if config.json:
        config.emit({"artifact_id": artifact_id, "from": old, "to": new, "diff": lines})
    elif lines:
        config.out.print(Syntax("\n".join(lines), "diff", theme="ansi_light", word_wrap=True))


@command.command("download")
@click.argument("artifact_id")
@click.option("--version", type=click.IntRange(1), help="This version (default: the latest).")
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    help="File or folder (default: its name here).",
)
@click.pass_obj
def download(config: Config, artifact_id: str, version: int | None, output: Path | None) -> None:
    """Save a version's bytes to a file, checked against its SHA-256."""
    artifact = _version(config, artifact_id, version)
    link_name = artifact.get("file_name") or artifact["name"]
    name = Path(str(link_name).replace("\\", "/")).name
    if name in ("", ".", ".."):  # a name of other people's choosing: never a way out of here
        name = artifact["artifact_id"]
    target = output or Path(name)
    if target.is_dir():
        target = target / name
    result = _download(config, artifact, target)
    if config.json:
        config.emit(
            {**result, "artifact_id": artifact["artifact_id"], "version": artifact["version"]}
        )
    else:
        config.out.print(
            f"saved {target} ({human_size(result['size'])}, sha256 {result['sha256'][:12]}…)",
            highlight=False,
        )


commands = [command]
