from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.error_response import ErrorResponse
from ...models.session_page_response import SessionPageResponse
from ...models.sessions_list_status import SessionsListStatus
from ...models.validation_error_response import ValidationErrorResponse
from ...types import UNSET, Unset
from typing import cast



def _get_kwargs(
    *,
    cursor: str | Unset = UNSET,
    limit: int | Unset = 50,
    reference: str | Unset = UNSET,
    status: SessionsListStatus | Unset = UNSET,
    user_reference: str | Unset = UNSET,
    workflow_id: str | Unset = UNSET,

) -> dict[str, Any]:
    

    

    params: dict[str, Any] = {}

    params["cursor"] = cursor

    params["limit"] = limit

    params["reference"] = reference

    json_status: str | Unset = UNSET
    if not isinstance(status, Unset):
        json_status = status.value

    params["status"] = json_status

    params["user_reference"] = user_reference

    params["workflow_id"] = workflow_id


    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}


    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/api/sessions",
        "params": params,
    }


    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> ErrorResponse | SessionPageResponse | ValidationErrorResponse | None:
    if response.status_code == 200:
        response_200 = SessionPageResponse.from_dict(response.json())



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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[ErrorResponse | SessionPageResponse | ValidationErrorResponse]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    cursor: str | Unset = UNSET,
    limit: int | Unset = 50,
    reference: str | Unset = UNSET,
    status: SessionsListStatus | Unset = UNSET,
    user_reference: str | Unset = UNSET,
    workflow_id: str | Unset = UNSET,

) -> Response[ErrorResponse | SessionPageResponse | ValidationErrorResponse]:
    """ List sessions, newest first

    Args:
        cursor (str | Unset):
        limit (int | Unset):  Default: 50.
        reference (str | Unset):
        status (SessionsListStatus | Unset):
        user_reference (str | Unset):
        workflow_id (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorResponse | SessionPageResponse | ValidationErrorResponse]
     """


    kwargs = _get_kwargs(
        cursor=cursor,
limit=limit,
reference=reference,
status=status,
user_reference=user_reference,
workflow_id=workflow_id,

    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)

def sync(
    *,
    client: AuthenticatedClient,
    cursor: str | Unset = UNSET,
    limit: int | Unset = 50,
    reference: str | Unset = UNSET,
    status: SessionsListStatus | Unset = UNSET,
    user_reference: str | Unset = UNSET,
    workflow_id: str | Unset = UNSET,

) -> ErrorResponse | SessionPageResponse | ValidationErrorResponse | None:
    """ List sessions, newest first

    Args:
        cursor (str | Unset):
        limit (int | Unset):  Default: 50.
        reference (str | Unset):
        status (SessionsListStatus | Unset):
        user_reference (str | Unset):
        workflow_id (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorResponse | SessionPageResponse | ValidationErrorResponse
     """


    return sync_detailed(
        client=client,
cursor=cursor,
limit=limit,
reference=reference,
status=status,
user_reference=user_reference,
workflow_id=workflow_id,

    ).parsed

async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    cursor: str | Unset = UNSET,
    limit: int | Unset = 50,
    reference: str | Unset = UNSET,
    status: SessionsListStatus | Unset = UNSET,
    user_reference: str | Unset = UNSET,
    workflow_id: str | Unset = UNSET,

) -> Response[ErrorResponse | SessionPageResponse | ValidationErrorResponse]:
    """ List sessions, newest first

    Args:
        cursor (str | Unset):
        limit (int | Unset):  Default: 50.
        reference (str | Unset):
        status (SessionsListStatus | Unset):
        user_reference (str | Unset):
        workflow_id (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorResponse | SessionPageResponse | ValidationErrorResponse]
     """


    kwargs = _get_kwargs(
        cursor=cursor,
limit=limit,
reference=reference,
status=status,
user_reference=user_reference,
workflow_id=workflow_id,

    )

    response = await client.get_async_httpx_client().request(
        **kwargs
    )

    return _build_response(client=client, response=response)

async def asyncio(
    *,
    client: AuthenticatedClient,
    cursor: str | Unset = UNSET,
    limit: int | Unset = 50,
    reference: str | Unset = UNSET,
    status: SessionsListStatus | Unset = UNSET,
    user_reference: str | Unset = UNSET,
    workflow_id: str | Unset = UNSET,

) -> ErrorResponse | SessionPageResponse | ValidationErrorResponse | None:
    """ List sessions, newest first

    Args:
        cursor (str | Unset):
        limit (int | Unset):  Default: 50.
        reference (str | Unset):
        status (SessionsListStatus | Unset):
        user_reference (str | Unset):
        workflow_id (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorResponse | SessionPageResponse | ValidationErrorResponse
     """


    return (await asyncio_detailed(
        client=client,
cursor=cursor,
limit=limit,
reference=reference,
status=status,
user_reference=user_reference,
workflow_id=workflow_id,

    )).parsed
