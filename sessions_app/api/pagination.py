"""Keyset cursor pages: one class for every list answer, with each seed's envelope as its
parameter. The page serializer it builds names the schema component and renders the bytes,
so the two cannot drift apart."""

from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers
from rest_framework.fields import SkipField, empty

from sessions_app.api.common import keyset_page

ENVELOPE_FIELDS = ("total", "has_more", "next_cursor")


def _plain_char(field: serializers.Field, value: Any) -> Any:
    return str(value)  # CharField.to_representation


def _plain_integer(field: serializers.Field, value: Any) -> Any:
    return int(value)  # IntegerField.to_representation


def _plain_boolean(field: serializers.Field, value: Any) -> Any:
    # BooleanField maps True/False to themselves; anything else goes its own way.
    return value if value is True or value is False else field.to_representation(value)


# Field classes whose to_representation is a plain conversion, by exact class (a subclass may
# render otherwise: it goes through its own to_representation).
_PLAIN: dict[type, Callable[[serializers.Field, Any], Any]] = {
    serializers.CharField: _plain_char,
    serializers.IntegerField: _plain_integer,
    serializers.BooleanField: _plain_boolean,
}
_Plan = list[tuple[serializers.Field, str, tuple[str, ...], Callable[[Any, Any], Any], Any]]
# No value of its own: what DRF answers for a field whose source runs into None midway is
# then left to DRF's get_attribute.
_ASK_DRF = object()


def _midway(field: serializers.Field) -> Any:
    """What DRF's get_attribute gives when the source path meets None before its end (the
    AttributeError it catches): a plain default as it is; anything else is DRF's to say."""
    default = field.default
    return _ASK_DRF if default is empty or callable(default) else default


class PlannedListSerializer(serializers.ListSerializer):
    """`many=True` of a read-only serializer, rendered exactly as DRF's `Serializer.
    to_representation` renders each item, without its per-field calls where a field is a
    plain attribute read and conversion: a page of 50 artifacts of 52 fields is 2,600 of
    them. The plan (each field's name, source path and conversion) is made once per item
    class; a field whose source is missing, None midway or callable goes through DRF's own
    `get_attribute` (defaults, nulls, SkipField), any other field class through its own
    `to_representation`. Named as the child's `Meta.list_serializer_class`; the schema is
    the child's, as before."""

    _plans: dict[type, _Plan] = {}

    def _plan(self) -> _Plan:
        child = self.child
        assert isinstance(child, serializers.Serializer)  # the item serializer, never None
        kind = type(child)
        plan = self._plans.get(kind)
        if plan is None:
            plan = [
                (
                    field,
                    str(field.field_name),  # set by bind(), before any field is read
                    tuple(field.source_attrs),
                    _PLAIN.get(type(field), type(field).to_representation),
                    _midway(field),
                )
                for field in child._readable_fields
            ]
            self._plans[kind] = plan
        return plan

    def to_representation(self, data: Any) -> list[dict[str, Any]]:
        plan = self._plan()
        rows = data.all() if hasattr(data, "all") else data
        return [self._item(plan, row) for row in rows]

    @staticmethod
    def _item(plan: _Plan, row: Any) -> dict[str, Any]:
        item: dict[str, Any] = {}
        for field, name, attrs, convert, midway in plan:
            value = row
            try:
                for attr in attrs:
                    if value is None and midway is not _ASK_DRF:
                        value = midway  # e.g. `thread.thread_id` of a version without a thread
                        break
                    value = getattr(value, attr)
                if callable(value):
                    raise AttributeError(name)
            except Exception:
                try:
                    value = field.get_attribute(row)
                except SkipField:
                    continue
            item[name] = None if value is None else convert(field, value)
        return item


class KeysetPagination:
    """Newest first by `key` (see `keyset_page`), wrapped in one seed's envelope.

    `items` names the list (`sessions`, `attachments`, `artifacts`) and `fields` the order of
    the envelope's keys on the wire; `total` is among them only where a seed has it (seed
    002's artifact lists count the whole filtered set; the others do not)."""

    def __init__(
        self,
        *,
        component: str,
        items: str,
        item_serializer: type[serializers.Serializer],
        fields: tuple[str, ...],
        key: str = "pk",
    ) -> None:
        unknown = set(fields) - {items, *ENVELOPE_FIELDS}
        if unknown or items not in fields:
            raise ValueError(f"Envelope fields {fields} do not fit items {items!r}.")
        self.items = items
        self.fields = fields
        self.key = key
        self.item_serializer = item_serializer
        self.serializer = self._page_serializer(component)

    def _page_serializer(self, component: str) -> type[serializers.Serializer]:
        makers: dict[str, Any] = {
            "total": serializers.IntegerField,
            "has_more": serializers.BooleanField,
            "next_cursor": lambda: serializers.CharField(allow_null=True),
            self.items: lambda: self.item_serializer(many=True),
        }
        # Made in the envelope's order: DRF orders declared fields by when they were made.
        attributes: dict[str, Any] = {name: makers[name]() for name in self.fields}
        attributes["__module__"] = __name__
        page_class = type(component, (serializers.Serializer,), attributes)
        # One object, not a list of pages: drf-spectacular wraps a `list` action's response
        # in an array unless the serializer says it is not many.
        return extend_schema_serializer(many=False)(page_class)

    def page(
        self,
        queryset: QuerySet[Any],
        *,
        cursor: str | None,
        limit: int,
        total: int | Callable[[list[Any]], int] | None = None,
        fill: Callable[[list[Any]], list[Any]] | None = None,
    ) -> dict[str, Any]:
        """The rendered page: the count first (when the envelope has one: `total` when the
        caller knows it, or works it out from the page's rows, else the queryset's COUNT),
        then the rows, through `fill` if given (what the queryset left for the caller to set
        on them)."""
        body: dict[str, Any] = {}
        if "total" in self.fields and total is None:
            body["total"] = queryset.count()
        elif "total" in self.fields and not callable(total):
            body["total"] = total
        found = keyset_page(queryset, cursor=cursor, limit=limit, key=self.key)
        if "total" in self.fields and callable(total):
            body["total"] = total(found.items)
        body.update(has_more=found.has_more, next_cursor=found.next_cursor)
        body[self.items] = fill(found.items) if fill is not None else found.items
        return self.serializer(body).data
