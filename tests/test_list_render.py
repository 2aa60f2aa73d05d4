"""`attachments.listing.render` writes the bytes DRF's JSONRenderer writes for the list's
values (the seed-000 list answered on the event loop and by the view must be Django's answer,
byte for byte), over arbitrary text: every escape JSON has, U+2028/9, non-ASCII, astral."""

import json

from hypothesis import given, settings
from hypothesis import strategies as st
from rest_framework.renderers import JSONRenderer

from attachments import listing

texts = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=40)
items = st.fixed_dictionaries(
    {
        "attachment_id": texts,
        "name": texts,
        "size": st.integers(min_value=0, max_value=2**63 - 1),
        "purged": st.booleans(),
        "description": st.one_of(st.none(), texts),
    }
)
pages = st.fixed_dictionaries(
    {
        "attachments": st.lists(items, max_size=5),
        "has_more": st.booleans(),
        "next_cursor": st.one_of(st.none(), texts),
    }
)


@settings(max_examples=400, deadline=None)
@given(pages)
def test_render_is_drfs_json(page: dict) -> None:  # type: ignore[type-arg]
    assert listing.render(page) == JSONRenderer().render(page)


def test_every_code_point_below_u3000_and_the_edges() -> None:
    for point in [*range(0x3000), 0xFEFF, 0xFFFD, 0x1F600, 0x10FFFF]:
        if 0xD800 <= point <= 0xDFFF:
            continue
        page = {"attachments": [{"name": f"a{chr(point)}b"}], "has_more": False}
        assert listing.render(page) == JSONRenderer().render(page), hex(point)


def test_what_orjson_refuses_goes_to_json() -> None:
    page = {"attachments": [{"size": 2**70}], "has_more": False, "next_cursor": None}
    assert listing.render(page) == JSONRenderer().render(page)
    assert json.loads(listing.render(page))["attachments"][0]["size"] == 2**70
