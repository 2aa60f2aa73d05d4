from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.artifact_with_lineage_response import ArtifactWithLineageResponse
from ...models.artifacts_retrieve_include import ArtifactsRetrieveInclude
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
    include: ArtifactsRetrieveInclude | Unset = UNSET,
    version: int | Unset = UNSET,

) -> dict[str, Any]:
    

    

    params: dict[str, Any] = {}

    json_include: str | Unset = UNSET
    if not isinstance(include, Unset):
        json_include = include.value

    params["include"] = json_include

    params["version"] = version


    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}


    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/api/v1/orgs/{org}/workspaces/{ws}/namespaces/{ns}/artifacts/{artifact_id}".format(org=quote(str(org), safe=""),ws=quote(str(ws), safe=""),ns=quote(str(ns), safe=""),artifact_id=quote(str(artifact_id), safe=""),),
        "params": params,
    }


    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> ArtifactWithLineageResponse | ErrorResponse | ValidationErrorResponse | None:
    if response.status_code == 200:
        response_200 = ArtifactWithLineageResponse.from_dict(response.json())



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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[ArtifactWithLineageResponse | ErrorResponse | ValidationErrorResponse]:
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
    include: ArtifactsRetrieveInclude | Unset = UNSET,
    version: int | Unset = UNSET,

) -> Response[ArtifactWithLineageResponse | ErrorResponse | ValidationErrorResponse]:
    """ Get an artifact

    Args:
        org (str):
        ws (str):
        ns (str):
        artifact_id (str):
        include (ArtifactsRetrieveInclude | Unset):
        version (int | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ArtifactWithLineageResponse | ErrorResponse | ValidationErrorResponse]
     """


    kwargs = _get_kwargs(
        org=org,
ws=ws,
ns=ns,
artifact_id=artifact_id,
include=include,
version=version,

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
    include: ArtifactsRetrieveInclude | Unset = UNSET,
    version: int | Unset = UNSET,

) -> ArtifactWithLineageResponse | ErrorResponse | ValidationErrorResponse | None:
    """ Get an artifact

    Args:
        org (str):
        ws (str):
        ns (str):
        artifact_id (str):
        include (ArtifactsRetrieveInclude | Unset):
        version (int | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ArtifactWithLineageResponse | ErrorResponse | ValidationErrorResponse
     """


    return sync_detailed(
        org=org,
ws=ws,
ns=ns,
artifact_id=artifact_id,
client=client,
include=include,
version=version,

    ).parsed

async def asyncio_detailed(
    org: str,
    ws: str,
    ns: str,
    artifact_id: str,
    *,
    client: AuthenticatedClient,
    include: ArtifactsRetrieveInclude | Unset = UNSET,
    version: int | Unset = UNSET,

) -> Response[ArtifactWithLineageResponse | ErrorResponse | ValidationErrorResponse]:
    """ Get an artifact

    Args:
        org (str):
        ws (str):
        ns (str):
        artifact_id (str):
        include (ArtifactsRetrieveInclude | Unset):
        version (int | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ArtifactWithLineageResponse | ErrorResponse | ValidationErrorResponse]
     """


    kwargs = _get_kwargs(
        org=org,
ws=ws,
ns=ns,
artifact_id=artifact_id,
include=include,
version=version,

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
    include: ArtifactsRetrieveInclude | Unset = UNSET,
    version: int | Unset = UNSET,

) -> ArtifactWithLineageResponse | ErrorResponse | ValidationErrorResponse | None:
    """ Get an artifact

    Args:
        org (str):
        ws (str):
        ns (str):
        artifact_id (str):
        include (ArtifactsRetrieveInclude | Unset):
        version (int | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ArtifactWithLineageResponse | ErrorResponse | ValidationErrorResponse
     """


    return (await asyncio_detailed(
        org=org,
ws=ws,
ns=ns,
artifact_id=artifact_id,
client=client,
include=include,
version=version,

    )).parsed
