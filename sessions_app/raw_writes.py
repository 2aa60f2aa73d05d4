"""Hot inserts as prepared SQL, with the ORM's own value preparation, on `raw_reads.cursor`.

`Model.objects.create` compiles its INSERT anew on every call: an upload's attachment row cost
about 0.55 ms of CPU in Django's insert compiler (py-spy, issue 11), around a statement that
takes a few microseconds. `insert` writes the same row: each field's `pre_save` (so
`auto_now_add` and defaults apply as they would) and `get_db_prep_save` (the backend's JSON,
UUID and datetime adaptation), the model's own table and column names, the new id read back
with `RETURNING`, and the `pre_save` and `post_save` signals sent as `save()` sends them."""

from typing import Any, TypeVar, cast

from django.db import connections, router
from django.db.models import Field, Model
from django.db.models.signals import post_save, pre_save

from sessions_app import raw_reads

M = TypeVar("M", bound=Model)
_INSERT_SQL: dict[tuple[str, type[Model]], tuple[str, list[Any]]] = {}
_NUMBERED_SQL: dict[tuple[str, type[Model], str, type[Model], str], tuple[str, list[Any]]] = {}


def _statement(model: type[Model], alias: str) -> tuple[str, list[Any]]:
    found = _INSERT_SQL.get((alias, model))
    if found is None:
        connection = connections[alias]
        meta = model._meta
        pk = meta.pk
        assert pk is not None
        fields = [field for field in meta.local_concrete_fields if field is not pk]
        columns = ", ".join(connection.ops.quote_name(str(field.column)) for field in fields)
        placeholders = ", ".join(["%s"] * len(fields))
        # Names from the model, values parameters.
        sql = (
            f"INSERT INTO {raw_reads.table(model, connection)} ({columns})"  # noqa: S608
            f" VALUES ({placeholders}) RETURNING {connection.ops.quote_name(str(pk.column))}"
        )
        found = _INSERT_SQL[(alias, model)] = (sql, fields)
    return found


def insert(instance: M) -> M:
    """`instance.save(force_insert=True)` for a new row of a plain model (an auto primary key,
    no database defaults, no expressions among its values, no parent models): the row
    inserted, its id set, the instance marked saved, its save signals sent."""
    alias = router.db_for_write(type(instance), instance=instance)
    _save(instance, alias, *_statement(type(instance), alias))
    return instance


def _save(
    instance: Model, alias: str, sql: str, fields: list[Any], *leading: Any, numbered: str = ""
) -> None:
    """Run an INSERT of `instance`'s `fields` (after `leading` parameters) as `save()` would:
    its signals, each field's `pre_save` and `get_db_prep_save`, its id set and its state
    saved; `numbered`: a field the statement returned after the id, set before post_save."""
    model = type(instance)
    connection = connections[alias]
    pre_save.send(sender=model, instance=instance, raw=False, using=alias, update_fields=None)
    instance._prepare_related_fields_for_save(operation_name="save")  # type: ignore[attr-defined]
    values = [
        field.get_db_prep_save(field.pre_save(instance, True), connection) for field in fields
    ]
    with raw_reads.cursor(connection) as cursor:
        cursor.execute(sql, [*leading, *values])
        row = cursor.fetchone()
    assert row is not None
    instance.pk = row[0]
    if numbered:
        setattr(instance, numbered, row[1])
    instance._state.adding = False
    instance._state.db = alias
    post_save.send(
        sender=model, instance=instance, created=True, update_fields=None, raw=False, using=alias
    )


def _numbered_statement(
    model: type[Model], alias: str, field_name: str, counter: type[Model], counter_field: str
) -> tuple[str, list[Any]]:
    key = (alias, model, field_name, counter, counter_field)
    found = _NUMBERED_SQL.get(key)
    if found is None:
        connection = connections[alias]
        quote = connection.ops.quote_name
        meta = model._meta
        pk = meta.pk
        assert pk is not None
        fields = [field for field in meta.local_concrete_fields if field is not pk]
        numbered = cast(Field, meta.get_field(field_name))
        columns = ", ".join(quote(str(field.column)) for field in fields)
        values = ", ".join(
            "(SELECT n FROM counter)" if field is numbered else "%s" for field in fields
        )
        taken = quote(str(cast(Field, counter._meta.get_field(counter_field)).column))
        counter_pk = quote(str(counter._meta.pk.column))  # type: ignore[union-attr]
        # Names from the models, values parameters.
        sql = (
            f"WITH counter AS (UPDATE {raw_reads.table(counter, connection)}"  # noqa: S608
            f" SET {taken} = {taken} + 1 WHERE {counter_pk} = %s RETURNING {taken} AS n)"
            f" INSERT INTO {raw_reads.table(model, connection)} ({columns}) VALUES ({values})"
            f" RETURNING {quote(str(pk.column))}, {quote(str(numbered.column))}"
        )
        found = _NUMBERED_SQL[key] = (sql, [field for field in fields if field is not numbered])
    return found


def insert_numbered(
    instance: M, field_name: str, counter: type[Model], counter_pk: int, counter_field: str
) -> M:
    """`insert(instance)` with `field_name` numbered by the same statement: the counter row
    `counter_pk` of `counter` has its `counter_field` moved on by one (which locks that row)
    and the new value is the row's `field_name`. PostgreSQL only (SQLite has no UPDATE in a
    WITH): one round trip where the counter's own UPDATE ... RETURNING and the INSERT were two
    (issue 11). A counter row that does not exist leaves the value NULL, which a NOT NULL
    column refuses (IntegrityError; nothing is written)."""
    model = type(instance)
    alias = router.db_for_write(model, instance=instance)
    assert connections[alias].vendor == "postgresql", "insert_numbered needs UPDATE in a WITH"
    sql, fields = _numbered_statement(model, alias, field_name, counter, counter_field)
    _save(instance, alias, sql, fields, counter_pk, numbered=field_name)
    return instance
