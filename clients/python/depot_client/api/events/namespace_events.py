from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.error_response import ErrorResponse
from ...models.event_page_response import EventPageResponse
from ...models.validation_error_response import ValidationErrorResponse
from ...types import UNSET, Unset
from typing import cast



def _get_kwargs(
    org: str,
    ws: str,
    ns: str,
    *,
    after: int | Unset = 0,
    include_ext: str | Unset = UNSET,
    include_mime: str | Unset = UNSET,
    limit: int | Unset = 50,
    max_size: int | Unset = UNSET,
    wait_seconds: float | Unset = 25.0,

) -> dict[str, Any]:
    

    

    params: dict[str, Any] = {}

    params["after"] = after

    params["include_ext"] = include_ext

    params["include_mime"] = include_mime

    params["limit"] = limit

    params["max_size"] = max_size

    params["wait_seconds"] = wait_seconds


    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}


    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/api/v1/orgs/{org}/workspaces/{ws}/namespaces/{ns}/events".format(org=quote(str(org), safe=""),ws=quote(str(ws), safe=""),ns=quote(str(ns), safe=""),),
        "params": params,
    }


    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> ErrorResponse | EventPageResponse | ValidationErrorResponse | None:
    if response.status_code == 200:
        response_200 = EventPageResponse.from_dict(response.json())



        return response_200

    if response.status_code == 401:
        response_401 = ErrorResponse.from_dict(response.json())



        return response_401

    if response.status_code == 403:
        response_403 = ErrorResponse.from_dict(response.json())



        return response_403

    if response.status_code == 404:
        response_404 = ErrorResponse.from_dict(response.json())



        return response_404

    if response.status_code == 422:
        response_422 = ValidationErrorResponse.from_dict(response.json())



        return response_422

    if response.status_code == 429:
        response_429 = ErrorResponse.from_dict(response.json())



        return response_429

    if response.status_code == 503:
        response_503 = ErrorResponse.from_dict(response.json())



        return response_503

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[ErrorResponse | EventPageResponse | ValidationErrorResponse]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    org: str,
    ws: str,
    ns: str,
    *,
    client: AuthenticatedClient,
    after: int | Unset = 0,
    include_ext: str | Unset = UNSET,
    include_mime: str | Unset = UNSET,
    limit: int | Unset = 50,
    max_size: int | Unset = UNSET,
    wait_seconds: float | Unset = 25.0,

) -> Response[ErrorResponse | EventPageResponse | ValidationErrorResponse]:
    """ Long-poll a namespace's feed (every session, and artifacts outside sessions)

    Args:
        org (str):
        ws (str):
        ns (str):
        after (int | Unset):  Default: 0.
        include_ext (str | Unset):
        include_mime (str | Unset):
        limit (int | Unset):  Default: 50.
        max_size (int | Unset):
        wait_seconds (float | Unset):  Default: 25.0.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorResponse | EventPageResponse | ValidationErrorResponse]
     """


    kwargs = _get_kwargs(
        org=org,
ws=ws,
ns=ns,
after=after,
include_ext=include_ext,
include_mime=include_mime,
limit=limit,
max_size=max_size,
wait_seconds=wait_seconds,

    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)

def sync(
    org: str,
    ws: str,
    ns: str,
    *,
    client: AuthenticatedClient,
    after: int | Unset = 0,
    include_ext: str | Unset = UNSET,
    include_mime: str | Unset = UNSET,
    limit: int | Unset = 50,
    max_size: int | Unset = UNSET,
    wait_seconds: float | Unset = 25.0,

) -> ErrorResponse | EventPageResponse | ValidationErrorResponse | None:
    """ Long-poll a namespace's feed (every session, and artifacts outside sessions)

    Args:
        org (str):
        ws (str):
        ns (str):
        after (int | Unset):  Default: 0.
        include_ext (str | Unset):
        include_mime (str | Unset):
        limit (int | Unset):  Default: 50.
        max_size (int | Unset):
        wait_seconds (float | Unset):  Default: 25.0.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorResponse | EventPageResponse | ValidationErrorResponse
     """


    return sync_detailed(
        org=org,
ws=ws,
ns=ns,
client=client,
after=after,
include_ext=include_ext,
include_mime=include_mime,
limit=limit,
max_size=max_size,
wait_seconds=wait_seconds,

    ).parsed

async def asyncio_detailed(
    org: str,
    ws: str,
    ns: str,
    *,
    client: AuthenticatedClient,
    after: int | Unset = 0,
    include_ext: str | Unset = UNSET,
    include_mime: str | Unset = UNSET,
    limit: int | Unset = 50,
    max_size: int | Unset = UNSET,
    wait_seconds: float | Unset = 25.0,

) -> Response[ErrorResponse | EventPageResponse | ValidationErrorResponse]:
    """ Long-poll a namespace's feed (every session, and artifacts outside sessions)

    Args:
        org (str):
        ws (str):
        ns (str):
        after (int | Unset):  Default: 0.
        include_ext (str | Unset):
        include_mime (str | Unset):
        limit (int | Unset):  Default: 50.
        max_size (int | Unset):
        wait_seconds (float | Unset):  Default: 25.0.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorResponse | EventPageResponse | ValidationErrorResponse]
     """


    kwargs = _get_kwargs(
        org=org,
ws=ws,
ns=ns,
after=after,
include_ext=include_ext,
include_mime=include_mime,
limit=limit,
max_size=max_size,
wait_seconds=wait_seconds,

    )

    response = await client.get_async_httpx_client().request(
        **kwargs
    )

    return _build_response(client=client, response=response)

async def asyncio(
    org: str,
    ws: str,
    ns: str,
    *,
    client: AuthenticatedClient,
    after: int | Unset = 0,
    include_ext: str | Unset = UNSET,
    include_mime: str | Unset = UNSET,
    limit: int | Unset = 50,
    max_size: int | Unset = UNSET,
    wait_seconds: float | Unset = 25.0,

) -> ErrorResponse | EventPageResponse | ValidationErrorResponse | None:
    """ Long-poll a namespace's feed (every session, and artifacts outside sessions)

    Args:
        org (str):
        ws (str):
        ns (str):
        after (int | Unset):  Default: 0.
        include_ext (str | Unset):
        include_mime (str | Unset):
        limit (int | Unset):  Default: 50.
        max_size (int | Unset):
        wait_seconds (float | Unset):  Default: 25.0.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorResponse | EventPageResponse | ValidationErrorResponse
     """


    return (await asyncio_detailed(
        org=org,
ws=ws,
ns=ns,
client=client,
after=after,
include_ext=include_ext,
include_mime=include_mime,
limit=limit,
max_size=max_size,
wait_seconds=wait_seconds,

    )).parsed
