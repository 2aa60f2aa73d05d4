from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.error_response import ErrorResponse
from ...models.flat_artifact_content_response import FlatArtifactContentResponse
from ...models.validation_error_response import ValidationErrorResponse
from ...types import UNSET, Unset
from typing import cast



def _get_kwargs(
    artifact_id: str,
    *,
    version: int | Unset = UNSET,

) -> dict[str, Any]:
    

    

    params: dict[str, Any] = {}

    params["version"] = version


    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}


    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/api/artifacts/{artifact_id}/content".format(artifact_id=quote(str(artifact_id), safe=""),),
        "params": params,
    }


    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> ErrorResponse | FlatArtifactContentResponse | ValidationErrorResponse | None:
    if response.status_code == 200:
        response_200 = FlatArtifactContentResponse.from_dict(response.json())



        return response_200

    if response.status_code == 401:
        response_401 = ErrorResponse.from_dict(response.json())



        return response_401

    if response.status_code == 404:
        response_404 = ErrorResponse.from_dict(response.json())



        return response_404

    if response.status_code == 409:
        response_409 = ErrorResponse.from_dict(response.json())



        return response_409

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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[ErrorResponse | FlatArtifactContentResponse | ValidationErrorResponse]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    artifact_id: str,
    *,
    client: AuthenticatedClient,
    version: int | Unset = UNSET,

) -> Response[ErrorResponse | FlatArtifactContentResponse | ValidationErrorResponse]:
    """ The content: UTF-8 text as is, anything else as base64

     `artifact_id` may also be a unique prefix of an id, at least 8 characters long, among the artifacts
    the key can see: several matches are a 409, none a 404.

    Args:
        artifact_id (str):
        version (int | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorResponse | FlatArtifactContentResponse | ValidationErrorResponse]
     """


    kwargs = _get_kwargs(
        artifact_id=artifact_id,
version=version,

    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)

def sync(
    artifact_id: str,
    *,
    client: AuthenticatedClient,
    version: int | Unset = UNSET,

) -> ErrorResponse | FlatArtifactContentResponse | ValidationErrorResponse | None:
    """ The content: UTF-8 text as is, anything else as base64

     `artifact_id` may also be a unique prefix of an id, at least 8 characters long, among the artifacts
    the key can see: several matches are a 409, none a 404.

    Args:
        artifact_id (str):
        version (int | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorResponse | FlatArtifactContentResponse | ValidationErrorResponse
     """


    return sync_detailed(
        artifact_id=artifact_id,
client=client,
version=version,

    ).parsed

async def asyncio_detailed(
    artifact_id: str,
    *,
    client: AuthenticatedClient,
    version: int | Unset = UNSET,

) -> Response[ErrorResponse | FlatArtifactContentResponse | ValidationErrorResponse]:
    """ The content: UTF-8 text as is, anything else as base64

     `artifact_id` may also be a unique prefix of an id, at least 8 characters long, among the artifacts
    the key can see: several matches are a 409, none a 404.

    Args:
        artifact_id (str):
        version (int | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorResponse | FlatArtifactContentResponse | ValidationErrorResponse]
     """


    kwargs = _get_kwargs(
        artifact_id=artifact_id,
version=version,

    )

    response = await client.get_async_httpx_client().request(
        **kwargs
    )

    return _build_response(client=client, response=response)

async def asyncio(
    artifact_id: str,
    *,
    client: AuthenticatedClient,
    version: int | Unset = UNSET,

) -> ErrorResponse | FlatArtifactContentResponse | ValidationErrorResponse | None:
    """ The content: UTF-8 text as is, anything else as base64

     `artifact_id` may also be a unique prefix of an id, at least 8 characters long, among the artifacts
    the key can see: several matches are a 409, none a 404.

    Args:
        artifact_id (str):
        version (int | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorResponse | FlatArtifactContentResponse | ValidationErrorResponse
     """


    return (await asyncio_detailed(
        artifact_id=artifact_id,
client=client,
version=version,

    )).parsed
