from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.download_url_response import DownloadUrlResponse
from ...models.error_response import ErrorResponse
from ...models.validation_error_response import ValidationErrorResponse
from ...types import UNSET, Unset
from typing import cast



def _get_kwargs(
    org: str,
    ws: str,
    ns: str,
    artifact_id: str,
    *,
    expires_in: int | Unset = 3600,

) -> dict[str, Any]:
    

    

    params: dict[str, Any] = {}

    params["expires_in"] = expires_in


    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}


    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/api/v1/orgs/{org}/workspaces/{ws}/namespaces/{ns}/artifacts/{artifact_id}/download".format(org=quote(str(org), safe=""),ws=quote(str(ws), safe=""),ns=quote(str(ns), safe=""),artifact_id=quote(str(artifact_id), safe=""),),
        "params": params,
    }


    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> DownloadUrlResponse | ErrorResponse | ValidationErrorResponse | None:
    if response.status_code == 200:
        response_200 = DownloadUrlResponse.from_dict(response.json())



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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[DownloadUrlResponse | ErrorResponse | ValidationErrorResponse]:
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
    artifact_id: str,
    *,
    client: AuthenticatedClient,
    expires_in: int | Unset = 3600,

) -> Response[DownloadUrlResponse | ErrorResponse | ValidationErrorResponse]:
    """ A time-limited download URL (S3 presigned, or signed by Depot on local disk)

    Args:
        org (str):
        ws (str):
        ns (str):
        artifact_id (str):
        expires_in (int | Unset):  Default: 3600.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[DownloadUrlResponse | ErrorResponse | ValidationErrorResponse]
     """


    kwargs = _get_kwargs(
        org=org,
ws=ws,
ns=ns,
artifact_id=artifact_id,
expires_in=expires_in,

    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)

def sync(
    org: str,
    ws: str,
    ns: str,
    artifact_id: str,
    *,
    client: AuthenticatedClient,
    expires_in: int | Unset = 3600,

) -> DownloadUrlResponse | ErrorResponse | ValidationErrorResponse | None:
    """ A time-limited download URL (S3 presigned, or signed by Depot on local disk)

    Args:
        org (str):
        ws (str):
        ns (str):
        artifact_id (str):
        expires_in (int | Unset):  Default: 3600.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        DownloadUrlResponse | ErrorResponse | ValidationErrorResponse
     """


    return sync_detailed(
        org=org,
ws=ws,
ns=ns,
artifact_id=artifact_id,
client=client,
expires_in=expires_in,

    ).parsed

async def asyncio_detailed(
    org: str,
    ws: str,
    ns: str,
    artifact_id: str,
    *,
    client: AuthenticatedClient,
    expires_in: int | Unset = 3600,

) -> Response[DownloadUrlResponse | ErrorResponse | ValidationErrorResponse]:
    """ A time-limited download URL (S3 presigned, or signed by Depot on local disk)

    Args:
        org (str):
        ws (str):
        ns (str):
        artifact_id (str):
        expires_in (int | Unset):  Default: 3600.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[DownloadUrlResponse | ErrorResponse | ValidationErrorResponse]
     """


    kwargs = _get_kwargs(
        org=org,
ws=ws,
ns=ns,
artifact_id=artifact_id,
expires_in=expires_in,

    )

    response = await client.get_async_httpx_client().request(
        **kwargs
    )

    return _build_response(client=client, response=response)

async def asyncio(
    org: str,
    ws: str,
    ns: str,
    artifact_id: str,
    *,
    client: AuthenticatedClient,
    expires_in: int | Unset = 3600,

) -> DownloadUrlResponse | ErrorResponse | ValidationErrorResponse | None:
    """ A time-limited download URL (S3 presigned, or signed by Depot on local disk)

    Args:
        org (str):
        ws (str):
        ns (str):
        artifact_id (str):
        expires_in (int | Unset):  Default: 3600.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        DownloadUrlResponse | ErrorResponse | ValidationErrorResponse
     """


    return (await asyncio_detailed(
        org=org,
ws=ws,
ns=ns,
artifact_id=artifact_id,
client=client,
expires_in=expires_in,

    )).parsed
