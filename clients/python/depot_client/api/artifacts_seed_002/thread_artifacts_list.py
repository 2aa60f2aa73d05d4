from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.artifact_page_response import ArtifactPageResponse
from ...models.error_response import ErrorResponse
from ...models.validation_error_response import ValidationErrorResponse
from ...types import UNSET, Unset
from typing import cast



def _get_kwargs(
    org: str,
    ws: str,
    ns: str,
    thread_id: str,
    *,
    artifact_types: str | Unset = UNSET,
    cursor: str | Unset = UNSET,
    include_expired: bool | Unset = False,
    limit: int | Unset = 50,

) -> dict[str, Any]:
    

    

    params: dict[str, Any] = {}

    params["artifact_types"] = artifact_types

    params["cursor"] = cursor

    params["include_expired"] = include_expired

    params["limit"] = limit


    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}


    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/api/v1/orgs/{org}/workspaces/{ws}/namespaces/{ns}/threads/{thread_id}/artifacts".format(org=quote(str(org), safe=""),ws=quote(str(ws), safe=""),ns=quote(str(ns), safe=""),thread_id=quote(str(thread_id), safe=""),),
        "params": params,
    }


    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> ArtifactPageResponse | ErrorResponse | ValidationErrorResponse | None:
    if response.status_code == 200:
        response_200 = ArtifactPageResponse.from_dict(response.json())



        return response_200

    if response.status_code == 401:
        response_401 = ErrorResponse.from_dict(response.json())



        return response_401

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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[ArtifactPageResponse | ErrorResponse | ValidationErrorResponse]:
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
    thread_id: str,
    *,
    client: AuthenticatedClient,
    artifact_types: str | Unset = UNSET,
    cursor: str | Unset = UNSET,
    include_expired: bool | Unset = False,
    limit: int | Unset = 50,

) -> Response[ArtifactPageResponse | ErrorResponse | ValidationErrorResponse]:
    """ List a thread's artifacts

    Args:
        org (str):
        ws (str):
        ns (str):
        thread_id (str):
        artifact_types (str | Unset):
        cursor (str | Unset):
        include_expired (bool | Unset):  Default: False.
        limit (int | Unset):  Default: 50.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ArtifactPageResponse | ErrorResponse | ValidationErrorResponse]
     """


    kwargs = _get_kwargs(
        org=org,
ws=ws,
ns=ns,
thread_id=thread_id,
artifact_types=artifact_types,
cursor=cursor,
include_expired=include_expired,
limit=limit,

    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)

def sync(
    org: str,
    ws: str,
    ns: str,
    thread_id: str,
    *,
    client: AuthenticatedClient,
    artifact_types: str | Unset = UNSET,
    cursor: str | Unset = UNSET,
    include_expired: bool | Unset = False,
    limit: int | Unset = 50,

) -> ArtifactPageResponse | ErrorResponse | ValidationErrorResponse | None:
    """ List a thread's artifacts

    Args:
        org (str):
        ws (str):
        ns (str):
        thread_id (str):
        artifact_types (str | Unset):
        cursor (str | Unset):
        include_expired (bool | Unset):  Default: False.
        limit (int | Unset):  Default: 50.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ArtifactPageResponse | ErrorResponse | ValidationErrorResponse
     """


    return sync_detailed(
        org=org,
ws=ws,
ns=ns,
thread_id=thread_id,
client=client,
artifact_types=artifact_types,
cursor=cursor,
include_expired=include_expired,
limit=limit,

    ).parsed

async def asyncio_detailed(
    org: str,
    ws: str,
    ns: str,
    thread_id: str,
    *,
    client: AuthenticatedClient,
    artifact_types: str | Unset = UNSET,
    cursor: str | Unset = UNSET,
    include_expired: bool | Unset = False,
    limit: int | Unset = 50,

) -> Response[ArtifactPageResponse | ErrorResponse | ValidationErrorResponse]:
    """ List a thread's artifacts

    Args:
        org (str):
        ws (str):
        ns (str):
        thread_id (str):
        artifact_types (str | Unset):
        cursor (str | Unset):
        include_expired (bool | Unset):  Default: False.
        limit (int | Unset):  Default: 50.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ArtifactPageResponse | ErrorResponse | ValidationErrorResponse]
     """


    kwargs = _get_kwargs(
        org=org,
ws=ws,
ns=ns,
thread_id=thread_id,
artifact_types=artifact_types,
cursor=cursor,
include_expired=include_expired,
limit=limit,

    )

    response = await client.get_async_httpx_client().request(
        **kwargs
    )

    return _build_response(client=client, response=response)

async def asyncio(
    org: str,
    ws: str,
    ns: str,
    thread_id: str,
    *,
    client: AuthenticatedClient,
    artifact_types: str | Unset = UNSET,
    cursor: str | Unset = UNSET,
    include_expired: bool | Unset = False,
    limit: int | Unset = 50,

) -> ArtifactPageResponse | ErrorResponse | ValidationErrorResponse | None:
    """ List a thread's artifacts

    Args:
        org (str):
        ws (str):
        ns (str):
        thread_id (str):
        artifact_types (str | Unset):
        cursor (str | Unset):
        include_expired (bool | Unset):  Default: False.
        limit (int | Unset):  Default: 50.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ArtifactPageResponse | ErrorResponse | ValidationErrorResponse
     """


    return (await asyncio_detailed(
        org=org,
ws=ws,
ns=ns,
thread_id=thread_id,
client=client,
artifact_types=artifact_types,
cursor=cursor,
include_expired=include_expired,
limit=limit,

    )).parsed
