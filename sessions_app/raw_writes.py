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
_NUMBERED_SQL: dict[
    tuple[str, type[Model], str, type[Model], str, type[Model] | None], tuple[str, list[Any]]
] = {}


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
    sql, fields = _statement(type(instance), alias)
    row = _returned(alias, sql, _values(instance, alias, fields))
    _saved(instance, alias, row[0])
    return instance


def _returned(alias: str, sql: str, params: list[Any]) -> tuple[Any, ...]:
    """Run an INSERT ... RETURNING on `alias` (server-bound values) and return its row."""
    with raw_reads.cursor(connections[alias]) as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    assert row is not None
    return tuple(row)


def _values(instance: Model, alias: str, fields: list[Any]) -> list[Any]:
    """What `save()` does before its INSERT: `pre_save` sent, related fields checked, each
    field's `pre_save` and `get_db_prep_save`; the values of `fields`, in order."""
    connection = connections[alias]
    pre_save.send(
        sender=type(instance), instance=instance, raw=False, using=alias, update_fields=None
    )
    instance._prepare_related_fields_for_save(operation_name="save")  # type: ignore[attr-defined]
    return [field.get_db_prep_save(field.pre_save(instance, True), connection) for field in fields]


def _saved(instance: Model, alias: str, pk: Any) -> None:
    """What `save()` does after its INSERT: the id set, the state saved, `post_save` sent."""
    instance.pk = pk
    instance._state.adding = False
    instance._state.db = alias
    post_save.send(
        sender=type(instance),
        instance=instance,
        created=True,
        update_fields=None,
        raw=False,
        using=alias,
    )


def _numbered_statement(
    model: type[Model],
    alias: str,
    field_name: str,
    counter: type[Model],
    counter_field: str,
    along: type[Model] | None,
) -> tuple[str, list[Any]]:
    key = (alias, model, field_name, counter, counter_field, along)
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
        first, along_id = "", ""
        if along is not None:
            # The other row's own INSERT (its parameters come first), run to completion by
            # PostgreSQL whether or not the main statement reads it; its id comes back last.
            along_sql, _ = _statement(along, alias)
            first = f"along AS ({along_sql}), "
            along_pk = quote(str(along._meta.pk.column))  # type: ignore[union-attr]
            along_id = f", (SELECT {along_pk} FROM along)"  # noqa: S608 (a column name)
        # Names from the models, values parameters.
        sql = (
            f"WITH {first}counter AS (UPDATE {raw_reads.table(counter, connection)}"  # noqa: S608
            f" SET {taken} = {taken} + 1 WHERE {counter_pk} = %s RETURNING {taken} AS n)"
            f" INSERT INTO {raw_reads.table(model, connection)} ({columns}) VALUES ({values})"
            f" RETURNING {quote(str(pk.column))}, {quote(str(numbered.column))}{along_id}"
        )
        found = _NUMBERED_SQL[key] = (sql, [field for field in fields if field is not numbered])
    return found


def insert_numbered(
    instance: M,
    field_name: str,
    counter: type[Model],
    counter_pk: int,
    counter_field: str,
    *,
    along: Model | None = None,
) -> M:
    """`insert(instance)` with `field_name` numbered by the same statement: the counter row
    `counter_pk` of `counter` has its `counter_field` moved on by one (which locks that row)
    and the new value is the row's `field_name`. PostgreSQL only (SQLite has no UPDATE in a
    WITH): one round trip where the counter's own UPDATE ... RETURNING and the INSERT were two
    (issue 11). A counter row that does not exist leaves the value NULL, which a NOT NULL
    column refuses (IntegrityError; nothing is written).

    `along`: another new row of a plain model (as `insert` takes), inserted by the same
    statement: an upload's attachment with its event, one round trip fewer again. Its
    `pre_save` is sent before `instance`'s, its `post_save` before `instance`'s; if the
    statement fails, neither row is written and no `post_save` is sent."""
    model = type(instance)
    alias = router.db_for_write(model, instance=instance)
    assert connections[alias].vendor == "postgresql", "insert_numbered needs UPDATE in a WITH"
    sql, fields = _numbered_statement(
        model, alias, field_name, counter, counter_field, None if along is None else type(along)
    )
    leading: list[Any] = []
    if along is not None:
        leading = _values(along, alias, _statement(type(along), alias)[1])
    row = _returned(alias, sql, [*leading, counter_pk, *_values(instance, alias, fields)])
    if along is not None:
        _saved(along, alias, row[2])
    setattr(instance, field_name, row[1])
    _saved(instance, alias, row[0])
    return instance
