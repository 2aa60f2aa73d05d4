"""Hot reads as prepared SQL, with the ORM's own value conversions.

Building a query through the ORM costs far more CPU than running it: the API key lookup was
about 0.47 ms of CPU per request, the SQL under 0.03 ms (issue 11). The few reads every request
makes are written once here as SQL over the models' own table and column names, and each
value goes through the converters the ORM would apply (SQLite's text datetimes, UUIDs and
booleans), so a row reads exactly as `values_list` would give it.

`cursor(connection)` is the cursor these reads and `raw_writes` run on: on PostgreSQL its
parameters are bound on the server."""

from collections.abc import Callable, Sequence
from typing import Any

from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper

Converter = Callable[[Any, Any, BaseDatabaseWrapper], Any]
_CONVERTERS: dict[tuple[str, str, type[models.Model], tuple[str, ...]], list[Any]] = {}


def column(model: type[models.Model], field: str, connection: BaseDatabaseWrapper) -> str:
    """The quoted column of `model.field`."""
    name = model._meta.get_field(field).column  # type: ignore[union-attr]
    return connection.ops.quote_name(str(name))


def table(model: type[models.Model], connection: BaseDatabaseWrapper) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def converters(
    model: type[models.Model], fields: Sequence[str], connection: BaseDatabaseWrapper
) -> list[tuple[int, Any, list[Converter]]]:
    """Per field of `fields` that has any: its index, its column expression and the converters
    the ORM's compiler would run on its values (the backend's, then the field's), as
    `apply_converters` does."""
    key = (connection.alias, connection.vendor, model, tuple(fields))
    found = _CONVERTERS.get(key)
    if found is None:
        found = []
        for index, name in enumerate(fields):
            expression = model._meta.get_field(name).get_col(model._meta.db_table)  # type: ignore[union-attr]
            steps = connection.ops.get_db_converters(expression) + expression.get_db_converters(
                connection
            )
            if steps:
                found.append((index, expression, steps))
        _CONVERTERS[key] = found
    return found


def convert_row(
    row: Sequence[Any],
    conversions: list[tuple[int, Any, list[Converter]]],
    connection: BaseDatabaseWrapper,
) -> tuple[Any, ...]:
    if not conversions:
        return tuple(row)
    values = list(row)
    for index, expression, steps in conversions:
        value = values[index]
        for step in steps:
            value = step(value, expression, connection)
        values[index] = value
    return tuple(values)


def chain_columns(
    chain: Sequence[tuple[str, type[models.Model]]], connection: BaseDatabaseWrapper
) -> str:
    """The select list of every concrete column of each (alias, model) of `chain`, in order:
    the columns `select_related` would read for those models."""
    return ", ".join(
        f"{alias}.{column(model, field.attname, connection)}"
        for alias, model in chain
        for field in model._meta.concrete_fields
    )


def chain_instances(
    row: Sequence[Any],
    chain: Sequence[tuple[str, type[models.Model]]],
    connection: BaseDatabaseWrapper,
) -> list[models.Model]:
    """The instances of a row read with `chain_columns(chain)`, one per model, converted as the
    ORM converts them; each related row is left cached on the one before it, through the
    forward key of that name, as `select_related` leaves it (the models must form a chain of
    foreign keys: the second is the first's, the third the second's)."""
    instances: list[models.Model] = []
    start = 0
    for _, model in chain:
        names = [field.attname for field in model._meta.concrete_fields]
        values = convert_row(
            row[start : start + len(names)], converters(model, names, connection), connection
        )
        instance = model.from_db(connection.alias, names, values)
        if instances:
            parent = instances[-1]
            _forward_key(type(parent), model).set_cached_value(parent, instance)
        instances.append(instance)
        start += len(names)
    return instances


_FORWARD_KEYS: dict[tuple[type[models.Model], type[models.Model]], Any] = {}


def _forward_key(model: type[models.Model], target: type[models.Model]) -> Any:
    found = _FORWARD_KEYS.get((model, target))
    if found is None:
        keys = [f for f in model._meta.concrete_fields if f.related_model is target]
        if len(keys) != 1:
            raise LookupError(f"{model.__name__} has no one foreign key to {target.__name__}")
        found = _FORWARD_KEYS[(model, target)] = keys[0]
    return found


def cursor(connection: BaseDatabaseWrapper) -> Any:
    """`connection.cursor()`, but on PostgreSQL over a psycopg cursor that binds its parameters
    on the server instead of Django's client-side one: quoting an INSERT's values into its text
    in Python cost about 85 us of CPU per row (16 values, issue 11). Nothing is prepared:
    Django's connections keep psycopg's preparing off, and a prepared statement outlives a
    migration that changes a column it reads (PostgreSQL then refuses it, "cached plan must
    not change result type", on that connection until it closes: see
    tests/test_hostile_session9_prepare.py). Still Django's cursor wrapper around it, so the
    statement is counted and logged and its errors are Django's."""
    if connection.vendor != "postgresql":
        return connection.cursor()
    import psycopg

    connection.close_if_health_check_failed()
    connection.ensure_connection()
    with connection.wrap_database_errors:
        return connection._prepare_cursor(psycopg.Cursor(connection.connection))  # type: ignore[attr-defined]
