from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.error_response import ErrorResponse
from ...models.flat_artifact_list_item import FlatArtifactListItem
from ...models.validation_error_response import ValidationErrorResponse
from ...types import UNSET, Unset
from typing import cast



def _get_kwargs(
    *,
    artifact_type: str | Unset = UNSET,
    limit: int | Unset = 50,
    phase_id: str | Unset = UNSET,
    workflow_id: str | Unset = UNSET,

) -> dict[str, Any]:
    

    

    params: dict[str, Any] = {}

    params["artifact_type"] = artifact_type

    params["limit"] = limit

    params["phase_id"] = phase_id

    params["workflow_id"] = workflow_id


    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}


    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/api/artifacts",
        "params": params,
    }


    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> ErrorResponse | ValidationErrorResponse | list[FlatArtifactListItem] | None:
    if response.status_code == 200:
        response_200 = []
        _response_200 = response.json()
        for response_200_item_data in (_response_200):
            response_200_item = FlatArtifactListItem.from_dict(response_200_item_data)



            response_200.append(response_200_item)

        return response_200

    if response.status_code == 401:
        response_401 = ErrorResponse.from_dict(response.json())



        return response_401

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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[ErrorResponse | ValidationErrorResponse | list[FlatArtifactListItem]]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    artifact_type: str | Unset = UNSET,
    limit: int | Unset = 50,
    phase_id: str | Unset = UNSET,
    workflow_id: str | Unset = UNSET,

) -> Response[ErrorResponse | ValidationErrorResponse | list[FlatArtifactListItem]]:
    """ List artifacts (latest versions), newest first

    Args:
        artifact_type (str | Unset):
        limit (int | Unset):  Default: 50.
        phase_id (str | Unset):
        workflow_id (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorResponse | ValidationErrorResponse | list[FlatArtifactListItem]]
     """


    kwargs = _get_kwargs(
        artifact_type=artifact_type,
limit=limit,
phase_id=phase_id,
workflow_id=workflow_id,

    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)

def sync(
    *,
    client: AuthenticatedClient,
    artifact_type: str | Unset = UNSET,
    limit: int | Unset = 50,
    phase_id: str | Unset = UNSET,
    workflow_id: str | Unset = UNSET,

) -> ErrorResponse | ValidationErrorResponse | list[FlatArtifactListItem] | None:
    """ List artifacts (latest versions), newest first

    Args:
        artifact_type (str | Unset):
        limit (int | Unset):  Default: 50.
        phase_id (str | Unset):
        workflow_id (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorResponse | ValidationErrorResponse | list[FlatArtifactListItem]
     """


    return sync_detailed(
        client=client,
artifact_type=artifact_type,
limit=limit,
phase_id=phase_id,
workflow_id=workflow_id,

    ).parsed

async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    artifact_type: str | Unset = UNSET,
    limit: int | Unset = 50,
    phase_id: str | Unset = UNSET,
    workflow_id: str | Unset = UNSET,

) -> Response[ErrorResponse | ValidationErrorResponse | list[FlatArtifactListItem]]:
    """ List artifacts (latest versions), newest first

    Args:
        artifact_type (str | Unset):
        limit (int | Unset):  Default: 50.
        phase_id (str | Unset):
        workflow_id (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorResponse | ValidationErrorResponse | list[FlatArtifactListItem]]
     """


    kwargs = _get_kwargs(
        artifact_type=artifact_type,
limit=limit,
phase_id=phase_id,
workflow_id=workflow_id,

    )

    response = await client.get_async_httpx_client().request(
        **kwargs
    )

    return _build_response(client=client, response=response)

async def asyncio(
    *,
    client: AuthenticatedClient,
    artifact_type: str | Unset = UNSET,
    limit: int | Unset = 50,
    phase_id: str | Unset = UNSET,
    workflow_id: str | Unset = UNSET,

) -> ErrorResponse | ValidationErrorResponse | list[FlatArtifactListItem] | None:
    """ List artifacts (latest versions), newest first

    Args:
        artifact_type (str | Unset):
        limit (int | Unset):  Default: 50.
        phase_id (str | Unset):
        workflow_id (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorResponse | ValidationErrorResponse | list[FlatArtifactListItem]
     """


    return (await asyncio_detailed(
        client=client,
artifact_type=artifact_type,
limit=limit,
phase_id=phase_id,
workflow_id=workflow_id,

    )).parsed
