"""Test helpers (healthchecks' hc/test.py, netbox's utilities/testing): clients, multipart
bodies, the blob store, the personas' types, the profile. tests/conftest.py holds only
fixtures and hooks."""

from tests.support.clients import AsgiClient, DjangoRequests, client_with, http_scope
from tests.support.multipart import multipart_body
from tests.support.profiles import IN_CI, reachable
from tests.support.storage import stored_keys
from tests.support.tenants import Stranger, Tenant

__all__ = [
    "IN_CI",
    "AsgiClient",
    "DjangoRequests",
    "Stranger",
    "Tenant",
    "client_with",
    "http_scope",
    "multipart_body",
    "reachable",
    "stored_keys",
]
