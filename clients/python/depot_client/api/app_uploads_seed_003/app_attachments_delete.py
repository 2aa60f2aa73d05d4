from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.error_response import ErrorResponse
from ...models.validation_error_response import ValidationErrorResponse
from ...types import UNSET, Unset
from typing import cast



def _get_kwargs(
    app_id: str,
    env_name: str,
    file_id: str,
    *,
    session_id: str | Unset = UNSET,
    session_reference: str | Unset = UNSET,

) -> dict[str, Any]:
    

    

    params: dict[str, Any] = {}

    params["sessionId"] = session_id

    params["sessionReference"] = session_reference


    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}


    _kwargs: dict[str, Any] = {
        "method": "delete",
        "url": "/api/v2/apps/{app_id}/environments/{env_name}/attachments/{file_id}".format(app_id=quote(str(app_id), safe=""),env_name=quote(str(env_name), safe=""),file_id=quote(str(file_id), safe=""),),
        "params": params,
    }


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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[Any | ErrorResponse | ValidationErrorResponse]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    app_id: str,
    env_name: str,
    file_id: str,
    *,
    client: AuthenticatedClient,
    session_id: str | Unset = UNSET,
    session_reference: str | Unset = UNSET,

) -> Response[Any | ErrorResponse | ValidationErrorResponse]:
    """ Delete an uploaded file

    Args:
        app_id (str):
        env_name (str):
        file_id (str):
        session_id (str | Unset):
        session_reference (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | ErrorResponse | ValidationErrorResponse]
     """


    kwargs = _get_kwargs(
        app_id=app_id,
env_name=env_name,
file_id=file_id,
session_id=session_id,
session_reference=session_reference,

    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)

def sync(
    app_id: str,
    env_name: str,
    file_id: str,
    *,
    client: AuthenticatedClient,
    session_id: str | Unset = UNSET,
    session_reference: str | Unset = UNSET,

) -> Any | ErrorResponse | ValidationErrorResponse | None:
    """ Delete an uploaded file

    Args:
        app_id (str):
        env_name (str):
        file_id (str):
        session_id (str | Unset):
        session_reference (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | ErrorResponse | ValidationErrorResponse
     """


    return sync_detailed(
        app_id=app_id,
env_name=env_name,
file_id=file_id,
client=client,
session_id=session_id,
session_reference=session_reference,

    ).parsed

async def asyncio_detailed(
    app_id: str,
    env_name: str,
    file_id: str,
    *,
    client: AuthenticatedClient,
    session_id: str | Unset = UNSET,
    session_reference: str | Unset = UNSET,

) -> Response[Any | ErrorResponse | ValidationErrorResponse]:
    """ Delete an uploaded file

    Args:
        app_id (str):
        env_name (str):
        file_id (str):
        session_id (str | Unset):
        session_reference (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | ErrorResponse | ValidationErrorResponse]
     """


    kwargs = _get_kwargs(
        app_id=app_id,
env_name=env_name,
file_id=file_id,
session_id=session_id,
session_reference=session_reference,

    )

    response = await client.get_async_httpx_client().request(
        **kwargs
    )

    return _build_response(client=client, response=response)

async def asyncio(
    app_id: str,
    env_name: str,
    file_id: str,
    *,
    client: AuthenticatedClient,
    session_id: str | Unset = UNSET,
    session_reference: str | Unset = UNSET,

) -> Any | ErrorResponse | ValidationErrorResponse | None:
    """ Delete an uploaded file

    Args:
        app_id (str):
        env_name (str):
        file_id (str):
        session_id (str | Unset):
        session_reference (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | ErrorResponse | ValidationErrorResponse
     """


    return (await asyncio_detailed(
        app_id=app_id,
env_name=env_name,
file_id=file_id,
client=client,
session_id=session_id,
session_reference=session_reference,

    )).parsed
