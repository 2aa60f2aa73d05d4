from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.app_upload_request import AppUploadRequest
from ...models.app_upload_response import AppUploadResponse
from ...models.error_response import ErrorResponse
from ...models.validation_error_response import ValidationErrorResponse
from ...types import UNSET, Unset
from typing import cast



def _get_kwargs(
    app_id: str,
    env_name: str,
    *,
    body: AppUploadRequest,
    idempotency_key: str | Unset = UNSET,

) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(idempotency_key, Unset):
        headers["Idempotency-Key"] = idempotency_key



    

    

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/api/v2/apps/{app_id}/environments/{env_name}/attachments/upload".format(app_id=quote(str(app_id), safe=""),env_name=quote(str(env_name), safe=""),),
    }

    _kwargs["files"] = body.to_multipart()

    headers["Content-Type"] = "multipart/form-data; boundary=+++"

    _kwargs["headers"] = headers
    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> AppUploadResponse | ErrorResponse | ValidationErrorResponse | None:
    if response.status_code == 201:
        response_201 = AppUploadResponse.from_dict(response.json())



        return response_201

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

    if response.status_code == 413:
        response_413 = ErrorResponse.from_dict(response.json())



        return response_413

    if response.status_code == 415:
        response_415 = ErrorResponse.from_dict(response.json())



        return response_415

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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[AppUploadResponse | ErrorResponse | ValidationErrorResponse]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    app_id: str,
    env_name: str,
    *,
    client: AuthenticatedClient,
    body: AppUploadRequest,
    idempotency_key: str | Unset = UNSET,

) -> Response[AppUploadResponse | ErrorResponse | ValidationErrorResponse]:
    """ Upload a runtime attachment (x-api-key)

    Args:
        app_id (str):
        env_name (str):
        idempotency_key (str | Unset):
        body (AppUploadRequest): A request serializer that rejects fields it does not know (seed
            001: `[key]: never`)
            and, when its context says the data is a JSON body (`validated` does), values of the
            wrong JSON type.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[AppUploadResponse | ErrorResponse | ValidationErrorResponse]
     """


    kwargs = _get_kwargs(
        app_id=app_id,
env_name=env_name,
body=body,
idempotency_key=idempotency_key,

    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)

def sync(
    app_id: str,
    env_name: str,
    *,
    client: AuthenticatedClient,
    body: AppUploadRequest,
    idempotency_key: str | Unset = UNSET,

) -> AppUploadResponse | ErrorResponse | ValidationErrorResponse | None:
    """ Upload a runtime attachment (x-api-key)

    Args:
        app_id (str):
        env_name (str):
        idempotency_key (str | Unset):
        body (AppUploadRequest): A request serializer that rejects fields it does not know (seed
            001: `[key]: never`)
            and, when its context says the data is a JSON body (`validated` does), values of the
            wrong JSON type.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        AppUploadResponse | ErrorResponse | ValidationErrorResponse
     """


    return sync_detailed(
        app_id=app_id,
env_name=env_name,
client=client,
body=body,
idempotency_key=idempotency_key,

    ).parsed

async def asyncio_detailed(
    app_id: str,
    env_name: str,
    *,
    client: AuthenticatedClient,
    body: AppUploadRequest,
    idempotency_key: str | Unset = UNSET,

) -> Response[AppUploadResponse | ErrorResponse | ValidationErrorResponse]:
    """ Upload a runtime attachment (x-api-key)

    Args:
        app_id (str):
        env_name (str):
        idempotency_key (str | Unset):
        body (AppUploadRequest): A request serializer that rejects fields it does not know (seed
            001: `[key]: never`)
            and, when its context says the data is a JSON body (`validated` does), values of the
            wrong JSON type.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[AppUploadResponse | ErrorResponse | ValidationErrorResponse]
     """


    kwargs = _get_kwargs(
        app_id=app_id,
env_name=env_name,
body=body,
idempotency_key=idempotency_key,

    )

    response = await client.get_async_httpx_client().request(
        **kwargs
    )

    return _build_response(client=client, response=response)

async def asyncio(
    app_id: str,
    env_name: str,
    *,
    client: AuthenticatedClient,
    body: AppUploadRequest,
    idempotency_key: str | Unset = UNSET,

) -> AppUploadResponse | ErrorResponse | ValidationErrorResponse | None:
    """ Upload a runtime attachment (x-api-key)

    Args:
        app_id (str):
        env_name (str):
        idempotency_key (str | Unset):
        body (AppUploadRequest): A request serializer that rejects fields it does not know (seed
            001: `[key]: never`)
            and, when its context says the data is a JSON body (`validated` does), values of the
            wrong JSON type.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        AppUploadResponse | ErrorResponse | ValidationErrorResponse
     """


    return (await asyncio_detailed(
        app_id=app_id,
env_name=env_name,
client=client,
body=body,
idempotency_key=idempotency_key,

    )).parsed
