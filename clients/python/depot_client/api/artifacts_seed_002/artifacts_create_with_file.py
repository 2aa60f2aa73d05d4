from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.artifact_response import ArtifactResponse
from ...models.artifact_upload_request import ArtifactUploadRequest
from ...models.error_response import ErrorResponse
from ...models.validation_error_response import ValidationErrorResponse
from ...types import UNSET, Unset
from typing import cast



def _get_kwargs(
    org: str,
    ws: str,
    ns: str,
    *,
    body: ArtifactUploadRequest,
    idempotency_key: str | Unset = UNSET,

) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(idempotency_key, Unset):
        headers["Idempotency-Key"] = idempotency_key



    

    

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/api/v1/orgs/{org}/workspaces/{ws}/namespaces/{ns}/artifacts/upload".format(org=quote(str(org), safe=""),ws=quote(str(ws), safe=""),ns=quote(str(ns), safe=""),),
    }

    _kwargs["files"] = body.to_multipart()

    headers["Content-Type"] = "multipart/form-data; boundary=+++"

    _kwargs["headers"] = headers
    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> ArtifactResponse | ErrorResponse | ValidationErrorResponse | None:
    if response.status_code == 201:
        response_201 = ArtifactResponse.from_dict(response.json())



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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[ArtifactResponse | ErrorResponse | ValidationErrorResponse]:
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
    body: ArtifactUploadRequest,
    idempotency_key: str | Unset = UNSET,

) -> Response[ArtifactResponse | ErrorResponse | ValidationErrorResponse]:
    """ Create an artifact from an uploaded file

    Args:
        org (str):
        ws (str):
        ns (str):
        idempotency_key (str | Unset):
        body (ArtifactUploadRequest): A request serializer that rejects fields it does not know
            (seed 001: `[key]: never`)
            and, when its context says the data is a JSON body (`validated` does), values of the
            wrong JSON type.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ArtifactResponse | ErrorResponse | ValidationErrorResponse]
     """


    kwargs = _get_kwargs(
        org=org,
ws=ws,
ns=ns,
body=body,
idempotency_key=idempotency_key,

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
    body: ArtifactUploadRequest,
    idempotency_key: str | Unset = UNSET,

) -> ArtifactResponse | ErrorResponse | ValidationErrorResponse | None:
    """ Create an artifact from an uploaded file

    Args:
        org (str):
        ws (str):
        ns (str):
        idempotency_key (str | Unset):
        body (ArtifactUploadRequest): A request serializer that rejects fields it does not know
            (seed 001: `[key]: never`)
            and, when its context says the data is a JSON body (`validated` does), values of the
            wrong JSON type.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ArtifactResponse | ErrorResponse | ValidationErrorResponse
     """


    return sync_detailed(
        org=org,
ws=ws,
ns=ns,
client=client,
body=body,
idempotency_key=idempotency_key,

    ).parsed

async def asyncio_detailed(
    org: str,
    ws: str,
    ns: str,
    *,
    client: AuthenticatedClient,
    body: ArtifactUploadRequest,
    idempotency_key: str | Unset = UNSET,

) -> Response[ArtifactResponse | ErrorResponse | ValidationErrorResponse]:
    """ Create an artifact from an uploaded file

    Args:
        org (str):
        ws (str):
        ns (str):
        idempotency_key (str | Unset):
        body (ArtifactUploadRequest): A request serializer that rejects fields it does not know
            (seed 001: `[key]: never`)
            and, when its context says the data is a JSON body (`validated` does), values of the
            wrong JSON type.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ArtifactResponse | ErrorResponse | ValidationErrorResponse]
     """


    kwargs = _get_kwargs(
        org=org,
ws=ws,
ns=ns,
body=body,
idempotency_key=idempotency_key,

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
    body: ArtifactUploadRequest,
    idempotency_key: str | Unset = UNSET,

) -> ArtifactResponse | ErrorResponse | ValidationErrorResponse | None:
    """ Create an artifact from an uploaded file

    Args:
        org (str):
        ws (str):
        ns (str):
        idempotency_key (str | Unset):
        body (ArtifactUploadRequest): A request serializer that rejects fields it does not know
            (seed 001: `[key]: never`)
            and, when its context says the data is a JSON body (`validated` does), values of the
            wrong JSON type.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ArtifactResponse | ErrorResponse | ValidationErrorResponse
     """


    return (await asyncio_detailed(
        org=org,
ws=ws,
ns=ns,
client=client,
body=body,
idempotency_key=idempotency_key,

    )).parsed
