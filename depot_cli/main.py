"""The `depot` command: global options, and the command groups from depot_cli/commands/."""

import importlib
import sys

import click

from depot_cli.client import CliError, Config

# Each module lists its click commands (or groups) in `commands`; add a module here to add them.
COMMANDS = [
    "depot_cli.commands.files",  # upload, download
    "depot_cli.commands.watch",  # watch
    "depot_cli.commands.sessions",  # sessions ls|show|complete
    "depot_cli.commands.artifacts",  # artifacts ls|get|put|versions|diff|download
    "depot_cli.commands.search",  # search
]

EPILOG = """Exit codes: 0 ok, 1 server error or unreachable, 2 usage (including a request the
server refused as given: 400, 409, 413, 422), 3 authentication or permission, 4 not found."""


@click.group(epilog=EPILOG, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--url", envvar="DEPOT_URL", default="", help="Server, e.g. http://127.0.0.1:8000 (DEPOT_URL)."
)
@click.option("--api-key", envvar="DEPOT_API_KEY", default="", help="API key (DEPOT_API_KEY).")
@click.option(
    "--namespace",
    envvar="DEPOT_NAMESPACE",
    default="",
    help="org/workspace/namespace for artifacts and search (DEPOT_NAMESPACE).",
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output on stdout.")
@click.version_option(package_name="depot", prog_name="depot")
@click.pass_context
def cli(context: click.Context, url: str, api_key: str, namespace: str, as_json: bool) -> None:
    """Depot from the command line: upload and download a session's files, follow its events,
    and read and write artifacts."""
    config = Config(url=url, api_key=api_key, json=as_json, namespace=namespace)
    context.obj = config
    context.call_on_close(config.close)


for module in COMMANDS:
    for found in importlib.import_module(module).commands:
        cli.add_command(found)


def run() -> None:
    try:
        # Without standalone mode click hands back a command's exit code instead of exiting.
        code = cli.main(prog_name="depot", standalone_mode=False)
        sys.exit(code if isinstance(code, int) else 0)
    except CliError as error:
        error.show()
        sys.exit(error.exit_code)
    except click.exceptions.Abort:
        click.echo("depot: aborted", err=True)
        sys.exit(130)
    except click.ClickException as error:  # usage errors
        error.show()
        sys.exit(2)
    except click.exceptions.Exit as done:
        sys.exit(done.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)
