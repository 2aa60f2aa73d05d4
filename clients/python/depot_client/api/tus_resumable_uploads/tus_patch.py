from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.error_response import ErrorResponse
from ...models.validation_error_response import ValidationErrorResponse
from ...types import File, FileTypes
from ...types import UNSET, Unset
from io import BytesIO
from typing import cast



def _get_kwargs(
    upload_id: str,
    *,
    body: File | Unset = UNSET,
    tus_resumable: str,
    upload_checksum: str | Unset = UNSET,
    upload_length: str | Unset = UNSET,
    upload_offset: str,

) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    headers["Tus-Resumable"] = tus_resumable

    if not isinstance(upload_checksum, Unset):
        headers["Upload-Checksum"] = upload_checksum

    if not isinstance(upload_length, Unset):
        headers["Upload-Length"] = upload_length

    headers["Upload-Offset"] = upload_offset



    

    

    _kwargs: dict[str, Any] = {
        "method": "patch",
        "url": "/api/tus/{upload_id}".format(upload_id=quote(str(upload_id), safe=""),),
    }

    if not isinstance(body, Unset):
        _kwargs["content"] = body.payload
    headers["Content-Type"] = "application/offset+octet-stream"

    _kwargs["headers"] = headers
    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Any | ErrorResponse | ValidationErrorResponse | None:
    if response.status_code == 204:
        response_204 = cast(Any, None)
        return response_204

    if response.status_code == 400:
        response_400 = ErrorResponse.from_dict(response.json())



        return response_400

    if response.status_code == 401:
        response_401 = ErrorResponse.from_dict(response.json())



        return response_401

    if response.status_code == 403:
        response_403 = ErrorResponse.from_dict(response.json())



        return response_403

    if response.status_code == 404:
        response_404 = ErrorResponse.from_dict(response.json())



        return response_404

    if response.status_code == 408:
        response_408 = ErrorResponse.from_dict(response.json())



        return response_408

    if response.status_code == 409:
        response_409 = ErrorResponse.from_dict(response.json())



        return response_409

    if response.status_code == 410:
        response_410 = ErrorResponse.from_dict(response.json())



        return response_410

    if response.status_code == 412:
        response_412 = ErrorResponse.from_dict(response.json())



        return response_412

    if response.status_code == 413:
        response_413 = ErrorResponse.from_dict(response.json())



        return response_413

    if response.status_code == 415:
        response_415 = ErrorResponse.from_dict(response.json())



        return response_415

    if response.status_code == 422:
        response_422 = ValidationErrorResponse.from_dict(response.json())



        return response_422

    if response.status_code == 423:
        response_423 = ErrorResponse.from_dict(response.json())



        return response_423

    if response.status_code == 429:
        response_429 = ErrorResponse.from_dict(response.json())



        return response_429

    if response.status_code == 460:
        response_460 = ErrorResponse.from_dict(response.json())



        return response_460

    if response.status_code == 503:
        response_503 = ErrorResponse.from_dict(response.json())



        return response_503

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[Any | ErrorResponse | ValidationErrorResponse]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    upload_id: str,
    *,
    client: AuthenticatedClient,
    body: File | Unset = UNSET,
    tus_resumable: str,
    upload_checksum: str | Unset = UNSET,
    upload_length: str | Unset = UNSET,
    upload_offset: str,

) -> Response[Any | ErrorResponse | ValidationErrorResponse]:
    """ Append bytes at Upload-Offset (the last byte makes the attachment or version)

    Args:
        upload_id (str):
        tus_resumable (str):
        upload_checksum (str | Unset):
        upload_length (str | Unset):
        upload_offset (str):
        body (File | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | ErrorResponse | ValidationErrorResponse]
     """


    kwargs = _get_kwargs(
        upload_id=upload_id,
body=body,
tus_resumable=tus_resumable,
upload_checksum=upload_checksum,
upload_length=upload_length,
upload_offset=upload_offset,

    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)

def sync(
    upload_id: str,
    *,
    client: AuthenticatedClient,
    body: File | Unset = UNSET,
    tus_resumable: str,
    upload_checksum: str | Unset = UNSET,
    upload_length: str | Unset = UNSET,
    upload_offset: str,

) -> Any | ErrorResponse | ValidationErrorResponse | None:
    """ Append bytes at Upload-Offset (the last byte makes the attachment or version)

    Args:
        upload_id (str):
        tus_resumable (str):
        upload_checksum (str | Unset):
        upload_length (str | Unset):
        upload_offset (str):
        body (File | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | ErrorResponse | ValidationErrorResponse
     """


    return sync_detailed(
        upload_id=upload_id,
client=client,
body=body,
tus_resumable=tus_resumable,
upload_checksum=upload_checksum,
upload_length=upload_length,
upload_offset=upload_offset,

    ).parsed

async def asyncio_detailed(
    upload_id: str,
    *,
    client: AuthenticatedClient,
    body: File | Unset = UNSET,
    tus_resumable: str,
    upload_checksum: str | Unset = UNSET,
    upload_length: str | Unset = UNSET,
    upload_offset: str,

) -> Response[Any | ErrorResponse | ValidationErrorResponse]:
    """ Append bytes at Upload-Offset (the last byte makes the attachment or version)

    Args:
        upload_id (str):
        tus_resumable (str):
        upload_checksum (str | Unset):
        upload_length (str | Unset):
        upload_offset (str):
        body (File | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | ErrorResponse | ValidationErrorResponse]
     """


    kwargs = _get_kwargs(
        upload_id=upload_id,
body=body,
tus_resumable=tus_resumable,
upload_checksum=upload_checksum,
upload_length=upload_length,
upload_offset=upload_offset,

    )

    response = await client.get_async_httpx_client().request(
        **kwargs
    )

    return _build_response(client=client, response=response)

async def asyncio(
    upload_id: str,
    *,
    client: AuthenticatedClient,
    body: File | Unset = UNSET,
    tus_resumable: str,
    upload_checksum: str | Unset = UNSET,
    upload_length: str | Unset = UNSET,
    upload_offset: str,

) -> Any | ErrorResponse | ValidationErrorResponse | None:
    """ Append bytes at Upload-Offset (the last byte makes the attachment or version)

    Args:
        upload_id (str):
        tus_resumable (str):
        upload_checksum (str | Unset):
        upload_length (str | Unset):
        upload_offset (str):
        body (File | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | ErrorResponse | ValidationErrorResponse
     """


    return (await asyncio_detailed(
        upload_id=upload_id,
client=client,
body=body,
tus_resumable=tus_resumable,
upload_checksum=upload_checksum,
upload_length=upload_length,
upload_offset=upload_offset,

    )).parsed
