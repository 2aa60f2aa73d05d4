"""PlannedListSerializer renders each item as DRF's Serializer.to_representation would, field
kinds and odd sources included (sessions_app/api/pagination.py)."""

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from rest_framework import serializers

from sessions_app.api.pagination import PlannedListSerializer


class Inner(serializers.Serializer):
    slug = serializers.CharField()


class Item(serializers.Serializer):
    class Meta:
        list_serializer_class = PlannedListSerializer

    name = serializers.CharField()
    size = serializers.IntegerField()
    flag = serializers.BooleanField()
    when = serializers.DateTimeField(allow_null=True)
    tags = serializers.ListField(child=serializers.CharField())
    meta = serializers.DictField()
    choice = serializers.ChoiceField(choices=["a", "b"])
    nested_id = serializers.CharField(source="parent.slug", allow_null=True, default=None)
    nested_no_default = serializers.CharField(source="parent.slug", allow_null=True)
    optional = serializers.CharField(required=False)
    computed = serializers.CharField(source="method")
    inner = Inner(source="parent", allow_null=True, required=False)


def _row(parent: Any, **extra: Any) -> SimpleNamespace:
    fields = {
        "name": "n",
        "size": 3,
        "flag": 1,
        "when": datetime(2026, 1, 2, 3, 4, 5, 600, tzinfo=UTC),
        "tags": ["x", 2],
        "meta": {"k": [1]},
        "choice": "a",
        "parent": parent,
        "method": lambda: "called",
    }
    return SimpleNamespace(**{**fields, **extra})


def test_items_are_what_drf_renders_one_by_one() -> None:
    rows = [
        _row(SimpleNamespace(slug="s")),
        _row(None, when=None, flag=True, size="7"),
        _row(SimpleNamespace(slug="t"), optional="here", flag=False, name=5),
    ]
    planned = Item(rows, many=True).data
    assert isinstance(Item(many=True), PlannedListSerializer)
    assert [dict(item) for item in planned] == [dict(Item(row).data) for row in rows]
    assert planned[1]["nested_id"] is None and "optional" not in planned[0]
    assert planned[0]["computed"] == "called" and planned[2]["optional"] == "here"
