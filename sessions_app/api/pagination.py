"""Keyset cursor pages: one class for every list answer, with each seed's envelope as its
parameter. The page serializer it builds names the schema component and renders the bytes,
so the two cannot drift apart."""

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from sessions_app.api.common import keyset_page

ENVELOPE_FIELDS = ("total", "has_more", "next_cursor")


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

    def page(self, queryset: QuerySet[Any], *, cursor: str | None, limit: int) -> dict[str, Any]:
        """The rendered page: the count first (when the envelope has one), then the rows."""
        body: dict[str, Any] = {}
        if "total" in self.fields:
            body["total"] = queryset.count()
        found = keyset_page(queryset, cursor=cursor, limit=limit, key=self.key)
        body.update(has_more=found.has_more, next_cursor=found.next_cursor)
        body[self.items] = found.items
        return self.serializer(body).data
