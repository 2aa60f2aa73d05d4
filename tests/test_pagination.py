"""One keyset pagination class (sessions_app/api/pagination.py) with each seed's envelope as
its parameter: the keys and their order on the wire are the seeds' own."""

import pytest
from rest_framework import serializers
from rest_framework.test import APIClient

from sessions_app.api.pagination import KeysetPagination

pytestmark = pytest.mark.django_db
NS = "/api/v1/orgs/acme/workspaces/alpha/namespaces/default"


@pytest.mark.parametrize(
    ("path", "keys"),
    [
        ("/api/sessions", ["sessions", "has_more", "next_cursor"]),
        (f"{NS}/artifacts", ["total", "has_more", "next_cursor", "artifacts"]),
        (f"{NS}/threads/t/artifacts", ["total", "has_more", "next_cursor", "artifacts"]),
    ],
)
def test_each_list_keeps_its_seed_envelope_in_order(
    owner: APIClient, path: str, keys: list[str]
) -> None:
    response = owner.get(path)
    assert response.status_code == 200
    assert list(response.json()) == keys


def test_an_envelope_must_name_its_items_and_known_keys() -> None:
    class Item(serializers.Serializer):
        name = serializers.CharField()

    with pytest.raises(ValueError):
        KeysetPagination(component="P1", items="rows", item_serializer=Item, fields=("has_more",))
    with pytest.raises(ValueError):
        KeysetPagination(
            component="P2", items="rows", item_serializer=Item, fields=("rows", "count")
        )
