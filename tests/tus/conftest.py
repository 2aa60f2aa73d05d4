"""A live Depot for the tus clients: uvicorn on a free loopback port, in a thread of this
process (so the test's database and storage settings are the server's)."""

from collections.abc import Iterator

import pytest

from tests.support.live_server import in_process_uvicorn


@pytest.fixture
def live_url(tenant) -> Iterator[str]:  # type: ignore[no-untyped-def]
    with in_process_uvicorn() as url:
        yield url
