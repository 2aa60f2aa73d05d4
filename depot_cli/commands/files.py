"""`depot upload` and `depot download`: a session's files, with progress bars."""

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import click
from rich.text import Text

from depot_cli.client import CliError, Config, human_size, plain
from depot_cli.transfer import download_one, progress_bars, upload_one


def _finish(config: Config, results: list[dict[str, Any]], verb: str) -> None:
    if config.json:
        config.emit(results)
    else:
        for result in results:
            if result.get("error"):
                line = f" {result['file']}: {result['error']}"
                config.console.print(Text.assemble(("✗", "red"), plain(line)))
            else:
                extra = (
                    f", resumed at {result['resumed_from']}" if result.get("resumed_from") else ""
                )
                size = human_size(result.get("size"))
                line = f" {verb} {result['file']} ({size}{extra})"
                config.out.print(Text.assemble(("✓", "green"), plain(line)))
    worst = max((r.get("exit_code", 0) for r in results), default=0)
    if worst:
        raise click.exceptions.Exit(worst)


@click.command("upload")
@click.argument("session_id")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "-j",
    "--jobs",
    type=click.IntRange(1, 16),
    default=1,
    show_default=True,
    help="Files sent at once.",
)
@click.option(
    "--retries",
    type=click.IntRange(0, 10),
    default=3,
    show_default=True,
    help="Tries again after a dropped connection or a 5xx.",
)
@click.pass_obj
def upload(
    config: Config, session_id: str, files: tuple[Path, ...], jobs: int, retries: int
) -> None:
    """Upload FILES into SESSION_ID (created if new), a progress bar each."""
    config.client  # noqa: B018  (fail on missing settings before any bar)
    with progress_bars(config) as progress, ThreadPoolExecutor(jobs) as pool:
        results = list(
            pool.map(lambda path: upload_one(config, progress, session_id, path, retries), files)
        )
    _finish(config, results, "uploaded")


def _safe_name(name: str, used: set[str]) -> str:
    base = Path(name.replace("\\", "/")).name.strip() or "file"
    if base in {".", ".."}:
        base = "file"
    candidate, stem, suffix, n = base, Path(base).stem, Path(base).suffix, 2
    while candidate in used:
        candidate = f"{stem} ({n}){suffix}"
        n += 1
    used.add(candidate)
    return candidate


def session_files(config: Config, session_id: str, extensions: list[str]) -> list[dict[str, Any]]:
    """The session's current files (attachments and artifacts' latest versions), read from its
    event log with the seed-000 `include_ext` filter: created, replaced and deleted in order."""
    current: dict[str, dict[str, Any]] = {}
    after = 0
    params: dict[str, Any] = {"wait_seconds": 0, "limit": 200}
    if extensions:
        params["include_ext"] = ",".join(extensions)
    while True:
        page = config.request(
            "GET", f"/api/sessions/{session_id}/artifact-events", params={**params, "after": after}
        )
        for event in page["events"]:
            kind = event["kind"]
            item_id = event.get("attachment_id") or event.get("artifact_id")
            if kind == "attachment.created":
                current[item_id] = event
            elif kind in ("artifact.created", "artifact.version_created"):
                # A new version replaces the one of the same name.
                for key in [
                    k
                    for k, e in current.items()
                    if e.get("artifact_id") and e["name"] == event["name"]
                ]:
                    current.pop(key)
                current[item_id] = event
            elif kind in ("attachment.deleted", "artifact.deleted"):
                current.pop(item_id, None)
        after = page.get("next_cursor") or after
        if not page.get("has_more"):
            return list(current.values())


@click.command("download")
@click.argument("session_id")
@click.option("--zip", "as_zip", is_flag=True, help="The whole session as one zip.")
@click.option("--ext", default="", help="Only these extensions, e.g. md,json.")
@click.option(
    "-o",
    "--output",
    "output",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
)
@click.pass_obj
def download(config: Config, session_id: str, as_zip: bool, ext: str, output: Path) -> None:
    """Download SESSION_ID's files (or its zip) into a folder; an interrupted download resumes."""
    if as_zip and ext:
        raise CliError("--zip and --ext do not go together", 2)
    output.mkdir(parents=True, exist_ok=True)
    with progress_bars(config) as progress:
        if as_zip:
            results = [
                download_one(
                    config,
                    progress,
                    f"/api/sessions/{session_id}/download",
                    output / f"{session_id}.zip",
                    resume=False,
                )
            ]
        else:
            config.request("GET", f"/api/sessions/{session_id}")  # 404 for an unknown session
            extensions = [e.strip().lstrip(".") for e in ext.split(",") if e.strip()]
            used: set[str] = set()
            results = []
            for event in session_files(config, session_id, extensions):
                item_id = event.get("attachment_id") or event.get("artifact_id")
                name = _safe_name(str(event.get("name") or item_id), used)
                results.append(
                    download_one(
                        config,
                        progress,
                        f"/api/sessions/{session_id}/artifacts/{item_id}?mode=stream&download=true",
                        output / name,
                    )
                )
    _finish(config, results, "downloaded")


commands = [upload, download]
