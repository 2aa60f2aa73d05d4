"""Members who sign in to the web pages: a writer and a read-only member of the tenant."""

from dataclasses import dataclass

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from sessions_app.models import Membership
from tests.support import Tenant

PASSWORD = "pw-correct-horse-7"


@dataclass
class Member:
    user: object
    client: Client


def _member(tenant: Tenant, username: str, *, read_only: bool = False) -> Member:
    user = get_user_model().objects.create_user(username, f"{username}@example.com", PASSWORD)
    Membership.objects.create(user=user, organization=tenant.organization, read_only=read_only)
    client = Client()
    client.force_login(user)
    return Member(user, client)


@pytest.fixture
def member(tenant: Tenant) -> Member:
    return _member(tenant, "ada")


@pytest.fixture
def reader(tenant: Tenant) -> Member:
    return _member(tenant, "reader", read_only=True)
