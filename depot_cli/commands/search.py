"""`depot search QUERY`: the namespace's query endpoint."""

import click
from rich.table import Table

from depot_cli.client import Config


@click.command("search")
@click.argument("query", nargs=-1, required=True)
@click.option("--limit", type=click.IntRange(1, 100), default=10, show_default=True)
@click.option("--type", "artifact_types", multiple=True, help="Only these artifact types.")
@click.pass_obj
def command(
    config: Config, query: tuple[str, ...], limit: int, artifact_types: tuple[str, ...]
) -> None:
    """Search the namespace's artifacts."""
    body: dict = {"query": " ".join(query), "limit": limit}
    if artifact_types:
        body["artifact_types"] = list(artifact_types)
    answer = config.request("POST", f"{config.namespace_path}/artifacts/query", json=body)
    if config.json:
        config.emit(answer)
        return
    table = Table("score", "artifact", "name", "excerpt")
    for hit in answer.get("results", []):
        artifact = hit["artifact"]
        excerpt = (hit.get("highlight") or hit.get("matched_chunk") or "")[:80]
        table.add_row(f"{hit['score']:.3f}", artifact["artifact_id"], artifact["name"], excerpt)
    config.out.print(table)
    config.out.print(f"{answer.get('total_results', 0)} result(s), {answer.get('mode')}")


commands = [command]
