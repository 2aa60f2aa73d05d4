"""Reading Depot's configuration from the environment, strictly.

`settings.py` reads every variable through `env` here (the same calls as django-environ's
`Env`: `env.str`, `env.int`, `env.bool`…), with three rules django-environ lacks:

- An empty value is the same as no value: the default applies. So `cp .env.example .env`,
  which lists every variable, most of them empty, starts the same server as no `.env` at all
  (django-environ read `DATABASE_URL=` as a database without an engine and `int('')`).
- A value that does not parse is refused at start-up with a message naming the variable, the
  value and what it takes (`DEPOT_SEMANTIC_SEARCH must be one of 'auto', 'off' (got 'maybe')`):
  booleans take 1/0, true/false, yes/no, on/off; numbers are not negative; enums list their
  choices (`env.str(..., choices=...)`).
- Each variable read is recorded in `env.read` (name, kind, choices), so a test can try a bad
  value for every one of them.
"""

import builtins
import contextlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import environ
from django.core.exceptions import ImproperlyConfigured

TRUE = {"1", "true", "yes", "on"}
FALSE = {"0", "false", "no", "off"}


@dataclass(frozen=True)
class Variable:
    name: str
    kind: str  # str, int, float, bool, list, db_url
    choices: tuple[str, ...] = ()


def load_env_file(base_dir: Path) -> Path:
    """Read `.env` beside manage.py (or the file `DEPOT_ENV_FILE` names) into the process
    environment; variables already set win."""
    path = Path(os.environ.get("DEPOT_ENV_FILE") or base_dir / ".env")
    if path.is_file():
        environ.Env.read_env(str(path), overwrite=False)
    return path


class Env:
    def __init__(self) -> None:
        self.read: builtins.dict[builtins.str, Variable] = {}

    def _raw(
        self, name: builtins.str, kind: builtins.str, choices: tuple[builtins.str, ...] = ()
    ) -> builtins.str | None:
        self.read.setdefault(name, Variable(name, kind, choices))
        value = os.environ.get(name)
        if value is None or not value.strip():
            return None
        return value.strip()

    @staticmethod
    def _refuse(
        name: builtins.str, value: builtins.str, expected: builtins.str
    ) -> ImproperlyConfigured:
        return ImproperlyConfigured(f"{name} must be {expected} (got {value!r})")

    def str(
        self, name: builtins.str, default: builtins.str = "", choices: Any = None
    ) -> builtins.str:
        options = tuple(choices or ())
        value = self._raw(name, "str", options)
        if value is None:
            return default
        if options and value not in options:
            listed = " or ".join(repr(option) for option in options)
            raise self._refuse(name, value, f"{listed}")
        return value

    def int(
        self, name: builtins.str, default: builtins.int = 0, min_value: builtins.int = 0
    ) -> builtins.int:
        value = self._raw(name, "int")
        if value is None:
            return default
        try:
            number = int(value)
        except ValueError:
            raise self._refuse(name, value, "a whole number") from None
        if number < min_value:
            raise self._refuse(name, value, f"at least {min_value}")
        return number

    def float(
        self, name: builtins.str, default: builtins.float = 0.0, min_value: builtins.float = 0.0
    ) -> builtins.float:
        value = self._raw(name, "float")
        if value is None:
            return default
        try:
            number = float(value)
        except ValueError:
            raise self._refuse(name, value, "a number") from None
        if not number >= min_value:  # also refuses nan
            raise self._refuse(name, value, f"a number of at least {min_value:g}")
        return number

    def bool(self, name: builtins.str, default: builtins.bool = False) -> builtins.bool:
        value = self._raw(name, "bool")
        if value is None:
            return default
        if value.lower() in TRUE:
            return True
        if value.lower() in FALSE:
            return False
        raise self._refuse(name, value, "1 or 0 (true/false, yes/no, on/off)")

    def list(self, name: builtins.str, default: Any = None) -> builtins.list[Any]:
        value = self._raw(name, "list")
        if value is None:
            return list(default or [])
        return [item.strip() for item in value.split(",") if item.strip()]

    def db_url(
        self, name: builtins.str, default: builtins.str = ""
    ) -> builtins.dict[builtins.str, Any]:
        value = self._raw(name, "db_url")
        url = value or default
        try:
            config = environ.Env.db_url_config(url)
        except (ValueError, KeyError, ImproperlyConfigured):
            config = {}
        if not config.get("ENGINE"):
            raise self._refuse(name, url, "a database URL such as postgres://user:pw@host/db")
        return config


env = Env()


LOOPBACK_HOSTS = ["localhost", "127.0.0.1", "[::1]"]
WILDCARD_BINDS = {"0.0.0.0", "::", "[::]"}  # noqa: S104  (recognised, not bound)


def default_allowed_hosts(bind_host: str) -> list[str]:
    """DJANGO_ALLOWED_HOSTS when unset, from the address the server binds (DEPOT_BIND_HOST,
    which `make run` sets from HOST): the loopback names always; a named address too; and
    for a wildcard bind (0.0.0.0, ::) the machine's own names and addresses, so
    `HOST=0.0.0.0 make run` answers at http://<this machine>:8000/ with nothing else set."""
    import socket

    hosts = list(LOOPBACK_HOSTS)
    if bind_host and bind_host not in WILDCARD_BINDS:
        hosts.append(f"[{bind_host}]" if ":" in bind_host else bind_host)
    elif bind_host:
        names = {socket.gethostname(), socket.getfqdn()}
        with contextlib.suppress(OSError):
            names.update(socket.gethostbyname_ex(socket.gethostname())[2])
        try:  # the address of the default route (a UDP "connect" sends nothing)
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
                probe.connect(("192.0.2.1", 9))
                names.add(probe.getsockname()[0])
        except OSError:
            pass
        hosts += sorted(name for name in names if name and name not in hosts)
    return list(dict.fromkeys(hosts))
