from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.error_response import ErrorResponse
from ...models.flat_artifact_upload_request import FlatArtifactUploadRequest
from ...models.flat_artifact_upload_response import FlatArtifactUploadResponse
from ...models.validation_error_response import ValidationErrorResponse
from ...types import UNSET, Unset
from typing import cast



def _get_kwargs(
    artifact_id: str,
    *,
    body: FlatArtifactUploadRequest,
    idempotency_key: str | Unset = UNSET,

) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(idempotency_key, Unset):
        headers["Idempotency-Key"] = idempotency_key



    

    

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/api/artifacts/{artifact_id}/upload".format(artifact_id=quote(str(artifact_id), safe=""),),
    }

    _kwargs["files"] = body.to_multipart()

    headers["Content-Type"] = "multipart/form-data; boundary=+++"

    _kwargs["headers"] = headers
    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> ErrorResponse | FlatArtifactUploadResponse | ValidationErrorResponse | None:
    if response.status_code == 200:
        response_200 = FlatArtifactUploadResponse.from_dict(response.json())



        return response_200

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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[ErrorResponse | FlatArtifactUploadResponse | ValidationErrorResponse]:
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
    body: FlatArtifactUploadRequest,
    idempotency_key: str | Unset = UNSET,

) -> Response[ErrorResponse | FlatArtifactUploadResponse | ValidationErrorResponse]:
    """ Store a file as the artifact's new version

    Args:
        artifact_id (str):
        idempotency_key (str | Unset):
        body (FlatArtifactUploadRequest): A request serializer that rejects fields it does not
            know (seed 001: `[key]: never`)
            and, when its context says the data is a JSON body (`validated` does), values of the
            wrong JSON type.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorResponse | FlatArtifactUploadResponse | ValidationErrorResponse]
     """


    kwargs = _get_kwargs(
        artifact_id=artifact_id,
body=body,
idempotency_key=idempotency_key,

    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)

def sync(
    artifact_id: str,
    *,
    client: AuthenticatedClient,
    body: FlatArtifactUploadRequest,
    idempotency_key: str | Unset = UNSET,

) -> ErrorResponse | FlatArtifactUploadResponse | ValidationErrorResponse | None:
    """ Store a file as the artifact's new version

    Args:
        artifact_id (str):
        idempotency_key (str | Unset):
        body (FlatArtifactUploadRequest): A request serializer that rejects fields it does not
            know (seed 001: `[key]: never`)
            and, when its context says the data is a JSON body (`validated` does), values of the
            wrong JSON type.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorResponse | FlatArtifactUploadResponse | ValidationErrorResponse
     """


    return sync_detailed(
        artifact_id=artifact_id,
client=client,
body=body,
idempotency_key=idempotency_key,

    ).parsed

async def asyncio_detailed(
    artifact_id: str,
    *,
    client: AuthenticatedClient,
    body: FlatArtifactUploadRequest,
    idempotency_key: str | Unset = UNSET,

) -> Response[ErrorResponse | FlatArtifactUploadResponse | ValidationErrorResponse]:
    """ Store a file as the artifact's new version

    Args:
        artifact_id (str):
        idempotency_key (str | Unset):
        body (FlatArtifactUploadRequest): A request serializer that rejects fields it does not
            know (seed 001: `[key]: never`)
            and, when its context says the data is a JSON body (`validated` does), values of the
            wrong JSON type.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorResponse | FlatArtifactUploadResponse | ValidationErrorResponse]
     """


    kwargs = _get_kwargs(
        artifact_id=artifact_id,
body=body,
idempotency_key=idempotency_key,

    )

    response = await client.get_async_httpx_client().request(
        **kwargs
    )

    return _build_response(client=client, response=response)

async def asyncio(
    artifact_id: str,
    *,
    client: AuthenticatedClient,
    body: FlatArtifactUploadRequest,
    idempotency_key: str | Unset = UNSET,

) -> ErrorResponse | FlatArtifactUploadResponse | ValidationErrorResponse | None:
    """ Store a file as the artifact's new version

    Args:
        artifact_id (str):
        idempotency_key (str | Unset):
        body (FlatArtifactUploadRequest): A request serializer that rejects fields it does not
            know (seed 001: `[key]: never`)
            and, when its context says the data is a JSON body (`validated` does), values of the
            wrong JSON type.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorResponse | FlatArtifactUploadResponse | ValidationErrorResponse
     """


    return (await asyncio_detailed(
        artifact_id=artifact_id,
client=client,
body=body,
idempotency_key=idempotency_key,

    )).parsed
