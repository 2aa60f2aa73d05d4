"""Clients: DRF's test client with a key, the real ASGI application in process, and a bare
ASGI scope."""

from rest_framework.test import APIClient

from tests.support.multipart import multipart_body


def client_with(key: str | None = None, *, bearer: bool = False) -> APIClient:
    client = APIClient()
    if key is not None:
        if bearer:
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
        else:
            client.credentials(HTTP_X_API_KEY=key)
    return client


class AsgiClient:
    """Requests through the real ASGI application (upload middleware included), in process."""

    def __init__(self, key: str | None = None, headers: dict[str, str] | None = None) -> None:
        self.headers = dict(headers or {})
        if key:
            self.headers["X-API-Key"] = key

    def request(self, method: str, path: str, **kwargs):  # type: ignore[no-untyped-def]
        import asyncio

        import httpx

        from config.asgi import application

        headers = {**self.headers, **kwargs.pop("headers", {})}

        async def send() -> httpx.Response:
            transport = httpx.ASGITransport(app=application)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://testserver"
            ) as client:
                return await client.request(method, path, headers=headers, **kwargs)

        return asyncio.run(send())

    def get(self, path: str, **kwargs):  # type: ignore[no-untyped-def]
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs):  # type: ignore[no-untyped-def]
        return self.request("POST", path, **kwargs)

    def delete(self, path: str, **kwargs):  # type: ignore[no-untyped-def]
        return self.request("DELETE", path, **kwargs)

    def upload(  # type: ignore[no-untyped-def]
        self, url: str, content: bytes, name: str = "file.bin", field: str = "file", **fields: str
    ):
        body, content_type = multipart_body(field, name, content, fields)
        return self.post(url, content=body, headers={"Content-Type": content_type})


def http_scope(method: str, path: str, **extra: object) -> dict:
    """An ASGI HTTP scope for driving the application by hand (`extra` adds or overrides
    keys, e.g. headers or query_string)."""
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "server": ("testserver", 80),
        "client": ("127.0.0.1", 5555),
        **extra,
    }


class DjangoRequests:
    """Counts the requests Django's handler took (its `request_started` signal): the
    `django_requests` fixture connects one, so a test sees whether a shortcut in front of
    Django answered."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, **kwargs: object) -> None:
        self.count += 1
