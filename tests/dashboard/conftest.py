"""What the dashboard's tests share: the app, logged in (a test module may make its own)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import ADMIN_TOKEN, ClientFactory
from tests.dashboard.test_auth import PASSWORD, log_in


@pytest.fixture
async def app(make_client: ClientFactory) -> Any:
    """The server with a dashboard password (and the admin token, to compare with the API), after
    a login: its client carries the session."""
    client = await make_client(dashboard_password=PASSWORD, admin_token=ADMIN_TOKEN)
    await log_in(client)
    return client
