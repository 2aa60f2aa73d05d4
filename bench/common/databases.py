"""Scratch PostgreSQL databases, made for one run and dropped after it."""

from __future__ import annotations

from typing import Any

from bench.common import log

# Where the scratch databases are made (trust auth on loopback, as the machine has it).
DEFAULT_PG_ADMIN = "postgres://postgres@127.0.0.1:5432/postgres"


def pg_url(admin_url: str, db_name: str) -> str:
    return admin_url.rsplit("/", 1)[0] + "/" + db_name


def pg(url: str, query: str, args: Any = None, *, autocommit: bool = False) -> list[tuple]:
    import psycopg

    with psycopg.connect(url, autocommit=autocommit, connect_timeout=10) as connection:
        cursor = connection.execute(query, args)
        return cursor.fetchall() if cursor.description else []


def database_create(admin_url: str, name: str) -> bool:
    """Creates `name`; a leftover of an earlier run of this benchmark is dropped first."""
    existed = bool(pg(admin_url, "SELECT 1 FROM pg_database WHERE datname = %s", [name]))
    if existed:
        log(f"dropping leftover database {name}")
        database_drop(admin_url, name)
    pg(admin_url, f'CREATE DATABASE "{name}"', autocommit=True)
    return existed


def database_drop(admin_url: str, name: str) -> None:
    pg(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', autocommit=True)


def database_drop_logged(admin_url: str, name: str) -> None:
    """database_drop at the end of a run: says what happened, and never raises (the rest of
    the cleanup still runs)."""
    try:
        database_drop(admin_url, name)
        log(f"dropped database {name}")
    except Exception as error:
        log(f"could not drop database {name}: {error!r}")
